package storage

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Names of the per-partition and per-log-dir files, as Kafka names them.
const (
	leaderEpochCheckpointFile   = "leader-epoch-checkpoint"
	partitionMetadataFile       = "partition.metadata"
	recoveryPointCheckpointFile = "recovery-point-offset-checkpoint"
	logStartCheckpointFile      = "log-start-offset-checkpoint"
	cleanerCheckpointFile       = "cleaner-offset-checkpoint"
	highWatermarkCheckpointFile = "replication-offset-checkpoint"
	cleanShutdownFile           = ".kafka_cleanshutdown"

	// checkpointLimitBytes bounds what we read of a checkpoint: 64 MiB holds millions of
	// lines; anything larger is corruption, not a checkpoint.
	checkpointLimitBytes = 64 << 20
)

// TopicPartition names a partition; its directory is "<topic>-<partition>".
type TopicPartition struct {
	Topic     string
	Partition int32
}

func (tp TopicPartition) String() string { return tp.Topic + "-" + strconv.Itoa(int(tp.Partition)) }

// DirName is the partition's directory name under the log dir.
func (tp TopicPartition) DirName() string { return tp.String() }

// ParseDirName splits "<topic>-<partition>" at its last dash. Kafka topic names may contain
// dashes, never spaces or path separators.
func ParseDirName(name string) (TopicPartition, bool) {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 || i == len(name)-1 {
		return TopicPartition{}, false
	}
	p, err := strconv.ParseInt(name[i+1:], 10, 32)
	if err != nil || p < 0 || !validTopicChars(name[:i]) {
		return TopicPartition{}, false
	}
	return TopicPartition{Topic: name[:i], Partition: int32(p)}, true
}

func validTopicChars(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// deleteDirSuffix ends the name a deleted partition's directory is renamed to, as Kafka
// names it: <topic>-<partition>.<32 hex digits>-delete.
const deleteDirSuffix = "-delete"

// deleteDirName is Kafka's name for a partition directory being deleted: the topic, cut so
// that the name fits in 255 bytes, then "-<partition>.<uuid without dashes>-delete".
func deleteDirName(tp TopicPartition, uuidHex string) string {
	suffix := "-" + strconv.Itoa(int(tp.Partition)) + "." + uuidHex + deleteDirSuffix
	topic := tp.Topic
	if n := 255 - len(suffix); len(topic) > n {
		topic = topic[:n]
	}
	return topic + suffix
}

// isDeleteDirName recognizes deleteDirName's names (Kafka's pattern: "(\S+)-(\S+)\.(\S+)-delete").
func isDeleteDirName(name string) bool {
	rest, ok := strings.CutSuffix(name, deleteDirSuffix)
	if !ok {
		return false
	}
	dot := strings.LastIndexByte(rest, '.')
	return dot > 0 && dot < len(rest)-1 && strings.Contains(rest[:dot], "-")
}

// parseCheckpoint parses Kafka's text checkpoint format: a version line, a count line, then
// count lines of fields separated by single spaces. It returns the field rows.
func parseCheckpoint(path string, data []byte, wantVersion, wantFields int) ([][]string, error) {
	lines := strings.Split(string(data), "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) < 2 {
		return nil, corruptf(path, "missing version or count line")
	}
	v, err := strconv.Atoi(strings.TrimSpace(lines[0]))
	if err != nil || v != wantVersion {
		return nil, corruptf(path, "unrecognized version %q", lines[0])
	}
	n, err := strconv.Atoi(strings.TrimSpace(lines[1]))
	if err != nil || n < 0 || n != len(lines)-2 {
		return nil, corruptf(path, "count %q does not match %d entries", lines[1], len(lines)-2)
	}
	rows := make([][]string, 0, n)
	for _, l := range lines[2:] {
		f := strings.Split(l, " ")
		if len(f) != wantFields {
			return nil, corruptf(path, "malformed line %q", l)
		}
		rows = append(rows, f)
	}
	return rows, nil
}

// EncodeOffsetCheckpoint renders Kafka's recovery-point / log-start offset checkpoint:
//
//	0
//	<count>
//	<topic> <partition> <offset>
func EncodeOffsetCheckpoint(m map[TopicPartition]int64) []byte {
	tps := make([]TopicPartition, 0, len(m))
	for tp := range m {
		tps = append(tps, tp)
	}
	sort.Slice(tps, func(i, j int) bool {
		if tps[i].Topic != tps[j].Topic {
			return tps[i].Topic < tps[j].Topic
		}
		return tps[i].Partition < tps[j].Partition
	})
	var b bytes.Buffer
	fmt.Fprintf(&b, "0\n%d\n", len(tps))
	for _, tp := range tps {
		fmt.Fprintf(&b, "%s %d %d\n", tp.Topic, tp.Partition, m[tp])
	}
	return b.Bytes()
}

// DecodeOffsetCheckpoint parses what EncodeOffsetCheckpoint writes (and Kafka writes).
func DecodeOffsetCheckpoint(path string, data []byte) (map[TopicPartition]int64, error) {
	rows, err := parseCheckpoint(path, data, 0, 3)
	if err != nil {
		return nil, err
	}
	m := make(map[TopicPartition]int64, len(rows))
	for _, r := range rows {
		p, err1 := strconv.ParseInt(r[1], 10, 32)
		off, err2 := strconv.ParseInt(r[2], 10, 64)
		if err1 != nil || err2 != nil || r[0] == "" || p < 0 {
			return nil, corruptf(path, "malformed entry %q", strings.Join(r, " "))
		}
		m[TopicPartition{Topic: r[0], Partition: int32(p)}] = off
	}
	return m, nil
}

// EpochEntry is one leader-epoch-checkpoint line: the first offset written in an epoch.
type EpochEntry struct {
	Epoch       int32
	StartOffset int64
}

func encodeEpochCheckpoint(es []EpochEntry) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "0\n%d\n", len(es))
	for _, e := range es {
		fmt.Fprintf(&b, "%d %d\n", e.Epoch, e.StartOffset)
	}
	return b.Bytes()
}

func decodeEpochCheckpoint(path string, data []byte) ([]EpochEntry, error) {
	rows, err := parseCheckpoint(path, data, 0, 2)
	if err != nil {
		return nil, err
	}
	es := make([]EpochEntry, 0, len(rows))
	for _, r := range rows {
		e, err1 := strconv.ParseInt(r[0], 10, 32)
		off, err2 := strconv.ParseInt(r[1], 10, 64)
		if err1 != nil || err2 != nil || e < 0 || off < 0 {
			return nil, corruptf(path, "malformed entry %q", strings.Join(r, " "))
		}
		if n := len(es); n > 0 && (int32(e) <= es[n-1].Epoch || off < es[n-1].StartOffset) {
			return nil, corruptf(path, "entries not increasing at %q", strings.Join(r, " "))
		}
		es = append(es, EpochEntry{Epoch: int32(e), StartOffset: off})
	}
	return es, nil
}

// TopicID is Kafka's 16-byte topic UUID.
type TopicID [16]byte

// String is Kafka's rendering: URL-safe base64 without padding.
func (id TopicID) String() string { return base64.RawURLEncoding.EncodeToString(id[:]) }

// ParseTopicID parses the String form.
func ParseTopicID(s string) (TopicID, error) {
	var id TopicID
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("storage: bad topic id %q", s)
	}
	copy(id[:], b)
	return id, nil
}

// partition.metadata is "version: 0\ntopic_id: <base64>".
func encodePartitionMetadata(id TopicID) []byte {
	return []byte("version: 0\ntopic_id: " + id.String())
}

func decodePartitionMetadata(path string, data []byte) (TopicID, error) {
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) != 2 {
		return TopicID{}, corruptf(path, "want 2 lines, have %d", len(lines))
	}
	k, v, ok := strings.Cut(lines[0], ":")
	if !ok || k != "version" || strings.TrimSpace(v) != "0" {
		return TopicID{}, corruptf(path, "bad version line %q", lines[0])
	}
	k, v, ok = strings.Cut(lines[1], ":")
	if !ok || k != "topic_id" {
		return TopicID{}, corruptf(path, "bad topic_id line %q", lines[1])
	}
	id, err := ParseTopicID(strings.TrimSpace(v))
	if err != nil {
		return TopicID{}, &CorruptionError{Path: path, Err: err}
	}
	return id, nil
}

// The clean shutdown marker holds Kafka's JSON {"version":0,"brokerEpoch":N}; only its
// presence matters to recovery.
func encodeCleanShutdown(brokerEpoch int64) []byte {
	b, _ := json.Marshal(struct {
		Version     int   `json:"version"`
		BrokerEpoch int64 `json:"brokerEpoch"`
	}{0, brokerEpoch})
	return b
}
