/* stub/terminal.h — a terminal on stdin turned into a keyboard for the
 * guest (--keyboard): each key goes to the guest as it is pressed, with no
 * line editing and no local echo; Ctrl-C still signals kvmstub. */
#ifndef KVMSTUB_TERMINAL_H
#define KVMSTUB_TERMINAL_H

#include <stdbool.h>
#include <termios.h>

struct terminal_state {
	int fd;
	bool changed;
	struct termios saved;
};

/* Switches fd to key-at-a-time input if it is a terminal; does nothing
 * otherwise. Returns 0 or a negative errno. */
int terminal_keys_direct(struct terminal_state *t, int fd);

/* Puts the terminal back as it was, if it was changed. */
void terminal_restore(struct terminal_state *t);

#endif
