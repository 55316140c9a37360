# guests/guests.mk — builds the test kernels into $(BUILD)/guests/ (included by
# the top Makefile, which sets BUILD). gcc and binutils only: gcc -c for the
# assembly and the freestanding C, ld with our linker scripts, objcopy for the
# flat images. No libgcc, no libc, no multilib packages.
#
#   NAME.bin         flat real-mode images (load at 0x1000 unless noted)
#   NAME.elf         ELF32/ELF64 kernels, linked at 1 MiB
#   debug/NAME.elf   the linked ELF behind each flat image, with its symbols
#   NAME.map         "ADDRESS SYMBOL" lines for each flat image (from nm)

GB := $(BUILD)/guests
OBJCOPY ?= objcopy
NM ?= nm

GUEST_FLAT := kvmtest tiny_kernel kvmsample repouts exit42 exit0 \
	      triplefault realcs stepper selfcopy echo printspin idle reboots
GUEST_ELF := hello32 hello64 cdemo32 cdemo64 higherhalf gdtboot timer32 timer64 uartirq32 uartirq64 \
	     restart64 revdemo64 smp64
GUEST_PC := pcprobe vgahello kbdecho tables

GUEST_IMAGES := $(patsubst %,$(GB)/%.bin,$(GUEST_FLAT)) \
		$(patsubst %,$(GB)/%.map,$(GUEST_FLAT)) \
		$(patsubst %,$(GB)/%.elf,$(GUEST_ELF)) \
		$(patsubst %,$(GB)/%.elf,$(GUEST_PC))

.PHONY: guests
guests: $(GUEST_IMAGES)

GUEST_ASFLAGS := -m32 -g -Wa,--fatal-warnings
GUEST_CFLAGS := -std=c11 -O0 -g -ffreestanding -fno-builtin -nostdlib \
		-fno-pic -fno-pie -fno-stack-protector -fno-asynchronous-unwind-tables \
		-fcf-protection=none -mno-sse -mno-mmx \
		-Wall -Wextra -Werror -Wmissing-prototypes -Wstrict-prototypes \
		-MMD -MP
GUEST_CFLAGS32 := -m32 $(GUEST_CFLAGS)
GUEST_CFLAGS64 := -m64 -mno-red-zone -mcmodel=small $(GUEST_CFLAGS)
# The higher-half kernel runs at 0xffffffff80000000 + x: the kernel code model.
GUEST_CFLAGSHH := -m64 -mno-red-zone -mcmodel=kernel $(GUEST_CFLAGS)
GUEST_LDFLAGS := --build-id=none -nostdlib -z noexecstack --fatal-warnings

# --- flat real-mode images -------------------------------------------------

# Where each flat image is linked (= where kvmstub must load it).
GUEST_LOAD_tiny_kernel := 0
guest_load = $(if $(GUEST_LOAD_$(1)),$(GUEST_LOAD_$(1)),0x1000)

$(GB)/obj16/%.o: guests/%.S
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_ASFLAGS) -c -o $@ $<

$(GB)/obj16/exit42.o: guests/exit.S
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_ASFLAGS) -DEXIT_VALUE=42 -c -o $@ $<

$(GB)/obj16/exit0.o: guests/exit.S
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_ASFLAGS) -DEXIT_VALUE=0 -c -o $@ $<

$(GB)/debug/%.elf: $(GB)/obj16/%.o guests/flat.ld
	@mkdir -p $(dir $@)
	$(LD) -m elf_i386 $(GUEST_LDFLAGS) -Ttext=$(call guest_load,$*) \
		-T guests/flat.ld -o $@ $<

$(GB)/%.bin: $(GB)/debug/%.elf
	$(OBJCOPY) -O binary -j .text $< $@

$(GB)/%.map: $(GB)/debug/%.elf
	$(NM) -n $< | awk '{ printf "0x%s %s\n", $$1, $$3 }' > $@

# The LWN article's guest, byte for byte.
KVMTEST_BYTES := \272\370\003\000\330\0040\356\260\012\356\364
$(GB)/kvmtest.bin: $(GB)/debug/kvmtest.elf
	$(OBJCOPY) -O binary -j .text $< $@.tmp
	printf '$(KVMTEST_BYTES)' | cmp - $@.tmp || \
		{ echo "kvmtest.bin differs from the LWN article's 12 bytes" >&2; rm -f $@.tmp; exit 1; }
	mv $@.tmp $@

# --- C kernels ---------------------------------------------------------------

$(GB)/obj32/%.o: guests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS32) -c -o $@ $<

$(GB)/obj32/%.o: guests/%.S
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_ASFLAGS) -c -o $@ $<

$(GB)/obj64/%.o: guests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS64) -c -o $@ $<

$(GB)/obj64/%.o: guests/%.S
	@mkdir -p $(dir $@)
	$(CC) -m64 -g -Wa,--fatal-warnings -c -o $@ $<

$(GB)/objhh/%.o: guests/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGSHH) -c -o $@ $<

$(GB)/objhh/%.o: guests/%.S
	@mkdir -p $(dir $@)
	$(CC) -m64 -g -Wa,--fatal-warnings -c -o $@ $<

$(GB)/hello32.elf: $(GB)/obj32/start32.o $(GB)/obj32/hello.o $(GB)/obj32/uart.o guests/kernel.ld
	$(LD) -m elf_i386 $(GUEST_LDFLAGS) -T guests/kernel.ld -o $@ $(filter %.o,$^)

$(GB)/cdemo32.elf: $(GB)/obj32/start32.o $(GB)/obj32/cdemo.o $(GB)/obj32/uart.o guests/kernel.ld
	$(LD) -m elf_i386 $(GUEST_LDFLAGS) -T guests/kernel.ld -o $@ $(filter %.o,$^)

# Protected mode to long mode by itself, GDT/IDT/TSS on its first page.
$(GB)/gdtboot.elf: $(GB)/obj32/gdtboot.o guests/kernel.ld
	$(LD) -m elf_i386 $(GUEST_LDFLAGS) -T guests/kernel.ld -o $@ $(filter %.o,$^)

$(GB)/hello64.elf: $(GB)/obj64/start64.o $(GB)/obj64/hello.o $(GB)/obj64/uart.o guests/kernel.ld
	$(LD) -m elf_x86_64 $(GUEST_LDFLAGS) -T guests/kernel.ld -o $@ $(filter %.o,$^)

$(GB)/cdemo64.elf: $(GB)/obj64/start64.o $(GB)/obj64/cdemo.o $(GB)/obj64/uart.o guests/kernel.ld
	$(LD) -m elf_x86_64 $(GUEST_LDFLAGS) -T guests/kernel.ld -o $@ $(filter %.o,$^)

$(GB)/revdemo64.elf: $(GB)/obj64/start64.o $(GB)/obj64/revdemo.o $(GB)/obj64/uart.o guests/kernel.ld
	$(LD) -m elf_x86_64 $(GUEST_LDFLAGS) -T guests/kernel.ld -o $@ $(filter %.o,$^)

$(GB)/timer32.elf: $(GB)/obj32/start32.o $(GB)/obj32/timer.o $(GB)/obj32/timer_isr.o \
		$(GB)/obj32/uart.o guests/kernel.ld
	$(LD) -m elf_i386 $(GUEST_LDFLAGS) -T guests/kernel.ld -o $@ $(filter %.o,$^)

$(GB)/timer64.elf: $(GB)/obj64/start64.o $(GB)/obj64/timer.o $(GB)/obj64/timer_isr.o \
		$(GB)/obj64/uart.o guests/kernel.ld
	$(LD) -m elf_x86_64 $(GUEST_LDFLAGS) -T guests/kernel.ld -o $@ $(filter %.o,$^)

$(GB)/uartirq32.elf: $(GB)/obj32/start32.o $(GB)/obj32/uartirq.o $(GB)/obj32/timer_isr.o \
		$(GB)/obj32/uart.o guests/kernel.ld
	$(LD) -m elf_i386 $(GUEST_LDFLAGS) -T guests/kernel.ld -o $@ $(filter %.o,$^)

$(GB)/uartirq64.elf: $(GB)/obj64/start64.o $(GB)/obj64/uartirq.o $(GB)/obj64/timer_isr.o \
		$(GB)/obj64/uart.o guests/kernel.ld
	$(LD) -m elf_x86_64 $(GUEST_LDFLAGS) -T guests/kernel.ld -o $@ $(filter %.o,$^)

$(GB)/smp64.elf: $(GB)/obj64/start64.o $(GB)/obj64/smp.o $(GB)/obj64/smp_trampoline.o \
		$(GB)/obj64/uart.o guests/kernel.ld
	$(LD) -m elf_x86_64 $(GUEST_LDFLAGS) -T guests/kernel.ld -o $@ $(filter %.o,$^)

$(GB)/restart64.elf: $(GB)/obj64/start64.o $(GB)/obj64/restart.o $(GB)/obj64/uart.o guests/kernel.ld
	$(LD) -m elf_x86_64 $(GUEST_LDFLAGS) -T guests/kernel.ld -o $@ $(filter %.o,$^)

$(GB)/higherhalf.elf: $(GB)/objhh/higherhalf_boot.o $(GB)/objhh/higherhalf.o \
		$(GB)/objhh/uart.o guests/higherhalf.ld
	$(LD) -m elf_x86_64 $(GUEST_LDFLAGS) -T guests/higherhalf.ld -o $@ $(filter %.o,$^)

# The PC-device guests: long mode, COM1 output (guests/pc*.c and friends).
$(patsubst %,$(GB)/%.elf,$(GUEST_PC)): $(GB)/%.elf: $(GB)/obj64/start64.o $(GB)/obj64/%.o \
		$(GB)/obj64/uart.o guests/kernel.ld
	$(LD) -m elf_x86_64 $(GUEST_LDFLAGS) -T guests/kernel.ld -o $@ $(filter %.o,$^)

# Keep the intermediates: the linked ELFs behind the flat images carry the
# symbols gdb wants, and kept objects make a second `make guests` a no-op.
.PRECIOUS: $(GB)/obj16/%.o $(GB)/debug/%.elf

-include $(wildcard $(GB)/obj32/*.d $(GB)/obj64/*.d $(GB)/objhh/*.d)

# --- boot-protocol kernels (Multiboot v1, Multiboot2, PVH) -------------------
# Each prints the boot information it was given; see guests/README.md.

GUEST_BOOT := $(GB)/mb1info.elf $(GB)/mb1aout.elf $(GB)/mb1aout.bin \
	      $(GB)/mb2info64.elf $(GB)/pvhinfo64.elf
guests: $(GUEST_BOOT)

BOOT_C32 := $(GB)/obj32/mb1info.o $(GB)/obj32/bootprint.o
BOOT_C64 := $(GB)/obj64/boot64.o $(GB)/obj64/bootprint.o
$(BOOT_C32): GUEST_CFLAGS32 += -mgeneral-regs-only
$(BOOT_C64): GUEST_CFLAGS64 += -mgeneral-regs-only

$(GB)/obj32/mb1_start_aout.o: guests/mb1_start.S
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_ASFLAGS) -DMB_AOUT -c -o $@ $<

$(GB)/mb1info.elf: $(GB)/obj32/mb1_start.o $(BOOT_C32) $(GB)/obj32/uart.o guests/bootkernel.ld
	$(LD) -m elf_i386 $(GUEST_LDFLAGS) -T guests/bootkernel.ld -o $@ $(filter %.o,$^)

$(GB)/mb1aout.elf: $(GB)/obj32/mb1_start_aout.o $(BOOT_C32) $(GB)/obj32/uart.o guests/bootkernel.ld
	$(LD) -m elf_i386 $(GUEST_LDFLAGS) -T guests/bootkernel.ld -o $@ $(filter %.o,$^)

# The same kernel as a flat file: only the a.out-kludge fields say where it goes.
$(GB)/mb1aout.bin: $(GB)/mb1aout.elf
	$(OBJCOPY) -O binary -j .text -j .rodata -j .data $< $@

# e_entry is wrong_entry on purpose (guests/long_entry.S).
$(GB)/mb2info64.elf: $(GB)/obj64/mb2_header.o $(GB)/obj64/long_entry.o $(BOOT_C64) \
		$(GB)/obj64/uart.o guests/bootkernel.ld
	$(LD) -m elf_x86_64 $(GUEST_LDFLAGS) -T guests/bootkernel.ld -e wrong_entry -o $@ $(filter %.o,$^)

$(GB)/pvhinfo64.elf: $(GB)/obj64/pvh_note.o $(GB)/obj64/long_entry.o $(BOOT_C64) \
		$(GB)/obj64/uart.o guests/bootkernel.ld
	$(LD) -m elf_x86_64 $(GUEST_LDFLAGS) -T guests/bootkernel.ld -e wrong_entry -o $@ $(filter %.o,$^)
