/* tests/unit/test_monitor.c — `monitor` commands (stub/monitor.c) and the
 * packets around them (stub/rsp.c): qRcmd output as O packets then OK,
 * Qqemu.PhyMemMode, the binary x read, and extended mode (!, vRun,
 * vKill), against the fake target, with and without its optional ops. */
#include "stub/monitor.h"
#include "stub/rsp.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/check.h"
#include "tests/unit/fake_target.h"

struct fixture {
	struct fake_target *t;
	struct rsp_session *s;
	struct target_resume resume;
	enum rsp_action action;
	char console[1 << 16]; /* everything the O packets carried */
	size_t console_len;
	char final[64];        /* the reply after them */
};

static struct fixture *fixture_open(bool minimal)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (!f)
		abort();
	f->t = calloc(1, sizeof(*f->t));
	f->s = calloc(1, sizeof(*f->s));
	if (!f->t || !f->s)
		abort();
	fake_target_init(f->t, TARGET_ARCH_X86_64);
	rsp_session_init(f->s, minimal ? fake_target_as_minimal_target(f->t)
				       : fake_target_as_target(f->t), false);
	return f;
}

static void fixture_close(struct fixture *f)
{
	rsp_session_destroy(f->s);
	free(f->s);
	free(f->t);
	free(f);
}

static enum rsp_action send(struct fixture *f, const char *payload)
{
	f->action = rsp_handle_packet(f->s, (const uint8_t *)payload, strlen(payload), &f->resume);
	return f->action;
}

static bool reply_is(const struct fixture *f, const char *expected)
{
	size_t n = strlen(expected);
	bool same = f->s->reply_len == n && memcmp(f->s->reply, expected, n) == 0;
	if (!same)
		printf("  reply \"%.*s\", expected \"%s\"\n",
		       (int)(f->s->reply_len > 200 ? 200 : f->s->reply_len), f->s->reply, expected);
	return same;
}

static int hexval(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

/* Runs one monitor command through qRcmd and collects the O packets. */
static unsigned monitor(struct fixture *f, const char *command)
{
	char packet[1024] = "qRcmd,";
	unsigned npackets = 0;
	for (size_t i = 0; command[i]; i++)
		snprintf(packet + strlen(packet), 3, "%02x", (unsigned char)command[i]);
	f->console_len = 0;
	f->final[0] = 0;
	CHECK_EQ(send(f, packet), RSP_ACTION_CONSOLE);
	do {
		const char *r = (const char *)f->s->reply;
		size_t n = f->s->reply_len;
		npackets++;
		if (n >= 1 && r[0] == 'O' && !(n == 2 && r[1] == 'K')) {
			for (size_t i = 1; i + 1 < n && f->console_len + 1 < sizeof(f->console); i += 2)
				f->console[f->console_len++] = (char)(hexval(r[i]) << 4 | hexval(r[i + 1]));
		} else {
			snprintf(f->final, sizeof(f->final), "%.*s", (int)n, r);
		}
	} while (rsp_console_next(f->s));
	f->console[f->console_len] = 0;
	return npackets;
}

static bool console_has(const struct fixture *f, const char *text)
{
	bool found = strstr(f->console, text) != NULL;
	if (!found)
		printf("  console lacks \"%s\":\n%s\n", text, f->console);
	return found;
}

static unsigned console_lines(const struct fixture *f)
{
	unsigned n = 0;
	for (size_t i = 0; i < f->console_len; i++)
		n += f->console[i] == '\n';
	return n;
}

/* ---- monitor ---- */

static void test_help_lists_every_command_on_one_line_each(void)
{
	struct fixture *f = fixture_open(false);
	static const char *const commands[] = {
		"info registers", "info gdt", "info idt", "info tlb", "info mem", "info lapic",
		"info pic", "info exits", "gva2gpa ADDR", "xp /FMT ADDR", "system_reset", "screen",
		"trace-io on|off", "step-irq on|off", "record on|off|status", "help",
	};
	monitor(f, "help");
	CHECK(reply_is(f, "OK"));
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		char line_start[64];
		snprintf(line_start, sizeof(line_start), "%s ", commands[i]);
		CHECK(console_has(f, line_start));
	}
	CHECK_EQ(console_lines(f), sizeof(commands) / sizeof(commands[0]));
	fixture_close(f);
}

static void test_unknown_commands_and_bad_arguments_get_one_line(void)
{
	static const char *const bad[] = {
		"frobnicate", "info", "info nothing", "info registers now", "gva2gpa",
		"gva2gpa 0xzz", "gva2gpa 1 2", "xp", "xp /8q 0", "trace-io", "trace-io maybe",
		"step-irq 1", "screen now", "system_reset please", "record on off",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fixture *f = fixture_open(false);
		monitor(f, bad[i]);
		if (console_lines(f) != 1)
			printf("  for \"%s\": %s\n", bad[i], f->console);
		CHECK_EQ(console_lines(f), 1);
		CHECK(reply_is(f, "OK"));
		CHECK_EQ(f->t->restart_calls + f->t->trace_io_calls, 0);
		fixture_close(f);
	}
}

static void test_info_registers_shows_the_targets_system_state(void)
{
	struct fixture *f = fixture_open(false);
	f->t->system.cs.selector = 0x18;
	f->t->system.cs.l = 1;
	f->t->system.gdt.base = 0x8000;
	f->t->system.gdt.limit = 0x2f;
	monitor(f, "info registers");
	CHECK(console_has(f, "CR3=0000000000009000"));
	CHECK(console_has(f, "EFER=0000000000000500"));
	CHECK(console_has(f, "GDT=     0000000000008000 0000002f"));
	CHECK(console_has(f, "mode: long (64-bit)"));
	fixture_close(f);
}

static void test_info_gdt_reads_the_table_at_its_linear_address(void)
{
	struct fixture *f = fixture_open(false);
	uint64_t code64 = 0x00af9b000000ffffULL;
	f->t->system.gdt.base = FAKE_MEMORY_BASE + 0x100;
	f->t->system.gdt.limit = 15;
	memset(f->t->mem + 0x100, 0, 8);
	memcpy(f->t->mem + 0x108, &code64, 8);
	monitor(f, "info gdt");
	CHECK(console_has(f, "0008  00af9b000000ffff  base=0x0 limit=0xffffffff code64"));
	fixture_close(f);
}

static void test_gva2gpa_translates_mapped_and_names_unmapped_addresses(void)
{
	struct fixture *f = fixture_open(false);
	monitor(f, "gva2gpa 0x1010");
	CHECK(console_has(f, "gpa: 0x200010\n"));
	monitor(f, "gva2gpa 4096");
	CHECK(console_has(f, "gpa: 0x200000\n"));
	monitor(f, "gva2gpa 0x9000");
	CHECK(console_has(f, "0x9000: unmapped\n"));
	fixture_close(f);
}

static void test_xp_reads_physical_memory(void)
{
	struct fixture *f = fixture_open(false);
	memcpy(f->t->mem + 0x20, "\x11\x22\x33\x44", 4);
	monitor(f, "xp /4xb 0x200020");
	CHECK(console_has(f, "0000000000200020: 0x11 0x22 0x33 0x44\n"));
	monitor(f, "xp/2xh 0x200020");
	CHECK(console_has(f, "0000000000200020: 0x2211 0x4433\n"));
	CHECK(f->t->read_mem_calls == 0);
	monitor(f, "xp /4x 0x100");
	CHECK(console_has(f, "Cannot access memory at address 0x100"));
	fixture_close(f);
}

static void test_screen_prints_the_machines_text_screen_or_says_blank(void)
{
	struct fixture *f = fixture_open(false);
	monitor(f, "screen");
	CHECK(console_has(f, "(the screen is blank)\n"));
	strcpy(f->t->screen, "Hi\n\n  there\n");
	monitor(f, "screen");
	CHECK(strcmp(f->console, "Hi\n\n  there\n") == 0);
	fixture_close(f);
}

static void test_interrupt_controllers_absent_say_which_machine(void)
{
	struct fixture *f = fixture_open(false);
	monitor(f, "info lapic");
	CHECK(console_has(f, "info lapic: no interrupt controller on this machine (--machine bare)\n"));
	monitor(f, "info pic");
	CHECK(console_has(f, "info pic: no interrupt controller on this machine (--machine bare)\n"));
	f->t->irqchip_error = 0;
	f->t->irqchip.pic[0].irq_base = 0x20;
	monitor(f, "info pic");
	CHECK(console_has(f, "pic0: irr=00 imr=00 isr=00 hprio=0 irq_base=20"));
	fixture_close(f);
}

static void test_info_exits_shows_the_targets_counts(void)
{
	struct fixture *f = fixture_open(false);
	f->t->exits.nreasons = 1;
	strcpy(f->t->exits.reasons[0].name, "IO");
	f->t->exits.reasons[0].count = 5;
	f->t->exits.nports = 1;
	f->t->exits.ports[0].port = 0xe9;
	f->t->exits.ports[0].out = 5;
	monitor(f, "info exits");
	CHECK(console_has(f, "exits by reason (5 in all)"));
	CHECK(console_has(f, "0x00e9  in            0  out            5"));
	fixture_close(f);
}

static void test_trace_io_switches_and_step_irq_says_not_available(void)
{
	struct fixture *f = fixture_open(false);
	monitor(f, "trace-io on");
	CHECK(f->t->trace_io);
	CHECK(console_has(f, "trace-io is on\n"));
	monitor(f, "trace-io off");
	CHECK(!f->t->trace_io);
	monitor(f, "step-irq on");
	CHECK(console_has(f, "step-irq: not available on this machine\n"));
	fixture_close(f);
}

static void test_a_target_without_optional_ops_answers_not_available(void)
{
	static const char *const commands[] = {
		"info registers", "info gdt", "info idt", "info tlb", "info mem", "info lapic",
		"info pic", "info exits", "gva2gpa 0x1000", "xp /4x 0", "system_reset", "screen",
		"trace-io on", "step-irq off", "record status",
	};
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		struct fixture *f = fixture_open(true);
		monitor(f, commands[i]);
		bool ok = strstr(f->console, "not available on this machine\n") != NULL &&
			  console_lines(f) == 1;
		if (!ok)
			printf("  for \"%s\": %s\n", commands[i], f->console);
		CHECK(ok);
		fixture_close(f);
	}
}

static void test_record_on_off_status_reach_the_target_as_parsed_requests(void)
{
	static const struct {
		const char *command;
		enum target_record_request request;
		const char *reply; /* what the fake target answers */
	} cases[] = {
		{ "record on", TARGET_RECORD_ON, "recording: on\n" },
		{ "record status", TARGET_RECORD_STATUS, "recording: on\n" },
		{ "record", TARGET_RECORD_STATUS, "recording: on\n" }, /* alone: status */
		{ "  record \t off ", TARGET_RECORD_OFF, "recording: off (history dropped)\n" },
		{ "record status", TARGET_RECORD_STATUS, "recording: off\n" },
	};
	struct fixture *f = fixture_open(false);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		monitor(f, cases[i].command);
		CHECK_EQ(f->t->record_calls, i + 1);
		CHECK_EQ(f->t->last_record, cases[i].request);
		if (strcmp(f->console, cases[i].reply) != 0)
			printf("  for \"%s\": %s\n", cases[i].command, f->console);
		CHECK(strcmp(f->console, cases[i].reply) == 0);
		CHECK(reply_is(f, "OK"));
	}
	fixture_close(f);
}

static void test_record_with_a_bad_argument_says_the_usage_and_asks_nothing(void)
{
	static const char *const bad[] = {
		"record maybe", "record ON", "record on off", "record status now", "record 1",
		"record of", "record onn", "record -",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct fixture *f = fixture_open(false);
		monitor(f, bad[i]);
		bool ok = strcmp(f->console, "record: usage: record on|off|status\n") == 0;
		if (!ok)
			printf("  for \"%s\": %s\n", bad[i], f->console);
		CHECK(ok);
		CHECK(reply_is(f, "OK"));
		CHECK_EQ(f->t->record_calls, 0);
		fixture_close(f);
	}
}

static void test_a_failing_record_passes_the_targets_reason_on(void)
{
	struct fixture *f = fixture_open(false);
	f->t->record_error = -ENOTSUP;
	monitor(f, "record on");
	CHECK_EQ(f->t->record_calls, 1);
	CHECK(console_has(f, "record: the fake target fails"));
	CHECK_EQ(console_lines(f), 1);
	CHECK(reply_is(f, "OK"));
	CHECK(!f->t->recording);
	fixture_close(f);
}

static void test_system_reset_restarts_and_gdb_sees_the_first_instruction(void)
{
	struct fixture *f = fixture_open(false);
	send(f, "g"); /* caches the registers */
	monitor(f, "system_reset");
	CHECK_EQ(f->t->restart_calls, 1);
	CHECK(f->t->restart_cmdline_null); /* the last command line again */
	CHECK(console_has(f, "maint flush register-cache"));
	CHECK(reply_is(f, "OK"));
	send(f, "?");
	CHECK(f->s->reply_len > 3 && memcmp(f->s->reply, "T05", 3) == 0);
	/* The stop reply's pc is the new one: the cache was dropped. */
	CHECK(strstr((const char *)f->s->reply, "10:0010000000000000;") != NULL);
	fixture_close(f);
}

static void test_long_output_is_split_into_several_o_packets(void)
{
	struct fixture *f = fixture_open(false);
	unsigned n = monitor(f, "xp /4096xb 0x200000");
	CHECK(n > 3);
	CHECK(reply_is(f, "OK"));
	CHECK(strcmp(f->final, "OK") == 0);
	CHECK_EQ(console_lines(f), 256);
	fixture_close(f);
}

static void test_monitor_commands_must_be_hex(void)
{
	struct fixture *f = fixture_open(false);
	CHECK_EQ(send(f, "qRcmd,6865zz"), RSP_ACTION_CONSOLE);
	while (rsp_console_next(f->s))
		;
	CHECK_EQ(send(f, "qRcmd,686"), RSP_ACTION_CONSOLE);
	CHECK(f->s->reply_len > 1 && f->s->reply[0] == 'O');
	fixture_close(f);
}

/* ---- PhyMemMode ---- */

static void test_phymemmode_switches_memory_packets_to_physical_addresses(void)
{
	struct fixture *f = fixture_open(false);
	memcpy(f->t->mem, "\xaa\xbb", 2);
	send(f, "qqemu.Supported");
	CHECK(reply_is(f, "PhyMemMode"));
	send(f, "qqemu.PhyMemMode");
	CHECK(reply_is(f, "0"));
	send(f, "m200000,2");
	CHECK(f->s->reply[0] == 'E');
	send(f, "Qqemu.PhyMemMode:1");
	CHECK(reply_is(f, "OK"));
	send(f, "qqemu.PhyMemMode");
	CHECK(reply_is(f, "1"));
	send(f, "m200000,2");
	CHECK(reply_is(f, "aabb"));
	send(f, "M200001,1:cc");
	CHECK(reply_is(f, "OK"));
	CHECK_EQ(f->t->mem[1], 0xcc);
	send(f, "m1000,1");
	CHECK(f->s->reply[0] == 'E'); /* a linear address, not physical */
	send(f, "Qqemu.PhyMemMode:0");
	CHECK(reply_is(f, "OK"));
	send(f, "m1000,2");
	CHECK(reply_is(f, "aacc"));
	send(f, "Qqemu.PhyMemMode:2");
	CHECK(f->s->reply[0] == 'E');
	fixture_close(f);
}

static void test_phymemmode_is_refused_without_physical_memory_ops(void)
{
	struct fixture *f = fixture_open(true);
	send(f, "qqemu.Supported");
	CHECK(reply_is(f, ""));
	send(f, "Qqemu.PhyMemMode:1");
	CHECK(f->s->reply[0] == 'E');
	fixture_close(f);
}

/* ---- x ---- */

static void test_qsupported_advertises_binary_upload(void)
{
	struct fixture *f = fixture_open(false);
	send(f, "qSupported:xmlRegisters=i386");
	CHECK(strstr((const char *)f->s->reply, ";binary-upload+") != NULL);
	fixture_close(f);
}

static void test_x_reads_memory_as_b_and_raw_bytes(void)
{
	struct fixture *f = fixture_open(false);
	memcpy(f->t->mem, "\x7d\x23\x24\x2a\x00", 5);
	send(f, "x1000,5");
	CHECK(f->s->reply_len == 6 && memcmp(f->s->reply, "b\x7d\x23\x24\x2a\x00", 6) == 0);
	CHECK(!f->s->reply_plain); /* the framing escapes } # $ * */
	send(f, "x1000,0");
	CHECK(reply_is(f, "b"));
	send(f, "x9000,4");
	CHECK(f->s->reply[0] == 'E');
	send(f, "x1ffe,8"); /* the readable prefix */
	CHECK_EQ(f->s->reply_len, 3);
	send(f, "x1000");
	CHECK(f->s->reply[0] == 'E');
	send(f, "x1000,10000000");
	CHECK(f->s->reply_len <= RSP_MAX_PAYLOAD / 2 + 1);
	fixture_close(f);
}

/* ---- extended mode ---- */

static void test_extended_mode_is_offered_only_with_restart(void)
{
	struct fixture *f = fixture_open(false);
	send(f, "!");
	CHECK(reply_is(f, "OK"));
	CHECK(f->s->extended);
	fixture_close(f);
	f = fixture_open(true);
	send(f, "!");
	CHECK(reply_is(f, ""));
	send(f, "vRun;");
	CHECK(f->s->reply[0] == 'E');
	fixture_close(f);
}

static void test_vrun_restarts_with_file_and_arguments_as_command_line(void)
{
	struct fixture *f = fixture_open(false);
	send(f, "!");
	/* vRun;kernel.elf;console=ttyS0;quiet */
	send(f, "vRun;6b65726e656c2e656c66;636f6e736f6c653d747479533000;7175696574");
	CHECK(f->s->reply[0] == 'E'); /* a NUL inside an argument */
	send(f, "vRun;6b65726e656c2e656c66;636f6e736f6c653d7474795330;7175696574");
	CHECK(f->s->reply_len > 3 && memcmp(f->s->reply, "T05", 3) == 0);
	CHECK(strcmp(f->t->restart_file, "kernel.elf") == 0);
	CHECK(strcmp(f->t->restart_cmdline, "console=ttyS0 quiet") == 0);
	CHECK(!f->t->restart_cmdline_null);
	send(f, "vRun;");
	CHECK(strcmp(f->t->restart_file, "") == 0 || f->t->restart_calls == 3);
	CHECK(f->s->reply_len > 3 && memcmp(f->s->reply, "T05", 3) == 0);
	send(f, "vRun;zz");
	CHECK(f->s->reply[0] == 'E');
	fixture_close(f);
}

static void test_kill_in_extended_mode_leaves_no_guest_until_the_next_run(void)
{
	struct fixture *f = fixture_open(false);
	send(f, "!");
	CHECK_EQ(send(f, "vKill;1"), RSP_ACTION_REPLY);
	CHECK(reply_is(f, "OK"));
	send(f, "?");
	CHECK(reply_is(f, "W00"));
	send(f, "qfThreadInfo");
	CHECK(reply_is(f, "l")); /* gdb shows no threads */
	send(f, "c");
	CHECK(f->s->reply[0] == 'E');
	send(f, "vCont;c");
	CHECK(f->s->reply[0] == 'E');
	send(f, "m1000,4");
	CHECK(f->s->reply[0] == 'E');
	CHECK_EQ(f->t->resume_calls, 0);
	send(f, "vRun;");
	CHECK(f->s->reply_len > 3 && memcmp(f->s->reply, "T05", 3) == 0);
	send(f, "m1000,1");
	CHECK(f->s->reply[0] != 'E');
	CHECK_EQ(send(f, "k"), RSP_ACTION_NONE);
	CHECK(f->s->guest_dead && f->s->guest_killed);
	fixture_close(f);
}

static void test_kill_outside_extended_mode_still_ends_kvmstub(void)
{
	struct fixture *f = fixture_open(false);
	CHECK_EQ(send(f, "vKill;1"), RSP_ACTION_KILL);
	CHECK_EQ(send(f, "k"), RSP_ACTION_KILL);
	fixture_close(f);
}

static void test_a_guest_that_ends_in_extended_mode_waits_for_run(void)
{
	struct fixture *f = fixture_open(false);
	CHECK(!rsp_guest_ended(f->s, 3));
	send(f, "!");
	CHECK(rsp_guest_ended(f->s, 3));
	send(f, "?");
	CHECK(reply_is(f, "W03"));
	CHECK(!f->s->guest_killed);
	fixture_close(f);
}

static void test_a_failed_restart_is_an_error_and_no_guest(void)
{
	struct fixture *f = fixture_open(false);
	send(f, "!");
	f->t->restart_error = -ENOENT;
	send(f, "vRun;");
	CHECK(reply_is(f, "E02"));
	send(f, "?");
	CHECK(reply_is(f, "W00"));
	fixture_close(f);
}

int main(void)
{
	RUN(test_help_lists_every_command_on_one_line_each);
	RUN(test_unknown_commands_and_bad_arguments_get_one_line);
	RUN(test_info_registers_shows_the_targets_system_state);
	RUN(test_info_gdt_reads_the_table_at_its_linear_address);
	RUN(test_gva2gpa_translates_mapped_and_names_unmapped_addresses);
	RUN(test_xp_reads_physical_memory);
	RUN(test_screen_prints_the_machines_text_screen_or_says_blank);
	RUN(test_interrupt_controllers_absent_say_which_machine);
	RUN(test_info_exits_shows_the_targets_counts);
	RUN(test_trace_io_switches_and_step_irq_says_not_available);
	RUN(test_a_target_without_optional_ops_answers_not_available);
	RUN(test_record_on_off_status_reach_the_target_as_parsed_requests);
	RUN(test_record_with_a_bad_argument_says_the_usage_and_asks_nothing);
	RUN(test_a_failing_record_passes_the_targets_reason_on);
	RUN(test_system_reset_restarts_and_gdb_sees_the_first_instruction);
	RUN(test_long_output_is_split_into_several_o_packets);
	RUN(test_monitor_commands_must_be_hex);
	RUN(test_phymemmode_switches_memory_packets_to_physical_addresses);
	RUN(test_phymemmode_is_refused_without_physical_memory_ops);
	RUN(test_qsupported_advertises_binary_upload);
	RUN(test_x_reads_memory_as_b_and_raw_bytes);
	RUN(test_extended_mode_is_offered_only_with_restart);
	RUN(test_vrun_restarts_with_file_and_arguments_as_command_line);
	RUN(test_kill_in_extended_mode_leaves_no_guest_until_the_next_run);
	RUN(test_kill_outside_extended_mode_still_ends_kvmstub);
	RUN(test_a_guest_that_ends_in_extended_mode_waits_for_run);
	RUN(test_a_failed_restart_is_an_error_and_no_guest);
	return check_summary();
}
