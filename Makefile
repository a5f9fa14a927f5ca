# The two front-door commands: `make demo` and `make test`. Both install what
# is missing (scripts/setup) and build first.
BUILD_DIR ?= build
SANITIZE_DIR ?= build-sanitize
THREAD_SANITIZE_DIR ?= build-tsan
NO_POSTGRES_DIR ?= build-no-postgres
PREFIX ?= /usr/local
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 600
CMAKE_FLAGS ?=
# Line tables (-g1) name file and line in every stack and sanitizer report,
# at a fraction of the build time of full debug information.
DEBUG_INFO ?= -g1

.PHONY: all setup build build-sanitize build-tsan build-no-postgres build-fuzz fuzz demo test tidy bench format install clean

all: build

setup:
	@scripts/setup

build: setup
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 $(DEBUG_INFO) -DNDEBUG" $(CMAKE_FLAGS) > /dev/null
	@cmake --build $(BUILD_DIR)

# Everything again under AddressSanitizer and UBSan, asserts on, lightly
# optimised so that the integration suites stay quick.
build-sanitize: setup
	@cmake -S . -B $(SANITIZE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="$(DEBUG_INFO) -O1" \
	  -DBACKFILL_SANITIZE=ON $(CMAKE_FLAGS) > /dev/null
	@cmake --build $(SANITIZE_DIR)

# Everything again under ThreadSanitizer: batches are read and mapped ahead
# on other threads. A race makes the binary exit 86, failing its test. The
# unit tests and the integration suites labelled `threads` run on it.
build-tsan: setup
	@cmake -S . -B $(THREAD_SANITIZE_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 $(DEBUG_INFO) -DNDEBUG" \
	  -DBACKFILL_SANITIZE_THREAD=ON $(CMAKE_FLAGS) > /dev/null
	@cmake --build $(THREAD_SANITIZE_DIR)

# The build without the PostgreSQL connector (no libpq): it compiles, and
# its SQLite tests pass; its PostgreSQL tests skip.
build-no-postgres: setup
	@cmake -S . -B $(NO_POSTGRES_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release -DBACKFILL_POSTGRES=OFF \
	  $(CMAKE_FLAGS) > /dev/null
	@cmake --build $(NO_POSTGRES_DIR)

# The libFuzzer targets (fuzz/), built with clang under ASan and UBSan.
build-fuzz: setup
	@cmake -S . -B $(FUZZ_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 $(DEBUG_INFO)" \
	  -DCMAKE_CXX_COMPILER=clang++-19 -DBACKFILL_FUZZ=ON $(CMAKE_FLAGS) > /dev/null
	@cmake --build $(FUZZ_DIR)

# Each target for FUZZ_SECONDS (10 minutes) from its seed corpus.
fuzz: build-fuzz
	@scripts/fuzz --seconds $(FUZZ_SECONDS) $(FUZZ_DIR)

demo: build
	@scripts/demo $(BUILD_DIR)/backfill

# clang-tidy (.clang-tidy) on the C++ files the last commit and any
# uncommitted change touch; `scripts/tidy --all` checks every file.
tidy: build
	@scripts/tidy $(BUILD_DIR)

test: build build-sanitize build-tsan build-no-postgres build-fuzz tidy
	@scripts/fuzz --runs 100000 $(FUZZ_DIR)
	@ctest --test-dir $(SANITIZE_DIR) --output-on-failure --parallel 2
	@ctest --test-dir $(BUILD_DIR) --output-on-failure --parallel 2
	@ctest --test-dir $(THREAD_SANITIZE_DIR) --output-on-failure --parallel 2 --label-regex 'unit|threads'
	@ctest --test-dir $(NO_POSTGRES_DIR) --output-on-failure --parallel 2

bench: build
	@python3 bench/sqlite_in_place.py --backfill $(BUILD_DIR)/backfill
	@python3 bench/postgres.py --backfill $(BUILD_DIR)/backfill
	@python3 bench/formats_and_transforms.py --backfill $(BUILD_DIR)/backfill

install: build
	@cmake --install $(BUILD_DIR) --prefix $(PREFIX)

format:
	@clang-format -i $$(git ls-files '*.cpp' '*.h')

clean:
	rm -rf $(BUILD_DIR) $(SANITIZE_DIR) $(THREAD_SANITIZE_DIR) $(NO_POSTGRES_DIR) $(FUZZ_DIR) demo
