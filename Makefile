# glulab — build, test and run. `make help` lists the targets.
#
# Everything in src/ except src/cli/main.cpp is the library; the program and the test runner
# link against it. Objects and binaries go under build/ (git-ignored).

CXX      ?= g++
CXXSTD   := -std=c++17
WARN     := -Wall -Wextra -Wpedantic -Wshadow
# GCC vectorises with 256-bit registers even where the CPU has 512-bit ones unless asked; the
# elementwise ops (gate, loss, norm) gained 10-15% from 512, with the same bits (measured).
OPT      := -O3 -march=native -mprefer-vector-width=512
CXXFLAGS ?= $(OPT)
# sqrt never sets errno (we never read it), so loops with a sqrt can vectorise (AdamW). It
# changes no result, unlike -ffast-math, which we never use.
MATH     := -fno-math-errno
ALLFLAGS  = $(CXXSTD) $(WARN) $(MATH) $(CXXFLAGS) -fopenmp -Iinclude -MMD -MP
LINK     := -fopenmp  # always, even when LDFLAGS is set on the command line (make sanitize)

BUILD    ?= build
LIB_SRC  := $(filter-out src/cli/main.cpp,$(shell find src -name '*.cpp' | sort))
LIB_OBJ  := $(LIB_SRC:%.cpp=$(BUILD)/%.o)
TEST_SRC := $(sort $(wildcard tests/*.cpp))
TEST_OBJ := $(TEST_SRC:%.cpp=$(BUILD)/%.o)

CORPUS_DIR ?=
DATA       := data/tinyshakespeare.txt

.PHONY: all test sanitize run reproduce data bench vs-pytorch gemm-ab kernel-alone core-balance bandwidth step-ab clean help loc check-doctest

## all: optimised build of build/glulab (the default)
all: $(BUILD)/glulab

# Objects depend on this Makefile too: a change of flags (OPT, MATH) rebuilds everything, so
# that no build mixes objects compiled two ways.
$(BUILD)/%.o: %.cpp Makefile
	@mkdir -p $(dir $@)
	$(CXX) $(ALLFLAGS) -c $< -o $@

$(BUILD)/libglulab.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/glulab: $(BUILD)/src/cli/main.o $(BUILD)/libglulab.a
	$(CXX) $^ $(LINK) $(LDFLAGS) -o $@

$(BUILD)/run_tests: $(TEST_OBJ) $(BUILD)/libglulab.a
	$(CXX) $^ $(LINK) $(LDFLAGS) -o $@

# doctest is a system header (Debian/Ubuntu: doctest-dev); say how to get it if it is missing.
check-doctest:
	@echo '#include <doctest/doctest.h>' | $(CXX) $(CXXSTD) -E -x c++ - >/dev/null 2>&1 || \
	  { echo "error: doctest not found: install it with 'sudo apt-get install doctest-dev' (or .ci/run does it)"; exit 1; }

## test: build and run the doctest suite (the tests find the program at build/glulab)
test: check-doctest $(BUILD)/run_tests $(BUILD)/glulab
	./$(BUILD)/run_tests

## sanitize: the whole suite under AddressSanitizer and UndefinedBehaviorSanitizer (build-san/)
sanitize: check-doctest
	$(MAKE) BUILD=build-san CXXFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
	  LDFLAGS="-fsanitize=address,undefined" build-san/run_tests build-san/glulab
	GLULAB_BIN=build-san/glulab ASAN_OPTIONS=detect_leaks=1 ./build-san/run_tests

## gemm-ab: paired speed of src/ops/gemm.cpp against revision REV on the small preset's products (THREADS, REPS, ONLY)
REV ?= HEAD
gemm-ab:
	CXX="$(CXX)" FLAGS="$(CXXSTD) $(MATH) $(CXXFLAGS) -fopenmp -Iinclude" \
	  experiments/gemm_ab.sh $(REV) $(or $(THREADS),1) $(or $(REPS),300) "$(ONLY)"

## kernel-alone: gemm's micro-kernel by itself, on one thread, against the FMA peak measured next to it (REPS pairs; KC steps per call, default 192)
kernel-alone:
	mkdir -p $(BUILD)
	$(CXX) $(CXXSTD) $(MATH) $(CXXFLAGS) -fopenmp -Iinclude experiments/kernel_alone.cpp src/ops/peak.cpp -o $(BUILD)/kernel_alone
	$(BUILD)/kernel_alone $(or $(REPS),41) $(or $(KC),192)

## core-balance: do the cores run at the same speed side by side? (the FMA peak's loop on every thread at once, REPS runs x 3)
core-balance:
	mkdir -p $(BUILD)
	$(CXX) $(CXXSTD) $(MATH) $(CXXFLAGS) -fopenmp -Iinclude experiments/core_balance.cpp -o $(BUILD)/core_balance
	$(BUILD)/core_balance $(or $(REPS),60)

## bandwidth: memory bandwidth (read, store, attention's mixes) on 1 and 2 threads, and the ceiling it puts on attention's products (REPS passes)
bandwidth:
	mkdir -p $(BUILD)
	$(CXX) $(CXXSTD) $(WARN) $(MATH) $(CXXFLAGS) -fopenmp -Iinclude experiments/bandwidth.cpp src/ops/peak.cpp src/buffer_pool.cpp -o $(BUILD)/bandwidth
	$(BUILD)/bandwidth $(or $(REPS),15)

## step-ab: paired whole training steps of the library at revision REV against the working tree's (PRESET, FFN, THREADS, STEPS; BASE_THREADS: REV's steps on that many threads)
step-ab:
	CXX="$(CXX)" FLAGS="$(CXXSTD) $(MATH) $(CXXFLAGS) -fopenmp" \
	  experiments/step_ab/step_ab.sh $(REV) $(or $(PRESET),small) $(or $(FFN),swiglu) $(or $(THREADS),2) $(or $(STEPS),40) $(BASE_THREADS)

## fuzz: libFuzzer targets in tests/fuzz/ (clang, ASan+UBSan), each run FUZZ_SECONDS (default 60); see tests/fuzz/README.md
# The library is rebuilt under build-fuzz/ with coverage instrumentation (fuzzer-no-link). The
# committed seeds in tests/fuzz/corpus/<target>/ are only read; what the fuzzer adds goes to
# build-fuzz/corpus/<target>/, crashes to build-fuzz/artifacts/. One target at a time at the
# lowest priority (nice 19), since fuzzing shares the machine with training. -close_fd_mask=3
# drops the targets' own output (an error line per CLI input), not libFuzzer's or the sanitizers'.
# Paths are absolute because the CLI target works inside a sandbox folder (its cwd), and a
# crash or timeout there would otherwise save the input under the sandbox and lose it.
FUZZ_CXX     ?= clang++
FUZZ_SECONDS ?= 60
FUZZ_TARGETS ?= checkpoint safetensors json cli
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_ENTRY   := tests/fuzz/fuzz_entry.h tests/fuzz/fuzz_target.h tests/scratch_dir.h tests/same_arrays.h

.PHONY: fuzz
fuzz:
	$(MAKE) BUILD=build-fuzz CXX=$(FUZZ_CXX) CXXFLAGS="-O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SAN)" \
	  $(FUZZ_TARGETS:%=build-fuzz/fuzz_%)
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t build-fuzz/artifacts; \
	  echo "== fuzz_$$t, $(FUZZ_SECONDS) s"; \
	  nice -n 19 ./build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -timeout=30 -close_fd_mask=3 \
	    -artifact_prefix=$(CURDIR)/build-fuzz/artifacts/$$t- $$([ -f tests/fuzz/$$t.dict ] && echo -dict=tests/fuzz/$$t.dict) \
	    $(CURDIR)/build-fuzz/corpus/$$t $(CURDIR)/tests/fuzz/corpus/$$t || exit 1; \
	done

build-fuzz/fuzz_%: tests/fuzz/fuzz_%.cpp $(FUZZ_ENTRY) build-fuzz/libglulab.a
	$(FUZZ_CXX) $(CXXSTD) $(WARN) -O1 -g -fsanitize=fuzzer $(FUZZ_SAN) -fopenmp -Iinclude $< build-fuzz/libglulab.a -o $@

## data: put Tiny Shakespeare at data/tinyshakespeare.txt (copied from CORPUS_DIR if given, else downloaded; sha256 checked)
data: $(DATA)
$(DATA):
	sh data/fetch.sh $(if $(CORPUS_DIR),--from $(CORPUS_DIR))

## run: the main job: quick comparison of all eight FFN variants on the tiny preset, then the table
run: all data
	sh experiments/quick.sh

## reproduce: the small-preset reproduction (8 variants x 3 seeds x 1,000 steps), then the report
reproduce: all data
	sh experiments/reproduce.sh

## bench: the standard speed table (tiny and small, relu and swiglu, 1 and 2 threads; ROUNDS=3 times, medians)
bench: all
	sh experiments/bench.sh

## vs-pytorch: glulab against PyTorch on this machine, the bench set paired (needs Debian's python3-torch)
vs-pytorch: all
	sh experiments/vs_pytorch.sh

## loc: lines of code, to keep any size claim in the README true
loc:
	@wc -l include/glulab/*.h $(LIB_SRC) src/cli/main.cpp | sort -n | tail -n 25

## clean: remove build outputs (not data or runs)
clean:
	rm -rf build build-san build-fuzz

## help: this list
help:
	@grep -E '^## ' Makefile | sed 's/^## /  make /'

-include $(LIB_OBJ:.o=.d) $(TEST_OBJ:.o=.d) $(BUILD)/src/cli/main.d
