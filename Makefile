# Care Connect Explorer. `make run` opens the app on its built-in sandbox;
# `make test` runs the whole test suite. Both install the Debian packages
# Fyne needs when they are missing.
GO ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run test smoke lint deps package check-packages screenshots fuzz bench

# no_emoji as in the packages: Fyne's colour emoji font costs 31 MiB.
run: deps
	$(GO) run -tags no_emoji .

test: deps
	$(GO) test -race -count=1 ./...

# The real binary under Xvfb on its sandbox (CI runs this too).
smoke:
	scripts/deps.sh --display
	scripts/smoke.sh

# README screenshots, taken from the real app under Xvfb on its sandbox.
screenshots:
	scripts/deps.sh --display
	mkdir -p docs/screenshots
	SCREENSHOT=$(CURDIR)/docs/screenshots/explorer.png scripts/smoke.sh

# The performance figures against their budgets (docs/PERFORMANCE.md), under
# Xvfb; fails when one is over budget. PROFILE=dir also writes profiles.
bench:
	scripts/bench.sh

# Every fuzz target for a bounded time (FUZZTIME seconds each).
FUZZTIME ?= 15
fuzz:
	scripts/fuzz.sh $(FUZZTIME)

lint: deps
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt: the files above need formatting"; exit 1; }
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

deps:
	@scripts/deps.sh

# Release packages in dist/: the Linux archive and the Windows .exe
# (docs/INSTALL.md). Installs mingw-w64 and the rest when missing.
package:
	scripts/package.sh all

# Installs the Linux archive into a temporary prefix and checks both packages.
check-packages:
	scripts/check-packages.sh all
