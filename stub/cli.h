/* stub/cli.h — the command line: argv in, options out. Pure, no I/O. */
#ifndef KVMSTUB_CLI_H
#define KVMSTUB_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_MAX_REGS 32
#define CLI_MAX_CONSOLE_PORTS 16
/* APIC ids 0..254; the host's KVM may allow fewer (checked at start-up). */
#define CLI_MAX_SMP 255

enum cli_mode { CLI_MODE_DEFAULT, CLI_MODE_REAL, CLI_MODE_PROTECTED, CLI_MODE_LONG };
enum cli_gdb_kind { CLI_GDB_TCP, CLI_GDB_UNIX };
enum cli_machine { CLI_MACHINE_BARE, CLI_MACHINE_PC };

/* Booting a kernel: --boot, --arch, --append, --module. */
#define CLI_MAX_MODULES 64
enum cli_boot { CLI_BOOT_AUTO, CLI_BOOT_ELF, CLI_BOOT_FLAT, CLI_BOOT_MULTIBOOT,
		CLI_BOOT_MULTIBOOT2, CLI_BOOT_PVH };
enum cli_arch { CLI_ARCH_AUTO, CLI_ARCH_I8086, CLI_ARCH_I386, CLI_ARCH_X86_64 };
struct cli_module {
	const char *file;  /* FILE, file_len bytes (FILE[,ARGS] is one argument) */
	size_t file_len;
	const char *args;  /* after the first comma; NULL without one */
};

struct cli_reg {
	size_t offset; /* offsetof(struct target_regs, <register>) */
	uint64_t value;
};

struct cli_options {
	const char *image;
	enum cli_gdb_kind gdb_kind;
	char gdb_host[256];  /* TCP: numeric or name; default 127.0.0.1 */
	uint16_t gdb_port;   /* TCP: default 1234 */
	char gdb_path[108];  /* unix: socket path */
	bool no_wait;
	bool no_gdb;
	uint64_t mem_size;   /* bytes, default 128 MiB, a multiple of 4 KiB */
	enum cli_mode mode;
	bool load_set;
	uint64_t load_addr;  /* default 0x1000 */
	bool entry_set;
	uint64_t entry;
	unsigned nregs;
	struct cli_reg regs[CLI_MAX_REGS];
	unsigned nconsole_ports;
	uint16_t console_ports[CLI_MAX_CONSOLE_PORTS];
	bool trace_io;
	bool record;           /* record from the first instruction */
	uint64_t record_limit; /* bytes of reverse-execution history, default 256 MiB */
	enum cli_machine machine; /* default pc */
	bool vga;
	bool keyboard;
	bool no_reboot;
	unsigned smp;        /* --smp: vCPUs, 1..CLI_MAX_SMP, default 1 */
	enum cli_boot boot;
	enum cli_arch arch;
	const char *append;  /* NULL when not given */
	unsigned nmodules;
	struct cli_module modules[CLI_MAX_MODULES];
	bool help;
	bool version;
};

/* Fills *opts from argv. Returns 0, or -EINVAL with one line in err naming
 * the bad argument (no trailing newline). --help and --version set their
 * flags and need no image. */
int cli_parse(int argc, char *const argv[], struct cli_options *opts,
	      char *err, size_t err_size);

/* The usage text for --help and after a usage error. */
const char *cli_usage(void);

#endif
