# claimgate: the two commands a new user needs are `make run` and `make test`.
GO      ?= go
BIN     := bin/claimgate
# Sample X12 files bundled in testdata (public files, see testdata/*/SOURCES.txt).
SAMPLES := $(filter-out %/SOURCES.txt,$(wildcard testdata/837p/* testdata/835/* testdata/999/* testdata/277ca/* testdata/277/*))
FUZZTIME ?= 5s
# Each input the fuzzer keeps (new coverage, or a crasher) is minimised
# for at most this many runs, not the default 60s, so that a short run
# spends its time fuzzing rather than minimising.
FUZZMINTIME ?= 100x
BENCHTIME ?= 1s

.PHONY: all build run samples test unit lint bench bench-e2e bench-sftp fuzz fuzz-smoke clean promtool k8s-check test-cluster

all: build

build:
	$(GO) build -o $(BIN) ./cmd/claimgate

RUNDIR  ?= .data/run

# The whole product on this machine (claimgate demo, docs/demo.md): NATS
# with JetStream embedded, the payer simulator over SFTP on loopback, the
# gateway; the sample charge batches are posted, the claims followed to
# their final states, and a summary printed. KEEP=1 leaves it running
# (API, NATS, simulator) until Ctrl-C; DEMO_TIMEOUT bounds the wait.
DEMO_TIMEOUT ?= 60s
run: build
	@./$(BIN) demo --timeout $(DEMO_TIMEOUT) $(if $(KEEP),--keep)

# What make run did before the gateway: validate the bundled sample files,
# then convert the sample PT charge batch into 837P files per payer and
# validate what was written. Exit status 1 from validate/convert means
# "some file or claim was rejected", which the samples are built to show;
# 2 (usage/I/O) stops the run.
samples: build
	@echo "== 1. validate the bundled public X12 samples (NEGATIVE ones fail on purpose)"
	@./$(BIN) validate --summary $(SAMPLES); rc=$$?; if [ $$rc -gt 1 ]; then exit $$rc; fi
	@echo; echo "== 2. convert the sample PT charge batch to 837P (scrubbed; one claim is rejected on purpose)"
	@rm -rf $(RUNDIR) && mkdir -p $(RUNDIR)
	@./$(BIN) convert --to 837p testdata/batches/pt_batch.json -o $(RUNDIR) --state $(RUNDIR)/.state --config deploy/claimgate.example.json; rc=$$?; if [ $$rc -gt 1 ]; then exit $$rc; fi
	@echo; echo "== 3. validate the 837P files claimgate wrote"
	@./$(BIN) validate --summary $(RUNDIR)/*.837

# Every test: formatting and vet, the race-enabled test suite, the alert
# rules' unit tests, the Kubernetes manifests' check, and a short run of
# every fuzz target.
test: lint unit promtool k8s-check fuzz-smoke

# The external-server and cluster tests run a real nats-server built from
# the nats-server module go.mod requires (the same version as the embedded
# one; Debian's 2.9.10 is too old).
NATS_SERVER := $(CURDIR)/bin/nats-server

unit: $(NATS_SERVER)
	CLAIMGATE_NATS_SERVER=$(NATS_SERVER) $(GO) test -race -count=1 ./...

# The scale-out evidence (docs/scale-out.md): 10,000 claims through two
# claimgate serve processes on a real 3-node nats-server cluster with
# every stream replicated three times; a node and a serve are killed
# mid-load. Not in unit (minutes of load); .ci/run runs it after make test.
# CLAIMGATE_CLUSTER_CLAIMS=N for another size.
test-cluster: $(NATS_SERVER)
	CLAIMGATE_CLUSTER_TEST=1 CLAIMGATE_NATS_SERVER=$(NATS_SERVER) $(GO) test -race -count=1 -v -run '^TestClusterScaleOut$$' -timeout 20m ./pkg/gateway

$(NATS_SERVER): go.mod go.sum
	CGO_ENABLED=0 $(GO) build -o $@ github.com/nats-io/nats-server/v2

# gofmt, go vet and staticcheck (pinned in go.mod as a tool: go tool staticcheck).
lint:
	@fmt=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$fmt" ]; then echo "gofmt needed:"; echo "$$fmt"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# The alert rules and the compose stack's Prometheus configuration
# (Debian's prometheus package; .ci/run installs it): syntax, then the
# promtool unit test of every alert (docs/runbook.md).
promtool:
	promtool check rules deploy/prometheus/alerts.yml
	promtool check config deploy/prometheus/prometheus.yml
	cd deploy/prometheus && promtool test rules alerts_test.yml alerts_baseline_test.yml

# The Kubernetes manifests decoded strictly into the Kubernetes API types:
# a module of its own (deploy/k8s/check) so k8s.io stays out of go.mod.
k8s-check:
	cd deploy/k8s/check && $(GO) vet ./... && $(GO) test -count=1 ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

# The convert pipeline on generated 100,000- and 300,000-claim batches
# (docs/pipeline.md): the machine's load, then claims/s (wall) and
# claims/CPU-s, peak heap, B and allocations per run (100k, in-process),
# peak RSS and CPU-s of the convert binary (100k: the test's log line;
# 300k: the benchmark), then the whole convert command on a 100k batch
# file five times. The benchmarks' files go to .benchtmp, away from the
# Go toolchain's scratch directories: on an ext4 without a journal (this
# project's CI and development VMs) creating a file in a directory whose
# block group saw many deletions costs up to ~1 ms of CPU (ext4
# recently_deleted), and go build deletes thousands of files under /tmp.
BENCHTMP ?= $(CURDIR)/.benchtmp
bench-convert:
	@uptime
	@mkdir -p $(BENCHTMP)
	TMPDIR=$(BENCHTMP) GOTMPDIR=$${TMPDIR:-/tmp} $(GO) test -run 'TestConvertMemory100k$$' -v -bench 'Convert100k$$|ConvertMemory300k' -benchtime 1x -benchmem ./pkg/pipeline
	TMPDIR=$(BENCHTMP) GOTMPDIR=$${TMPDIR:-/tmp} $(GO) test -run '^$$' -bench 'ConvertCommand100k$$' -benchtime 5x ./pkg/pipeline

# The SFTP connector against OpenSSH's sftp client through a local sshd
# (docs/sftp.md, "Benchmarks"), its files in a new directory each run for
# the reason above. SFTPBENCHDIR=/bench1 (a new top-level directory, as
# root) gives the steadiest figures: ext4 puts it in a fresh block group.
SFTPBENCHDIR ?= $(BENCHTMP)/sftp-$(shell date +%s)
bench-sftp:
	@uptime
	@mkdir -p $(SFTPBENCHDIR)
	TMPDIR=$(SFTPBENCHDIR) GOTMPDIR=$${TMPDIR:-/tmp} $(GO) test -run '^$$' -bench '1000x20KB|100MB' -benchtime 2x -count 3 ./pkg/sftpconn/
	rm -rf $(SFTPBENCHDIR)

# The gateway end to end: 100,000 claims from one CSV batch through a real
# claimgate serve (embedded JetStream) to the payer simulator over SFTP and
# back (docs/gateway.md). CLAIMGATE_BENCH_CLAIMS=N for another size.
bench-e2e:
	$(GO) test -run '^$$' -bench 'EndToEnd$$' -benchtime 1x -timeout 60m ./pkg/gateway

# Each fuzz target for FUZZTIME (make fuzz FUZZTIME=5m for a longer run).
fuzz:
	@set -e; grep -rl --include='*_test.go' '^func Fuzz' . | while read f; do \
	  dir=$$(dirname $$f); \
	  for t in $$(grep -o '^func Fuzz[A-Za-z0-9_]*' $$f | sed 's/^func //'); do \
	    echo "fuzz $$dir $$t ($(FUZZTIME))"; \
	    log=$$(mktemp); \
	    $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINTIME) $$dir >$$log 2>&1 || { tail -40 $$log; rm -f $$log; exit 1; }; \
	    rm -f $$log; \
	  done; \
	done

fuzz-smoke:
	@$(MAKE) --no-print-directory fuzz FUZZTIME=5000x

clean:
	rm -rf bin
