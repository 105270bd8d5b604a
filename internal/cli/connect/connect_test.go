package connect

import (
	"errors"
	"reflect"
	"testing"

	"github.com/spf13/pflag"
)

func TestBrokersFromFlagEnvAndDefault(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  string
		args []string
		want []string
		err  error
	}{
		{name: "default", want: []string{"localhost:9092"}},
		{name: "env", env: "a:1, b:2", want: []string{"a:1", "b:2"}},
		{name: "flag wins over env", env: "a:1", args: []string{"-b", "c:3,d:4"}, want: []string{"c:3", "d:4"}},
		{name: "long flag repeated", args: []string{"--brokers", "c:3", "--brokers", "d:4"}, want: []string{"c:3", "d:4"}},
		{name: "no port", args: []string{"-b", "nohost"}, err: ErrBadBroker},
		{name: "empty", args: []string{"-b", ""}, err: ErrNoBrokers},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f Flags
			fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
			f.Register(fs, func(k string) string {
				if k == EnvBrokers {
					return tc.env
				}
				return ""
			})
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			_, err := f.Opts()
			if !errors.Is(err, tc.err) {
				t.Fatalf("Opts error %v, want %v", err, tc.err)
			}
			if tc.err == nil && !reflect.DeepEqual(f.Brokers, tc.want) {
				t.Fatalf("brokers %q, want %q", f.Brokers, tc.want)
			}
		})
	}
}
