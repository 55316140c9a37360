# kvmstub — a GDB remote stub backed by a KVM vCPU.
#
#   make            build build/kvmstub and the guests
#   make run        build, then run the default guest (hello64) under the stub
#   make test       build and run every test (unit, guest runs, raw protocol, gdb)
#   make SAN=1 test the same with AddressSanitizer and UBSan
#   make bench      side-by-side benchmarks against QEMU+KVM (see bench/)
#   make fuzz       libFuzzer harnesses, FUZZ_SECONDS each (default 60)
#   make install    binary, manual page, docs and examples (PREFIX, DESTDIR)
#   make deb        a Debian package in build/

CC       ?= gcc
PYTHON   ?= python3
SAN      ?=
ifeq ($(SAN),1)
BUILD    ?= build/san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
else
BUILD    ?= build
SANFLAGS :=
endif

CFLAGS   ?= -O2 -g
WARNINGS := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARNINGS) $(CFLAGS) $(SANFLAGS) -I. -MMD -MP
LDFLAGS  += $(SANFLAGS)

KVM_SRCS  := $(sort $(wildcard kvm/*.c))
STUB_SRCS := $(sort $(filter-out stub/main.c,$(wildcard stub/*.c)))
LIB_OBJS  := $(patsubst %.c,$(BUILD)/obj/%.o,$(KVM_SRCS) $(STUB_SRCS))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

.PHONY: all run test unit tools clean bench fuzz guests
all: tools $(BUILD)/kvmstub guests

# Tools the build and the tests need, with the Debian package for each.
# Run as root in CI, missing ones are installed; otherwise we say what to do.
REQUIRED_TOOLS := gcc:gcc as:binutils ld:binutils python3:python3 gdb:gdb lldb:lldb
tools:
	@for pair in $(REQUIRED_TOOLS); do \
		tool=$${pair%%:*}; pkg=$${pair##*:}; \
		command -v $$tool >/dev/null 2>&1 && continue; \
		if [ -n "$$CI" ] && [ "$$(id -u)" = 0 ]; then \
			echo "installing $$pkg (for $$tool)"; \
			apt-get update -qq && apt-get install -y -qq $$pkg >/dev/null || exit 1; \
		else \
			echo "missing $$tool: install it with 'apt-get install $$pkg'" >&2; exit 1; \
		fi; \
	done

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libkvmstub.a: $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

$(BUILD)/kvmstub: $(BUILD)/obj/stub/main.o $(BUILD)/libkvmstub.a
	$(CC) $(LDFLAGS) -o $@ $^

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libkvmstub.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libkvmstub.a $(LDFLAGS)

include guests/guests.mk

unit: $(UNIT_BINS)

run: all
	$(BUILD)/kvmstub $(BUILD)/guests/hello64.elf

test: all unit
	$(PYTHON) tests/run.py --build $(BUILD)

bench: all
	$(MAKE) -f bench/bench.mk BUILD=$(BUILD)
	@command -v qemu-system-x86_64 >/dev/null && command -v qemu-system-i386 >/dev/null || \
		echo "bench: QEMU is missing: install qemu-system-x86 (apt-get install qemu-system-x86);" \
		     "measuring kvmstub alone. (bench does not run in CI, so nothing installs it.)"
	$(PYTHON) bench/bench.py --build $(BUILD)

FUZZ_SECONDS ?= 60
fuzz:
	$(MAKE) -f fuzz/fuzz.mk FUZZ_SECONDS=$(FUZZ_SECONDS)

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj $(BUILD)/tests -name '*.d' 2>/dev/null)

# Installing: the binary, the manual page, and README, gdbinit.example and
# the CI examples under share/doc/kvmstub. PREFIX and DESTDIR as usual.
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/kvmstub
DOC_FILES     := README.md gdbinit.example
EXAMPLE_FILES := $(sort $(wildcard examples/*))

.PHONY: install uninstall deb
install: $(BUILD)/kvmstub
	install -D -m 0755 $(BUILD)/kvmstub $(DESTDIR)$(BINDIR)/kvmstub
	install -D -m 0644 kvmstub.1 $(DESTDIR)$(MANDIR)/man1/kvmstub.1
	install -d $(DESTDIR)$(DOCDIR)/examples
	install -m 0644 $(DOC_FILES) $(DESTDIR)$(DOCDIR)/
	install -m 0644 $(EXAMPLE_FILES) $(DESTDIR)$(DOCDIR)/examples/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/kvmstub $(DESTDIR)$(MANDIR)/man1/kvmstub.1
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(DOC_FILES))
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(EXAMPLE_FILES))
	for d in $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR); do \
		[ ! -d $$d ] || rmdir --ignore-fail-on-non-empty $$d; done

# A Debian package of this tree, in $(BUILD)/: `make install` into a staging
# directory with PREFIX=/usr, then packaging/deb.sh (dpkg-deb) packs it.
deb: $(BUILD)/kvmstub
	rm -rf $(BUILD)/deb
	$(MAKE) --no-print-directory install DESTDIR=$(abspath $(BUILD))/deb/root PREFIX=/usr
	sh packaging/deb.sh $(BUILD)/deb/root $(BUILD)
