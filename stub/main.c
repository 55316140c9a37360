/* stub/main.c — kvmstub's entry: command line, image, machine, then either
 * the gdb server or a plain run. The only place that exits. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvm/loader.h"
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

/* Reads the whole image; refuses what could never fit in guest RAM. */
static int read_image(const char *path, uint64_t ram_size, uint8_t **data, size_t *size,
		      char *err, size_t err_size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0) {
		snprintf(err, err_size, "cannot open image %s: %s", path, strerror(errno));
		return -errno;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, err_size, "image %s is not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	if ((uint64_t)st.st_size > ram_size) {
		snprintf(err, err_size, "image %s (%lld bytes) is larger than guest RAM (%llu bytes)",
			 path, (long long)st.st_size, (unsigned long long)ram_size);
		close(fd);
		return -E2BIG;
	}
	*size = (size_t)st.st_size;
	*data = malloc(*size ? *size : 1);
	if (!*data) {
		close(fd);
		snprintf(err, err_size, "out of memory reading %s", path);
		return -ENOMEM;
	}
	size_t done = 0;
	while (done < *size) {
		ssize_t n = read(fd, *data + done, *size - done);
		if (n <= 0) {
			snprintf(err, err_size, "cannot read image %s: %s", path,
				 n < 0 ? strerror(errno) : "file shrank");
			close(fd);
			free(*data);
			return -EIO;
		}
		done += (size_t)n;
	}
	close(fd);
	return 0;
}

static enum machine_mode mode_for(const struct cli_options *o, enum image_kind kind)
{
	switch (o->mode) {
	case CLI_MODE_REAL:
		return MACHINE_MODE_REAL;
	case CLI_MODE_PROTECTED:
		return MACHINE_MODE_PROTECTED;
	case CLI_MODE_LONG:
		return MACHINE_MODE_LONG;
	default:
		return kind == IMAGE_ELF64 ? MACHINE_MODE_LONG
		       : kind == IMAGE_ELF32 ? MACHINE_MODE_PROTECTED
					     : MACHINE_MODE_REAL;
	}
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

int main(int argc, char **argv)
{
	static struct machine machine;
	static struct kvm_target kt;
	struct cli_options opts;
	char err[256];
	uint8_t *image = NULL;
	size_t image_size = 0;
	struct image_info info;
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
	if (read_image(opts.image, opts.mem_size, &image, &image_size, err, sizeof(err))) {
		say("%s", err);
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
		.ncpus = 1,
	};
	if (machine_create(&machine, &config)) {
		say("%s", machine.error);
		machine_destroy(&machine);
		free(image);
		return EXIT_HOST_FAILURE;
	}
	if (image_load(image, image_size, machine.ram, machine.ram_size,
		       opts.load_set ? opts.load_addr : 0x1000, &info, err, sizeof(err))) {
		say("%s", err);
		machine_destroy(&machine);
		free(image);
		return EXIT_BAD_IMAGE;
	}
	free(image);

	uint64_t occupied[IMAGE_MAX_SEGMENTS][2];
	for (unsigned i = 0; i < info.nsegments; i++) {
		occupied[i][0] = info.segments[i].paddr;
		occupied[i][1] = info.segments[i].paddr + info.segments[i].memsz;
	}
	uint64_t entry = opts.entry_set ? opts.entry : info.entry;
	if (machine_boot(&machine, mode_for(&opts, info.kind), entry,
			 (const uint64_t(*)[2])occupied, info.nsegments)) {
		say("%s", machine.error);
		machine_destroy(&machine);
		return EXIT_BAD_IMAGE;
	}

	struct host_caps caps = { 0 };
	if (!opts.no_gdb) {
		machine_probe_host(&machine, &caps);
		fprintf(stderr, "kvmstub: software breakpoints use %s; watchpoints use %s\n",
			caps.int3_traps ? "int3 (this host traps it)" : "hlt (int3 does not trap here)",
			caps.dr_watch_fires ? "debug registers, then memory slots"
					    : "memory slots (debug-register data watchpoints do not fire here)");
	}
	kvm_target_init(&kt, &machine, &caps);
	struct target target = kvm_target_as_target(&kt);
	int rc = apply_initial_registers(target, &opts);
	if (!rc) {
		/* Test only: replay perturbs what it replays, to show that a
		 * divergence is caught and reported. */
		const char *perturb = getenv("KVMSTUB_TEST_PERTURB_REPLAY");
		struct reverse_config record = {
			.limit = opts.record_limit,
			.perturb_replay = perturb && *perturb == '1',
		};
		rc = reverse_attach(&kt, &record);
		if (!rc && opts.record)
			rc = reverse_start(kt.rev);
	}
	if (!rc)
		rc = machine_set_run_sigmask(&machine, &run_mask);
	if (rc) {
		say("%s", machine.error[0] ? machine.error : strerror(-rc));
		machine_destroy(&machine);
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
	return outcome.status;
}
