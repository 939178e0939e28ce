# The README's two commands, and the one place that installs system packages.
#   make run    install what is missing, build, start the server with a demo team
#   make test   install what is missing, build (plain and ASan+UBSan), run every test suite
# Other targets: deps (BENCH=1 also the benchmarks' packages), build, build-asan, web, unit,
# integration, integration-pg, crash, attack, compat, browser, fuzz, lint, bench, clean.

DATA   ?= ./switchboard-data
LISTEN ?= 127.0.0.1:8080
PYTHON ?= /usr/bin/python3
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Debian packages: build, tests (cmocka, pytest, clang for fuzzing, Chromium for the browser
# tests, a PostgreSQL server for the integration suite's second backend), benchmarks (wrk).
# Node.js and npm come from Debian too when the machine has none.
DEB_PACKAGES := gcc make meson ninja-build pkg-config curl \
	libmicrohttpd-dev libjansson-dev libsqlite3-dev libsodium-dev libcurl4-openssl-dev libssl-dev libxml2-dev \
	libcmark-gfm-dev libcmark-gfm-extensions-dev libpq-dev postgresql \
	libcmocka-dev python3 python3-pytest python3-pytest-rerunfailures python3-requests python3-aiosmtpd \
	clang libclang-rt-14-dev clang-format wrk chromium prometheus-alertmanager
# Directories with a package-lock.json: their npm packages are installed by `make deps`.
NPM_DIRS := web tests/compat tests/browser

.PHONY: all deps build build-asan web run test unit integration integration-pg compat browser crash attack fuzz lint bench clean

all: build

deps:
	@missing=$$(for p in $(DEB_PACKAGES); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; \
	done); \
	command -v npm >/dev/null 2>&1 || missing="$$missing nodejs npm"; \
	if [ -n "$$missing" ]; then \
		echo "installing:" $$missing; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@if [ -n "$(BENCH)" ]; then bench/deps.sh; fi
	@for d in $(NPM_DIRS); do \
		if [ -f $$d/package-lock.json ] && [ ! -d $$d/node_modules -o $$d/package-lock.json -nt $$d/node_modules ]; then \
			echo "npm ci in $$d"; (cd $$d && npm ci --no-audit --no-fund --loglevel=error) || exit 1; \
			touch $$d/node_modules; \
		fi; \
	done

build/build.ninja:
	meson setup build --buildtype=debugoptimized

build-asan/build.ninja:
	meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false

build: build/build.ninja
	ninja -C build
	@if [ -f web/package.json ]; then $(MAKE) --no-print-directory web; fi

# The web client's bundle (esbuild), rebuilt when a source changes.
WEB_SOURCES := $(shell [ -d web ] && find web -path web/node_modules -prune -o -path web/dist -prune -o -type f -print)
web: web/dist/index.html
web/dist/index.html: $(WEB_SOURCES)
	cd web && npm run --silent build

build-asan: build-asan/build.ninja
	ninja -C build-asan

run: deps build
	@./build/switchboard admin --data $(DATA) demo --url http://$(LISTEN)
	@echo "the README has a curl walk-through; stop the server with Ctrl-C"
	./build/switchboard serve --data $(DATA) --listen $(LISTEN)

# ASan/UBSan: any report fails the run (the server's exit code is checked by the tests).
SAN_ENV := ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:exitcode=99 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=98

# The integration suite runs three times: on SQLite with the plain and the ASan+UBSan builds, then
# on PostgreSQL with the plain build (see integration-pg).
test: deps build build-asan lint
	$(PG_CHECK)
	meson test -C build --print-errorlogs
	$(SAN_ENV) meson test -C build-asan --print-errorlogs
	@echo "== integration suite: SQLite, plain build"
	SB_TEST_PG= SWITCHBOARD_BIN=$(CURDIR)/build/switchboard $(PYTHON) -m pytest tests/integration -q
	@echo "== integration suite: SQLite, ASan+UBSan build"
	SB_TEST_PG= $(SAN_ENV) SWITCHBOARD_BIN=$(CURDIR)/build-asan/switchboard SWITCHBOARD_SANITIZED=1 \
		$(PYTHON) -m pytest tests/integration -q
	$(INTEGRATION_PG)
	SB_TEST_PG= tests/crash/run.sh
	SB_TEST_PG= tests/attack/run.sh
	@$(MAKE) --no-print-directory compat browser

# SIGKILLs under load and a full disk; slowloris, floods, CSRF, SSE permissions (short versions;
# CRASH_KILLS=25 / ATTACK_FULL=1 for the long ones).
crash: build
	tests/crash/run.sh
attack: build
	tests/attack/run.sh

# Real client libraries (npm) against a running server.
compat: build
	@if [ -x tests/compat/run.sh ]; then SWITCHBOARD_BIN=$(CURDIR)/build/switchboard tests/compat/run.sh; fi

# The web client in Debian's Chromium (Playwright).
browser: build
	@if [ -x tests/browser/run.sh ]; then SWITCHBOARD_BIN=$(CURDIR)/build/switchboard tests/browser/run.sh; fi

unit: build
	meson test -C build --suite unit --print-errorlogs

integration: build
	SWITCHBOARD_BIN=$(CURDIR)/build/switchboard $(PYTHON) -m pytest tests/integration -q

# The integration suite on PostgreSQL (plain build): a throwaway cluster (tests/pg/cluster.sh) in
# a temporary directory, stopped and removed afterwards whatever the outcome; the suite gets its
# superuser URI in SB_TEST_PG (and the cluster's directory in SB_TEST_PG_DIR). Without PostgreSQL
# installed this fails (make test checks that first): make deps installs it.
define PG_CHECK
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && \
	    ! [ -x "$$(pg_config --bindir 2>/dev/null)/initdb" ]; then \
		echo "PostgreSQL is not installed (the integration suite runs on it too): run make deps" >&2; \
		exit 1; \
	fi
endef
define INTEGRATION_PG
	$(PG_CHECK)
	@echo "== integration suite: PostgreSQL, plain build"
	@dir=$$(mktemp -d "$${TMPDIR:-/tmp}/sb-pg.XXXXXX") || exit 1; \
	trap 'tests/pg/cluster.sh stop "$$dir" >/dev/null 2>&1; rm -rf "$$dir"' EXIT; \
	trap 'exit 130' INT TERM HUP; \
	uri=$$(tests/pg/cluster.sh start "$$dir") || { echo "could not start PostgreSQL (tests/pg/cluster.sh)" >&2; exit 1; }; \
	echo "PostgreSQL cluster: $$uri (in $$dir)"; \
	echo "SB_TEST_PG=$$uri SWITCHBOARD_BIN=$(CURDIR)/build/switchboard $(PYTHON) -m pytest tests/integration -q"; \
	SB_TEST_PG=$$uri SB_TEST_PG_DIR=$$dir SWITCHBOARD_BIN=$(CURDIR)/build/switchboard \
		$(PYTHON) -m pytest tests/integration -q && \
	echo "== crash tests: PostgreSQL (SIGKILL of the node, restarts of PostgreSQL)" && \
	SB_TEST_PG=$$uri SB_TEST_PG_DIR=$$dir SWITCHBOARD_BIN=$(CURDIR)/build/switchboard \
		tests/crash/run.sh -k "sigkill or postgres_restart"
endef

integration-pg: build
	$(INTEGRATION_PG)

# libFuzzer builds of the fuzz targets; FUZZ_SECONDS each (findings go to tests/fuzz/corpus/).
FUZZ_SECONDS ?= 60
fuzz: deps
	tests/fuzz/run.sh $(FUZZ_SECONDS)

lint:
	@files=$$(git ls-files 'src/*.c' 'src/*.h' 'tests/*.c' 'bench/*.c' 'bench/*.h'); \
	clang-format --dry-run --Werror $$files && echo "clang-format: clean"
	@tools/check-layers

# Benchmarks (not part of make test): `make deps BENCH=1` adds what they need (ejabberd, perf...);
# BENCH_QUICK=1 for a short run. Writes docs/PERFORMANCE.md. Then the two-node figures on
# PostgreSQL (bench/multinode.sh; skipped, with a message, when PostgreSQL is not installed).
bench: build
	@$(MAKE) --no-print-directory deps BENCH=1
	BENCH_NO_APT=1 bench/run.sh
	bench/multinode.sh

clean:
	rm -rf build build-asan build-fuzz web/dist
