/* bench/floor.c — the floors under every kvmstub figure, measured on this
 * host with nothing in between: a KVM single-step round trip, a port I/O
 * exit, KVM_GET_REGS + KVM_GET_SREGS, KVM_SET_GUEST_DEBUG, a one-byte
 * TCP round trip over loopback with both ends on one CPU and on two, and
 * how long a vCPU busy in guest code takes to leave KVM_RUN when its
 * thread is signalled, with 4 such vCPUs (the all-stop of several vCPUs
 * waits for that).
 * Prints one line per figure, "floor NAME MEDIAN_US MIN_US MAX_US", which
 * bench/bench.py reads. A benchmark tool: it exits on the first failure. */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define GUEST_MEM_SIZE 0x10000
#define GUEST_CODE 0x1000
#define SAMPLE_BATCHES 15

struct floor_vm {
	int kvm, vm, vcpu;
	struct kvm_run *run;
	uint8_t *mem;
};

static void die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Each sample is the mean over one batch (one kick, for the kick floor);
 * the line reports the median sample and the spread between samples. */
static void report(const char *name, double *samples, int n)
{
	qsort(samples, (size_t)n, sizeof(*samples), compare_doubles);
	printf("floor %s %.2f %.2f %.2f\n", name, samples[n / 2], samples[0], samples[n - 1]);
	fflush(stdout);
}

/* A real-mode vCPU at GUEST_CODE running `code` (a loop). */
static void vm_create(struct floor_vm *v, const uint8_t *code, size_t code_len)
{
	v->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm < 0)
		die("open /dev/kvm");
	v->vm = ioctl(v->kvm, KVM_CREATE_VM, 0);
	if (v->vm < 0)
		die("KVM_CREATE_VM");
	v->mem = mmap(NULL, GUEST_MEM_SIZE, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (v->mem == MAP_FAILED)
		die("mmap");
	memcpy(v->mem + GUEST_CODE, code, code_len);
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = GUEST_MEM_SIZE,
		.userspace_addr = (uintptr_t)v->mem,
	};
	if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		die("KVM_SET_USER_MEMORY_REGION");
	v->vcpu = ioctl(v->vm, KVM_CREATE_VCPU, 0);
	if (v->vcpu < 0)
		die("KVM_CREATE_VCPU");
	int run_size = ioctl(v->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (run_size < 0)
		die("KVM_GET_VCPU_MMAP_SIZE");
	v->run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->vcpu, 0);
	if (v->run == MAP_FAILED)
		die("mmap kvm_run");

	struct kvm_sregs sregs;
	if (ioctl(v->vcpu, KVM_GET_SREGS, &sregs) < 0)
		die("KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(v->vcpu, KVM_SET_SREGS, &sregs) < 0)
		die("KVM_SET_SREGS");
	struct kvm_regs regs = { .rip = GUEST_CODE, .rflags = 2, .rax = 'x', .rdx = 0x3f8 };
	if (ioctl(v->vcpu, KVM_SET_REGS, &regs) < 0)
		die("KVM_SET_REGS");
}

static void vm_destroy(struct floor_vm *v)
{
	close(v->vcpu);
	close(v->vm);
	close(v->kvm);
	munmap(v->mem, GUEST_MEM_SIZE);
}

static void run_expect(struct floor_vm *v, unsigned exit_reason)
{
	if (ioctl(v->vcpu, KVM_RUN, 0) < 0)
		die("KVM_RUN");
	if (v->run->exit_reason != exit_reason) {
		fprintf(stderr, "floor: KVM_RUN exit %u, expected %u\n",
			v->run->exit_reason, exit_reason);
		exit(1);
	}
}

static void set_guest_debug(struct floor_vm *v, unsigned control)
{
	struct kvm_guest_debug dbg = { .control = control };

	if (ioctl(v->vcpu, KVM_SET_GUEST_DEBUG, &dbg) < 0)
		die("KVM_SET_GUEST_DEBUG");
}

static void measure_kvm(void)
{
	static const uint8_t nop_loop[] = { 0x90, 0xeb, 0xfd };	/* 1: nop; jmp 1b */
	static const uint8_t out_loop[] = { 0xee, 0xeb, 0xfd };	/* 1: out %al,%dx; jmp 1b */
	double samples[SAMPLE_BATCHES];
	struct floor_vm v;
	const int per_batch = 2000;

	vm_create(&v, nop_loop, sizeof(nop_loop));
	set_guest_debug(&v, KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP);
	for (int b = 0; b < SAMPLE_BATCHES; b++) {
		double t0 = now_us();
		for (int i = 0; i < per_batch; i++)
			run_expect(&v, KVM_EXIT_DEBUG);
		samples[b] = (now_us() - t0) / per_batch;
	}
	report("kvm_single_step", samples, SAMPLE_BATCHES);

	for (int b = 0; b < SAMPLE_BATCHES; b++) {
		struct kvm_regs regs;
		struct kvm_sregs sregs;
		double t0 = now_us();
		for (int i = 0; i < per_batch; i++) {
			if (ioctl(v.vcpu, KVM_GET_REGS, &regs) < 0 ||
			    ioctl(v.vcpu, KVM_GET_SREGS, &sregs) < 0)
				die("KVM_GET_REGS/SREGS");
		}
		samples[b] = (now_us() - t0) / per_batch;
	}
	report("kvm_get_regs_sregs", samples, SAMPLE_BATCHES);

	for (int b = 0; b < SAMPLE_BATCHES; b++) {
		double t0 = now_us();
		for (int i = 0; i < per_batch; i++)
			set_guest_debug(&v, KVM_GUESTDBG_ENABLE |
				       (i & 1 ? KVM_GUESTDBG_SINGLESTEP : 0));
		samples[b] = (now_us() - t0) / per_batch;
	}
	report("kvm_set_guest_debug", samples, SAMPLE_BATCHES);
	vm_destroy(&v);

	vm_create(&v, out_loop, sizeof(out_loop));
	for (int b = 0; b < SAMPLE_BATCHES; b++) {
		double t0 = now_us();
		for (int i = 0; i < per_batch; i++)
			run_expect(&v, KVM_EXIT_IO);
		samples[b] = (now_us() - t0) / per_batch;
	}
	report("kvm_io_exit", samples, SAMPLE_BATCHES);
	vm_destroy(&v);
}

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) < 0)
		die("sched_setaffinity");
}

static void set_nodelay(int fd)
{
	int one = 1;

	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		die("TCP_NODELAY");
}

static void echo_forever(int fd)
{
	char byte;

	while (read(fd, &byte, 1) == 1)
		if (write(fd, &byte, 1) != 1)
			break;
	_exit(0);
}

/* A one-byte ping-pong between this process (on client_cpu) and a forked
 * echo process (on server_cpu), as a gdb and a stub would do it. */
static void measure_loopback(const char *name, int client_cpu, int server_cpu)
{
	double samples[SAMPLE_BATCHES];
	const int per_batch = 2000;
	struct sockaddr_in addr = { .sin_family = AF_INET,
				    .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t addr_len = sizeof(addr);

	int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listener < 0 || bind(listener, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(listener, 1) < 0 ||
	    getsockname(listener, (struct sockaddr *)&addr, &addr_len) < 0)
		die("listen");
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		pin_to_cpu(server_cpu);
		int fd = accept(listener, NULL, NULL);
		if (fd < 0)
			_exit(1);
		set_nodelay(fd);
		echo_forever(fd);
	}
	close(listener);
	pin_to_cpu(client_cpu);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("connect");
	set_nodelay(fd);
	for (int b = 0; b < SAMPLE_BATCHES; b++) {
		double t0 = now_us();
		for (int i = 0; i < per_batch; i++) {
			char byte = 'x';
			if (write(fd, &byte, 1) != 1 || read(fd, &byte, 1) != 1)
				die("loopback round trip");
		}
		samples[b] = (now_us() - t0) / per_batch;
	}
	close(fd);
	waitpid(child, NULL, 0);
	report(name, samples, SAMPLE_BATCHES);
}

#define KICK_MAX_VCPUS 4
#define KICKS 60
#define KICK_SIGNAL SIGUSR1

struct busy_vcpu {
	int fd;
	pid_t tid;
	uint64_t exits; /* KVM_RUN returns seen, written by its thread */
};

static void on_kick(int signo)
{
	(void)signo;
}

/* Runs the vCPU for ever; KICK_SIGNAL reaches the thread only inside
 * KVM_RUN (KVM_SET_SIGNAL_MASK), as kvmstub's kick does. */
static void *busy_vcpu_thread(void *arg)
{
	struct busy_vcpu *b = arg;
	sigset_t kick;
	struct {
		struct kvm_signal_mask head;
		uint8_t set[8];
	} during_run = { .head.len = 8 };

	sigemptyset(&kick);
	sigaddset(&kick, KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &kick, NULL);
	if (ioctl(b->fd, KVM_SET_SIGNAL_MASK, &during_run) < 0)
		die("KVM_SET_SIGNAL_MASK");
	__atomic_store_n(&b->tid, gettid(), __ATOMIC_RELEASE);
	for (;;) {
		int r = ioctl(b->fd, KVM_RUN, 0);
		__atomic_add_fetch(&b->exits, 1, __ATOMIC_RELEASE);
		if (r < 0 && errno == EINTR) {
			struct timespec zero = { 0, 0 };
			sigtimedwait(&kick, NULL, &zero);
			continue;
		}
		die("busy vCPU left KVM_RUN for another reason");
	}
	return NULL;
}

/* nbusy vCPUs in `jmp .` on their own threads; KICKS times, one of them
 * is signalled and the time until its KVM_RUN returns is one sample. The
 * watcher sleeps between looks (20 us), so it takes no CPU from them. */
static void measure_kick(const char *name, int nbusy)
{
	static const uint8_t spin[] = { 0xeb, 0xfe }; /* jmp . */
	static struct busy_vcpu busy[KICK_MAX_VCPUS];
	struct floor_vm v;
	struct sigaction sa;
	double samples[KICKS];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_kick;
	sigaction(KICK_SIGNAL, &sa, NULL);
	vm_create(&v, spin, sizeof(spin));
	for (int i = 0; i < nbusy; i++) {
		busy[i].fd = i ? ioctl(v.vm, KVM_CREATE_VCPU, i) : v.vcpu;
		if (busy[i].fd < 0)
			die("KVM_CREATE_VCPU");
		if (i) {
			struct kvm_sregs sregs;
			struct kvm_regs regs = { .rip = GUEST_CODE, .rflags = 2 };
			if (ioctl(busy[i].fd, KVM_GET_SREGS, &sregs) < 0)
				die("KVM_GET_SREGS");
			sregs.cs.base = 0;
			sregs.cs.selector = 0;
			if (ioctl(busy[i].fd, KVM_SET_SREGS, &sregs) < 0 ||
			    ioctl(busy[i].fd, KVM_SET_REGS, &regs) < 0)
				die("KVM_SET_SREGS/REGS");
		}
		pthread_t t;
		if (pthread_create(&t, NULL, busy_vcpu_thread, &busy[i]))
			die("pthread_create");
		pthread_detach(t);
	}
	for (int i = 0; i < nbusy; i++)
		while (!__atomic_load_n(&busy[i].tid, __ATOMIC_ACQUIRE))
			usleep(100);
	usleep(100000);
	for (int k = 0; k < KICKS; k++) {
		struct busy_vcpu *b = &busy[k % nbusy];
		usleep(2000 + (unsigned)(k * 7919) % 3000);
		uint64_t before = __atomic_load_n(&b->exits, __ATOMIC_ACQUIRE);
		double t0 = now_us();
		tgkill(getpid(), b->tid, KICK_SIGNAL);
		while (__atomic_load_n(&b->exits, __ATOMIC_ACQUIRE) == before)
			usleep(20);
		samples[k] = now_us() - t0;
	}
	report(name, samples, KICKS);
}

int main(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	measure_kvm();
	measure_loopback("loopback_same_cpu", 0, 0);
	if (cpus > 1)
		measure_loopback("loopback_across_cpus", 0, 1);
	/* Last: the busy vCPU threads spin until the process ends. */
	measure_kick("kick_busy_vcpus_4", 4);
	return 0;
}
