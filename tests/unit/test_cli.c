/* tests/unit/test_cli.c — stub/cli: what each command line means, and the
 * one-line complaint for each bad one.
 */
#include "stub/cli.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "stub/target.h"
#include "tests/unit/check.h"

static struct cli_options opts;
static char err[256];

/* Parses a NULL-terminated list of arguments after argv[0]. */
static int parse_list(const char *const *args)
{
	const char *argv[64];
	int argc = 0;

	argv[argc++] = "kvmstub";
	while (*args && argc < 63)
		argv[argc++] = *args++;
	argv[argc] = NULL;
	memset(err, 0, sizeof(err));
	return cli_parse(argc, (char *const *)argv, &opts, err, sizeof(err));
}

#define PARSE(...) parse_list((const char *const[]){ __VA_ARGS__, NULL })

/* A usage error: -EINVAL and one line that mentions `needle`. */
#define CHECK_USAGE_ERROR(rc, needle)                                      \
	do {                                                               \
		CHECK_EQ((rc), -EINVAL);                                   \
		CHECK(strchr(err, '\n') == NULL);                          \
		if (!strstr(err, (needle))) {                              \
			printf("  %s:%d: error '%s' does not mention '%s'\n", \
			       __FILE__, __LINE__, err, (needle));         \
			check_failures_in_test++;                          \
		}                                                          \
	} while (0)

static int reg_value(size_t offset, uint64_t *value)
{
	for (unsigned i = 0; i < opts.nregs; i++) {
		if (opts.regs[i].offset == offset) {
			*value = opts.regs[i].value;
			return 1;
		}
	}
	return 0;
}

static void test_image_alone_gets_every_default(void)
{
	CHECK_EQ(PARSE("kernel.elf"), 0);
	CHECK(strcmp(opts.image, "kernel.elf") == 0);
	CHECK_EQ(opts.gdb_kind, CLI_GDB_TCP);
	CHECK(strcmp(opts.gdb_host, "127.0.0.1") == 0);
	CHECK_EQ(opts.gdb_port, 1234);
	CHECK(!opts.no_wait);
	CHECK(!opts.no_gdb);
	CHECK_EQ(opts.mem_size, 128 << 20); /* as QEMU */
	CHECK_EQ(opts.mode, CLI_MODE_DEFAULT);
	CHECK(!opts.load_set);
	CHECK_EQ(opts.load_addr, 0x1000);
	CHECK(!opts.entry_set);
	CHECK_EQ(opts.nregs, 0);
	CHECK_EQ(opts.nconsole_ports, 0);
	CHECK(!opts.trace_io);
	CHECK_EQ(opts.smp, 1);
	CHECK(!opts.help);
	CHECK(!opts.version);
	CHECK_EQ(err[0], '\0');
}

static void test_smp_takes_a_vcpu_count_from_1_to_255(void)
{
	CHECK_EQ(PARSE("--smp", "4", "k.elf"), 0);
	CHECK_EQ(opts.smp, 4);
	CHECK_EQ(PARSE("--smp=255", "k.elf"), 0);
	CHECK_EQ(opts.smp, 255);
	CHECK_EQ(PARSE("--smp", "0x10", "k.elf"), 0);
	CHECK_EQ(opts.smp, 16);
	CHECK_USAGE_ERROR(PARSE("--smp", "0", "k.elf"), "--smp");
	CHECK_USAGE_ERROR(PARSE("--smp", "256", "k.elf"), "1 to 255");
	CHECK_USAGE_ERROR(PARSE("--smp", "-2", "k.elf"), "--smp");
	CHECK_USAGE_ERROR(PARSE("--smp", "4x", "k.elf"), "--smp");
	CHECK_USAGE_ERROR(PARSE("--smp", "99999999999999999999", "k.elf"), "--smp");
}

static void test_gdb_port_alone_listens_on_loopback(void)
{
	CHECK_EQ(PARSE("--gdb", "4321", "k"), 0);
	CHECK_EQ(opts.gdb_kind, CLI_GDB_TCP);
	CHECK(strcmp(opts.gdb_host, "127.0.0.1") == 0);
	CHECK_EQ(opts.gdb_port, 4321);
}

static void test_gdb_host_and_port_are_split(void)
{
	CHECK_EQ(PARSE("--gdb=0.0.0.0:65535", "k"), 0);
	CHECK(strcmp(opts.gdb_host, "0.0.0.0") == 0);
	CHECK_EQ(opts.gdb_port, 65535);
	CHECK_EQ(PARSE("--gdb", "localhost:1", "k"), 0);
	CHECK(strcmp(opts.gdb_host, "localhost") == 0);
	CHECK_EQ(opts.gdb_port, 1);
}

static void test_gdb_bracketed_ipv6_host_is_accepted(void)
{
	CHECK_EQ(PARSE("--gdb", "[::1]:2345", "k"), 0);
	CHECK_EQ(opts.gdb_kind, CLI_GDB_TCP);
	CHECK(strcmp(opts.gdb_host, "::1") == 0);
	CHECK_EQ(opts.gdb_port, 2345);
}

static void test_gdb_colon_port_means_loopback_as_in_gdb(void)
{
	CHECK_EQ(PARSE("--gdb", ":2000", "k"), 0);
	CHECK(strcmp(opts.gdb_host, "127.0.0.1") == 0);
	CHECK_EQ(opts.gdb_port, 2000);
}

static void test_gdb_unix_socket_path_is_kept(void)
{
	CHECK_EQ(PARSE("--gdb=unix:/tmp/kvmstub.sock", "k"), 0);
	CHECK_EQ(opts.gdb_kind, CLI_GDB_UNIX);
	CHECK(strcmp(opts.gdb_path, "/tmp/kvmstub.sock") == 0);
}

static void test_gdb_last_address_wins(void)
{
	CHECK_EQ(PARSE("--gdb", "unix:/tmp/a", "--gdb", "9999", "k"), 0);
	CHECK_EQ(opts.gdb_kind, CLI_GDB_TCP);
	CHECK_EQ(opts.gdb_port, 9999);
}

static void test_gdb_bad_addresses_are_refused(void)
{
	CHECK_USAGE_ERROR(PARSE("--gdb", "0", "k"), "--gdb: '0'");
	CHECK_USAGE_ERROR(PARSE("--gdb", "65536", "k"), "--gdb: '65536'");
	CHECK_USAGE_ERROR(PARSE("--gdb", "99999999999999999999999", "k"),
			  "is not PORT");
	CHECK_USAGE_ERROR(PARSE("--gdb", "http", "k"), "--gdb: 'http'");
	CHECK_USAGE_ERROR(PARSE("--gdb", "host:", "k"), "--gdb: 'host:'");
	CHECK_USAGE_ERROR(PARSE("--gdb", "host:12x", "k"), "--gdb: 'host:12x'");
	CHECK_USAGE_ERROR(PARSE("--gdb", "host:-1", "k"), "--gdb: 'host:-1'");
	CHECK_USAGE_ERROR(PARSE("--gdb=", "k"), "--gdb: ''");
	CHECK_USAGE_ERROR(PARSE("--gdb", "::1:1234", "k"), "brackets");
	CHECK_USAGE_ERROR(PARSE("--gdb", "[::1]", "k"), "[IPV6]:PORT");
	CHECK_USAGE_ERROR(PARSE("--gdb", "[]:1234", "k"), "[IPV6]:PORT");
	CHECK_USAGE_ERROR(PARSE("--gdb", "[::1:1234", "k"), "[IPV6]:PORT");
	CHECK_USAGE_ERROR(PARSE("--gdb", "unix:", "k"), "socket path");
}

static void test_gdb_overlong_unix_path_and_host_are_refused(void)
{
	char path[5 + 200];
	char host[300 + 6];

	memcpy(path, "unix:", 5);
	memset(path + 5, 'p', 199);
	path[204] = '\0';
	CHECK_USAGE_ERROR(PARSE("--gdb", path, "k"), "longer than 107 bytes");

	/* 107 bytes fits sun_path with its NUL. */
	path[5 + 107] = '\0';
	CHECK_EQ(PARSE("--gdb", path, "k"), 0);
	CHECK_EQ(strlen(opts.gdb_path), 107);

	memset(host, 'h', 300);
	memcpy(host + 300, ":1234", 6);
	CHECK_USAGE_ERROR(PARSE("--gdb", host, "k"), "longer than 255 bytes");
}

static void test_flags_are_set(void)
{
	CHECK_EQ(PARSE("--no-wait", "--trace-io", "k"), 0);
	CHECK(opts.no_wait);
	CHECK(opts.trace_io);
	CHECK(!opts.no_gdb);
	CHECK_EQ(PARSE("k", "--no-gdb"), 0);
	CHECK(opts.no_gdb);
}

static void test_pc_device_options_default_off_and_are_set(void)
{
	CHECK_EQ(PARSE("k"), 0);
	CHECK_EQ(opts.machine, CLI_MACHINE_PC);
	CHECK(!opts.vga);
	CHECK(!opts.keyboard);
	CHECK(!opts.no_reboot);
	CHECK_EQ(PARSE("--machine", "pc", "--vga", "--keyboard", "--no-reboot", "k"), 0);
	CHECK_EQ(opts.machine, CLI_MACHINE_PC);
	CHECK(opts.vga);
	CHECK(opts.keyboard);
	CHECK(opts.no_reboot);
	CHECK_EQ(PARSE("--machine=bare", "k"), 0);
	CHECK_EQ(opts.machine, CLI_MACHINE_BARE);
	CHECK_USAGE_ERROR(PARSE("--machine", "q35", "k"), "'q35' is not one of pc, bare");
	CHECK_USAGE_ERROR(PARSE("--vga=1", "k"), "--vga takes no value");
}

static void test_flag_given_a_value_is_refused(void)
{
	CHECK_USAGE_ERROR(PARSE("--no-wait=yes", "k"),
			  "--no-wait takes no value");
	CHECK_USAGE_ERROR(PARSE("--help=1"), "--help takes no value");
}

static void test_gdb_and_no_gdb_together_are_refused(void)
{
	CHECK_USAGE_ERROR(PARSE("--gdb", "1", "--no-gdb", "k"),
			  "--gdb and --no-gdb");
	CHECK_USAGE_ERROR(PARSE("--no-gdb", "--gdb=1", "k"),
			  "--gdb and --no-gdb");
}

static void test_mem_takes_bytes_and_binary_suffixes(void)
{
	CHECK_EQ(PARSE("--mem", "65536", "k"), 0);
	CHECK_EQ(opts.mem_size, 0x10000);
	CHECK_EQ(PARSE("--mem=0x200000", "k"), 0);
	CHECK_EQ(opts.mem_size, 0x200000);
	CHECK_EQ(PARSE("--mem", "512K", "k"), 0);
	CHECK_EQ(opts.mem_size, 512 << 10);
	CHECK_EQ(PARSE("--mem", "128m", "k"), 0);
	CHECK_EQ(opts.mem_size, 128 << 20);
	CHECK_EQ(PARSE("--mem", "2G", "k"), 0);
	CHECK_EQ(opts.mem_size, UINT64_C(2) << 30);
	CHECK_EQ(PARSE("--mem", "16MiB", "k"), 0);
	CHECK_EQ(opts.mem_size, 16 << 20);
	CHECK_EQ(PARSE("--mem", "64KiB", "k"), 0);
	CHECK_EQ(opts.mem_size, 64 << 10);
	CHECK_EQ(PARSE("--mem", "1gib", "k"), 0);
	CHECK_EQ(opts.mem_size, UINT64_C(1) << 30);
}

static void test_mem_limits_are_inclusive(void)
{
	CHECK_EQ(PARSE("--mem", "64K", "k"), 0);
	CHECK_EQ(opts.mem_size, 64 << 10);
	CHECK_EQ(PARSE("--mem", "3G", "k"), 0);
	CHECK_EQ(opts.mem_size, UINT64_C(3) << 30);
	CHECK_EQ(PARSE("--mem", "3072M", "k"), 0);
	CHECK_EQ(opts.mem_size, UINT64_C(3) << 30);
}

static void test_mem_that_is_not_a_size_is_refused(void)
{
	CHECK_USAGE_ERROR(PARSE("--mem", "abc", "k"),
			  "--mem: 'abc' is not a size (use e.g. 64M)");
	CHECK_USAGE_ERROR(PARSE("--mem=", "k"), "--mem: '' is not a size");
	CHECK_USAGE_ERROR(PARSE("--mem", "64X", "k"), "'64X' is not a size");
	CHECK_USAGE_ERROR(PARSE("--mem", "64MB", "k"), "'64MB' is not a size");
	CHECK_USAGE_ERROR(PARSE("--mem", "M", "k"), "'M' is not a size");
	CHECK_USAGE_ERROR(PARSE("--mem", "-64M", "k"), "'-64M' is not a size");
	CHECK_USAGE_ERROR(PARSE("--mem", " 64M", "k"), "' 64M' is not a size");
	CHECK_USAGE_ERROR(PARSE("--mem", "64M ", "k"), "'64M ' is not a size");
	CHECK_USAGE_ERROR(PARSE("--mem", "1.5G", "k"), "'1.5G' is not a size");
}

static void test_mem_out_of_range_is_refused(void)
{
	CHECK_USAGE_ERROR(PARSE("--mem", "60K", "k"), "minimum of 64K");
	CHECK_USAGE_ERROR(PARSE("--mem", "0", "k"), "minimum of 64K");
	CHECK_USAGE_ERROR(PARSE("--mem", "4G", "k"), "maximum of 3G");
	CHECK_USAGE_ERROR(PARSE("--mem", "3221229568", "k"), "maximum of 3G");
	/* Would wrap to a small number if shifted before checking. */
	CHECK_USAGE_ERROR(PARSE("--mem", "17179869184G", "k"), "maximum of 3G");
	CHECK_USAGE_ERROR(PARSE("--mem", "99999999999999999999999", "k"),
			  "maximum of 3G");
}

static void test_mem_not_page_multiple_is_refused(void)
{
	CHECK_USAGE_ERROR(PARSE("--mem", "65537", "k"),
			  "--mem: '65537' is not a multiple of 4K");
	CHECK_USAGE_ERROR(PARSE("--mem", "65K", "k"), "multiple of 4K");
}

static void test_mode_names_are_accepted(void)
{
	CHECK_EQ(PARSE("--mode", "real", "k"), 0);
	CHECK_EQ(opts.mode, CLI_MODE_REAL);
	CHECK_EQ(PARSE("--mode=protected", "k"), 0);
	CHECK_EQ(opts.mode, CLI_MODE_PROTECTED);
	CHECK_EQ(PARSE("--mode", "long", "k"), 0);
	CHECK_EQ(opts.mode, CLI_MODE_LONG);
}

static void test_unknown_mode_is_refused(void)
{
	CHECK_USAGE_ERROR(PARSE("--mode", "64", "k"),
			  "--mode: '64' is not one of real, protected, long");
	CHECK_USAGE_ERROR(PARSE("--mode=", "k"), "--mode: ''");
}

static void test_load_and_entry_take_decimal_or_hex(void)
{
	CHECK_EQ(PARSE("--load", "0x7c00", "--entry=31744", "k"), 0);
	CHECK(opts.load_set);
	CHECK_EQ(opts.load_addr, 0x7c00);
	CHECK(opts.entry_set);
	CHECK_EQ(opts.entry, 0x7c00);
	CHECK_EQ(PARSE("--entry", "0XFFFFFFFFFFFFFFFF", "--load=0", "k"), 0);
	CHECK_EQ(opts.entry, UINT64_MAX);
	CHECK(opts.load_set);
	CHECK_EQ(opts.load_addr, 0);
	CHECK_EQ(PARSE("--entry", "18446744073709551615", "k"), 0);
	CHECK_EQ(opts.entry, UINT64_MAX);
	/* A leading zero is decimal, not octal. */
	CHECK_EQ(PARSE("--load", "010", "k"), 0);
	CHECK_EQ(opts.load_addr, 10);
}

static void test_load_and_entry_junk_is_refused(void)
{
	CHECK_USAGE_ERROR(PARSE("--load", "zz", "k"),
			  "--load: 'zz' is not a number (decimal or 0x hex)");
	CHECK_USAGE_ERROR(PARSE("--load=", "k"), "--load: '' is not a number");
	CHECK_USAGE_ERROR(PARSE("--load", "0x", "k"), "'0x' is not a number");
	CHECK_USAGE_ERROR(PARSE("--entry", "-1", "k"),
			  "--entry: '-1' is not a number");
	CHECK_USAGE_ERROR(PARSE("--entry", "12abc", "k"), "'12abc'");
	CHECK_USAGE_ERROR(PARSE("--entry", "0x1g", "k"), "'0x1g'");
	CHECK_USAGE_ERROR(PARSE("--entry", " 1", "k"), "' 1'");
	CHECK_USAGE_ERROR(PARSE("--entry", "+1", "k"), "'+1'");
}

static void test_load_and_entry_overflow_is_refused(void)
{
	CHECK_USAGE_ERROR(PARSE("--load", "18446744073709551616", "k"),
			  "--load: '18446744073709551616' does not fit in 64 bits");
	CHECK_USAGE_ERROR(PARSE("--entry", "0x10000000000000000", "k"),
			  "does not fit in 64 bits");
}

static void test_every_register_name_maps_to_its_field(void)
{
	static const struct {
		const char *arg;
		size_t offset;
	} cases[] = {
		{ "rax=1", offsetof(struct target_regs, rax) },
		{ "rbx=1", offsetof(struct target_regs, rbx) },
		{ "rcx=1", offsetof(struct target_regs, rcx) },
		{ "rdx=1", offsetof(struct target_regs, rdx) },
		{ "rsi=1", offsetof(struct target_regs, rsi) },
		{ "rdi=1", offsetof(struct target_regs, rdi) },
		{ "rbp=1", offsetof(struct target_regs, rbp) },
		{ "rsp=1", offsetof(struct target_regs, rsp) },
		{ "r8=1", offsetof(struct target_regs, r8) },
		{ "r9=1", offsetof(struct target_regs, r9) },
		{ "r10=1", offsetof(struct target_regs, r10) },
		{ "r11=1", offsetof(struct target_regs, r11) },
		{ "r12=1", offsetof(struct target_regs, r12) },
		{ "r13=1", offsetof(struct target_regs, r13) },
		{ "r14=1", offsetof(struct target_regs, r14) },
		{ "r15=1", offsetof(struct target_regs, r15) },
		{ "rip=1", offsetof(struct target_regs, rip) },
		{ "rflags=1", offsetof(struct target_regs, rflags) },
		{ "eax=1", offsetof(struct target_regs, rax) },
		{ "ebx=1", offsetof(struct target_regs, rbx) },
		{ "ecx=1", offsetof(struct target_regs, rcx) },
		{ "edx=1", offsetof(struct target_regs, rdx) },
		{ "esi=1", offsetof(struct target_regs, rsi) },
		{ "edi=1", offsetof(struct target_regs, rdi) },
		{ "ebp=1", offsetof(struct target_regs, rbp) },
		{ "esp=1", offsetof(struct target_regs, rsp) },
		{ "eip=1", offsetof(struct target_regs, rip) },
		{ "eflags=1", offsetof(struct target_regs, rflags) },
		{ "RAX=1", offsetof(struct target_regs, rax) },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_EQ(PARSE("--reg", cases[i].arg, "k"), 0);
		CHECK_EQ(opts.nregs, 1);
		CHECK_EQ(opts.regs[0].offset, cases[i].offset);
		CHECK_EQ(opts.regs[0].value, 1);
		if (opts.nregs != 1 || opts.regs[0].offset != cases[i].offset)
			printf("  for --reg %s\n", cases[i].arg);
	}
}

static void test_registers_accumulate_and_the_last_value_wins(void)
{
	uint64_t value = 0;

	CHECK_EQ(PARSE("--reg", "rax=2", "--reg=rsp=0x7000", "--reg", "eax=3",
		       "--reg", "r15=0xffffffffffffffff", "k"), 0);
	CHECK_EQ(opts.nregs, 3);
	CHECK(reg_value(offsetof(struct target_regs, rax), &value));
	CHECK_EQ(value, 3);
	CHECK(reg_value(offsetof(struct target_regs, rsp), &value));
	CHECK_EQ(value, 0x7000);
	CHECK(reg_value(offsetof(struct target_regs, r15), &value));
	CHECK_EQ(value, UINT64_MAX);
}

static void test_every_register_at_once_fits(void)
{
	static const char *const names[] = {
		"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8",
		"r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip", "rflags",
	};
	const char *args[2 * 18 + 2];
	char settings[18][16];
	int n = 0;

	for (int i = 0; i < 18; i++) {
		snprintf(settings[i], sizeof(settings[i]), "%s=%d", names[i], i);
		args[n++] = "--reg";
		args[n++] = settings[i];
	}
	args[n++] = "k";
	args[n] = NULL;
	CHECK_EQ(parse_list(args), 0);
	CHECK_EQ(opts.nregs, 18);
}

static void test_register_settings_that_are_wrong_are_refused(void)
{
	CHECK_USAGE_ERROR(PARSE("--reg", "rax", "k"),
			  "--reg: 'rax' is not NAME=VALUE");
	CHECK_USAGE_ERROR(PARSE("--reg", "=1", "k"), "'=1' is not NAME=VALUE");
	CHECK_USAGE_ERROR(PARSE("--reg=", "k"), "'' is not NAME=VALUE");
	CHECK_USAGE_ERROR(PARSE("--reg", "foo=1", "k"),
			  "--reg: unknown register 'foo'");
	CHECK_USAGE_ERROR(PARSE("--reg", "cs=1", "k"), "unknown register 'cs'");
	CHECK_USAGE_ERROR(PARSE("--reg", "rax=", "k"),
			  "--reg: '' is not a number");
	CHECK_USAGE_ERROR(PARSE("--reg", "rax=two", "k"),
			  "--reg: 'two' is not a number");
	CHECK_USAGE_ERROR(PARSE("--reg", "rax=1=2", "k"), "'1=2' is not a number");
	CHECK_USAGE_ERROR(PARSE("--reg", "rax=0x10000000000000000", "k"),
			  "does not fit in 64 bits");
	CHECK_USAGE_ERROR(PARSE("--reg", "eax=0x100000000", "k"),
			  "--reg: '0x100000000' does not fit in 32 bits");
}

static void test_32_bit_alias_takes_a_32_bit_value(void)
{
	CHECK_EQ(PARSE("--reg", "eip=0xffffffff", "k"), 0);
	CHECK_EQ(opts.regs[0].offset, offsetof(struct target_regs, rip));
	CHECK_EQ(opts.regs[0].value, 0xffffffff);
}

static void test_console_ports_accumulate_without_duplicates(void)
{
	CHECK_EQ(PARSE("--console-port", "0x2f8", "--console-port=0",
		       "--console-port", "760", "--console-port", "0xffff",
		       "k"), 0);
	CHECK_EQ(opts.nconsole_ports, 3);
	CHECK_EQ(opts.console_ports[0], 0x2f8);
	CHECK_EQ(opts.console_ports[1], 0);
	CHECK_EQ(opts.console_ports[2], 0xffff);
}

static void test_console_port_out_of_range_is_refused(void)
{
	CHECK_USAGE_ERROR(PARSE("--console-port", "0x10000", "k"),
			  "--console-port: '0x10000' is not a port (0..0xffff)");
	CHECK_USAGE_ERROR(PARSE("--console-port", "com2", "k"),
			  "'com2' is not a port");
	CHECK_USAGE_ERROR(PARSE("--console-port=", "k"), "'' is not a port");
	CHECK_USAGE_ERROR(PARSE("--console-port", "99999999999999999999999",
				"k"), "is not a port");
}

static void test_too_many_console_ports_are_refused(void)
{
	const char *args[2 * (CLI_MAX_CONSOLE_PORTS + 1) + 2];
	char ports[CLI_MAX_CONSOLE_PORTS + 1][8];
	int n = 0;

	for (int i = 0; i <= CLI_MAX_CONSOLE_PORTS; i++) {
		snprintf(ports[i], sizeof(ports[i]), "%d", 0x100 + i);
		args[n++] = "--console-port";
		args[n++] = ports[i];
	}
	args[n++] = "k";
	args[n] = NULL;
	CHECK_USAGE_ERROR(parse_list(args), "more than 16 ports");
	/* Exactly the maximum is fine. */
	args[2 * CLI_MAX_CONSOLE_PORTS] = "k";
	args[2 * CLI_MAX_CONSOLE_PORTS + 1] = NULL;
	CHECK_EQ(parse_list(args), 0);
	CHECK_EQ(opts.nconsole_ports, CLI_MAX_CONSOLE_PORTS);
}

static void test_help_needs_no_image(void)
{
	CHECK_EQ(PARSE("--help"), 0);
	CHECK(opts.help);
	CHECK_EQ(PARSE("-h"), 0);
	CHECK(opts.help);
	CHECK_EQ(PARSE("k", "--mem", "1M", "-h", "--frob"), 0);
	CHECK(opts.help);
}

static void test_version_needs_no_image(void)
{
	CHECK_EQ(PARSE("--version"), 0);
	CHECK(opts.version);
	CHECK(!opts.help);
}

static void test_missing_image_is_refused(void)
{
	CHECK_USAGE_ERROR(PARSE("--no-wait"), "missing IMAGE");
	CHECK_USAGE_ERROR(parse_list((const char *const[]){ NULL }),
			  "missing IMAGE");
}

static void test_two_images_are_refused(void)
{
	CHECK_USAGE_ERROR(PARSE("a.elf", "b.elf"),
			  "more than one IMAGE: 'a.elf' and 'b.elf'");
}

static void test_empty_image_name_is_refused(void)
{
	CHECK_USAGE_ERROR(PARSE(""), "empty file name");
}

static void test_double_dash_ends_options(void)
{
	CHECK_EQ(PARSE("--no-wait", "--", "--odd-name"), 0);
	CHECK(strcmp(opts.image, "--odd-name") == 0);
	CHECK(opts.no_wait);
	CHECK_USAGE_ERROR(PARSE("--", "a", "--no-wait"),
			  "more than one IMAGE");
}

static void test_lone_dash_is_an_image_name(void)
{
	CHECK_EQ(PARSE("-"), 0);
	CHECK(strcmp(opts.image, "-") == 0);
}

static void test_image_may_come_before_options(void)
{
	CHECK_EQ(PARSE("k", "--mode", "real"), 0);
	CHECK(strcmp(opts.image, "k") == 0);
	CHECK_EQ(opts.mode, CLI_MODE_REAL);
}

static void test_unknown_options_are_refused(void)
{
	CHECK_USAGE_ERROR(PARSE("--frob", "k"), "unknown option '--frob'");
	CHECK_USAGE_ERROR(PARSE("--frob=1", "k"), "unknown option '--frob'");
	CHECK_USAGE_ERROR(PARSE("-x", "k"), "unknown option '-x'");
	/* No abbreviations: a prefix is not the option. */
	CHECK_USAGE_ERROR(PARSE("--no-w", "k"), "unknown option '--no-w'");
	CHECK_USAGE_ERROR(PARSE("--MEM", "1M", "k"), "unknown option '--MEM'");
}

static void test_option_missing_its_value_is_refused(void)
{
	CHECK_USAGE_ERROR(PARSE("k", "--mem"), "--mem needs a value");
	CHECK_USAGE_ERROR(PARSE("k", "--gdb"), "--gdb needs a value");
	CHECK_USAGE_ERROR(PARSE("k", "--reg"), "--reg needs a value");
}

static void test_value_is_taken_from_the_next_argument_verbatim(void)
{
	/* The next argument is the value even if it looks like an option. */
	CHECK_USAGE_ERROR(PARSE("--mem", "--no-wait", "k"),
			  "--mem: '--no-wait' is not a size");
	CHECK_EQ(PARSE("--gdb", "unix:--x", "k"), 0);
	CHECK(strcmp(opts.gdb_path, "--x") == 0);
}

static void test_control_characters_in_quoted_arguments_become_question_marks(void)
{
	CHECK_USAGE_ERROR(PARSE("--mem", "1\n2\x1b[0m", "k"),
			  "--mem: '1?2?[0m' is not a size");
}

static void test_error_is_cut_to_the_buffer_and_terminated(void)
{
	const char *argv[] = { "kvmstub", "--frob-with-a-long-name", NULL };
	char small[8];

	memset(small, 'x', sizeof(small));
	CHECK_EQ(cli_parse(2, (char *const *)argv, &opts, small,
			   sizeof(small)), -EINVAL);
	CHECK_EQ(strlen(small), sizeof(small) - 1);
	CHECK_EQ(cli_parse(2, (char *const *)argv, &opts, NULL, 0), -EINVAL);
}

static void test_usage_names_every_option_and_exit_status(void)
{
	static const char *const wanted[] = {
		"kvmstub [OPTIONS] IMAGE", "--gdb ADDR", "--no-wait", "--no-gdb",
		"--mem SIZE", "--mode", "real, protected or long", "--load ADDR",
		"--entry ADDR", "--reg NAME=VALUE", "--console-port PORT",
		"--trace-io", "--machine pc|bare", "--vga", "--keyboard",
		"--no-reboot", "--smp N", "-h, --help", "--version", "unix:PATH",
		"exit status", "hlt", "(v<<1)|1", "0xf4", "usage error",
		"image cannot be loaded", "KVM", "crashed", "SIGINT",
		"gdb's kill", "--boot PROTOCOL", "multiboot2", "pvh",
		"--append ARGS", "--module FILE[,ARGS]", "--arch ARCH", "x86-64",
		"default 128M",
	};
	const char *usage = cli_usage();

	CHECK(usage != NULL);
	for (size_t i = 0; i < sizeof(wanted) / sizeof(wanted[0]); i++) {
		if (!strstr(usage, wanted[i])) {
			printf("  usage does not mention '%s'\n", wanted[i]);
			check_failures_in_test++;
		}
	}
	/* Every line fits an 80-column terminal. */
	for (const char *line = usage; *line;) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);

		CHECK(len <= 80);
		line += len + (end ? 1 : 0);
	}
}

/* ---- booting a kernel ---- */

static void test_boot_options_default_to_detection_and_nothing_passed(void)
{
	CHECK_EQ(PARSE("k"), 0);
	CHECK_EQ(opts.boot, CLI_BOOT_AUTO);
	CHECK_EQ(opts.arch, CLI_ARCH_AUTO);
	CHECK(opts.append == NULL);
	CHECK_EQ(opts.nmodules, 0);
}

static void test_boot_and_arch_take_their_names(void)
{
	static const struct { const char *name; enum cli_boot boot; } boots[] = {
		{ "elf", CLI_BOOT_ELF }, { "flat", CLI_BOOT_FLAT },
		{ "multiboot", CLI_BOOT_MULTIBOOT }, { "multiboot2", CLI_BOOT_MULTIBOOT2 },
		{ "pvh", CLI_BOOT_PVH },
	};
	for (size_t i = 0; i < sizeof(boots) / sizeof(boots[0]); i++) {
		CHECK_EQ(PARSE("--boot", boots[i].name, "k"), 0);
		CHECK_EQ(opts.boot, boots[i].boot);
	}
	CHECK_EQ(PARSE("--arch=i8086", "k"), 0);
	CHECK_EQ(opts.arch, CLI_ARCH_I8086);
	CHECK_EQ(PARSE("--arch", "i386", "k"), 0);
	CHECK_EQ(opts.arch, CLI_ARCH_I386);
	CHECK_EQ(PARSE("--arch", "x86-64", "k"), 0);
	CHECK_EQ(opts.arch, CLI_ARCH_X86_64);
	CHECK_EQ(PARSE("--arch", "i386:x86-64", "k"), 0); /* gdb's own spelling */
	CHECK_EQ(opts.arch, CLI_ARCH_X86_64);
	CHECK_USAGE_ERROR(PARSE("--boot", "grub", "k"),
			  "--boot: 'grub' is not one of elf, flat, multiboot, multiboot2, pvh");
	CHECK_USAGE_ERROR(PARSE("--boot", "Multiboot", "k"), "'Multiboot'");
	CHECK_USAGE_ERROR(PARSE("--arch", "amd64", "k"), "--arch: 'amd64' is not one of");
}

static void test_append_is_taken_verbatim_and_the_last_one_wins(void)
{
	CHECK_EQ(PARSE("--append", "console=ttyS0 root=/dev/vda,rw", "k"), 0);
	CHECK(strcmp(opts.append, "console=ttyS0 root=/dev/vda,rw") == 0);
	CHECK_EQ(PARSE("--append", "a", "--append=", "k"), 0);
	CHECK(strcmp(opts.append, "") == 0);
}

static void test_modules_split_at_the_first_comma_in_order(void)
{
	CHECK_EQ(PARSE("--module", "initrd.img,root=/dev/ram0 a,b", "--module", "blob",
		       "--module=x,", "k"), 0);
	CHECK_EQ(opts.nmodules, 3);
	CHECK_EQ(opts.modules[0].file_len, strlen("initrd.img"));
	CHECK(strncmp(opts.modules[0].file, "initrd.img", opts.modules[0].file_len) == 0);
	CHECK(strcmp(opts.modules[0].args, "root=/dev/ram0 a,b") == 0);
	CHECK_EQ(opts.modules[1].file_len, 4);
	CHECK(opts.modules[1].args == NULL);
	CHECK_EQ(opts.modules[2].file_len, 1);
	CHECK(strcmp(opts.modules[2].args, "") == 0);
	CHECK(strcmp(opts.image, "k") == 0);
}

static void test_module_without_a_file_or_too_many_is_refused(void)
{
	const char *args[2 * CLI_MAX_MODULES + 4];
	int n = 0;

	CHECK_USAGE_ERROR(PARSE("--module", ",x", "k"), "--module: ',x' has no FILE");
	CHECK_USAGE_ERROR(PARSE("--module", "", "k"), "has no FILE");
	for (int i = 0; i <= CLI_MAX_MODULES; i++) {
		args[n++] = "--module";
		args[n++] = "m";
	}
	args[n++] = "k";
	args[n] = NULL;
	/* parse_list takes at most 62 arguments: build argv here. */
	const char *argv[2 * CLI_MAX_MODULES + 6];
	argv[0] = "kvmstub";
	for (int i = 0; i <= n; i++)
		argv[i + 1] = args[i];
	CHECK_EQ(cli_parse(n + 1, (char *const *)argv, &opts, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "--module: more than 64 modules") != NULL);
}

int main(void)
{
	RUN(test_image_alone_gets_every_default);
	RUN(test_gdb_port_alone_listens_on_loopback);
	RUN(test_gdb_host_and_port_are_split);
	RUN(test_gdb_bracketed_ipv6_host_is_accepted);
	RUN(test_gdb_colon_port_means_loopback_as_in_gdb);
	RUN(test_gdb_unix_socket_path_is_kept);
	RUN(test_gdb_last_address_wins);
	RUN(test_gdb_bad_addresses_are_refused);
	RUN(test_gdb_overlong_unix_path_and_host_are_refused);
	RUN(test_flags_are_set);
	RUN(test_pc_device_options_default_off_and_are_set);
	RUN(test_flag_given_a_value_is_refused);
	RUN(test_gdb_and_no_gdb_together_are_refused);
	RUN(test_mem_takes_bytes_and_binary_suffixes);
	RUN(test_mem_limits_are_inclusive);
	RUN(test_mem_that_is_not_a_size_is_refused);
	RUN(test_mem_out_of_range_is_refused);
	RUN(test_mem_not_page_multiple_is_refused);
	RUN(test_mode_names_are_accepted);
	RUN(test_unknown_mode_is_refused);
	RUN(test_load_and_entry_take_decimal_or_hex);
	RUN(test_load_and_entry_junk_is_refused);
	RUN(test_load_and_entry_overflow_is_refused);
	RUN(test_every_register_name_maps_to_its_field);
	RUN(test_registers_accumulate_and_the_last_value_wins);
	RUN(test_every_register_at_once_fits);
	RUN(test_register_settings_that_are_wrong_are_refused);
	RUN(test_32_bit_alias_takes_a_32_bit_value);
	RUN(test_console_ports_accumulate_without_duplicates);
	RUN(test_console_port_out_of_range_is_refused);
	RUN(test_too_many_console_ports_are_refused);
	RUN(test_help_needs_no_image);
	RUN(test_version_needs_no_image);
	RUN(test_missing_image_is_refused);
	RUN(test_two_images_are_refused);
	RUN(test_empty_image_name_is_refused);
	RUN(test_double_dash_ends_options);
	RUN(test_lone_dash_is_an_image_name);
	RUN(test_image_may_come_before_options);
	RUN(test_unknown_options_are_refused);
	RUN(test_option_missing_its_value_is_refused);
	RUN(test_value_is_taken_from_the_next_argument_verbatim);
	RUN(test_control_characters_in_quoted_arguments_become_question_marks);
	RUN(test_error_is_cut_to_the_buffer_and_terminated);
	RUN(test_usage_names_every_option_and_exit_status);
	RUN(test_smp_takes_a_vcpu_count_from_1_to_255);
	RUN(test_boot_options_default_to_detection_and_nothing_passed);
	RUN(test_boot_and_arch_take_their_names);
	RUN(test_append_is_taken_verbatim_and_the_last_one_wins);
	RUN(test_modules_split_at_the_first_comma_in_order);
	RUN(test_module_without_a_file_or_too_many_is_refused);
	return check_summary();
}
