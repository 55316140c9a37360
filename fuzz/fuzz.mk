# fuzz/fuzz.mk — builds and runs every libFuzzer harness fuzz/fuzz_*.c.
# Run from the repository root:
#
#   make -f fuzz/fuzz.mk FUZZ_SECONDS=60   build all, run each FUZZ_SECONDS
#   make -f fuzz/fuzz.mk build             only build them (build/fuzz/fuzz_*)
#   make -f fuzz/fuzz.mk -j2 ...           run harnesses side by side
#
# Each harness runs on a copy of its seed corpus fuzz/corpus/<name>/ (the name
# without "fuzz_") in build/fuzz/corpus-fuzz_<name>/, so new inputs stay out
# of the repository. One line per harness: "fuzz_X: N execs, K crashes";
# crashing inputs are kept in build/fuzz/artifacts-fuzz_X/. Fails if any
# harness crashed. Harnesses are picked up by name: add fuzz/fuzz_foo.c and
# fuzz/corpus/foo/ and it is built and run.

FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_DIR     := build/fuzz
# -fno-sanitize-recover: an UBSan report is a crash, not a log line.
FUZZ_SANITIZE := address,undefined
FUZZ_CFLAGS  := -g -O1 -std=c11 -D_GNU_SOURCE -I. -Wall -Wextra -Werror \
		-fno-sanitize-recover=undefined -fno-omit-frame-pointer

FUZZ_SRCS    := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_NAMES   := $(patsubst fuzz/%.c,%,$(FUZZ_SRCS))
FUZZ_BINS    := $(addprefix $(FUZZ_DIR)/,$(FUZZ_NAMES))
FUZZ_RESULTS := $(addprefix $(FUZZ_DIR)/,$(addsuffix .result,$(FUZZ_NAMES)))

# The whole library, as the Makefile builds it: every kvm/*.c and stub/*.c
# except stub/main.c. Instrumented for coverage but without libFuzzer's main.
FUZZ_LIB_SRCS := $(sort $(wildcard kvm/*.c)) \
		 $(sort $(filter-out stub/main.c,$(wildcard stub/*.c)))
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(FUZZ_LIB_SRCS))

.PHONY: all run build clang-check clean
.DELETE_ON_ERROR:
# Keep the library objects between builds (make would drop them as
# intermediates of the harness link).
.SECONDARY: $(FUZZ_LIB_OBJS)

all: run

clang-check:
	@command -v $(FUZZ_CC) >/dev/null 2>&1 || \
		{ echo "install clang (apt-get install clang)" >&2; exit 1; }

build: $(FUZZ_BINS)

$(FUZZ_DIR)/obj/%.o: %.c | clang-check
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link,$(FUZZ_SANITIZE) \
		-MMD -MP -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: fuzz/fuzz_%.c $(FUZZ_LIB_OBJS) | clang-check
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer,$(FUZZ_SANITIZE) \
		-o $@ $< $(FUZZ_LIB_OBJS)

# One run: libFuzzer's exit status says whether it crashed (or leaked, or
# timed out); its final stats say how many inputs it ran. The result file
# holds the summary line; the run itself never fails, so with -j every
# harness gets its full time before the summary decides.
$(FUZZ_DIR)/%.result: $(FUZZ_DIR)/% FORCE
	@corpus=$(FUZZ_DIR)/corpus-$*; artifacts=$(FUZZ_DIR)/artifacts-$*; \
	seeds=fuzz/corpus/$(patsubst fuzz_%,%,$*); \
	mkdir -p $$corpus $$artifacts; \
	if [ -d $$seeds ]; then cp -R $$seeds/. $$corpus/; fi; \
	echo "running $* for $(FUZZ_SECONDS)s"; \
	$(FUZZ_DIR)/$* -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		-artifact_prefix=$$artifacts/ $$corpus \
		>$(FUZZ_DIR)/$*.log 2>&1; status=$$?; \
	execs=$$(sed -n 's/^stat::number_of_executed_units: *//p' \
		$(FUZZ_DIR)/$*.log | tail -n 1); \
	crashes=0; \
	if [ $$status -ne 0 ]; then crashes=1; fi; \
	echo "$*: $${execs:-0} execs, $$crashes crashes" >$@; \
	if [ $$crashes -ne 0 ]; then \
		tail -n 40 $(FUZZ_DIR)/$*.log >&2; \
		echo "$*: exit status $$status, input in $$artifacts/" >&2; \
	fi

run: $(FUZZ_RESULTS)
	@cat $(FUZZ_RESULTS); \
	! grep -qv ' 0 crashes$$' $(FUZZ_RESULTS)

FORCE:

clean:
	rm -rf $(FUZZ_DIR)

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
