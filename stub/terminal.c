/* stub/terminal.c — key-at-a-time terminal input for --keyboard, and
 * putting the terminal back. Only termios; no KVM. */
#include "stub/terminal.h"

#include <errno.h>
#include <unistd.h>

int terminal_keys_direct(struct terminal_state *t, int fd)
{
	struct termios raw;

	t->fd = fd;
	t->changed = false;
	if (!isatty(fd))
		return 0;
	if (tcgetattr(fd, &t->saved))
		return -errno;
	raw = t->saved;
	/* No line discipline: the guest's keyboard sees every key at once,
	 * Enter as '\r' turned into '\n' as typed text would have it. ISIG
	 * stays, so Ctrl-C ends kvmstub as it does without --keyboard. */
	raw.c_lflag &= (tcflag_t)~(ICANON | ECHO);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &raw))
		return -errno;
	t->changed = true;
	return 0;
}

void terminal_restore(struct terminal_state *t)
{
	if (t->changed)
		(void)tcsetattr(t->fd, TCSANOW, &t->saved);
	t->changed = false;
}
