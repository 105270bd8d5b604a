package metadata

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
)

// UUID is a Kafka UUID (topic id, cluster id, incarnation id, directory id). Its text form
// is Kafka's: the 16 bytes in unpadded URL-safe base64 (22 characters).
type UUID [16]byte

// ErrBadUUID: a string is not a Kafka UUID.
var ErrBadUUID = errors.New("metadata: malformed UUID")

// metadataTopicID is the id Kafka reserves for the metadata log's own topic.
var metadataTopicID = UUID{15: 1}

// String returns Kafka's text form.
func (u UUID) String() string { return base64.RawURLEncoding.EncodeToString(u[:]) }

// IsZero reports whether u is Kafka's ZERO_UUID (meaning "none").
func (u UUID) IsZero() bool { return u == UUID{} }

// ParseUUID parses Kafka's text form.
func ParseUUID(s string) (UUID, error) {
	var u UUID
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != len(u) {
		return u, fmt.Errorf("%w: %q", ErrBadUUID, s)
	}
	copy(u[:], b)
	return u, nil
}

// RandomUUID returns a random version-4 UUID as Kafka generates them: never the zero or
// the reserved metadata-topic id, and never one whose text form starts with '-' (which
// command-line tools would read as a flag).
func RandomUUID() UUID {
	for {
		var u UUID
		if _, err := rand.Read(u[:]); err != nil {
			panic(err) // crypto/rand.Read never fails on supported platforms
		}
		u[6] = u[6]&0x0f | 0x40 // version 4
		u[8] = u[8]&0x3f | 0x80 // IETF variant
		if u.IsZero() || u == metadataTopicID || u.String()[0] == '-' {
			continue
		}
		return u
	}
}
