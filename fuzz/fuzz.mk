# fuzz.mk — libFuzzer binaries, one per fuzz/fuzz_<name>.c, built with clang
# and ASan + UBSan in build-fuzz/, and the commands that run them:
#   make fuzz FUZZ_SECONDS=N [FUZZ_JOBS=2] [FUZZ_TARGETS="gguf llama2c"]
# runs each target for N seconds (fuzz/run.sh) and fails on any crash, hang
# or sanitizer report.  docs/fuzzing.md has the details.
FUZZ_NAMES   := $(patsubst fuzz/fuzz_%.c,%,$(sort $(wildcard fuzz/fuzz_*.c)))
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= 1
FUZZ_TARGETS ?= $(FUZZ_NAMES)

.PHONY: fuzz fuzz-build fuzz-bins fuzz-coverage
fuzz-build:
	$(MAKE) FUZZ=1 fuzz-bins

fuzz: fuzz-build
	FUZZ_JOBS=$(FUZZ_JOBS) ./fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# Line coverage of the sources by a corpus (default: the seeds; FUZZ_CORPUS=DIR
# for DIR/<target>/), see fuzz/coverage.sh.
fuzz-coverage:
	$(MAKE) FUZZ=cov fuzz-bins
	./fuzz/coverage.sh $(FUZZ_TARGETS)

ifneq ($(filter 1 cov,$(FUZZ)),)
FUZZ_BINS := $(FUZZ_NAMES:%=$(BUILD)/fuzz/%)
fuzz-bins: $(FUZZ_BINS)
$(FUZZ_BINS): $(BUILD)/fuzz/%: $(BUILD)/fuzz/fuzz_%.o $(BUILD)/fuzz/common.o $(BUILD)/fuzz/main.o $(BUILD)/libqmc.a
	$(CC) $(LDFLAGS) -fsanitize=fuzzer -o $@ $(filter %.o,$^) $(BUILD)/libqmc.a $(LDLIBS)
-include $(BUILD)/fuzz/main.d
endif

# The seed-corpus generator (normal build; fuzz/make-seeds.sh runs it).
$(BUILD)/fuzz/seedgen: $(BUILD)/fuzz/seedgen.o $(BUILD)/tests/testutil.o $(BUILD)/libqmc.a
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BUILD)/libqmc.a $(LDLIBS)
