/* stub/server.c — the listener, one gdb session at a time, and the guest
 * running between sessions. Moves bytes; stub/rsp.c decides what they
 * mean. No KVM here: the guest is reached through struct target. */
#include "stub/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "stub/packet.h"
#include "stub/rsp.h"

/* A gdb that stops reading its replies for this long is gone. */
#define SEND_TIMEOUT_MS 30000

/* The only mutable globals: what the signal handlers record. */
static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int signo)
{
	stop_signal = signo;
}

static void on_io_signal(int signo)
{
	(void)signo; /* its job is done: KVM_RUN or ppoll returned EINTR */
}

int signals_setup(sigset_t *run_mask, int also_blocked)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop_signal;
	if (sigaction(SIGINT, &sa, NULL) || sigaction(SIGTERM, &sa, NULL))
		return -errno;
	sa.sa_handler = on_io_signal;
	if (sigaction(SIGIO, &sa, NULL))
		return -errno;
	sa.sa_handler = SIG_IGN;
	if (sigaction(SIGPIPE, &sa, NULL))
		return -errno;

	/* Blocked except inside KVM_RUN and ppoll, so they interrupt only
	 * where we are ready for them. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGIO);
	if (also_blocked)
		sigaddset(&block, also_blocked);
	if (sigprocmask(SIG_BLOCK, &block, run_mask))
		return -errno;
	if (also_blocked)
		sigaddset(run_mask, also_blocked);
	sigdelset(run_mask, SIGINT);
	sigdelset(run_mask, SIGTERM);
	sigdelset(run_mask, SIGIO);
	return 0;
}

int signals_stop_requested(void)
{
	return stop_signal;
}

/* SIGIO queued while we were stopped (the packets we already read) would
 * end the next KVM_RUN at once for nothing. */
static void drain_pending_sigio(void)
{
	sigset_t io;
	struct timespec zero = { 0, 0 };

	sigemptyset(&io);
	sigaddset(&io, SIGIO);
	/* A standard signal is pending once at most: one call takes it. */
	(void)sigtimedwait(&io, NULL, &zero);
}

static void outcome_set(struct run_outcome *o, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void outcome_set(struct run_outcome *o, int status, const char *fmt, ...)
{
	va_list ap;

	o->status = status;
	o->message[0] = 0;
	if (!fmt)
		return;
	va_start(ap, fmt);
	vsnprintf(o->message, sizeof(o->message), fmt, ap);
	va_end(ap);
}

/* A stop that ends kvmstub when no debugger is there to look. Returns
 * true if the outcome is set. */
static bool outcome_of_free_stop(const struct target_stop *stop, struct run_outcome *o)
{
	switch (stop->reason) {
	case TARGET_STOP_EXITED:
		/* why: a note on how it ended, if the target has one. */
		outcome_set(o, stop->exit_status, stop->why[0] ? "%s" : NULL, stop->why);
		return true;
	case TARGET_STOP_CRASH:
		outcome_set(o, EXIT_GUEST_CRASHED, "guest crashed: %s", stop->why);
		return true;
	default:
		return false;
	}
}

/* KVM_RUN returns EINTR for a signal it leaves pending (blocked again on
 * return), so its handler never runs: take such signals here. */
static void collect_pending_signals(void)
{
	sigset_t set;
	struct timespec zero = { 0, 0 };
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGIO);
	while ((sig = sigtimedwait(&set, NULL, &zero)) > 0)
		if (sig != SIGIO)
			stop_signal = sig;
}

static bool outcome_of_signal(struct run_outcome *o)
{
	collect_pending_signals();
	int sig = signals_stop_requested();
	if (!sig)
		return false;
	outcome_set(o, EXIT_SIGNALLED, "stopped by %s", sig == SIGINT ? "SIGINT" : "SIGTERM");
	return true;
}

static bool outcome_of_error(int err, struct run_outcome *o)
{
	if (err == -EPIPE)
		outcome_set(o, EXIT_HOST_FAILURE, "stdout is closed (broken pipe); stopping the guest");
	else
		outcome_set(o, EXIT_HOST_FAILURE, "the virtual machine failed: %s", strerror(-err));
	return true;
}

void run_without_gdb(struct target target, struct run_outcome *outcome)
{
	struct target_resume how = { .kind = TARGET_RESUME_CONTINUE };
	struct target_stop stop;

	for (;;) {
		int err = target.ops->resume(target.impl, &how, &stop);
		if (err) {
			outcome_of_error(err, outcome);
			return;
		}
		if (outcome_of_free_stop(&stop, outcome) || outcome_of_signal(outcome))
			return;
		/* Breakpoints cannot exist without gdb; anything else: run on. */
	}
}

/* ---- sockets ---- */

struct server {
	const struct server_config *config;
	struct target target;
	const sigset_t *run_mask;
	sigset_t stopped_mask; /* run_mask with SIGIO blocked */
	int listen_fd;
	int client_fd;
	struct rsp_decoder decoder;
	struct rsp_session session;
	size_t out_len;
	uint8_t out[1 + 2 * RSP_MAX_PAYLOAD + 8];
	size_t last_len; /* the last packet framed, for a '-' */
	uint8_t last[1 + 2 * RSP_MAX_PAYLOAD + 8];
	uint8_t in[65536];
};

static int make_async(int fd)
{
	struct f_owner_ex owner = { .type = F_OWNER_TID, .pid = gettid() };
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETOWN_EX, &owner) < 0 || fcntl(fd, F_SETSIG, SIGIO) < 0 ||
	    fcntl(fd, F_SETFL, flags | O_ASYNC | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static int listen_tcp(struct server *srv, struct run_outcome *o)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	char port[8];
	int err;

	snprintf(port, sizeof(port), "%u", srv->config->port);
	err = getaddrinfo(srv->config->host, port, &hints, &res);
	if (err) {
		outcome_set(o, EXIT_HOST_FAILURE, "cannot resolve '%s': %s", srv->config->host,
			    gai_strerror(err));
		return -EINVAL;
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		freeaddrinfo(res);
		outcome_set(o, EXIT_HOST_FAILURE, "socket: %s", strerror(-err));
		return err;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 4) < 0) {
		err = -errno;
		freeaddrinfo(res);
		close(fd);
		outcome_set(o, EXIT_HOST_FAILURE, "cannot listen on %s:%u: %s", srv->config->host,
			    srv->config->port, strerror(-err));
		return err;
	}
	freeaddrinfo(res);
	srv->listen_fd = fd;
	return 0;
}

static int listen_unix(struct server *srv, struct run_outcome *o)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *path = srv->config->path;
	struct stat st;
	int err;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		outcome_set(o, EXIT_USAGE, "unix socket path is too long: %s", path);
		return -ENAMETOOLONG;
	}
	strcpy(addr.sun_path, path);
	/* A socket left by an earlier run is replaced; any other file is not. */
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			outcome_set(o, EXIT_HOST_FAILURE, "%s exists and is not a socket", path);
			return -EEXIST;
		}
		unlink(path);
	}
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		outcome_set(o, EXIT_HOST_FAILURE, "socket: %s", strerror(errno));
		return -errno;
	}
	/* Whoever can connect controls the guest: owner only, from the start. */
	mode_t old = umask(0177);
	err = bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ? -errno : 0;
	umask(old);
	if (!err && listen(fd, 4) < 0)
		err = -errno;
	if (err) {
		close(fd);
		outcome_set(o, EXIT_HOST_FAILURE, "cannot listen on unix:%s: %s", path, strerror(-err));
		return err;
	}
	srv->listen_fd = fd;
	return 0;
}

static void print_banner(const struct server *srv)
{
	const struct server_config *c = srv->config;
	if (c->unix_socket) {
		fprintf(stderr, "kvmstub: listening on unix:%s; in gdb: target remote %s\n", c->path,
			c->path);
	} else {
		bool v6 = strchr(c->host, ':') != NULL;
		fprintf(stderr, "kvmstub: listening on %s%s%s:%u; in gdb: target remote %s%s%s:%u\n",
			v6 ? "[" : "", c->host, v6 ? "]" : "", c->port, v6 ? "[" : "", c->host,
			v6 ? "]" : "", c->port);
	}
	fflush(stderr);
}

/* Turns away a second gdb: one line to it, none to the first. */
static void reject_extra_clients(struct server *srv)
{
	for (;;) {
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		static const char busy[] = "$E10#a6"; /* EBUSY */
		ssize_t ignored = write(fd, busy, sizeof(busy) - 1);
		(void)ignored;
		close(fd);
		fprintf(stderr, "kvmstub: turned away a second gdb; one is attached\n");
	}
}

static int accept_client(struct server *srv)
{
	int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	int err = make_async(fd);
	if (err) {
		close(fd);
		return err;
	}
	srv->client_fd = fd;
	return 0;
}

/* Sends out[0..len) whole; false if the client is gone or stuck. */
static bool send_all(struct server *srv, const uint8_t *buf, size_t len)
{
	while (len) {
		ssize_t n = send(srv->client_fd, buf, len, MSG_NOSIGNAL);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = srv->client_fd, .events = POLLOUT };
			struct timespec t = { SEND_TIMEOUT_MS / 1000, 0 };
			int r = ppoll(&p, 1, &t, srv->run_mask);
			if (r > 0 || (r < 0 && errno == EINTR && !signals_stop_requested()))
				continue;
		}
		return false;
	}
	return true;
}

/* Frames s->reply (with a leading ack in ack mode) and sends it in one
 * system call: in place when it needs no escaping, else through out. */
static bool send_reply(struct server *srv, bool ack)
{
	static const char hex[] = "0123456789abcdef";
	struct rsp_session *s = &srv->session;
	const uint8_t *frame;
	size_t at = 0, len;

	if (s->reply_plain) {
		uint8_t *start = s->reply - 2, *end = s->reply + s->reply_len;
		uint8_t sum = rsp_checksum(s->reply, s->reply_len);
		start[0] = '+';
		start[1] = '$';
		end[0] = '#';
		end[1] = (uint8_t)hex[sum >> 4];
		end[2] = (uint8_t)hex[sum & 0xf];
		frame = ack ? start : start + 1;
		len = (size_t)(end + 3 - frame);
		at = ack ? 1 : 0;
	} else {
		if (ack)
			srv->out[at++] = '+';
		size_t framed = rsp_encode(srv->out + at, sizeof(srv->out) - at, s->reply,
					   s->reply_len);
		if (!framed)
			return false;
		frame = srv->out;
		len = at + framed;
	}
	if (!s->noack) {
		/* Kept for a '-': only in ack mode, which gdb leaves at once. */
		memcpy(srv->last, frame + at, len - at);
		srv->last_len = len - at;
	}
	if (!send_all(srv, frame, len))
		return false;
	if (s->noack_requested) {
		s->noack = true;
		s->noack_requested = false;
	}
	return true;
}

static bool send_byte(struct server *srv, uint8_t b)
{
	return send_all(srv, &b, 1);
}

/* kvmstub itself was told to stop: gdb hears "terminated by signal". */
static void reply_terminated(struct server *srv, int signo)
{
	rsp_terminated_reply(&srv->session, signo);
	send_reply(srv, false);
}

enum session_end {
	SESSION_DROPPED,    /* gdb went away: resume the guest, wait for another */
	SESSION_DETACHED,
	SESSION_KILLED,
	SESSION_GUEST_ENDED,
	SESSION_SIGNALLED,
	SESSION_FAILED,
};

/* What came in while the guest ran: Ctrl-C, a hang-up, or noise. */
enum running_input { INPUT_NONE, INPUT_CTRL_C, INPUT_GONE };

static enum running_input read_while_running(struct server *srv)
{
	enum running_input result = INPUT_NONE;

	for (;;) {
		ssize_t n = recv(srv->client_fd, srv->in, sizeof(srv->in), MSG_DONTWAIT);
		if (n == 0)
			return INPUT_GONE;
		if (n < 0)
			return (errno == EAGAIN || errno == EINTR) ? result : INPUT_GONE;
		/* In all-stop mode gdb sends nothing but ^C (and acks) while the
		 * guest runs; anything else is dropped here. */
		if (memchr(srv->in, 0x03, (size_t)n))
			result = INPUT_CTRL_C;
	}
}

/* Runs the guest for a resume request until a stop gdb must hear about.
 * Returns false if the session ended meanwhile (*end says how). */
static bool resume_and_report(struct server *srv, const struct target_resume *how,
			      bool ctrl_c_pending, struct run_outcome *o, enum session_end *end)
{
	struct rsp_session *s = &srv->session;
	struct target_stop stop;

	drain_pending_sigio();
	/* Input that arrived before the drain (a ^C in the same read as the
	 * resume packet, a hang-up) has no SIGIO left: look once, and if
	 * there is some, let the first KVM_RUN end at once to read it. */
	struct pollfd peek = { .fd = srv->client_fd, .events = POLLIN | POLLRDHUP };
	if (ctrl_c_pending || poll(&peek, 1, 0) > 0)
		tgkill(getpid(), gettid(), SIGIO);
	for (;;) {
		int err = srv->target.ops->resume(srv->target.impl, how, &stop);
		if (err) {
			outcome_of_error(err, o);
			*end = SESSION_FAILED;
			return false;
		}
		if (stop.reason == TARGET_STOP_INTERRUPTED) {
			if (outcome_of_signal(o)) {
				reply_terminated(srv, signals_stop_requested());
				*end = SESSION_SIGNALLED;
				return false;
			}
			enum running_input in = read_while_running(srv);
			if (in == INPUT_GONE) {
				*end = SESSION_DROPPED;
				return false;
			}
			reject_extra_clients(srv);
			if (in == INPUT_CTRL_C || ctrl_c_pending) {
				rsp_stop_reply(s, &stop); /* INTERRUPTED: SIGINT */
				break;
			}
			continue;
		}
		if (!rsp_stop_is_reported(s, &stop))
			continue;
		if (stop.reason == TARGET_STOP_DIVERGED) {
			/* Never silently wrong: the user hears it twice. */
			char text[200];
			snprintf(text, sizeof(text), "kvmstub: %s\n", stop.why);
			fputs(text, stderr);
			rsp_output_reply(s, text);
			if (!send_reply(srv, false)) {
				*end = SESSION_DROPPED;
				return false;
			}
		}
		if (stop.reason == TARGET_STOP_CRASH) /* gdb only hears a signal */
			fprintf(stderr, "kvmstub: guest stopped: %s\n", stop.why);
		rsp_stop_reply(s, &stop);
		break;
	}
	if (srv->target.ops->stop_reported) /* the moment it is written */
		srv->target.ops->stop_reported(srv->target.impl, &stop);
	if (!send_reply(srv, false)) {
		*end = SESSION_DROPPED;
		return false;
	}
	if (stop.reason == TARGET_STOP_EXITED) {
		if (rsp_guest_ended(s, stop.exit_status))
			return true; /* extended mode: wait for the next run */
		outcome_set(o, stop.exit_status, stop.why[0] ? "%s" : NULL, stop.why);
		*end = SESSION_GUEST_ENDED;
		return false;
	}
	return true;
}

/* gdb answers a reply within tens of microseconds when a script or a
 * stepping loop drives it; sleeping in ppoll and being woken on another
 * CPU costs about as much again here. So look for the next packet for a
 * short while before sleeping. A person typing never notices 150 us. */
#define SPIN_FOR_INPUT_NS 150000L

static bool input_within_spin(struct server *srv)
{
	struct timespec start, now;
	uint8_t byte;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		ssize_t n = recv(srv->client_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n >= 0)
			return true; /* data, or the hang-up: recv will tell */
		if (errno != EAGAIN && errno != EINTR)
			return true;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long elapsed = (now.tv_sec - start.tv_sec) * 1000000000L +
			       (now.tv_nsec - start.tv_nsec);
		if (elapsed > SPIN_FOR_INPUT_NS)
			return false;
	}
}

/* One gdb, from connect to hang-up. */
static enum session_end serve_session(struct server *srv, bool stopped_running_guest,
				      struct run_outcome *o)
{
	struct rsp_session *s = &srv->session;
	struct target_resume how;
	enum session_end end = SESSION_DROPPED;

	rsp_session_init(s, srv->target, stopped_running_guest);
	rsp_decoder_init(&srv->decoder);
	srv->last_len = 0;
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = srv->client_fd, .events = POLLIN | POLLRDHUP },
			{ .fd = srv->listen_fd, .events = POLLIN },
		};
		int r;
		if (input_within_spin(srv)) {
			p[0].revents = POLLIN;
			r = 1;
		} else {
			/* SIGIO stays blocked here: the sockets are polled anyway,
			 * and a handler run for every packet costs two calls. */
			r = ppoll(p, 2, NULL, &srv->stopped_mask);
		}
		if (r < 0) {
			if (errno != EINTR)
				goto out;
			if (outcome_of_signal(o)) {
				reply_terminated(srv, signals_stop_requested());
				end = SESSION_SIGNALLED;
				goto out;
			}
			continue;
		}
		/* The client first: a gdb that hung up just as the next one
		 * connected is gone, and the next one is not a second gdb. */
		if (!p[0].revents) {
			if (p[1].revents)
				reject_extra_clients(srv);
			continue;
		}
		ssize_t n = recv(srv->client_fd, srv->in, sizeof(srv->in), MSG_DONTWAIT);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n <= 0)
			goto out;
		bool leaving = p[0].revents & (POLLRDHUP | POLLHUP | POLLERR);
		if (p[1].revents && !leaving)
			reject_extra_clients(srv);

		const uint8_t *in = srv->in;
		size_t left = (size_t)n;
		while (left) {
			enum rsp_event ev;
			size_t used = rsp_decode(&srv->decoder, in, left, &ev);
			in += used;
			left -= used;
			switch (ev) {
			case RSP_EVENT_PACKET: {
				bool ack = !s->noack;
				enum rsp_action action = rsp_handle_packet(s, srv->decoder.payload,
									   srv->decoder.len, &how);
				if (s->notice[0]) {
					fprintf(stderr, "kvmstub: %s\n", s->notice);
					fflush(stderr);
					s->notice[0] = 0;
				}
				if (action == RSP_ACTION_RESUME) {
					if (ack && !send_byte(srv, '+'))
						goto out;
					bool ctrl_c = memchr(in, 0x03, left) != NULL;
					if (!resume_and_report(srv, &how, ctrl_c, o, &end))
						goto out;
					break;
				}
				if (action == RSP_ACTION_NONE) {
					if (ack && !send_byte(srv, '+'))
						goto out;
					break;
				}
				if (action == RSP_ACTION_CONSOLE) {
					bool first = true;
					do {
						if (!send_reply(srv, first && ack))
							goto out;
						first = false;
					} while (rsp_console_next(s));
					break;
				}
				if (action == RSP_ACTION_KILL) {
					if (s->reply_len)
						send_reply(srv, ack);
					else if (ack)
						send_byte(srv, '+');
					outcome_set(o, EXIT_KILLED_BY_GDB, NULL);
					end = SESSION_KILLED;
					goto out;
				}
				if (!send_reply(srv, ack))
					goto out;
				if (action == RSP_ACTION_DETACH) {
					end = SESSION_DETACHED;
					goto out;
				}
				break;
			}
			case RSP_EVENT_BAD_CHECKSUM:
				if (!s->noack && !send_byte(srv, '-'))
					goto out;
				break;
			case RSP_EVENT_TOO_LONG:
				/* Refused whole; the stream stays in sync. */
				rsp_error_reply(s, -E2BIG);
				if (!send_reply(srv, !s->noack))
					goto out;
				break;
			case RSP_EVENT_NAK:
				if (srv->last_len && !send_all(srv, srv->last, srv->last_len))
					goto out;
				break;
			default:
				break; /* acks, a stray ^C while stopped, nothing yet */
			}
			if (end != SESSION_DROPPED)
				goto out;
		}
	}
out:
	if (s->guest_dead && (end == SESSION_DROPPED || end == SESSION_DETACHED)) {
		/* Extended mode left the guest killed or ended: nothing to resume. */
		if (s->guest_killed)
			outcome_set(o, EXIT_KILLED_BY_GDB, NULL);
		else
			outcome_set(o, s->dead_status, NULL);
		end = s->guest_killed ? SESSION_KILLED : SESSION_GUEST_ENDED;
	}
	rsp_session_destroy(s);
	if (end == SESSION_DROPPED || end == SESSION_DETACHED)
		srv->target.ops->remove_all_points(srv->target.impl);
	close(srv->client_fd);
	srv->client_fd = -1;
	return end;
}

/* Blocks until a gdb connects (true) or a stop signal comes (false). */
static bool wait_for_client(struct server *srv, struct run_outcome *o)
{
	for (;;) {
		struct pollfd p = { .fd = srv->listen_fd, .events = POLLIN };
		int r = ppoll(&p, 1, NULL, srv->run_mask);
		if (r < 0 && errno == EINTR && outcome_of_signal(o))
			return false;
		if (r > 0 && accept_client(srv) == 0)
			return true;
	}
}

int server_run(const struct server_config *config, struct target target,
	       const sigset_t *run_mask, struct run_outcome *outcome)
{
	struct server *srv = calloc(1, sizeof(*srv));
	bool waiting = config->wait_for_gdb;
	int err;

	if (!srv) {
		outcome_set(outcome, EXIT_HOST_FAILURE, "out of memory");
		return -ENOMEM;
	}
	srv->config = config;
	srv->target = target;
	srv->run_mask = run_mask;
	srv->stopped_mask = *run_mask;
	sigaddset(&srv->stopped_mask, SIGIO);
	srv->client_fd = -1;
	err = config->unix_socket ? listen_unix(srv, outcome) : listen_tcp(srv, outcome);
	if (err) {
		free(srv);
		return err;
	}
	err = make_async(srv->listen_fd);
	if (err) {
		outcome_set(outcome, EXIT_HOST_FAILURE, "cannot watch the listening socket: %s",
			    strerror(-err));
		goto done;
	}
	print_banner(srv);

	bool stopped_running_guest = false;
	for (;;) {
		if (outcome_of_signal(outcome))
			break;
		if (waiting) {
			if (!wait_for_client(srv, outcome))
				break;
		} else {
			/* No gdb: the guest runs until it ends or one connects. A
			 * gdb that connected while we were busy has no SIGIO left
			 * to announce it. */
			struct target_resume how = { .kind = TARGET_RESUME_CONTINUE };
			struct target_stop stop;
			drain_pending_sigio();
			if (accept_client(srv) == 0) {
				stopped_running_guest = true;
				goto serve;
			}
			err = target.ops->resume(target.impl, &how, &stop);
			if (err) {
				outcome_of_error(err, outcome);
				break;
			}
			if (outcome_of_free_stop(&stop, outcome) || outcome_of_signal(outcome))
				break;
			if (stop.reason != TARGET_STOP_INTERRUPTED || accept_client(srv) != 0)
				continue;
			stopped_running_guest = true;
		}
serve:;
		enum session_end end = serve_session(srv, stopped_running_guest, outcome);
		stopped_running_guest = false;
		if (end != SESSION_DROPPED && end != SESSION_DETACHED)
			break;
		waiting = false;
	}
	err = 0;
done:
	close(srv->listen_fd);
	if (config->unix_socket)
		unlink(config->path);
	free(srv);
	return err;
}
