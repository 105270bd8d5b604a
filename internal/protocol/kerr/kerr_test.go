package kerr

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestTableIsCompleteAndOrdered(t *testing.T) {
	errs := All()
	if len(errs) != 134 {
		t.Fatalf("table has %d codes, want 134 (-1 and 1..133)", len(errs))
	}
	if errs[0] != UnknownServerError || errs[0].Code != -1 {
		t.Fatalf("first entry %v, want UNKNOWN_SERVER_ERROR", errs[0])
	}
	names := map[string]bool{}
	for i, e := range errs[1:] {
		if int(e.Code) != i+1 {
			t.Errorf("entry %d has code %d", i+1, e.Code)
		}
		if e.Name == "" || strings.ToUpper(e.Name) != e.Name || e.Description == "" {
			t.Errorf("code %d: bad name %q or empty description", e.Code, e.Name)
		}
		if names[e.Name] {
			t.Errorf("duplicate name %s", e.Name)
		}
		names[e.Name] = true
	}
}

func TestForCode(t *testing.T) {
	tests := []struct {
		code      int16
		want      *Error
		retriable bool
	}{
		{-1, UnknownServerError, false},
		{1, OffsetOutOfRange, false},
		{3, UnknownTopicOrPartition, true},
		{6, NotLeaderOrFollower, true},
		{35, UnsupportedVersion, false},
		{42, InvalidRequest, false},
		{70, FetchSessionIDNotFound, true},
		{71, InvalidFetchSessionEpoch, true},
		{128, InvalidRegularExpression, false},
		{133, ShareSessionLimitReached, true},
	}
	for _, tt := range tests {
		got := ForCode(tt.code)
		if got != tt.want {
			t.Errorf("ForCode(%d) = %v, want %v", tt.code, got, tt.want)
			continue
		}
		if got.Code != tt.code || got.Retriable != tt.retriable {
			t.Errorf("ForCode(%d) = code %d retriable %v", tt.code, got.Code, got.Retriable)
		}
	}
	if ForCode(0) != nil {
		t.Error("ForCode(0) is not nil")
	}
	for _, c := range []int16{-2, 134, 32767} {
		e := ForCode(c)
		if e == nil || e.Code != c || e.Retriable || !strings.HasPrefix(e.Name, "UNKNOWN_ERROR_CODE_") {
			t.Errorf("ForCode(%d) = %+v", c, e)
		}
	}
}

func TestErrorsIsAndCode(t *testing.T) {
	wrapped := fmt.Errorf("partition 3: %w", NotLeaderOrFollower)
	if !errors.Is(wrapped, NotLeaderOrFollower) || errors.Is(wrapped, LeaderNotAvailable) {
		t.Fatal("errors.Is does not follow the wrapped code")
	}
	if got := Code(wrapped); got != 6 {
		t.Errorf("Code(wrapped) = %d, want 6", got)
	}
	if got := Code(errors.Join(errors.New("x"), InvalidConfig)); got != 40 {
		t.Errorf("Code(joined) = %d, want 40", got)
	}
	if got := Code(nil); got != 0 {
		t.Errorf("Code(nil) = %d", got)
	}
	if got := Code(errors.New("boom")); got != -1 {
		t.Errorf("Code(other) = %d, want -1", got)
	}
	if got := NotController.Error(); got != "NOT_CONTROLLER: "+NotController.Description {
		t.Errorf("Error() = %q", got)
	}
}
