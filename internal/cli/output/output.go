package output

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ErrFormat is returned for a format with an unknown verb or escape.
var ErrFormat = errors.New("output: invalid format")

// Verbs lists the verbs for help texts.
const Verbs = `%t topic, %p partition, %o offset, %T timestamp (Unix ms), %e leader epoch, %k key,
%v value, %h headers (k=v,k=v), %K key size, %V value size, %% a percent sign;
\n \t \r \\ escapes; or "json" for one JSON object per line`

// Format is a compiled record format.
type Format struct {
	json  bool
	parts []part
}

type part struct {
	lit  string // printed as is when verb is 0
	verb byte
}

// Compile parses a format.
func Compile(spec string) (*Format, error) {
	if spec == "json" {
		return &Format{json: true}, nil
	}
	f := &Format{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			f.parts = append(f.parts, part{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(spec); i++ {
		c := spec[i]
		switch c {
		case '%', '\\':
			if i+1 == len(spec) {
				return nil, fmt.Errorf("%w %q: %c at the end", ErrFormat, spec, c)
			}
			i++
			n := spec[i]
			if c == '\\' {
				esc, ok := map[byte]byte{'n': '\n', 't': '\t', 'r': '\r', '\\': '\\'}[n]
				if !ok {
					return nil, fmt.Errorf("%w %q: unknown escape \\%c", ErrFormat, spec, n)
				}
				lit.WriteByte(esc)
				continue
			}
			if n == '%' {
				lit.WriteByte('%')
				continue
			}
			if !strings.ContainsRune("tpoTekvhKV", rune(n)) {
				return nil, fmt.Errorf("%w %q: unknown verb %%%c", ErrFormat, spec, n)
			}
			flush()
			f.parts = append(f.parts, part{verb: n})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return f, nil
}

// Append appends r formatted to dst.
func (f *Format) Append(dst []byte, r *kgo.Record) []byte {
	if f.json {
		return appendJSON(dst, r)
	}
	for _, p := range f.parts {
		switch p.verb {
		case 0:
			dst = append(dst, p.lit...)
		case 't':
			dst = append(dst, r.Topic...)
		case 'p':
			dst = strconv.AppendInt(dst, int64(r.Partition), 10)
		case 'o':
			dst = strconv.AppendInt(dst, r.Offset, 10)
		case 'T':
			dst = strconv.AppendInt(dst, r.Timestamp.UnixMilli(), 10)
		case 'e':
			dst = strconv.AppendInt(dst, int64(r.LeaderEpoch), 10)
		case 'k':
			dst = append(dst, r.Key...)
		case 'v':
			dst = append(dst, r.Value...)
		case 'h':
			for i, h := range r.Headers {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = append(dst, h.Key...)
				dst = append(dst, '=')
				dst = append(dst, h.Value...)
			}
		case 'K':
			n := int64(len(r.Key))
			if r.Key == nil {
				n = -1
			}
			dst = strconv.AppendInt(dst, n, 10)
		case 'V':
			n := int64(len(r.Value))
			if r.Value == nil {
				n = -1
			}
			dst = strconv.AppendInt(dst, n, 10)
		}
	}
	return dst
}

type jsonHeader struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type jsonRecord struct {
	Topic       string       `json:"topic"`
	Partition   int32        `json:"partition"`
	Offset      int64        `json:"offset"`
	TimestampMs int64        `json:"timestamp"`
	Key         *string      `json:"key"`
	Value       *string      `json:"value"`
	Headers     []jsonHeader `json:"headers"`
}

func appendJSON(dst []byte, r *kgo.Record) []byte {
	jr := jsonRecord{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset,
		TimestampMs: r.Timestamp.UnixMilli(), Headers: []jsonHeader{}}
	if r.Key != nil {
		k := string(r.Key)
		jr.Key = &k
	}
	if r.Value != nil {
		v := string(r.Value)
		jr.Value = &v
	}
	for _, h := range r.Headers {
		jr.Headers = append(jr.Headers, jsonHeader{Key: h.Key, Value: string(h.Value)})
	}
	b, err := json.Marshal(jr)
	if err != nil { // cannot happen: strings and numbers only
		panic(err)
	}
	dst = append(dst, b...)
	return append(dst, '\n')
}
