package output

import (
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestFormat(t *testing.T) {
	r := &kgo.Record{Topic: "orders", Partition: 2, Offset: 41, LeaderEpoch: 3,
		Timestamp: time.UnixMilli(1700000000123), Key: []byte("alice"), Value: []byte("1 apple"),
		Headers: []kgo.RecordHeader{{Key: "src", Value: []byte("web")}, {Key: "v", Value: []byte("2")}}}
	null := &kgo.Record{Topic: "t", Offset: 0, Timestamp: time.UnixMilli(5)}
	for _, tc := range []struct {
		spec string
		rec  *kgo.Record
		want string
	}{
		{`%v\n`, r, "1 apple\n"},
		{`%k %v %h %t %p %o %T\n`, r, "alice 1 apple src=web,v=2 orders 2 41 1700000000123\n"},
		{`%t[%p]@%o e%e %K/%V 100%%\t|\\`, r, "orders[2]@41 e3 5/7 100%\t|\\"},
		{`[%k][%v][%h] %K %V`, null, "[][][] -1 -1"},
		{`plain`, r, "plain"},
		{"json", r, `{"topic":"orders","partition":2,"offset":41,"timestamp":1700000000123,"key":"alice","value":"1 apple","headers":[{"key":"src","value":"web"},{"key":"v","value":"2"}]}` + "\n"},
		{"json", null, `{"topic":"t","partition":0,"offset":0,"timestamp":5,"key":null,"value":null,"headers":[]}` + "\n"},
	} {
		f, err := Compile(tc.spec)
		if err != nil {
			t.Fatalf("%q: %v", tc.spec, err)
		}
		if got := string(f.Append(nil, tc.rec)); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.spec, got, tc.want)
		}
	}
}

func TestFormatErrors(t *testing.T) {
	for _, spec := range []string{`%x`, `%`, `abc\`, `\q`, `%v %z`} {
		if _, err := Compile(spec); !errors.Is(err, ErrFormat) {
			t.Errorf("%q: error %v, want ErrFormat", spec, err)
		}
	}
}
