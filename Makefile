# kazzle: make demo, make test. See README.md.
GO       ?= go
FUZZTIME ?= 15s
BENCHTIME ?= 1s

.PHONY: all build test lint bench fuzz demo clean

all: build test lint

build:
	$(GO) build ./...

# With a throwaway PostgreSQL cluster when PostgreSQL is installed (scripts/with-postgres.sh).
test:
	@bash scripts/with-postgres.sh $(GO) test -count=1 -race ./...

lint:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt wants to change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...
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
	rm -rf bin
