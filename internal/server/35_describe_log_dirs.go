// DescribeLogDirs (key 35): versions 0–4.
//
// Answers the log directory the replicas' storage lives in (DataDeps.LogDir, else the first
// of log.dirs) with every partition log in it (a null topic list) or the requested ones:
// size in bytes and offset lag (how far the log end is behind the high watermark: 0 for
// every current log, as in Kafka), never a future log. From v4 the directory's total and
// usable bytes come from statfs (-1 if it fails). Partitions not in the directory are left
// out, as Kafka does.
//
// Differences from Kafka: Sluice's storage manages one log directory, so there is one
// result; an offline directory (KAFKA_STORAGE_ERROR) cannot be reported yet. Throttle time
// is always 0; no ACL checks yet (DESCRIBE on the cluster).

package server

import (
	"context"

	"golang.org/x/sys/unix"

	"github.com/sluicehq/sluice/internal/protocol/message"
)

func (s *Server) describeLogDirsHandler() Handler {
	return Handler{
		Versions:      Versions{Min: 0, Max: 4},
		Fn:            Handle(s.describeLogDirs),
		ErrorResponse: describeLogDirsErrorResponse,
	}
}

func (s *Server) describeLogDirs(_ context.Context, r *Request, req *message.DescribeLogDirsRequest) (message.Response, error) {
	resp := message.NewDescribeLogDirsResponse()
	dir := s.opts.Deps.LogDir
	if dir == "" {
		if dirs := s.cfg.Load().LogDirs; len(dirs) > 0 {
			dir = dirs[0]
		}
	}
	m := s.opts.Deps.Replicas
	if m == nil || dir == "" {
		return resp, nil
	}
	// wanted is nil for "every partition"; otherwise the requested partitions by topic.
	var wanted map[string][]int32
	if req.Topics != nil {
		wanted = make(map[string][]int32, len(req.Topics))
		for _, t := range req.Topics {
			wanted[t.Topic] = append(wanted[t.Topic], t.Partitions...)
		}
	}
	res := message.DescribeLogDirsResponseDescribeLogDirsResult{}
	res.Default()
	res.LogDir = dir
	if r.Version >= 4 {
		var st unix.Statfs_t
		if err := unix.Statfs(dir, &st); err == nil {
			res.TotalBytes = int64(st.Blocks) * int64(st.Bsize)
			res.UsableBytes = int64(st.Bavail) * int64(st.Bsize)
		}
	}
	// LogDirPartitions is sorted by name, so each topic's partitions are consecutive.
	for _, lp := range m.LogDirPartitions() {
		tp := lp.TopicPartition
		if wanted != nil && !containsInt32(wanted[tp.Topic], tp.Partition) {
			continue
		}
		if n := len(res.Topics); n == 0 || res.Topics[n-1].Name != tp.Topic {
			res.Topics = append(res.Topics, message.DescribeLogDirsResponseDescribeLogDirsTopic{Name: tp.Topic})
		}
		t := &res.Topics[len(res.Topics)-1]
		t.Partitions = append(t.Partitions, message.DescribeLogDirsResponseDescribeLogDirsPartition{
			PartitionIndex: tp.Partition, PartitionSize: lp.SizeBytes, OffsetLag: lp.OffsetLag,
		})
	}
	resp.Results = []message.DescribeLogDirsResponseDescribeLogDirsResult{res}
	return resp, nil
}

func containsInt32(s []int32, v int32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func describeLogDirsErrorResponse(_ *Request, code int16) message.Response {
	resp := message.NewDescribeLogDirsResponse()
	resp.ErrorCode = code
	return resp
}
