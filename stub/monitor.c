/* stub/monitor.c — the `monitor` command dispatcher: parses a command
 * line, asks the target (optional ops may be NULL: then "not available"),
 * and has stub/sysfmt.c format the answer. No ioctls, no sockets. */
#include "stub/monitor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stub/number.h"
#include "stub/sysfmt.h"

#define MONITOR_MAX_WORDS 8
#define MONITOR_MAX_LINE 256

struct command_line {
	unsigned nwords;
	char *words[MONITOR_MAX_WORDS];
	const char *rest_after_first; /* the text after the first word */
	char buf[MONITOR_MAX_LINE];
};

static const struct {
	const char *usage, *what;
} commands[] = {
	{ "help", "list these commands" },
	{ "info registers", "every register the vCPU has: descriptor caches, CRs, DRs, EFER, events" },
	{ "info gdt", "the GDT, decoded from guest memory" },
	{ "info idt", "the IDT (IVT in real mode), decoded from guest memory" },
	{ "info tlb", "every page mapping of the guest's page tables" },
	{ "info mem", "mapped virtual ranges with their permissions" },
	{ "info lapic", "the local APIC's registers (pc machine)" },
	{ "info pic", "the 8259 PICs and the IOAPIC (pc machine)" },
	{ "info exits", "vCPU exits by reason and by port; how fast stops reached gdb" },
	{ "gva2gpa ADDR", "the guest-physical address of a virtual address" },
	{ "xp /FMT ADDR", "physical memory in gdb's x formats (x d u o c; b h w g)" },
	{ "system_reset", "start the guest again from its image, stopped at its first instruction" },
	{ "screen", "the 80x25 VGA text screen at 0xb8000" },
	{ "trace-io on|off", "print every port I/O exit on stderr" },
	{ "step-irq on|off", "let single steps enter interrupt handlers" },
	{ "record on|off|status", "reverse execution: record the guest's run, drop it, or say what is held" },
};

static void help(struct textbuf *out)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		textbuf_printf(out, "%-16s -- %s\n", commands[i].usage, commands[i].what);
}

static bool split(const char *line, struct command_line *c)
{
	size_t n = strlen(line);
	if (n >= sizeof(c->buf))
		return false;
	memcpy(c->buf, line, n + 1);
	c->nwords = 0;
	c->rest_after_first = "";
	char *p = c->buf;
	while (*p) {
		while (*p == ' ' || *p == '\t')
			*p++ = 0;
		if (!*p)
			break;
		if (c->nwords == MONITOR_MAX_WORDS)
			return false;
		c->words[c->nwords++] = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		if (c->nwords == 1)
			c->rest_after_first = line + (p - c->buf);
	}
	return true;
}

static void not_available(struct textbuf *out, const char *what)
{
	textbuf_printf(out, "%s: not available on this machine\n", what);
}

static int get_state(struct target t, struct target_system_state *st, struct textbuf *out,
		     const char *what)
{
	if (!t.ops->get_system_state) {
		not_available(out, what);
		return -ENOSYS;
	}
	memset(st, 0, sizeof(*st));
	int err = t.ops->get_system_state(t.impl, st);
	if (err)
		textbuf_printf(out, "%s: cannot read the vCPU state: %s\n", what, strerror(-err));
	return err;
}

static bool long_mode(const struct target_system_state *st)
{
	return (st->regs.efer >> 10) & 1;
}

static bool real_mode(const struct target_system_state *st)
{
	return !(st->regs.cr0 & 1);
}

/* A descriptor table read by linear address: the readable prefix. */
static void descriptor_table(struct target t, struct textbuf *out, bool idt)
{
	struct target_system_state st;
	if (get_state(t, &st, out, idt ? "info idt" : "info gdt"))
		return;
	const struct target_table_register *reg = idt ? &st.idt : &st.gdt;
	size_t want = (size_t)reg->limit + 1;
	uint8_t *buf = malloc(want);
	if (!buf) {
		textbuf_printf(out, "out of memory\n");
		return;
	}
	long n = t.ops->read_mem(t.impl, reg->base, buf, want);
	size_t got = n > 0 ? (size_t)n : 0;
	if (idt)
		sysfmt_idt(out, buf, got, reg->base, reg->limit, long_mode(&st), real_mode(&st));
	else if (real_mode(&st))
		textbuf_printf(out, "real mode: segments are not described by the GDT "
				    "(GDTR base 0x%llx, limit 0x%x)\n",
			       (unsigned long long)reg->base, reg->limit);
	else
		sysfmt_gdt(out, buf, got, reg->base, reg->limit, long_mode(&st));
	free(buf);
}

static int read_phys_all(void *ctx, uint64_t phys, void *buf, size_t len)
{
	struct target *t = ctx;
	long n = t->ops->read_phys(t->impl, phys, buf, len);
	if (n < 0)
		return (int)n;
	return (size_t)n == len ? 0 : -EFAULT;
}

static void page_tables(struct target t, struct textbuf *out, enum sysfmt_paging_view view)
{
	const char *what = view == SYSFMT_TLB ? "info tlb" : "info mem";
	struct target_system_state st;

	if (!t.ops->read_phys) {
		not_available(out, what);
		return;
	}
	if (get_state(t, &st, out, what))
		return;
	struct sysfmt_paging p = { .cr0 = st.regs.cr0, .cr3 = st.regs.cr3, .cr4 = st.regs.cr4,
				   .efer = st.regs.efer };
	sysfmt_page_tables(out, &p, view, read_phys_all, &t, MONITOR_MAX_TABLES);
}

static void interrupt_controller(struct target t, struct textbuf *out, bool lapic)
{
	const char *what = lapic ? "info lapic" : "info pic";
	int err;

	if (lapic ? !t.ops->get_lapic : !t.ops->get_irqchip) {
		not_available(out, what);
		return;
	}
	if (lapic) {
		struct target_lapic l;
		err = t.ops->get_lapic(t.impl, &l);
		if (!err)
			sysfmt_lapic(out, &l);
	} else {
		struct target_irqchip c;
		memset(&c, 0, sizeof(c));
		err = t.ops->get_irqchip(t.impl, &c);
		if (!err)
			sysfmt_irqchip(out, &c);
	}
	if (err == -ENODEV)
		textbuf_printf(out, "%s: no interrupt controller on this machine (--machine bare)\n",
			       what);
	else if (err)
		textbuf_printf(out, "%s: %s\n", what, strerror(-err));
}

static void exits(struct target t, struct textbuf *out)
{
	if (!t.ops->get_exit_counts) {
		not_available(out, "info exits");
		return;
	}
	struct target_exit_counts *c = calloc(1, sizeof(*c));
	if (!c) {
		textbuf_printf(out, "out of memory\n");
		return;
	}
	int err = t.ops->get_exit_counts(t.impl, c);
	if (err)
		textbuf_printf(out, "info exits: %s\n", strerror(-err));
	else
		sysfmt_exits(out, c);
	free(c);
}

static void gva2gpa(struct target t, struct textbuf *out, const struct command_line *c)
{
	uint64_t addr, phys;

	if (c->nwords != 2 || number_parse(c->words[1], &addr)) {
		textbuf_printf(out, "gva2gpa: usage: gva2gpa ADDR (0x... or decimal)\n");
		return;
	}
	if (!t.ops->translate) {
		not_available(out, "gva2gpa");
		return;
	}
	if (t.ops->translate(t.impl, addr, &phys))
		textbuf_printf(out, "0x%llx: unmapped\n", (unsigned long long)addr);
	else
		textbuf_printf(out, "gpa: 0x%llx\n", (unsigned long long)phys);
}

static void xp(struct target t, struct textbuf *out, const struct command_line *c)
{
	struct sysfmt_xfmt fmt;
	uint64_t addr;
	char why[128];

	if (sysfmt_parse_xp(c->rest_after_first, &fmt, &addr, why, sizeof(why))) {
		textbuf_printf(out, "%s\n", why);
		return;
	}
	if (!t.ops->read_phys) {
		not_available(out, "xp");
		return;
	}
	size_t len = (size_t)fmt.count * fmt.size;
	uint8_t *buf = malloc(len);
	if (!buf) {
		textbuf_printf(out, "out of memory\n");
		return;
	}
	long n = t.ops->read_phys(t.impl, addr, buf, len);
	sysfmt_memory(out, addr, buf, n > 0 ? (size_t)n : 0, &fmt);
	free(buf);
}

static void screen(struct target t, struct textbuf *out)
{
	char text[TARGET_SCREEN_TEXT_MAX];

	if (!t.ops->get_screen_text) {
		not_available(out, "screen");
		return;
	}
	int err = t.ops->get_screen_text(t.impl, text, sizeof(text));
	if (err == -ENODEV)
		textbuf_printf(out, "screen: guest RAM does not reach the VGA text buffer at 0xb8000\n");
	else if (err)
		textbuf_printf(out, "screen: %s\n", strerror(-err));
	else if (!text[0])
		textbuf_printf(out, "(the screen is blank)\n");
	else
		textbuf_put(out, text, strnlen(text, sizeof(text)));
}

static void switch_command(struct target t, struct textbuf *out, const struct command_line *c,
			   int (*op)(void *, bool), const char *name)
{
	bool on;
	if (c->nwords == 2 && strcmp(c->words[1], "on") == 0)
		on = true;
	else if (c->nwords == 2 && strcmp(c->words[1], "off") == 0)
		on = false;
	else {
		textbuf_printf(out, "%s: usage: %s on|off\n", name, name);
		return;
	}
	if (!op) {
		not_available(out, name);
		return;
	}
	int err = op(t.impl, on);
	if (err == -ENODEV)
		textbuf_printf(out, "%s: no interrupt controller on this machine (--machine bare)\n",
			       name);
	else if (err)
		textbuf_printf(out, "%s: %s\n", name, strerror(-err));
	else
		textbuf_printf(out, "%s is %s\n", name, on ? "on" : "off");
}

/* `record on|off|status` (alone: status). Parsed here like every other
 * command; the target acts and writes the reply. */
static bool parse_record(const struct command_line *c, enum target_record_request *request)
{
	static const struct {
		const char *word;
		enum target_record_request request;
	} words[] = {
		{ "on", TARGET_RECORD_ON },
		{ "off", TARGET_RECORD_OFF },
		{ "status", TARGET_RECORD_STATUS },
	};

	if (c->nwords == 1) {
		*request = TARGET_RECORD_STATUS;
		return true;
	}
	if (c->nwords != 2)
		return false;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strcmp(c->words[1], words[i].word) == 0) {
			*request = words[i].request;
			return true;
		}
	}
	return false;
}

static void record(struct target t, struct textbuf *out, const struct command_line *c)
{
	enum target_record_request request;
	char text[1024];

	if (!t.ops->record) {
		not_available(out, "record");
		return;
	}
	if (!parse_record(c, &request)) {
		textbuf_printf(out, "record: usage: record on|off|status\n");
		return;
	}
	text[0] = 0;
	t.ops->record(t.impl, request, text, sizeof(text));
	textbuf_printf(out, "%s", text);
}

static void system_reset(struct target t, struct textbuf *out, bool *restarted)
{
	if (!t.ops->restart) {
		not_available(out, "system_reset");
		return;
	}
	int err = t.ops->restart(t.impl, "", NULL);
	*restarted = true; /* even a failed restart may have changed state */
	if (err)
		textbuf_printf(out, "system_reset: %s\n", strerror(-err));
	else
		textbuf_printf(out, "the guest was reset and is stopped at its first instruction "
				    "(in gdb: maint flush register-cache)\n");
}

static void info(struct target t, struct textbuf *out, const struct command_line *c)
{
	const char *what = c->nwords >= 2 ? c->words[1] : "";

	if (c->nwords != 2) {
		textbuf_printf(out, "info: usage: info registers|gdt|idt|tlb|mem|lapic|pic|exits\n");
		return;
	}
	if (strcmp(what, "registers") == 0) {
		struct target_system_state st;
		if (!get_state(t, &st, out, "info registers"))
			sysfmt_registers(out, &st);
	} else if (strcmp(what, "gdt") == 0) {
		descriptor_table(t, out, false);
	} else if (strcmp(what, "idt") == 0) {
		descriptor_table(t, out, true);
	} else if (strcmp(what, "tlb") == 0) {
		page_tables(t, out, SYSFMT_TLB);
	} else if (strcmp(what, "mem") == 0) {
		page_tables(t, out, SYSFMT_MEM);
	} else if (strcmp(what, "lapic") == 0) {
		interrupt_controller(t, out, true);
	} else if (strcmp(what, "pic") == 0) {
		interrupt_controller(t, out, false);
	} else if (strcmp(what, "exits") == 0) {
		exits(t, out);
	} else {
		textbuf_printf(out, "info: unknown item '%.40s' (registers gdt idt tlb mem lapic pic exits)\n",
			       what);
	}
}

void monitor_run(struct target t, const char *line, struct textbuf *out, bool *restarted)
{
	struct command_line c;

	*restarted = false;
	if (!split(line, &c)) {
		textbuf_printf(out, "monitor: command too long (see 'monitor help')\n");
		return;
	}
	if (c.nwords == 0 || strcmp(c.words[0], "help") == 0) {
		help(out);
		return;
	}
	const char *cmd = c.words[0];
	if (strcmp(cmd, "info") == 0)
		info(t, out, &c);
	else if (strcmp(cmd, "gva2gpa") == 0)
		gva2gpa(t, out, &c);
	else if (strcmp(cmd, "xp") == 0 || strncmp(cmd, "xp/", 3) == 0) {
		if (cmd[2] == '/') /* "xp/4x ADDR": split the format from the command */
			c.rest_after_first = strchr(line, '/');
		xp(t, out, &c);
	} else if (strcmp(cmd, "system_reset") == 0 && c.nwords == 1)
		system_reset(t, out, restarted);
	else if (strcmp(cmd, "screen") == 0 && c.nwords == 1)
		screen(t, out);
	else if (strcmp(cmd, "trace-io") == 0)
		switch_command(t, out, &c, t.ops->set_trace_io, "trace-io");
	else if (strcmp(cmd, "step-irq") == 0)
		switch_command(t, out, &c, t.ops->set_step_irq, "step-irq");
	else if (strcmp(cmd, "record") == 0)
		record(t, out, &c);
	else
		textbuf_printf(out, "unknown command '%.40s' (see 'monitor help')\n", line);
}
