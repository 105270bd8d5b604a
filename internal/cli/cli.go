package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluicehq/sluice/internal/cli/connect"
)

// ErrUsage marks invalid arguments or flags; the binary exits 2 for them. Errors made by
// Usagef match it with errors.Is but print only their own message.
var ErrUsage = errors.New("cli: invalid arguments")

// ErrUnreachable is returned when no bootstrap broker answers.
var ErrUnreachable = errors.New("cli: cannot reach a broker")

// ErrFailed is returned when some items of a command (topics, groups, resources) failed;
// the table the command printed says which and why.
var ErrFailed = errors.New("cli: failed")

// DialTimeout bounds the first contact with the bootstrap brokers, so that a wrong address
// fails in seconds instead of after the client's retries.
const DialTimeout = 10 * time.Second

type usageError struct{ msg string }

func (e *usageError) Error() string        { return e.msg }
func (e *usageError) Is(target error) bool { return target == ErrUsage }

// Usagef returns a usage error (exit code 2) with the formatted message.
func Usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// Failedf returns an error (exit code 1) that matches ErrFailed, with the formatted message.
func Failedf(format string, args ...any) error {
	return &failedError{msg: fmt.Sprintf(format, args...)}
}

type failedError struct{ msg string }

func (e *failedError) Error() string        { return e.msg }
func (e *failedError) Is(target error) bool { return target == ErrFailed }

// unreachableError names the brokers tried and says what to do.
type unreachableError struct {
	brokers []string
	err     error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("cannot reach a broker at %s (%v): is `sluice serve` running? set --brokers or %s",
		strings.Join(e.brokers, ","), e.err, connect.EnvBrokers)
}

func (e *unreachableError) Is(target error) bool { return target == ErrUnreachable }
func (e *unreachableError) Unwrap() error        { return e.err }

// NewClient returns a franz-go client configured by the connection flags and opts, after one
// bootstrap broker answered a metadata request (within DialTimeout). Bad connection flags are
// usage errors; no answer is ErrUnreachable with a hint. The caller closes the client.
func NewClient(ctx context.Context, f *connect.Flags, opts ...kgo.Opt) (*kgo.Client, error) {
	base, err := f.Opts()
	if err != nil {
		return nil, Usagef("%v", err)
	}
	cl, err := kgo.NewClient(append(base, opts...)...)
	if err != nil {
		return nil, Usagef("%v", err)
	}
	pingCtx, cancel := context.WithTimeout(ctx, DialTimeout)
	defer cancel()
	if err := cl.Ping(pingCtx); err != nil {
		cl.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &unreachableError{brokers: f.Brokers, err: err}
	}
	return cl, nil
}

// NewAdmin is NewClient wrapped in an admin client; closing the admin client closes both.
func NewAdmin(ctx context.Context, f *connect.Flags) (*kadm.Client, error) {
	cl, err := NewClient(ctx, f)
	if err != nil {
		return nil, err
	}
	return kadm.NewClient(cl), nil
}

// Context returns the command's context, or Background when it has none (tests that call
// Execute instead of ExecuteContext).
func Context(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

// Table writes aligned columns (two spaces apart), as rpk does. Cells are printed with %v.
type Table struct {
	tw *tabwriter.Writer
}

// NewTable starts a table on w with a header row (none when headers is empty).
func NewTable(w io.Writer, headers ...string) *Table {
	t := &Table{tw: tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)}
	if len(headers) > 0 {
		t.Row(toAny(headers)...)
	}
	return t
}

// Row adds one row.
func (t *Table) Row(cells ...any) {
	var b strings.Builder
	for i, c := range cells {
		if i > 0 {
			b.WriteByte('\t')
		}
		// A tab or newline inside a cell would break the columns.
		b.WriteString(strings.NewReplacer("\t", " ", "\n", " ").Replace(fmt.Sprint(c)))
	}
	b.WriteByte('\n')
	t.tw.Write([]byte(b.String()))
}

// Flush writes the table out.
func (t *Table) Flush() error { return t.tw.Flush() }

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// Section writes a section title underlined with '=', preceded by a blank line unless first.
func Section(w io.Writer, title string, first bool) {
	if !first {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "%s\n%s\n", title, strings.Repeat("=", len(title)))
}

// ParseKeyValue splits "key=value" at the first '='. The key must not be empty; the value
// may be. flag names the flag in the error.
func ParseKeyValue(flag, s string) (key, value string, err error) {
	key, value, ok := strings.Cut(s, "=")
	if !ok || key == "" {
		return "", "", Usagef("%s %q: want key=value", flag, s)
	}
	return key, value, nil
}

// ParseKeyValues parses repeated key=value flags into a map; a key given twice is an error.
func ParseKeyValues(flag string, args []string) (map[string]string, error) {
	m := make(map[string]string, len(args))
	for _, a := range args {
		k, v, err := ParseKeyValue(flag, a)
		if err != nil {
			return nil, err
		}
		if _, dup := m[k]; dup {
			return nil, Usagef("%s: %s given twice", flag, k)
		}
		m[k] = v
	}
	return m, nil
}

// ErrText is how a per-item result prints: OK, or the error with the broker's message
// when it sent one ("TOPIC_ALREADY_EXISTS: Topic 'x' already exists.").
func ErrText(err error, message string) string {
	if err == nil {
		return "OK"
	}
	var ke *kerr.Error
	if message != "" && errors.As(err, &ke) {
		return ke.Message + ": " + message
	}
	return err.Error()
}

// ConfigTable prints KEY VALUE SOURCE rows sorted by key; sensitive values are hidden.
func ConfigTable(w io.Writer, configs []kadm.Config) error {
	sorted := append([]kadm.Config(nil), configs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Key < sorted[j].Key })
	t := NewTable(w, "KEY", "VALUE", "SOURCE")
	for _, c := range sorted {
		source := c.Source.String()
		if c.Source == 0 { // the answer has no entry for the key
			source = "-"
		}
		t.Row(c.Key, ConfigValue(c), source)
	}
	return t.Flush()
}

// ConfigValue is how a config value prints: "(sensitive)" for hidden ones, "-" for null.
func ConfigValue(c kadm.Config) string {
	switch {
	case c.Sensitive:
		return "(sensitive)"
	case c.Value == nil:
		return "-"
	case *c.Value == "":
		return `""`
	}
	return *c.Value
}

// Int32s prints a list of broker ids as [1 2 3].
func Int32s(ids []int32) string {
	return fmt.Sprint(ids)
}
