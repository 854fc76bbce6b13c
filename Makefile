# Thin wrapper around CMake. `make test` installs missing Debian build
# dependencies, then builds and runs the whole ctest suite: a normal -Werror
# build, an AddressSanitizer+UndefinedBehaviorSanitizer build, and a
# ThreadSanitizer build (the suites with foreign threads are the point of it),
# then a short libFuzzer run of the debug protocol (clang).
DEB_DEPS := cmake make gcc pkg-config libev-dev libcmocka-dev uthash-dev libunwind-dev libinih-dev libjansson-dev clang libclang-rt-dev \
            redis-tools
BUILD    ?= build
JOBS     ?= $(shell nproc)
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build build-asan build-tsan build-fuzz test test-release test-asan test-tsan test-fuzz run demo bench bench-kvd clean install

all: build

deps:
	@missing=""; for p in $(DEB_DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	cmake -S . -B $(BUILD)/release -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTROUPE_WERROR=ON
	cmake --build $(BUILD)/release -j $(JOBS)

build-asan: deps
	cmake -S . -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Debug -DTROUPE_WERROR=ON \
	      -DTROUPE_SANITIZER="address;undefined" -DTROUPE_BUILD_BENCH=OFF
	cmake --build $(BUILD)/asan -j $(JOBS)

build-tsan: deps
	cmake -S . -B $(BUILD)/tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTROUPE_WERROR=ON \
	      -DTROUPE_SANITIZER=thread -DTROUPE_BUILD_BENCH=OFF -DTROUPE_BUILD_EXAMPLES=OFF
	cmake --build $(BUILD)/tsan -j $(JOBS)

test-release: build
	cd $(BUILD)/release && ctest --output-on-failure -j $(JOBS)

test-asan: build-asan
	cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

test-tsan: build-tsan
	cd $(BUILD)/tsan && TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1 \
	  ctest --output-on-failure -j $(JOBS)

# libFuzzer needs clang (installed by deps): the debug protocol's request
# handling, built with ASan+UBSan, run briefly on its seed corpus.
build-fuzz: deps
	@if command -v clang >/dev/null; then \
	  cmake -S . -B $(BUILD)/fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
	        -DTROUPE_WERROR=ON -DTROUPE_FUZZ=ON -DTROUPE_SANITIZER="address;undefined" \
	        -DTROUPE_BUILD_TESTS=OFF -DTROUPE_BUILD_EXAMPLES=OFF -DTROUPE_BUILD_BENCH=OFF && \
	  cmake --build $(BUILD)/fuzz -j $(JOBS); \
	else echo "build-fuzz: skipped, clang is not installed"; fi

test-fuzz: build-fuzz
	@if [ -d $(BUILD)/fuzz ]; then cd $(BUILD)/fuzz && \
	  ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure; fi

test: test-release test-asan test-tsan test-fuzz

# The main job: kvd, the flagship Redis-protocol server, in the foreground
# on examples/kvd/kvd.ini (port 6380). It prints how to talk to it.
run: build
	exec $(BUILD)/release/examples/kvd/kvd -c examples/kvd/kvd.ini

# A scripted tour of kvd on real clients (redis-cli, redis-benchmark,
# troupectl, SIGHUP, a shard panic, SIGTERM); exits 0 when every step worked.
demo: build
	bash examples/kvd/demo.sh $(BUILD)/release/examples/kvd/kvd \
	  $(BUILD)/release/tools/troupectl/troupectl examples/kvd/kvd.ini

bench: build
	bench/run.sh $(BUILD)/release

# kvd against Debian's redis-server, same redis-benchmark profiles, one run
# (installs redis-server when missing).
bench-kvd: build
	bench/kvd_vs_redis.sh $(BUILD)/release/examples/kvd/kvd

install: build
	cmake --install $(BUILD)/release

clean:
	rm -rf $(BUILD)
