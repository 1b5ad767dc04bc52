# kazzle: make demo, make test. See README.md.
GO       ?= go
FUZZTIME ?= 15s
BENCHTIME ?= 1s

.PHONY: all build install release test lint bench fuzz demo clean

all: build test lint

# The version and commit are stamped into the binary: these machines build with
# -buildvcs=false, so nothing else records them. Outside a git checkout both are empty.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X github.com/kazzle/kazzle/cmd.stampedVersion=$(VERSION) -X github.com/kazzle/kazzle/cmd.stampedCommit=$(COMMIT)
PLATFORMS := linux/amd64 linux/arm64 darwin/amd64 darwin/arm64

# The GitHub workflow examples users copy; actionlint also runs shellcheck on their
# scripts when shellcheck is installed. action.yml is checked by internal/ghaction's tests.
WORKFLOWS := $(wildcard docs/ci/github-*.yml)

build:
	$(GO) build ./...
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/kazzle ./cmd/kazzle

install:
	$(GO) install -ldflags '$(LDFLAGS)' ./cmd/kazzle

# Static binaries for each platform in dist/, with SHA256SUMS. -trimpath and an empty
# build id make them depend on the source alone: two runs give the same sums.
release:
	@rm -rf dist && mkdir -p dist
	@for p in $(PLATFORMS); do \
		os=$${p%/*}; arch=$${p#*/}; out=dist/kazzle_$${os}_$${arch}; \
		echo "release: $$out"; \
		CGO_ENABLED=0 GOOS=$$os GOARCH=$$arch $(GO) build -trimpath -ldflags '-s -w -buildid= $(LDFLAGS)' -o $$out ./cmd/kazzle || exit 1; \
	done
	@cd dist && sha256sum kazzle_* > SHA256SUMS && cat SHA256SUMS

# With a throwaway PostgreSQL cluster when PostgreSQL is installed (scripts/with-postgres.sh).
# A race-detector binary sleeps a second as it exits unless told not to, and the CLI's
# testscripts run kazzle, built so, hundreds of times; races are still reported.
test:
	@GORACE="atexit_sleep_ms=0 $$GORACE" bash scripts/with-postgres.sh $(GO) test -count=1 -race ./...

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt wants to change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
	$(GO) tool actionlint $(WORKFLOWS)
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod/go.sum are not tidy: run go mod tidy"; $(GO) mod tidy -diff; exit 1; }
	@echo "lint: ok"

bench:
	@bash scripts/with-postgres.sh bash scripts/bench.sh $(BENCHTIME)

# Each fuzz target for FUZZTIME, starting from the committed seed corpora.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseTemplate$$' -fuzztime $(FUZZTIME) ./secret
	$(GO) test -run '^$$' -fuzz '^FuzzOpenField$$' -fuzztime $(FUZZTIME) ./vault
	$(GO) test -run '^$$' -fuzz '^FuzzAuditTargetJSON$$' -fuzztime $(FUZZTIME) ./vault
	$(GO) test -run '^$$' -fuzz '^FuzzAppendString$$' -fuzztime $(FUZZTIME) ./vault/jsonstr
	$(GO) test -run '^$$' -fuzz '^FuzzResolveJSON$$' -fuzztime $(FUZZTIME) ./server
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeSecretRequest$$' -fuzztime $(FUZZTIME) ./server
	$(GO) test -run '^$$' -fuzz '^FuzzExportQuoting$$' -fuzztime $(FUZZTIME) ./cmd
	$(GO) test -run '^$$' -fuzz '^FuzzGitCredentialInput$$' -fuzztime $(FUZZTIME) ./cmd
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeTree$$' -fuzztime $(FUZZTIME) ./config
	$(GO) test -run '^$$' -fuzz '^FuzzAttrSpansAgreeWithTheTokenizer$$' -fuzztime $(FUZZTIME) ./bundler

demo:
	@bash scripts/demo.sh

clean:
	rm -rf bin dist
