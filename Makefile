# access911-infra. `make plan` is the main job on the committed stacks;
# `make test` is every test (what CI runs).
GO      ?= go
GOFILES := $(shell git ls-files '*.go' 2>/dev/null)

.PHONY: all plan artifact build vet fmt-check test bench clean

all: build test

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

## test: formatting, vet, and every test (unit + Pulumi mock tests)
test: fmt-check vet
	$(GO) test -count=1 ./...

## bench: offline synthesis benchmark (more suites arrive with the handler)
bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 6 ./internal/plan/ | tee bench.out

clean:
	rm -rf bench.out dist
