# qmc — build with GNU make.  `make` builds build/qmc and build/libqmc.a,
# `make test` builds and runs every test, `make SAN=1 test` does it under
# AddressSanitizer + UndefinedBehaviorSanitizer (in build-san/).
#
# Every src/<area>/*.c except src/cli/ goes into the library; src/cli/*.c
# make the command-line tool; tests/test_*.c each become one test program.

CC      ?= cc
BUILD   ?= build
SAN     ?= 0
WERROR  ?= 0

PKGS     := libcjson cmocka libpcre2-8
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# LAPACKE/OpenBLAS (GPTQ's Cholesky factorisations).
BLAS_CFLAGS := $(shell pkg-config --cflags lapacke openblas 2>/dev/null)
BLAS_LIBS   := $(shell pkg-config --libs lapacke openblas 2>/dev/null)

CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes \
           -Wno-unused-parameter -fopenmp -Iinclude -Isrc $(PKG_CFLAGS) $(BLAS_CFLAGS) \
           -MMD -MP
LDLIBS  += $(PKG_LIBS) $(BLAS_LIBS) -fopenmp -lm -lpthread

ifeq ($(WERROR),1)
CFLAGS  += -Werror
endif
ifeq ($(SAN),1)
BUILD   := build-san
CFLAGS  += -O1 -fsanitize=address,undefined,float-cast-overflow -fno-omit-frame-pointer -fno-sanitize-recover=undefined,float-cast-overflow
LDFLAGS += -fsanitize=address,undefined,float-cast-overflow
endif
# libFuzzer build (clang): `make fuzz`, see fuzz/fuzz.mk and docs/fuzzing.md;
# FUZZ=cov: the same targets with source-based coverage (fuzz/coverage.sh).
ifeq ($(FUZZ),1)
BUILD   := build-fuzz
CC      := clang
CFLAGS  += -O1 -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined,float-cast-overflow
endif
ifeq ($(FUZZ),cov)
BUILD   := build-fuzz/cov
CC      := clang
CFLAGS  += -O1 -fsanitize=fuzzer-no-link -fprofile-instr-generate -fcoverage-mapping
LDFLAGS += -fprofile-instr-generate
endif

LIB_SRC  := $(sort $(wildcard src/util/*.c src/formats/*.c src/model/*.c src/quant/*.c \
                               src/device/*.c src/engine/*.c src/eval/*.c src/sim/*.c))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

# Files compiled with extra instruction sets; each one is only entered after a
# run-time CPU check (see src/util/cpu.c).
AVX2_SRC   := $(wildcard src/*/*_avx2.c)
AVX512_SRC := $(wildcard src/*/*_avx512.c)
$(AVX2_SRC:%.c=$(BUILD)/%.o):   EXTRA_CFLAGS := -mavx2 -mfma -mf16c -mbmi2
$(AVX512_SRC:%.c=$(BUILD)/%.o): EXTRA_CFLAGS := -mavx512f -mavx512bw -mavx512vl -mavx512vbmi -mavx512vbmi2 -mavx512vnni -mavx2 -mfma -mf16c -mbmi2

.PHONY: all test clean check-deps bench bench-tools fuzz
all: $(BUILD)/qmc $(BUILD)/libqmc.a

$(BUILD)/libqmc.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/qmc: $(CLI_OBJ) $(BUILD)/libqmc.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libqmc.a $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(EXTRA_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(BUILD)/tests/testutil.o $(BUILD)/libqmc.a
	$(CC) $(LDFLAGS) -o $@ $< $(BUILD)/tests/testutil.o $(BUILD)/libqmc.a $(LDLIBS)

# test_regress replays the fuzz targets' regression inputs and seed corpora.
FUZZ_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard fuzz/fuzz_*.c)) fuzz/common.c)
$(BUILD)/tests/test_regress: $(BUILD)/tests/test_regress.o $(FUZZ_OBJ) $(BUILD)/tests/testutil.o $(BUILD)/libqmc.a
	$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(BUILD)/libqmc.a $(LDLIBS)
# LD_PRELOAD fault injection for test_crashsafe: ENOSPC after N bytes, no O_TMPFILE
$(BUILD)/tests/fsfault.so: tests/fsfault.c
	@mkdir -p $(@D)
	$(CC) -shared -fPIC -O1 -Wall -Wextra -o $@ $< -ldl

test: $(TEST_BIN) $(BUILD)/qmc $(BUILD)/tests/fsfault.so
	QMC_BIN=$(BUILD)/qmc ./tests/run-tests.sh $(TEST_BIN)

# STREAM-like bandwidth probe: built for this CPU, outside the library.
bench-tools: $(BUILD)/bench/membw $(BUILD)/bench/noise_inject_speed $(BUILD)/bench/qdot_speed
$(BUILD)/bench/membw: bench/membw.c
	@mkdir -p $(@D)
	$(CC) -O3 -march=native -fopenmp -o $@ $<
$(BUILD)/bench/noise_inject_speed: bench/noise_inject_speed.c $(BUILD)/libqmc.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libqmc.a $(LDLIBS)
$(BUILD)/bench/qdot_speed: bench/qdot_speed.c $(BUILD)/libqmc.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -o $@ $< $(BUILD)/libqmc.a $(LDLIBS)

bench: $(BUILD)/qmc bench-tools
	./bench/run-all.sh

include fuzz/fuzz.mk

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_BIN:=.d) $(BUILD)/tests/testutil.d $(FUZZ_OBJ:.o=.d)
