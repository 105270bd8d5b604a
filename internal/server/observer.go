package server

import (
	"reflect"
	"time"

	"github.com/sluicehq/sluice/internal/protocol/message"
)

// Observer receives the events metrics are made of (issue 6 implements it with Prometheus).
// Methods are called synchronously from connection goroutines: they must be cheap, must not
// block and must be safe for concurrent use. Embed NopObserver to implement a subset.
type Observer interface {
	// ConnectionOpened and ConnectionClosed bracket every accepted connection that was
	// not refused (a connection handed off to raft is reported closed when handed off).
	ConnectionOpened(listener string)
	ConnectionClosed(listener string)
	// ConnectionRefused reports a connection closed at accept because of a limit.
	ConnectionRefused(listener string, reason RefuseReason)
	// RequestDone reports one request that reached its handler, after its response was
	// written (or dropped, or when it has none).
	RequestDone(ev RequestEvent)
}

// RefuseReason says which limit refused a connection.
type RefuseReason string

// The limits that refuse connections.
const (
	RefusedMaxConnections      RefuseReason = "max.connections"
	RefusedMaxConnectionsPerIP RefuseReason = "max.connections.per.ip"
)

// RequestEvent describes one handled request.
type RequestEvent struct {
	Listener string
	APIKey   int16
	Version  int16
	// CorrelationID and ClientID come from the request header.
	CorrelationID int32
	ClientID      string
	// RequestBytes is the frame size; ResponseBytes the response frame size (0 when none was
	// sent).
	RequestBytes  int
	ResponseBytes int64
	// Sent is false for requests without a response and for responses dropped because the
	// connection failed.
	Sent bool
	// Response is the response body, nil when the handler produced none. It is valid only
	// during the call; ErrorCounts turns it into per-code counts.
	Response message.Response
	// QueueTime: frame read to handler start. HandleTime: in the handler. SendTime: response
	// queued to written.
	QueueTime  time.Duration
	HandleTime time.Duration
	SendTime   time.Duration
}

// NopObserver ignores every event.
type NopObserver struct{}

func (NopObserver) ConnectionOpened(string)                {}
func (NopObserver) ConnectionClosed(string)                {}
func (NopObserver) ConnectionRefused(string, RefuseReason) {}
func (NopObserver) RequestDone(RequestEvent)               {}

// ErrorCounts counts the error codes in a response: every int16 field named ErrorCode, at any
// depth (top level, per topic, per partition), as Kafka's errorCounts do for its error
// metrics. NONE (0) is counted too. It uses reflection: call it from metrics code, not from
// handlers.
func ErrorCounts(resp message.Response) map[int16]int {
	counts := map[int16]int{}
	if resp != nil {
		countErrorCodes(reflect.ValueOf(resp), counts)
	}
	return counts
}

func countErrorCodes(v reflect.Value, counts map[int16]int) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			countErrorCodes(v.Elem(), counts)
		}
	case reflect.Slice:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return
		}
		for i := range v.Len() {
			countErrorCodes(v.Index(i), counts)
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			if f.Name == "ErrorCode" && f.Type.Kind() == reflect.Int16 {
				counts[int16(v.Field(i).Int())]++
				continue
			}
			countErrorCodes(v.Field(i), counts)
		}
	}
}
