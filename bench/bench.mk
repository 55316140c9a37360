# bench/bench.mk — builds what `make bench` runs besides kvmstub: the
# benchmark guest (a Multiboot v1 ELF32 both QEMU and kvmstub load), the
# boot-time guest (bench/mbboot.S) and
# bench/floor (the raw KVM and loopback costs). Called by the top Makefile's
# bench target as `$(MAKE) -f bench/bench.mk BUILD=$(BUILD)`.
BUILD ?= build
CC ?= gcc
LD ?= ld
BB := $(BUILD)/bench

BENCH_GUEST_ASFLAGS := -m32 -g -Wa,--fatal-warnings
BENCH_GUEST_CFLAGS := -m32 -std=c11 -O0 -g -ffreestanding -fno-builtin -nostdlib \
	-fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
	-fcf-protection=none -mno-sse -mno-mmx \
	-Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes
BENCH_GUEST_LDFLAGS := -m elf_i386 --build-id=none -nostdlib -z noexecstack \
	-z max-page-size=0x1000 --fatal-warnings
FLOOR_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror

.PHONY: all
all: $(BB)/benchguest.elf $(BB)/mbboot.elf $(BB)/floor

$(BB)/multiboot.o: bench/multiboot.S
	@mkdir -p $(BB)
	$(CC) $(BENCH_GUEST_ASFLAGS) -c -o $@ $<

$(BB)/benchguest.o: bench/benchguest.c
	@mkdir -p $(BB)
	$(CC) $(BENCH_GUEST_CFLAGS) -c -o $@ $<

$(BB)/benchguest.elf: $(BB)/multiboot.o $(BB)/benchguest.o bench/benchguest.ld
	$(LD) $(BENCH_GUEST_LDFLAGS) -T bench/benchguest.ld -o $@ $(filter %.o,$^)

$(BB)/mbboot.o: bench/mbboot.S
	@mkdir -p $(BB)
	$(CC) $(BENCH_GUEST_ASFLAGS) -c -o $@ $<

# The boot-time guest: one Multiboot v1 ELF32 at 1 MiB, header first.
$(BB)/mbboot.elf: $(BB)/mbboot.o bench/benchguest.ld
	$(LD) $(BENCH_GUEST_LDFLAGS) -T bench/benchguest.ld -o $@ $<

$(BB)/floor: bench/floor.c
	@mkdir -p $(BB)
	$(CC) $(FLOOR_CFLAGS) -o $@ $< -lpthread
