# Sluice developer targets. CI runs .ci/run; these are the everyday shortcuts.
GO ?= go
SPEC ?= ../shared/kafka-spec
FUZZTIME ?= 30s
BENCH ?= .
STATICCHECK_VERSION ?= v0.8.2

.PHONY: all build run test test-race lint fuzz bench generate docs ci

all: build test

build:
	$(GO) build ./...

# Start a single-node cluster (broker + controller) on localhost:9092, data in ./sluice-data.
# Extra flags go in ARGS, e.g. make run ARGS="--override log.retention.hours=1".
run:
	$(GO) run ./cmd/sluice serve $(ARGS)

test:
	$(GO) test ./...

test-race:
	$(GO) test -race ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

# Every fuzz target for FUZZTIME each; crashers land in testdata/fuzz and become regression cases.
fuzz:
	.ci/fuzz $(FUZZTIME)

bench:
	$(GO) test -run '^$$' -bench '$(BENCH)' -benchmem ./...

# Regenerate the wire codec from Apache Kafka's message specs in $(SPEC).
generate:
	$(GO) run ./internal/protocol/gen -spec $(SPEC) -out internal/protocol

# Regenerate docs/CLI.md (from the command tree) and docs/CONFIG.md (from internal/config);
# cmd/sluice's TestGeneratedDocsUpToDate fails when the committed files drift.
docs:
	$(GO) generate ./cmd/sluice

ci:
	.ci/run
