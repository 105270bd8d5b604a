package metadata

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/sluicehq/sluice/internal/config"
)

// MetaPropertiesFile is Kafka's per-log-directory identity file.
const MetaPropertiesFile = "meta.properties"

// ErrMetaProperties: a log directory belongs to another node or cluster, or its
// meta.properties is malformed. The node must not start.
var ErrMetaProperties = errors.New("metadata: log directory identity mismatch")

// MetaProperties is the identity found in (or written to) the log directories.
type MetaProperties struct {
	ClusterID string
	NodeID    int32
	// DirectoryIDs maps each directory, as given, to its directory.id.
	DirectoryIDs map[string]UUID
}

// LoadOrFormat reads meta.properties (Kafka's version 1: version, cluster.id, node.id,
// directory.id) from every directory, checks they agree with each other, with nodeID and
// with clusterID (when not ""), and writes it into directories that lack it, creating them.
// A first start thus formats the node with clusterID, or a new random cluster id when
// clusterID is "" (Kafka requires `kafka-storage format` first; Sluice formats itself).
//
// For a multi-node cluster every node must be given the same cluster id: a random one is
// only right for the first node, or a single node.
func LoadOrFormat(dirs []string, nodeID int32, clusterID string) (*MetaProperties, error) {
	if len(dirs) == 0 {
		return nil, fmt.Errorf("%w: no log directories", ErrMetaProperties)
	}
	mp := &MetaProperties{ClusterID: clusterID, NodeID: nodeID, DirectoryIDs: map[string]UUID{}}
	var missing []string
	clusterFrom := "the configured cluster id"
	for _, dir := range dirs {
		props, err := readMetaProperties(filepath.Join(dir, MetaPropertiesFile))
		if errors.Is(err, fs.ErrNotExist) {
			missing = append(missing, dir)
			continue
		}
		if err != nil {
			return nil, err
		}
		path := filepath.Join(dir, MetaPropertiesFile)
		if v := props["version"]; v != "1" {
			return nil, fmt.Errorf("%w: %s has version %q; Sluice reads only version 1 (KRaft)", ErrMetaProperties, path, v)
		}
		id, err := strconv.ParseInt(props["node.id"], 10, 32)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: node.id %q is not a number", ErrMetaProperties, path, props["node.id"])
		}
		if int32(id) != nodeID {
			return nil, fmt.Errorf("%w: %s belongs to node.id %d, but this node is node.id %d; use the right log.dirs or node.id",
				ErrMetaProperties, path, id, nodeID)
		}
		cid := props["cluster.id"]
		if cid == "" {
			return nil, fmt.Errorf("%w: %s has no cluster.id", ErrMetaProperties, path)
		}
		if mp.ClusterID == "" {
			mp.ClusterID, clusterFrom = cid, path
		} else if cid != mp.ClusterID {
			return nil, fmt.Errorf("%w: %s has cluster.id %s, but %s says %s", ErrMetaProperties, path, cid, clusterFrom, mp.ClusterID)
		}
		dirID, err := ParseUUID(props["directory.id"])
		if err != nil || dirID.IsZero() {
			// Written before directory ids existed: give it one.
			missing = append(missing, dir)
			continue
		}
		mp.DirectoryIDs[dir] = dirID
	}
	if mp.ClusterID == "" {
		mp.ClusterID = RandomUUID().String()
	}
	seen := map[UUID]string{}
	for dir, id := range mp.DirectoryIDs {
		if other, ok := seen[id]; ok {
			return nil, fmt.Errorf("%w: %s and %s have the same directory.id %s", ErrMetaProperties, dir, other, id)
		}
		seen[id] = dir
	}
	for _, dir := range missing {
		id := RandomUUID()
		if err := writeMetaProperties(dir, mp.ClusterID, nodeID, id); err != nil {
			return nil, err
		}
		mp.DirectoryIDs[dir] = id
	}
	return mp, nil
}

func readMetaProperties(path string) (map[string]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	p, err := config.ParseProperties(path, bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMetaProperties, err)
	}
	return p.Map(), nil
}

// writeMetaProperties writes the file atomically (temporary file, fsync, rename, fsync of
// the directory), so a crash leaves either no file or a complete one.
func writeMetaProperties(dir, clusterID string, nodeID int32, dirID UUID) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	props := map[string]string{
		"version":      "1",
		"cluster.id":   clusterID,
		"node.id":      strconv.Itoa(int(nodeID)),
		"directory.id": dirID.String(),
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var buf bytes.Buffer
	buf.WriteString("#\n# Written by Sluice in Kafka's meta.properties format.\n")
	for _, k := range keys {
		fmt.Fprintf(&buf, "%s=%s\n", k, props[k])
	}
	path := filepath.Join(dir, MetaPropertiesFile)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("metadata: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("metadata: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("metadata: %w", err)
	}
	return nil
}
