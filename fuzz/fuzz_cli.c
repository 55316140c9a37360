/* fuzz/fuzz_cli.c — libFuzzer harness for stub/cli: the input, split at
 * NUL bytes, is the argument list after argv[0].
 *
 * Checks beyond the sanitizers: a refusal always says why, a success always
 * has an image unless --help or --version answered, and every value is in
 * the range the contract promises.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stub/cli.h"

#define FUZZ_MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[FUZZ_MAX_ARGS + 2];
	struct cli_options opts;
	char err[200];
	char *text;
	int argc = 0;
	int rc;

	/* One byte more for the NUL that ends the last argument. */
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';

	argv[argc++] = "kvmstub";
	for (size_t start = 0; start <= size && argc <= FUZZ_MAX_ARGS;) {
		size_t len = strlen(text + start);

		argv[argc++] = text + start;
		start += len + 1;
	}
	argv[argc] = NULL;

	rc = cli_parse(argc, argv, &opts, err, sizeof(err));
	if (rc != 0) {
		if (rc != -EINVAL || err[0] == '\0' || strchr(err, '\n'))
			abort(); /* a refusal must be one non-empty line */
	} else if (!opts.help && !opts.version) {
		if (!opts.image)
			abort();
		if (opts.mem_size < (64u << 10) ||
		    opts.mem_size > (UINT64_C(64) << 30) ||
		    opts.mem_size % 4096 != 0)
			abort();
		if (opts.nregs > CLI_MAX_REGS ||
		    opts.nconsole_ports > CLI_MAX_CONSOLE_PORTS)
			abort();
		if (memchr(opts.gdb_host, '\0', sizeof(opts.gdb_host)) == NULL ||
		    memchr(opts.gdb_path, '\0', sizeof(opts.gdb_path)) == NULL)
			abort();
		if (opts.gdb_kind == CLI_GDB_TCP && opts.gdb_port == 0)
			abort();
	}
	if (strlen(cli_usage()) == 0)
		abort();
	free(text);
	return 0;
}
