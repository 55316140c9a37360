/* stub/cli.c — the command line: argv in, struct cli_options out.
 *
 * Pure: no I/O, no allocation, no exit(). Every argument is outside data, so
 * each value is checked whole (no trailing junk, no silent overflow) and a
 * bad one comes back as one line naming the option and the value.
 */
#include "stub/cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "stub/target.h"
#include "stub/number.h"

#define DEFAULT_GDB_HOST "127.0.0.1"
#define DEFAULT_GDB_PORT 1234
#define DEFAULT_MEM_SIZE (UINT64_C(128) << 20) /* as QEMU */
#define DEFAULT_LOAD_ADDR 0x1000

/* Below 64 KiB there is no room for a real-mode stack, the default load
 * address and long mode's page tables; above 3 GiB RAM would reach the
 * area below 4 GiB that KVM keeps for itself (kvm/machine.h). RAM is mapped
 * in whole 4 KiB pages. */
#define MIN_MEM_SIZE (UINT64_C(64) << 10)
#define MAX_MEM_SIZE (UINT64_C(3) << 30)
#define MEM_GRANULE 4096

enum cli_option_id {
	OPT_GDB,
	OPT_NO_WAIT,
	OPT_NO_GDB,
	OPT_MEM,
	OPT_MODE,
	OPT_LOAD,
	OPT_ENTRY,
	OPT_REG,
	OPT_CONSOLE_PORT,
	OPT_TRACE_IO,
	OPT_RECORD,
	OPT_RECORD_LIMIT,
	OPT_MACHINE,
	OPT_VGA,
	OPT_KEYBOARD,
	OPT_NO_REBOOT,
	OPT_SMP,
	OPT_BOOT,
	OPT_ARCH,
	OPT_APPEND,
	OPT_MODULE,
	OPT_HELP,
	OPT_VERSION,
};

struct cli_option_spec {
	const char *name; /* without the leading "--" */
	enum cli_option_id id;
	bool takes_value;
};

static const struct cli_option_spec cli_option_specs[] = {
	{ "gdb", OPT_GDB, true },
	{ "no-wait", OPT_NO_WAIT, false },
	{ "no-gdb", OPT_NO_GDB, false },
	{ "mem", OPT_MEM, true },
	{ "mode", OPT_MODE, true },
	{ "load", OPT_LOAD, true },
	{ "entry", OPT_ENTRY, true },
	{ "reg", OPT_REG, true },
	{ "console-port", OPT_CONSOLE_PORT, true },
	{ "trace-io", OPT_TRACE_IO, false },
	{ "record", OPT_RECORD, false },
	{ "record-limit", OPT_RECORD_LIMIT, true },
	{ "machine", OPT_MACHINE, true },
	{ "vga", OPT_VGA, false },
	{ "keyboard", OPT_KEYBOARD, false },
	{ "no-reboot", OPT_NO_REBOOT, false },
	{ "smp", OPT_SMP, true },
	{ "boot", OPT_BOOT, true },
	{ "arch", OPT_ARCH, true },
	{ "append", OPT_APPEND, true },
	{ "module", OPT_MODULE, true },
	{ "help", OPT_HELP, false },
	{ "version", OPT_VERSION, false },
};

struct register_name {
	const char *name;
	size_t offset;
	unsigned bits; /* 32 for the eXX aliases: a wider value is a mistake */
};

#define REG64(field) { #field, offsetof(struct target_regs, field), 64 }
#define REG32(alias, field) { alias, offsetof(struct target_regs, field), 32 }

static const struct register_name register_names[] = {
	REG64(rax), REG64(rbx), REG64(rcx), REG64(rdx),
	REG64(rsi), REG64(rdi), REG64(rbp), REG64(rsp),
	REG64(r8), REG64(r9), REG64(r10), REG64(r11),
	REG64(r12), REG64(r13), REG64(r14), REG64(r15),
	REG64(rip), REG64(rflags),
	REG32("eax", rax), REG32("ebx", rbx), REG32("ecx", rcx),
	REG32("edx", rdx), REG32("esi", rsi), REG32("edi", rdi),
	REG32("ebp", rbp), REG32("esp", rsp), REG32("eip", rip),
	REG32("eflags", rflags),
};

static const char cli_usage_text[] =
	"usage: kvmstub [OPTIONS] IMAGE\n"
	"Runs IMAGE (an ELF32/ELF64 executable, or any other file as a flat\n"
	"binary) on a KVM vCPU and lets gdb debug it: target remote :1234\n"
	"\n"
	"options (--opt VALUE and --opt=VALUE both work):\n"
	"  --gdb ADDR           where gdb connects (default 127.0.0.1:1234)\n"
	"  --no-wait            start the guest at once; a gdb that connects stops it\n"
	"  --no-gdb             no gdb stub: just run the guest\n"
	"  --mem SIZE           guest RAM from physical address 0 (default 128M)\n"
	"  --mode MODE          CPU mode at entry: real, protected or long\n"
	"  --load ADDR          where a flat binary is loaded (default 0x1000)\n"
	"  --entry ADDR         first instruction (default e_entry, or the load address)\n"
	"  --reg NAME=VALUE     initial register value, repeatable (e.g. --reg rax=2)\n"
	"  --console-port PORT  OUT bytes to PORT also go to stdout, repeatable\n"
	"  --trace-io           print every port I/O exit on stderr\n"
	"  --record             record from the first instruction, for reverse execution\n"
	"  --record-limit SIZE  history kept for reverse execution (default 256M)\n"
	"  --machine pc|bare    pc (default): interrupt controllers, PIT, the PC's\n"
	"                       devices; hlt waits for interrupts. bare: none of\n"
	"                       them; hlt ends the guest\n"
	"  --vga                show the VGA text screen: live in a terminal, and\n"
	"                       the final screen as plain text on stdout at the end\n"
	"  --keyboard           stdin types on the i8042 keyboard instead of COM1\n"
	"  --no-reboot          a guest's reset ends it with status 0\n"
	"  --smp N              N vCPUs (default 1; pc machine), gdb threads 1..N;\n"
	"                       the others wait for INIT/SIPI as on a PC\n"
	"  --boot PROTOCOL      elf, flat, multiboot, multiboot2 or pvh (default:\n"
	"                       detected from the image)\n"
	"  --append ARGS        the kernel's command line (Multiboot, Multiboot2, PVH)\n"
	"  --module FILE[,ARGS] a boot module with its string, repeatable\n"
	"  --arch ARCH          gdb's register layout: i8086, i386 or x86-64\n"
	"  -h, --help           print this help and exit\n"
	"  --version            print the version and exit\n"
	"\n"
	"ADDR for --gdb is PORT, HOST:PORT, [IPV6]:PORT or unix:PATH. SIZE is\n"
	"bytes or a number with K, M or G (binary units), 64K..3G, a multiple\n"
	"of 4K. Other numbers are decimal or 0x hex. Registers: rax rbx rcx rdx\n"
	"rsi rdi rbp rsp r8..r15 rip rflags; eax..edi, esp, ebp, eip and eflags\n"
	"set the same registers. The default mode is long for ELF64, protected\n"
	"for ELF32 and real for a flat binary; Multiboot, Multiboot2 and PVH\n"
	"kernels start in protected mode as their protocols say.\n"
	"\n"
	"exit status:\n"
	"  0          the guest executed hlt (pc: with interrupts off)\n"
	"  (v<<1)|1   the guest wrote v to the exit device at port 0xf4 (odd)\n"
	"  2          usage error\n"
	"  4          the image cannot be loaded\n"
	"  6          KVM is unavailable or failed\n"
	"  8          the guest crashed (triple fault, internal error)\n"
	"  10         stopped by SIGINT or SIGTERM\n"
	"  12         ended by gdb's kill\n";

const char *cli_usage(void)
{
	return cli_usage_text;
}

static void format_error(char *err, size_t err_size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void format_error(char *err, size_t err_size, const char *fmt, ...)
{
	va_list args;

	if (!err || err_size == 0)
		return;
	va_start(args, fmt);
	vsnprintf(err, err_size, fmt, args);
	va_end(args);
	/* Messages quote the user's arguments; a newline or escape in one
	 * must not break the promise of a single printable line. */
	for (char *p = err; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

static bool is_decimal_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int parse_address_option(const char *option, const char *text,
				uint64_t *value, char *err, size_t err_size)
{
	int rc = number_parse(text, value);

	if (rc == -ERANGE)
		format_error(err, err_size, "%s: '%s' does not fit in 64 bits",
			     option, text);
	else if (rc)
		format_error(err, err_size,
			     "%s: '%s' is not a number (decimal or 0x hex)",
			     option, text);
	return rc ? -EINVAL : 0;
}

/* Binary multiples, as QEMU's -m and every tiny-kernel tutorial use them. */
static int parse_size_suffix(const char *suffix, unsigned *shift)
{
	static const struct {
		const char *text;
		unsigned shift;
	} suffixes[] = {
		{ "", 0 },
		{ "k", 10 }, { "kib", 10 },
		{ "m", 20 }, { "mib", 20 },
		{ "g", 30 }, { "gib", 30 },
	};

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (strcasecmp(suffix, suffixes[i].text) == 0) {
			*shift = suffixes[i].shift;
			return 0;
		}
	}
	return -EINVAL;
}

static int parse_mem_size(const char *text, uint64_t *size, char *err,
			  size_t err_size)
{
	const char *suffix;
	uint64_t number = 0;
	unsigned shift = 0;
	int rc;

	rc = number_parse_prefix(text, &number, &suffix);
	if (rc == 0)
		rc = parse_size_suffix(suffix, &shift);
	if (rc == -EINVAL) {
		format_error(err, err_size,
			     "--mem: '%s' is not a size (use e.g. 64M)", text);
		return -EINVAL;
	}
	/* Anything past the maximum is refused, so checking against it
	 * before the shift also rules out overflow. */
	if (rc == -ERANGE || number > MAX_MEM_SIZE >> shift) {
		format_error(err, err_size,
			     "--mem: '%s' is more than the maximum of 3G", text);
		return -EINVAL;
	}
	number <<= shift;
	if (number < MIN_MEM_SIZE) {
		format_error(err, err_size,
			     "--mem: '%s' is less than the minimum of 64K", text);
		return -EINVAL;
	}
	if (number % MEM_GRANULE != 0) {
		format_error(err, err_size,
			     "--mem: '%s' is not a multiple of 4K", text);
		return -EINVAL;
	}
	*size = number;
	return 0;
}

/* The reverse-execution window: 1M..1T, in the same units as --mem. */
static int parse_record_limit(const char *text, uint64_t *size, char *err, size_t err_size)
{
	const char *suffix;
	uint64_t number = 0;
	unsigned shift = 0;
	int rc = number_parse_prefix(text, &number, &suffix);

	if (rc == 0)
		rc = parse_size_suffix(suffix, &shift);
	if (rc == -EINVAL) {
		format_error(err, err_size, "--record-limit: '%s' is not a size (use e.g. 256M)",
			     text);
		return -EINVAL;
	}
	if (rc == -ERANGE || number > (1ULL << 40) >> shift) {
		format_error(err, err_size, "--record-limit: '%s' is more than the maximum of 1024G",
			     text);
		return -EINVAL;
	}
	number <<= shift;
	if (number < (1ULL << 20)) {
		format_error(err, err_size, "--record-limit: '%s' is less than the minimum of 1M",
			     text);
		return -EINVAL;
	}
	*size = number;
	return 0;
}

static int parse_mode(const char *text, enum cli_mode *mode, char *err,
		      size_t err_size)
{
	if (strcmp(text, "real") == 0)
		*mode = CLI_MODE_REAL;
	else if (strcmp(text, "protected") == 0)
		*mode = CLI_MODE_PROTECTED;
	else if (strcmp(text, "long") == 0)
		*mode = CLI_MODE_LONG;
	else {
		format_error(err, err_size,
			     "--mode: '%s' is not one of real, protected, long",
			     text);
		return -EINVAL;
	}
	return 0;
}

/* A TCP port for gdb: decimal only, as every tool writes one, and not 0,
 * which would make the kernel pick a port gdb cannot know. */
static int parse_tcp_port(const char *text, uint16_t *port)
{
	uint64_t value = 0;

	if (*text == '\0')
		return -EINVAL;
	for (const char *p = text; *p; p++) {
		if (!is_decimal_digit(*p))
			return -EINVAL;
		value = value * 10 + (uint64_t)(*p - '0');
		if (value > UINT16_MAX)
			return -EINVAL;
	}
	if (value == 0)
		return -EINVAL;
	*port = (uint16_t)value;
	return 0;
}

static int set_gdb_host(struct cli_options *opts, const char *host,
			size_t host_len, const char *text, char *err,
			size_t err_size)
{
	if (host_len >= sizeof(opts->gdb_host)) {
		format_error(err, err_size,
			     "--gdb: the host in '%.40s...' is longer than %zu "
			     "bytes", text, sizeof(opts->gdb_host) - 1);
		return -EINVAL;
	}
	memcpy(opts->gdb_host, host, host_len);
	opts->gdb_host[host_len] = '\0';
	return 0;
}

static int parse_gdb_address(const char *text, struct cli_options *opts,
			     char *err, size_t err_size)
{
	const char *host = DEFAULT_GDB_HOST;
	size_t host_len = strlen(DEFAULT_GDB_HOST);
	const char *port_text = text;
	const char *colon;

	if (strncmp(text, "unix:", 5) == 0) {
		const char *path = text + 5;

		if (*path == '\0') {
			format_error(err, err_size,
				     "--gdb: 'unix:' needs a socket path");
			return -EINVAL;
		}
		/* sun_path holds the path and its terminating NUL. */
		if (strlen(path) >= sizeof(opts->gdb_path)) {
			format_error(err, err_size,
				     "--gdb: unix socket path is longer than "
				     "%zu bytes", sizeof(opts->gdb_path) - 1);
			return -EINVAL;
		}
		opts->gdb_kind = CLI_GDB_UNIX;
		strcpy(opts->gdb_path, path);
		return 0;
	}

	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close == text + 1 || close[1] != ':') {
			format_error(err, err_size,
				     "--gdb: '%s' is not [IPV6]:PORT", text);
			return -EINVAL;
		}
		host = text + 1;
		host_len = (size_t)(close - host);
		port_text = close + 2;
	} else if ((colon = strrchr(text, ':')) != NULL) {
		if (memchr(text, ':', (size_t)(colon - text))) {
			format_error(err, err_size,
				     "--gdb: put an IPv6 address in brackets, "
				     "e.g. [::1]:1234");
			return -EINVAL;
		}
		/* ":1234" is how gdb itself spells the local host. */
		if (colon != text) {
			host = text;
			host_len = (size_t)(colon - text);
		}
		port_text = colon + 1;
	}
	if (parse_tcp_port(port_text, &opts->gdb_port)) {
		format_error(err, err_size,
			     "--gdb: '%s' is not PORT, HOST:PORT or unix:PATH "
			     "(PORT is 1..65535)", text);
		return -EINVAL;
	}
	opts->gdb_kind = CLI_GDB_TCP;
	return set_gdb_host(opts, host, host_len, text, err, err_size);
}

static const struct register_name *find_register(const char *name,
						 size_t name_len)
{
	for (size_t i = 0; i < sizeof(register_names) / sizeof(register_names[0]);
	     i++) {
		if (strlen(register_names[i].name) == name_len &&
		    strncasecmp(register_names[i].name, name, name_len) == 0)
			return &register_names[i];
	}
	return NULL;
}

static int parse_register_setting(const char *text, struct cli_options *opts,
				  char *err, size_t err_size)
{
	const char *equals = strchr(text, '=');
	const struct register_name *reg;
	uint64_t value;
	int rc;

	if (!equals || equals == text) {
		format_error(err, err_size,
			     "--reg: '%s' is not NAME=VALUE (e.g. rax=2)", text);
		return -EINVAL;
	}
	reg = find_register(text, (size_t)(equals - text));
	if (!reg) {
		format_error(err, err_size,
			     "--reg: unknown register '%.*s' (use rax..r15, rip, "
			     "rflags or eax..edi, eip, eflags)",
			     (int)(equals - text), text);
		return -EINVAL;
	}
	rc = number_parse(equals + 1, &value);
	if (rc == -ERANGE || (rc == 0 && reg->bits == 32 && value > UINT32_MAX)) {
		format_error(err, err_size,
			     "--reg: '%s' does not fit in %u bits", equals + 1,
			     reg->bits);
		return -EINVAL;
	}
	if (rc) {
		format_error(err, err_size,
			     "--reg: '%s' is not a number (decimal or 0x hex)",
			     equals + 1);
		return -EINVAL;
	}
	/* A register named twice (or as rax and eax) keeps the last value,
	 * so the table never holds more entries than there are registers. */
	for (unsigned i = 0; i < opts->nregs; i++) {
		if (opts->regs[i].offset == reg->offset) {
			opts->regs[i].value = value;
			return 0;
		}
	}
	if (opts->nregs == CLI_MAX_REGS) {
		format_error(err, err_size, "--reg: more than %d registers",
			     CLI_MAX_REGS);
		return -EINVAL;
	}
	opts->regs[opts->nregs].offset = reg->offset;
	opts->regs[opts->nregs].value = value;
	opts->nregs++;
	return 0;
}

static int parse_console_port(const char *text, struct cli_options *opts,
			      char *err, size_t err_size)
{
	uint64_t value;
	uint16_t port;

	if (number_parse(text, &value) || value > UINT16_MAX) {
		format_error(err, err_size,
			     "--console-port: '%s' is not a port (0..0xffff)",
			     text);
		return -EINVAL;
	}
	port = (uint16_t)value;
	for (unsigned i = 0; i < opts->nconsole_ports; i++)
		if (opts->console_ports[i] == port)
			return 0;
	if (opts->nconsole_ports == CLI_MAX_CONSOLE_PORTS) {
		format_error(err, err_size,
			     "--console-port: more than %d ports",
			     CLI_MAX_CONSOLE_PORTS);
		return -EINVAL;
	}
	opts->console_ports[opts->nconsole_ports++] = port;
	return 0;
}

static int parse_machine(const char *text, enum cli_machine *machine, char *err,
			 size_t err_size)
{
	if (strcmp(text, "pc") == 0)
		*machine = CLI_MACHINE_PC;
	else if (strcmp(text, "bare") == 0)
		*machine = CLI_MACHINE_BARE;
	else {
		format_error(err, err_size, "--machine: '%s' is not one of pc, bare", text);
		return -EINVAL;
	}
	return 0;
}

/* ---- booting a kernel: --boot, --arch, --append, --module ---- */

static int parse_boot(const char *text, enum cli_boot *boot, char *err, size_t err_size)
{
	static const char *const names[] = {
		[CLI_BOOT_ELF] = "elf", [CLI_BOOT_FLAT] = "flat",
		[CLI_BOOT_MULTIBOOT] = "multiboot", [CLI_BOOT_MULTIBOOT2] = "multiboot2",
		[CLI_BOOT_PVH] = "pvh",
	};

	for (unsigned i = CLI_BOOT_ELF; i <= CLI_BOOT_PVH; i++) {
		if (strcmp(text, names[i]) == 0) {
			*boot = (enum cli_boot)i;
			return 0;
		}
	}
	format_error(err, err_size,
		     "--boot: '%s' is not one of elf, flat, multiboot, multiboot2, pvh", text);
	return -EINVAL;
}

static int parse_arch(const char *text, enum cli_arch *arch, char *err, size_t err_size)
{
	if (strcmp(text, "i8086") == 0)
		*arch = CLI_ARCH_I8086;
	else if (strcmp(text, "i386") == 0)
		*arch = CLI_ARCH_I386;
	else if (strcmp(text, "x86-64") == 0 || strcmp(text, "i386:x86-64") == 0)
		*arch = CLI_ARCH_X86_64;
	else {
		format_error(err, err_size, "--arch: '%s' is not one of i8086, i386, x86-64",
			     text);
		return -EINVAL;
	}
	return 0;
}

/* FILE[,ARGS]: the first comma ends the file name, as one module per
 * option needs no escaping for commas in ARGS. */
static int parse_module(const char *text, struct cli_options *opts, char *err,
			size_t err_size)
{
	const char *comma = strchr(text, ',');
	size_t file_len = comma ? (size_t)(comma - text) : strlen(text);

	if (file_len == 0) {
		format_error(err, err_size, "--module: '%s' has no FILE (use FILE[,ARGS])",
			     text);
		return -EINVAL;
	}
	if (opts->nmodules == CLI_MAX_MODULES) {
		format_error(err, err_size, "--module: more than %d modules", CLI_MAX_MODULES);
		return -EINVAL;
	}
	opts->modules[opts->nmodules++] = (struct cli_module){
		.file = text, .file_len = file_len, .args = comma ? comma + 1 : NULL,
	};
	return 0;
}

static void set_defaults(struct cli_options *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->machine = CLI_MACHINE_PC;
	opts->gdb_kind = CLI_GDB_TCP;
	strcpy(opts->gdb_host, DEFAULT_GDB_HOST);
	opts->gdb_port = DEFAULT_GDB_PORT;
	opts->mem_size = DEFAULT_MEM_SIZE;
	opts->record_limit = 256ULL << 20;
	opts->mode = CLI_MODE_DEFAULT;
	opts->load_addr = DEFAULT_LOAD_ADDR;
	opts->smp = 1;
}

static const struct cli_option_spec *find_option(const char *name,
						 size_t name_len)
{
	for (size_t i = 0;
	     i < sizeof(cli_option_specs) / sizeof(cli_option_specs[0]); i++) {
		if (strlen(cli_option_specs[i].name) == name_len &&
		    strncmp(cli_option_specs[i].name, name, name_len) == 0)
			return &cli_option_specs[i];
	}
	return NULL;
}

/* What the parse of one option tells the loop. */
enum option_outcome { OPTION_OK, OPTION_STOP, OPTION_ERROR };

static enum option_outcome apply_option(const struct cli_option_spec *spec,
					const char *value,
					struct cli_options *opts,
					bool *gdb_address_given,
					char *err, size_t err_size)
{
	int rc = 0;

	switch (spec->id) {
	case OPT_GDB:
		rc = parse_gdb_address(value, opts, err, err_size);
		*gdb_address_given = true;
		break;
	case OPT_NO_WAIT:
		opts->no_wait = true;
		break;
	case OPT_NO_GDB:
		opts->no_gdb = true;
		break;
	case OPT_MEM:
		rc = parse_mem_size(value, &opts->mem_size, err, err_size);
		break;
	case OPT_MODE:
		rc = parse_mode(value, &opts->mode, err, err_size);
		break;
	case OPT_LOAD:
		rc = parse_address_option("--load", value, &opts->load_addr,
					  err, err_size);
		opts->load_set = rc == 0;
		break;
	case OPT_ENTRY:
		rc = parse_address_option("--entry", value, &opts->entry, err,
					  err_size);
		opts->entry_set = rc == 0;
		break;
	case OPT_REG:
		rc = parse_register_setting(value, opts, err, err_size);
		break;
	case OPT_CONSOLE_PORT:
		rc = parse_console_port(value, opts, err, err_size);
		break;
	case OPT_TRACE_IO:
		opts->trace_io = true;
		break;
	case OPT_RECORD:
		opts->record = true;
		break;
	case OPT_RECORD_LIMIT:
		rc = parse_record_limit(value, &opts->record_limit, err, err_size);
		break;
	case OPT_MACHINE:
		rc = parse_machine(value, &opts->machine, err, err_size);
		break;
	case OPT_VGA:
		opts->vga = true;
		break;
	case OPT_KEYBOARD:
		opts->keyboard = true;
		break;
	case OPT_NO_REBOOT:
		opts->no_reboot = true;
		break;
	case OPT_SMP: {
		uint64_t n = 0;
		rc = number_parse(value, &n);
		if (rc || n < 1 || n > CLI_MAX_SMP) {
			format_error(err, err_size, "--smp: '%s' is not a vCPU count from 1 to %u", value,
				     CLI_MAX_SMP);
			rc = -EINVAL;
		}
		opts->smp = (unsigned)n;
		break;
	}
	case OPT_BOOT:
		rc = parse_boot(value, &opts->boot, err, err_size);
		break;
	case OPT_ARCH:
		rc = parse_arch(value, &opts->arch, err, err_size);
		break;
	case OPT_APPEND:
		opts->append = value;
		break;
	case OPT_MODULE:
		rc = parse_module(value, opts, err, err_size);
		break;
	case OPT_HELP:
		opts->help = true;
		return OPTION_STOP;
	case OPT_VERSION:
		opts->version = true;
		return OPTION_STOP;
	}
	return rc ? OPTION_ERROR : OPTION_OK;
}

int cli_parse(int argc, char *const argv[], struct cli_options *opts,
	      char *err, size_t err_size)
{
	bool gdb_address_given = false;
	bool options_ended = false;

	set_defaults(opts);
	if (err && err_size)
		err[0] = '\0';

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		const struct cli_option_spec *spec;
		const char *name, *equals, *value = NULL;
		size_t name_len;
		enum option_outcome outcome;

		/* A lone "-" is a file name like any other. */
		if (options_ended || arg[0] != '-' || arg[1] == '\0') {
			if (opts->image) {
				format_error(err, err_size,
					     "more than one IMAGE: '%s' and '%s'",
					     opts->image, arg);
				return -EINVAL;
			}
			if (arg[0] == '\0') {
				format_error(err, err_size,
					     "IMAGE is an empty file name");
				return -EINVAL;
			}
			opts->image = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			options_ended = true;
			continue;
		}
		if (strcmp(arg, "-h") == 0) {
			opts->help = true;
			return 0;
		}
		if (arg[1] != '-') {
			format_error(err, err_size, "unknown option '%s'", arg);
			return -EINVAL;
		}

		name = arg + 2;
		equals = strchr(name, '=');
		name_len = equals ? (size_t)(equals - name) : strlen(name);
		spec = find_option(name, name_len);
		if (!spec) {
			format_error(err, err_size, "unknown option '--%.*s'",
				     (int)name_len, name);
			return -EINVAL;
		}
		if (spec->takes_value) {
			if (equals) {
				value = equals + 1;
			} else if (i + 1 < argc) {
				value = argv[++i];
			} else {
				format_error(err, err_size,
					     "--%s needs a value", spec->name);
				return -EINVAL;
			}
		} else if (equals) {
			format_error(err, err_size, "--%s takes no value",
				     spec->name);
			return -EINVAL;
		}

		outcome = apply_option(spec, value, opts, &gdb_address_given,
				       err, err_size);
		if (outcome == OPTION_ERROR)
			return -EINVAL;
		/* --help and --version answer at once, whatever follows. */
		if (outcome == OPTION_STOP)
			return 0;
	}

	if (gdb_address_given && opts->no_gdb) {
		format_error(err, err_size,
			     "--gdb and --no-gdb contradict each other");
		return -EINVAL;
	}
	if (!opts->image) {
		format_error(err, err_size, "missing IMAGE");
		return -EINVAL;
	}
	return 0;
}
