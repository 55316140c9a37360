/* stub/main.c — kvmstub's entry: command line, image, machine, then either
 * the gdb server or a plain run. The only place that exits. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm/boot_image.h"
#include "kvm/machine.h"
#include "kvm/vcpu.h"
#include "kvm/reverse.h"
#include "stub/cli.h"
#include "stub/exit_status.h"
#include "stub/server.h"
#include "stub/terminal.h"

#define KVMSTUB_VERSION "0.1.0"

static void say(const char *fmt, const char *arg)
{
	fprintf(stderr, "kvmstub: ");
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
}

/* Reads a whole image or module file (`what` says which, for messages);
 * refuses what could never fit in guest RAM. With capacity, *data is a
 * buffer of *capacity bytes grown as needed and kept (restarts read the
 * image again without allocating); without, a new allocation the caller
 * frees, and nothing on failure. */
static int read_file(const char *what, const char *path, uint64_t ram_size, uint8_t **data, size_t *size,
		      size_t *capacity, char *err, size_t err_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		snprintf(err, err_size, "cannot open %s %s: %s", what, path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, err_size, "%s %s is not a regular file", what, path);
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > ram_size) {
		snprintf(err, err_size, "%s %s (%lld bytes) is larger than guest RAM (%llu bytes)",
			 what, path, (long long)st.st_size, (unsigned long long)ram_size);
		close(fd);
		return -E2BIG;
	}
	*size = (size_t)st.st_size;
	if (!capacity || !*data || *size > *capacity) {
		uint8_t *buf = capacity ? realloc(*data, *size ? *size : 1) : malloc(*size ? *size : 1);
		if (!buf) {
			close(fd);
			snprintf(err, err_size, "out of memory reading %s", path);
			return -ENOMEM;
		}
		*data = buf;
		if (capacity)
			*capacity = *size ? *size : 1;
	}
	size_t done = 0;
	while (done < *size) {
		ssize_t n = read(fd, *data + done, *size - done);
		if (n <= 0) {
			snprintf(err, err_size, "cannot read %s %s: %s", what, path,
				 n < 0 ? strerror(errno) : "file shrank");
			close(fd);
			if (!capacity) {
				free(*data);
				*data = NULL;
			}
			return -EIO;
		}
		done += (size_t)n;
	}
	close(fd);
	return 0;
}

static const enum boot_protocol boot_protocol_of[] = {
	[CLI_BOOT_AUTO] = BOOT_AUTO, [CLI_BOOT_ELF] = BOOT_ELF, [CLI_BOOT_FLAT] = BOOT_FLAT,
	[CLI_BOOT_MULTIBOOT] = BOOT_MULTIBOOT, [CLI_BOOT_MULTIBOOT2] = BOOT_MULTIBOOT2,
	[CLI_BOOT_PVH] = BOOT_PVH,
};
static const enum machine_mode machine_mode_of[] = {
	[CLI_MODE_REAL] = MACHINE_MODE_REAL, [CLI_MODE_PROTECTED] = MACHINE_MODE_PROTECTED,
	[CLI_MODE_LONG] = MACHINE_MODE_LONG,
};
static const enum target_arch target_arch_of[] = {
	[CLI_ARCH_I8086] = TARGET_ARCH_I8086, [CLI_ARCH_I386] = TARGET_ARCH_I386,
	[CLI_ARCH_X86_64] = TARGET_ARCH_X86_64,
};

/* Loads IMAGE and the modules, builds the boot information with `args` as
 * the kernel's command line (--append at start-up; a restart may pass
 * others) and sets the entry state. The modules' files are read here and
 * released after: the guest has its own copy. Errors in m->error. */
static int boot_from_options(struct machine *m, const struct cli_options *o,
			     const uint8_t *image, size_t image_size, const char *args,
			     struct boot_outcome *out)
{
	struct boot_module modules[CLI_MAX_MODULES];
	char *names[CLI_MAX_MODULES] = { 0 };
	uint8_t *data[CLI_MAX_MODULES] = { 0 };
	int rc = 0;

	for (unsigned i = 0; i < o->nmodules && !rc; i++) {
		size_t size = 0;
		names[i] = strndup(o->modules[i].file, o->modules[i].file_len);
		if (!names[i]) {
			snprintf(m->error, sizeof(m->error), "out of memory");
			rc = -ENOMEM;
			break;
		}
		rc = read_file("module", names[i], m->ram_size, &data[i], &size, NULL, m->error,
				sizeof(m->error));
		modules[i] = (struct boot_module){ .data = data[i], .size = size,
						   .name = names[i], .args = o->modules[i].args };
	}
	if (!rc) {
		struct boot_request req = {
			.image = image, .image_size = image_size, .image_name = o->image,
			.protocol = boot_protocol_of[o->boot],
			.mode_set = o->mode != CLI_MODE_DEFAULT,
			.mode = o->mode != CLI_MODE_DEFAULT ? machine_mode_of[o->mode]
							    : MACHINE_MODE_REAL,
			.arch_set = o->arch != CLI_ARCH_AUTO,
			.arch = o->arch != CLI_ARCH_AUTO ? target_arch_of[o->arch]
							 : TARGET_ARCH_I386,
			.load_addr = o->load_addr,
			.entry_set = o->entry_set, .entry = o->entry,
			.args = args,
			.modules = modules, .nmodules = o->nmodules,
		};
		rc = boot_image(m, &req, out);
	}
	for (unsigned i = 0; i < o->nmodules; i++) {
		free(names[i]);
		free(data[i]);
	}
	return rc;
}

static int apply_initial_registers(struct target target, const struct cli_options *o)
{
	struct target_regs regs;
	int err;

	if (!o->nregs)
		return 0;
	err = target.ops->get_regs(target.impl, &regs);
	if (err)
		return err;
	for (unsigned i = 0; i < o->nregs; i++)
		memcpy((uint8_t *)&regs + o->regs[i].offset, &o->regs[i].value, sizeof(uint64_t));
	return target.ops->set_regs(target.impl, &regs);
}

#define BOOT_MAX_CMDLINE 4096

/* What booting the guest again needs (vRun, system_reset). */
struct boot_plan {
	const struct cli_options *opts;
	struct machine *m;
	struct target target;
	uint8_t *image;      /* the image file's bytes; the buffer is reused */
	size_t image_size, image_cap;
	/* The command line of the last boot, for a system_reset. */
	char cmdline[BOOT_MAX_CMDLINE];
	bool has_cmdline;
};

/* Whether gdb's vRun file names kvmstub's image (the same file). */
static bool is_our_image(const char *file, const char *image)
{
	struct stat a, b;
	if (!file[0] || strcmp(file, image) == 0)
		return true;
	return stat(file, &a) == 0 && stat(image, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

/* A restart's boot (kvm_target_boot_fn), after the machine was reset: the
 * image file read again (a kernel rebuilt meanwhile is picked up), booted
 * as at start-up with cmdline as the kernel's command line ("" for
 * --append's, NULL for the last one), the --reg values applied. What the
 * boot writes is noted, so the next restart clears it. */
static int boot_again(void *ctx, const char *file, const char *cmdline)
{
	struct boot_plan *plan = ctx;
	const struct cli_options *opts = plan->opts;
	struct machine *m = plan->m;
	struct boot_outcome booted;
	int rc;

	if (!is_our_image(file, opts->image)) {
		snprintf(m->error, sizeof(m->error), "kvmstub runs %s, not %s", opts->image, file);
		return -ENOENT;
	}
	if (cmdline && cmdline[0]) {
		if (strlen(cmdline) >= sizeof(plan->cmdline))
			return -E2BIG;
		strcpy(plan->cmdline, cmdline);
		plan->has_cmdline = true;
	} else if (cmdline) {
		plan->has_cmdline = false; /* --append's, as at start-up */
	}
	rc = read_file("image", opts->image, opts->mem_size, &plan->image, &plan->image_size,
		       &plan->image_cap, m->error, sizeof(m->error));
	if (!rc)
		rc = boot_from_options(m, opts, plan->image, plan->image_size,
				       plan->has_cmdline ? plan->cmdline : opts->append, &booted);
	if (rc)
		return rc;
	for (unsigned i = 0; i < booted.layout.nranges; i++)
		machine_note_host_write(m, booted.layout.ranges[i][0],
					booted.layout.ranges[i][1] - booted.layout.ranges[i][0]);
	return apply_initial_registers(plan->target, opts);
}

int main(int argc, char **argv)
{
	static struct machine machine;
	static struct kvm_target kt;
	struct cli_options opts;
	char err[256];
	static struct boot_plan plan;
	struct run_outcome outcome = { .status = 0 };
	sigset_t run_mask;

	if (signals_setup(&run_mask, MACHINE_FLUSH_SIGNAL)) {
		say("%s", "cannot set up signal handling");
		return EXIT_HOST_FAILURE;
	}
	if (cli_parse(argc, argv, &opts, err, sizeof(err))) {
		say("%s", err);
		fprintf(stderr, "usage: kvmstub [OPTIONS] IMAGE (kvmstub --help for more)\n");
		return EXIT_USAGE;
	}
	if (opts.help) {
		fputs(cli_usage(), stdout);
		return 0;
	}
	if (opts.version) {
		printf("kvmstub %s\n", KVMSTUB_VERSION);
		return 0;
	}
	if (read_file("image", opts.image, opts.mem_size, &plan.image, &plan.image_size,
		      &plan.image_cap, err, sizeof(err))) {
		say("%s", err);
		free(plan.image);
		return EXIT_BAD_IMAGE;
	}

	struct machine_config config = {
		.ram_size = opts.mem_size,
		.out_fd = STDOUT_FILENO,
		.in_fd = STDIN_FILENO,
		.trace_io = opts.trace_io,
		.console_ports = opts.console_ports,
		.nconsole_ports = opts.nconsole_ports,
		.pc_devices = opts.machine == CLI_MACHINE_PC,
		.keyboard = opts.keyboard,
		.vga = opts.vga,
		.no_reboot = opts.no_reboot,
		.ncpus = opts.smp,
	};
	if (machine_create(&machine, &config)) {
		say("%s", machine.error);
		machine_destroy(&machine);
		free(plan.image);
		return EXIT_HOST_FAILURE;
	}
	struct boot_outcome booted;
	int rc = boot_from_options(&machine, &opts, plan.image, plan.image_size, opts.append,
				   &booted);
	for (unsigned i = 0; !rc && i < booted.layout.nranges; i++) /* cleared by a restart */
		machine_note_host_write(&machine, booted.layout.ranges[i][0],
					booted.layout.ranges[i][1] - booted.layout.ranges[i][0]);
	if (rc) {
		free(plan.image);
		say("%s", machine.error);
		machine_destroy(&machine);
		return rc == -EINVAL || rc == -E2BIG || rc == -ENOENT || rc == -EIO
		       ? EXIT_BAD_IMAGE : EXIT_HOST_FAILURE;
	}

	struct host_caps caps = { 0 };
	if (!opts.no_gdb) {
		machine_probe_host(&machine, &caps);
		const char *sw = caps.int3_traps ? "int3 (this host traps it)"
				 : !machine.has_irqchip ? "hlt (int3 does not trap here)"
				 : caps.int3_internal_error
					 ? "int3 (this host refuses it; real mode: the 4 debug registers)"
					 : "the 4 debug registers (neither int3 nor hlt traps here)";
		fprintf(stderr, "kvmstub: software breakpoints use %s; watchpoints use %s\n", sw,
			caps.dr_watch_fires ? "debug registers, then memory slots"
					    : "memory slots (debug-register data watchpoints do not fire here)");
	}
	rc = kvm_target_init(&kt, &machine, &caps);
	kt.arch_fixed = true;
	kt.arch = booted.arch;
	struct target target = kvm_target_as_target(&kt);
	plan.opts = &opts;
	plan.m = &machine;
	plan.target = target;
	kvm_target_set_boot(&kt, boot_again, &plan);
	if (!rc)
		rc = apply_initial_registers(target, &opts);
	if (!rc) {
		/* Test only: replay perturbs what it replays, to show that a
		 * divergence is caught and reported. */
		const char *perturb = getenv("KVMSTUB_TEST_PERTURB_REPLAY");
		/* Test and bench only: record by single steps, as on a host
		 * without KVM's instruction counter. */
		const char *by_steps = getenv("KVMSTUB_TEST_RECORD_BY_STEPS");
		struct reverse_config record = {
			.limit = opts.record_limit,
			.perturb_replay = perturb && *perturb == '1',
			.by_steps = by_steps && *by_steps == '1',
		};
		rc = reverse_attach(&kt, &record);
		if (!rc && opts.record)
			rc = reverse_start(kt.rev);
	}
	if (!rc)
		rc = machine_set_run_sigmask(&machine, &run_mask);
	if (rc) {
		say("%s", machine.error[0] ? machine.error : strerror(-rc));
		kvm_target_destroy(&kt);
		machine_destroy(&machine);
		free(plan.image);
		return EXIT_HOST_FAILURE;
	}

	struct terminal_state terminal = { .fd = -1 };
	if (opts.keyboard && terminal_keys_direct(&terminal, STDIN_FILENO))
		say("%s", "cannot switch the terminal to key-at-a-time input; keys arrive by line");
	if (opts.no_gdb) {
		run_without_gdb(target, &outcome);
	} else {
		struct server_config server = {
			.unix_socket = opts.gdb_kind == CLI_GDB_UNIX,
			.host = opts.gdb_host,
			.port = opts.gdb_port,
			.path = opts.gdb_path,
			.wait_for_gdb = !opts.no_wait,
		};
		server_run(&server, target, &run_mask, &outcome);
	}
	terminal_restore(&terminal);
	devices_finish(&machine.devices); /* with --vga, the final screen */
	if (outcome.message[0])
		say("%s", outcome.message);
	if (outcome.status == EXIT_HOST_FAILURE && machine.error[0])
		say("%s", machine.error); /* which ioctl failed, and how */
	reverse_detach(&kt);
	kvm_target_destroy(&kt);
	machine_destroy(&machine);
	free(plan.image);
	return outcome.status;
}
