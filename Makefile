# The one entry point. `make run` serves on SQLite; `make test` runs every test.
SHELL := /bin/bash
.DEFAULT_GOAL := help
JOBS ?= $(shell nproc)

.PHONY: help deps build run test test-release test-asan fuzz fresh-check image bench soak format format-check lint clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-13s %s\n", $$1, $$2}'

deps: ## Install the Debian packages needed to build the server
	@scripts/install-deps build

build: deps ## Build the server alone (no test suites) at build/server/users-api
	@echo "build: cmake --preset server (build/server)"
	@cmake --preset server >/dev/null
	@cmake --build --preset server -j $(JOBS)

run: build ## Build, then serve the API on SQLite at port 8000
	exec build/server/users-api serve

test: ## Install what is missing, build, and run every test (release, ASan/UBSan, 30 s per fuzz target), one summary
	@scripts/install-deps test
	@scripts/install-deps fuzz || echo "make test: clang or libclang-rt-14-dev could not be installed; the fuzz step will say it is skipped"
	@scripts/run-tests

test-release: ## Only the release preset's tests
	@scripts/install-deps test
	@TEST_PRESETS=release scripts/run-tests

test-asan: ## Only the ASan/UBSan preset's tests
	@scripts/install-deps test
	@TEST_PRESETS=asan scripts/run-tests

FUZZ_SECONDS ?= 300
fuzz: ## Build the libFuzzer targets (clang, ASan/UBSan) and run each for FUZZ_SECONDS (default 300)
	@scripts/install-deps fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) scripts/fuzz

fresh-check: ## make run and make test on a fresh Debian bookworm root (debootstrap; not part of make test)
	@scripts/fresh-check

image: ## Build the container image localhost/users-api:dev with buildah (docs/CONTAINER.md)
	@scripts/image/build.sh

bench: build ## Throughput against nginx on this machine, SQLite then PostgreSQL (not a test)
	@scripts/install-deps bench
	bench/run.sh
	bench/postgres.sh
	bench/pages.sh

soak: build ## Mixed load and hostile clients for SOAK_SECONDS (600); RSS, fds, threads must stay flat; PNG in build/soak (not in make test)
	@scripts/install-deps soak
	@scripts/soak

# The project's own C++ (test fixtures with deliberate defects excluded).
CXX_SOURCES = git ls-files 'src/*.cpp' 'src/*.hpp' 'tests/domain/*.cpp' 'tests/config/*.cpp' 'tests/observability/*.cpp' 'tests/transfer/*.cpp' 'tests/storage/*.cpp' \
	'tests/storage/*.hpp' 'tests/http/*.cpp' 'tests/auth/*.cpp' 'tests/auth/*.hpp' 'tests/api/*.cpp' 'tests/api/*.hpp' 'tests/support/*.cpp' 'tests/support/*.hpp' \
	'tests/fuzz/*.cpp' 'tests/fuzz/*.hpp'

format: ## Rewrite sources with clang-format
	@$(CXX_SOURCES) | xargs clang-format -i

format-check: ## Fail if a source is not clang-formatted
	@$(CXX_SOURCES) | xargs clang-format --dry-run --Werror

# One clang-tidy per file, JOBS at a time, each file's report printed whole
# (so that CI's SARIF converter never reads two interleaved); xargs exits
# non-zero when any file has a finding (WarningsAsErrors in .clang-tidy makes
# every one count).
lint: ## clang-tidy over the sources, in parallel (needs a configured release build)
	@cmake --preset release >/dev/null
	@git ls-files 'src/*.cpp' | xargs -P $(JOBS) -I{} sh -c \
	  'report=$$(clang-tidy -p build/release --quiet "$$1" 2>&1); status=$$?; printf "%s\n" "$$report"; exit $$status' \
	  clang-tidy {}

clean: ## Remove build outputs
	rm -rf build
