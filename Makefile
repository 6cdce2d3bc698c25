# access911-infra. `make demo` is the main job (the seed's simulation on the
# embedded default, DynamoDB Local); `make test` is every test (what CI runs);
# `make plan` shows offline what each region stack would create.
GO      ?= go
SHELL   := /bin/bash
GOFILES := $(shell git ls-files '*.go' 2>/dev/null)

.PHONY: all setup plan demo serve artifact build vet fmt-check test unit examples provider drill-e2e bench load fuzz clean

all: build test

## setup: what the tests and the local run need besides Go (Java, npm,
## redis-server, moto), installed if missing or named with the command to run
setup:
	@bash scripts/setup.sh

## demo: the main job: the seed's 1000-call simulation on DynamoDB Local, end to end
demo: setup
	$(GO) run ./cmd/access911 demo

## serve: the API on 127.0.0.1:8911 against DynamoDB Local (Ctrl-C stops)
serve:
	$(GO) run ./cmd/access911 serve

## plan: the offline plan of all three region stacks (no AWS account needed)
plan:
	$(GO) run ./cmd/access911 plan

## artifact: the Lambda zip (linux/arm64, reproducible) in dist/
artifact:
	$(GO) run ./cmd/access911 artifact

build:
	$(GO) build ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $(GOFILES)); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## test: formatting, vet, and every test: unit, Pulumi mock, and the
## integration tests against DynamoDB Local and moto (they start them themselves)
test: setup fmt-check vet examples provider
	$(GO) vet -tags integration ./...
	@mkdir -p .cache
	@# Every package's result, every test skipped for a missing emulator (with why),
	@# and on a failure its output; the full log is .cache/test.log.
	@$(GO) test -count=1 -timeout 30m -tags integration -v ./... > .cache/test.log 2>&1; status=$$?; \
	  grep -E '^(ok|FAIL|--- FAIL|panic:)|SKIPPED:' .cache/test.log; \
	  if [ $$status -ne 0 ]; then echo "== failures"; grep -B 5 -A 40 -E -- '--- FAIL|^panic:' .cache/test.log | head -400; fi; \
	  exit $$status

## examples: build and run the consumer module (another team's program on the components, under mocks)
examples:
	cd examples/consumer && $(GO) vet ./... && out=$$($(GO) run .) && echo "examples/consumer: $$(echo "$$out" | tail -1)"

## provider: vet and test the component package (the components for any Pulumi language; a module of its own)
provider:
	cd provider && $(GO) vet ./... && $(GO) test -count=1 ./... && $(GO) build -o ../.cache/pulumi-resource-access911 . && echo "provider: pulumi-resource-access911 built"

## drill-e2e: the DR drill against moto (three emulated regions), printing its reports
drill-e2e:
	$(GO) test -count=1 -tags integration -run 'TestDrill' -v ./internal/drill/

## unit: the fast tests only (no emulator)
unit:
	$(GO) test ./...

## fuzz: fuzz request validation and the whole router (FUZZTIME=5m each by default)
FUZZTIME ?= 5m
fuzz:
	$(GO) test ./app/calls/ -run '^$$' -fuzz FuzzParseCall -fuzztime $(FUZZTIME)
	$(GO) test ./app/handler/ -run '^$$' -fuzz FuzzRouter -fuzztime $(FUZZTIME)

## bench: benchmarks (handler vs PutItem, /simulate vs sequential vs raw batch,
## synthesis, artifact build), ratios, benchstat, and a short load profile into perf/
bench:
	bash scripts/bench.sh

## load: the quick load profile against a local server (results in perf/)
load:
	$(GO) run ./cmd/access911 load --profile quick

clean:
	rm -rf bin dist .cache
