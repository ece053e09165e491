# qrlogin developer loop. On a fresh Debian 12 / Ubuntu machine with Go >= 1.26
# and Node.js >= 20, `make run` and `make test` are all you need: each first
# runs `make deps`, which apt-installs what is missing (sudo when not root).
#
# Build flags: a cold cgo build of Fyne's GL driver takes ~6 min here and every
# new compile flag set (-trimpath, -buildmode=pie, CGO_*FLAGS, `fyne package`)
# pays it again, so every Linux build below uses plain `go build` with the
# link-only flags -s -w, and tests add only -race (docs/build-notes.md
# "Build times").

.DEFAULT_GOAL := build
.DELETE_ON_ERROR:

TOOLS   := $(CURDIR)/.cache/bin
export PATH := $(TOOLS):/usr/local/go/bin:$(PATH)
export CGO_ENABLED := 1

APP_ID  := io.github.qrlogin.QRLogin
VERSION := $(shell sed -n 's/^var Version = "\(.*\)"$$/\1/p' internal/identity/identity.go)
BUILD   := build
DIST    := dist
BIN     := $(BUILD)/qrlogin
LDFLAGS := -s -w
GOBUILD := go build -buildvcs=false

# Pinned tools, installed with `go install` into .cache/bin under versioned
# names, so changing a pin installs the new one.
STATICCHECK_VERSION := v0.8.2
NFPM_VERSION        := v2.45.2
GOWINRES_VERSION    := v0.3.3
STATICCHECK := $(TOOLS)/staticcheck-$(STATICCHECK_VERSION)
NFPM        := $(TOOLS)/nfpm-$(NFPM_VERSION)
GOWINRES    := $(TOOLS)/go-winres-$(GOWINRES_VERSION)

FUZZTIME  ?= 60s
BENCHTIME ?= 1s
ICON_SIZES := 16 24 32 48 64 128 256 512

.PHONY: deps run build test vet staticcheck fmt-check lint bench fuzz \
	package package-check windows demo screenshots icons clean

## deps: install missing system packages, check Go and Node.js versions
DEPS_FOR ?= build test
deps:
	@scripts/deps $(DEPS_FOR)

## build: the Linux binary, build/qrlogin
build: DEPS_FOR = build
build: deps
	$(GOBUILD) -ldflags='$(LDFLAGS)' -o $(BIN) .

## run: build and open the app
run: DEPS_FOR = run
run: build
	./$(BIN)

## test: go vet, staticcheck, and every test with the race detector inside a
## private X server + D-Bus session + Secret Service (scripts/with-test-session)
test: DEPS_FOR = build test
test: deps vet staticcheck
	@mkdir -p $(BUILD)
	GOTEST_SUMMARY=$(BUILD)/test-summary.txt scripts/with-test-session scripts/gotest -race -count=1 ./...

vet:
	go vet ./...

staticcheck: $(STATICCHECK)
	$(STATICCHECK) ./...

fmt-check:
	@files=$$(find . -name '*.go' -not -path './.cache/*' -not -path '*/node_modules/*' | xargs gofmt -l); \
	if [ -n "$$files" ]; then echo "not gofmt'ed:"; echo "$$files"; exit 1; fi

## lint: vet, staticcheck and the gofmt check
lint: vet staticcheck fmt-check

## bench: every benchmark in the module (BENCHTIME=1s), inside the test
## session: the GUI benchmarks (internal/harness, BenchmarkGUI*) time the
## real window against a hello-world Fyne window on the same Xvfb
bench: DEPS_FOR = build test
bench: deps
	scripts/with-test-session go test -run '^$$' -bench . -benchmem -benchtime $(BENCHTIME) ./...

## fuzz: every fuzz target, FUZZTIME (60s) each; not part of `make test`
fuzz: DEPS_FOR = build
fuzz: deps
	FUZZTIME=$(FUZZTIME) scripts/fuzz

## package: dist/qrlogin_<version>-1_amd64.deb and dist/qrlogin-<version>-1.x86_64.rpm
package: DEPS_FOR = package
package: build $(NFPM)
	@mkdir -p $(BUILD)/pkg $(DIST)
	gzip -9nc packaging/man/qrlogin.1 > $(BUILD)/pkg/qrlogin.1.gz
	gzip -9nc packaging/debian/changelog > $(BUILD)/pkg/changelog.Debian.gz
	rm -f $(DIST)/*.deb $(DIST)/*.rpm
	VERSION=$(VERSION) $(NFPM) package --config packaging/nfpm.yaml --packager deb --target $(DIST)/
	VERSION=$(VERSION) $(NFPM) package --config packaging/nfpm.yaml --packager rpm --target $(DIST)/
	@ls -l $(DIST)/*.deb $(DIST)/*.rpm

## package-check: build the packages and validate them (lintian without
## errors, desktop-file-validate, appstreamcli, rpm); in CI (CI=true) or with
## INSTALL_CHECK=1 also apt-get install the .deb and run qrlogin from PATH
package-check: DEPS_FOR = package
package-check: package
	scripts/package-check $(DIST) $(VERSION)

## windows: dist/qrlogin.exe (GUI subsystem) and dist/qrlogin-cli.exe (console,
## for the commands), cross-compiled with mingw-w64, icon embedded by go-winres
windows: DEPS_FOR = windows
windows: deps $(GOWINRES)
	@mkdir -p $(DIST)
	rm -f rsrc_windows_*.syso
	$(GOWINRES) simply --arch amd64 --out rsrc --manifest gui \
		--icon assets/icons/hicolor/256x256/apps/$(APP_ID).png \
		--product-name "QR Login" --product-version $(VERSION) --file-version $(VERSION) \
		--file-description "QR Login" --original-filename qrlogin.exe \
		--copyright "The qrlogin authors"
	GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
		$(GOBUILD) -ldflags='$(LDFLAGS) -H windowsgui' -o $(DIST)/qrlogin.exe .
	GOOS=windows GOARCH=amd64 CC=x86_64-w64-mingw32-gcc \
		$(GOBUILD) -ldflags='$(LDFLAGS)' -o $(DIST)/qrlogin-cli.exe .
	rm -f rsrc_windows_*.syso
	@for exe in $(DIST)/qrlogin.exe $(DIST)/qrlogin-cli.exe; do \
		x86_64-w64-mingw32-objdump -h $$exe | grep -q '\.rsrc' || { echo "$$exe: no icon resource" >&2; exit 1; }; \
	done
	@ls -l $(DIST)/*.exe

## demo: the whole sign-in with no phone and no network: a dev homeserver
## inside qrlogin on 127.0.0.1 and a pretend phone window (`qrlogin demo`)
demo: DEPS_FOR = run
demo: build
	./$(BIN) demo

## screenshots: docs/screenshots/<screen>-<light|dark>.png, the README's
## set: first the screen tests (Fyne's software renderer, no display; the
## screens a real sign-in cannot stop on), then the real window under Xvfb
## walked through a sign-in against the dev homeserver (internal/harness),
## which replaces the screens both produce
screenshots: DEPS_FOR = build test
screenshots: deps
	QRLOGIN_SCREENSHOTS=$(CURDIR)/docs/screenshots CGO_ENABLED=0 go test -count=1 -run '^TestScreenshots$$' ./ui/
	QRLOGIN_SCREENSHOT_DIR=$(CURDIR)/docs/screenshots scripts/with-test-session \
		go test -count=1 -run '^TestScreensOfTheRealWindow$$' ./internal/harness/
	@ls -l docs/screenshots

## icons: render the hicolor PNGs from the SVG (commit the results)
icons: DEPS_FOR = icons
icons: deps
	for size in $(ICON_SIZES); do \
		mkdir -p assets/icons/hicolor/$${size}x$${size}/apps && \
		rsvg-convert -w $$size -h $$size assets/icons/$(APP_ID).svg \
			-o assets/icons/hicolor/$${size}x$${size}/apps/$(APP_ID).png || exit 1; \
	done

clean:
	rm -rf $(BUILD) $(DIST) rsrc_windows_*.syso

$(STATICCHECK):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	mv $(TOOLS)/staticcheck $@

$(NFPM):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) go install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)
	mv $(TOOLS)/nfpm $@

$(GOWINRES):
	@mkdir -p $(TOOLS)
	GOBIN=$(TOOLS) go install github.com/tc-hib/go-winres@$(GOWINRES_VERSION)
	mv $(TOOLS)/go-winres $@
