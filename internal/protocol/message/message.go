package message

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/sluicehq/sluice/internal/protocol/wire"
)

//go:generate go run ../gen -spec ../../../../shared/kafka-spec -out ..

// Message is implemented by every generated type in this package.
type Message = wire.Message

// Request is a request body of some API key.
type Request interface {
	wire.Message
	APIKey() int16
	MinVersion() int16
	MaxVersion() int16
	IsFlexible(version int16) bool
	isRequest()
}

// Response is a response body of some API key.
type Response interface {
	wire.Message
	APIKey() int16
	MinVersion() int16
	MaxVersion() int16
	IsFlexible(version int16) bool
	isResponse()
}

// APIInfo describes one API key as the specs define it.
type APIInfo struct {
	Key  int16
	Name string // the request name without "Request", e.g. "Produce"
	// MinVersion and MaxVersion bound the versions the specs define.
	MinVersion int16
	MaxVersion int16
	// MaxStableVersion is MaxVersion, or one less when the spec marks its latest version
	// unstable (Kafka advertises those only when asked to).
	MaxStableVersion int16
	// FlexibleVersion is the first flexible version, or -1 when the API has none.
	FlexibleVersion int16
	// Listeners names where Kafka serves the API: "broker", "controller", "zkBroker".
	Listeners []string
}

// IsFlexible reports whether version of the API uses compact encodings and tagged fields.
func (a APIInfo) IsFlexible(version int16) bool {
	return a.FlexibleVersion >= 0 && version >= a.FlexibleVersion
}

// APIs returns a copy of the table of every API key, in key order.
func APIs() []APIInfo {
	out := slices.Clone(apis)
	for i := range out {
		out[i].Listeners = slices.Clone(out[i].Listeners)
	}
	return out
}

// LookupAPI returns the table entry for key.
func LookupAPI(key int16) (APIInfo, bool) {
	i := apiIndex(key)
	if i < 0 {
		return APIInfo{}, false
	}
	return apis[i], true
}

// RequestHeaderVersion returns the request header version that requests of key at version
// use, or -1 for an unknown key. Flexible requests use header v2 (tagged fields), others v1;
// ControlledShutdown v0 predates the client id and uses v0. A version above the API's
// maximum follows the flexible rule, so a broker can still read the header of a newer
// client's ApiVersions request and answer it.
func RequestHeaderVersion(key, version int16) int16 {
	info, ok := LookupAPI(key)
	switch {
	case !ok:
		return -1
	case key == KeyControlledShutdown && version == 0:
		return 0
	case info.IsFlexible(version):
		return 2
	}
	return 1
}

// ResponseHeaderVersion returns the response header version for responses of key at
// version, or -1 for an unknown key. ApiVersions responses always use v0: the client
// parses the response before it knows which versions (flexible or not) the broker speaks.
func ResponseHeaderVersion(key, version int16) int16 {
	info, ok := LookupAPI(key)
	switch {
	case !ok:
		return -1
	case key == KeyApiVersions:
		return 0
	case info.IsFlexible(version):
		return 1
	}
	return 0
}

// DecodeRequest decodes a request frame's payload (the bytes after the size prefix): the
// header at the version its API key and version imply, then the body, which must fill the
// rest of the frame exactly. The body aliases frame.
//
// When the key is unknown (ErrUnknownAPIKey) or the version unsupported
// (ErrUnsupportedVersion), the header is still returned if it could be read, so the caller
// can answer (an ApiVersions request of a newer version gets an ApiVersions v0 reply with
// UNSUPPORTED_VERSION) or log and close.
func DecodeRequest(frame []byte) (RequestHeader, Request, error) {
	var hdr RequestHeader
	if len(frame) < 4 {
		return hdr, nil, fmt.Errorf("request header: %w: %d bytes", wire.ErrShortBuffer, len(frame))
	}
	key := int16(binary.BigEndian.Uint16(frame))
	version := int16(binary.BigEndian.Uint16(frame[2:]))
	r := wire.NewReader(frame)
	info, known := LookupAPI(key)
	hv := RequestHeaderVersion(key, version)
	if !known {
		hv = 1 // enough to report the correlation id and client id
	}
	if err := hdr.Decode(&r, hv); err != nil {
		return hdr, nil, fmt.Errorf("request header: %w", err)
	}
	if !known {
		return hdr, nil, fmt.Errorf("%w: %d", wire.ErrUnknownAPIKey, key)
	}
	if version < info.MinVersion || version > info.MaxVersion {
		return hdr, nil, wire.VersionError(info.Name+"Request", version)
	}
	req := NewRequest(key)
	if err := req.Decode(&r, version); err != nil {
		return hdr, nil, err
	}
	if err := r.Complete(); err != nil {
		return hdr, nil, fmt.Errorf("%sRequest v%d: %w", info.Name, version, err)
	}
	return hdr, req, nil
}

// EncodeRequest appends a whole request frame (size, header, body) for hdr's key and
// version to w. The header's key and version must match req.
func EncodeRequest(w *wire.Writer, hdr *RequestHeader, req Request) error {
	if hdr.RequestApiKey != req.APIKey() {
		return fmt.Errorf("%w: header key %d, body key %d", wire.ErrUnknownAPIKey, hdr.RequestApiKey, req.APIKey())
	}
	at := w.BeginSize()
	hv := RequestHeaderVersion(hdr.RequestApiKey, hdr.RequestApiVersion)
	if err := hdr.Encode(w, hv); err != nil {
		return err
	}
	if err := req.Encode(w, hdr.RequestApiVersion); err != nil {
		return err
	}
	w.EndSize(at)
	return w.Err()
}

// EncodeResponse appends a whole response frame (size, header, body) to w. Records fields
// that hold file regions stay file regions; send the result with w.Output().WriteTo(conn).
// On error w holds a partial frame: Reset it.
func EncodeResponse(w *wire.Writer, correlationID int32, version int16, resp Response) error {
	at := w.BeginSize()
	hdr := ResponseHeader{CorrelationId: correlationID}
	if err := hdr.Encode(w, ResponseHeaderVersion(resp.APIKey(), version)); err != nil {
		return err
	}
	if err := resp.Encode(w, version); err != nil {
		return err
	}
	w.EndSize(at)
	return w.Err()
}
