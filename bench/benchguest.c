/* bench/benchguest.c — the C half of the benchmark guest: picks the region
 * the harness asked for (bench_scenario, written through the stub while the
 * guest waits at bench_ready) and holds the source lines the gdb-level
 * measurements step over and break in. Built at -O0 so that every source
 * line and variable is where gdb expects it. No library, no Multiboot info. */

void bench_main(void);
int f(int n);
void next_region(void);
void cond_region(void);
void step_region(void);
void bp_region(void);
void serial_per_out(void);
void serial_rep_outsb(void);
void store_region(void);
void timer_idle(void);
void timer_spin(void);
void int_pairs(void);
void timer_setup(unsigned divisor, char *handler);
void bsp_spin(void);
void start_aps(void);
extern char timer_isr[], timer_isr_noiret[], int81_isr[];
extern char ap_tramp_start[], ap_tramp_end[];

/* What the harness writes before it continues from bench_ready. */
enum bench_scenario {
	SCENARIO_IDLE = 0,
	SCENARIO_STEP = 1,
	SCENARIO_BREAKPOINT = 2,
	SCENARIO_SERIAL_PER_OUT = 3,
	SCENARIO_SERIAL_REP_OUTSB = 4,
	SCENARIO_NEXT = 5,
	SCENARIO_COND = 6,
	SCENARIO_STORES = 7,
	SCENARIO_TIMER_RATE = 8,  /* PIT at 10 kHz, idle in sti; hlt */
	SCENARIO_TIMER_STEP = 9,  /* PIT at 1 kHz, spin with interrupts on */
	SCENARIO_INT_PAIRS = 10,  /* int $0x81 + iret, int_pair_count times */
	/* Several CPUs (bench_cpus, written with the scenario): the APs
	 * started and busy, then the BSP runs step_region / spins while AP 1
	 * runs the breakpoint loop (see multiboot.S). */
	SCENARIO_SMP_STEP = 11,
	SCENARIO_SMP_BP = 12,
};

#define AP_TRAMP 0x6000u
#define LAPIC 0xfee00000u
#define LAPIC_SVR 0xf0u
#define LAPIC_ICR_LOW 0x300u
#define LAPIC_ICR_HIGH 0x310u

volatile unsigned bench_cpus = 1;
volatile unsigned ap_arrived;
volatile unsigned ap_spins[16];

volatile unsigned timer_ticks;
volatile unsigned int_pair_count = 10000;

struct gate {
	unsigned short off_lo, selector;
	unsigned char zero, type_attr;
	unsigned short off_hi;
};
static struct gate bench_idt[256];

static void outb(unsigned short port, unsigned char value)
{
	__asm__ volatile("outb %0, %1" : : "a"(value), "Nd"(port));
}

static void set_gate(unsigned vector, char *handler)
{
	unsigned short cs;

	__asm__ volatile("mov %%cs, %0" : "=r"(cs));
	bench_idt[vector].off_lo = (unsigned short)(unsigned)handler;
	bench_idt[vector].off_hi = (unsigned short)((unsigned)handler >> 16);
	bench_idt[vector].selector = cs;
	bench_idt[vector].type_attr = 0x8e; /* 32-bit interrupt gate */
}

/* An IDT for IRQ0 (handler) and int $0x81, the 8259s remapped to 0x20/0x28 with
 * only IRQ0 open, the PIT's channel 0 at 1193182 / divisor Hz. */
void timer_setup(unsigned divisor, char *handler)
{
	struct __attribute__((packed)) {
		unsigned short limit;
		unsigned base;
	} idtr = { sizeof(bench_idt) - 1, (unsigned)bench_idt };

	set_gate(0x20, handler);
	set_gate(0x81, int81_isr);
	__asm__ volatile("lidt %0" : : "m"(idtr));
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, 0x20);
	outb(0xa1, 0x28);
	outb(0x21, 0x04);
	outb(0xa1, 0x02);
	outb(0x21, 0x01);
	outb(0xa1, 0x01);
	outb(0x21, 0xfe);
	outb(0xa1, 0xff);
	outb(0x43, 0x34);
	outb(0x40, (unsigned char)divisor);
	outb(0x40, (unsigned char)(divisor >> 8));
}

static volatile unsigned *lapic(unsigned reg)
{
	return (volatile unsigned *)(LAPIC + reg);
}

static void send_ipi(unsigned low)
{
	*lapic(LAPIC_ICR_HIGH) = 0;
	*lapic(LAPIC_ICR_LOW) = low;
	while (*lapic(LAPIC_ICR_LOW) & (1u << 12)) /* delivery pending */
		;
}

static void short_pause(void)
{
	for (volatile int i = 0; i < 200; i++)
		;
}

/* INIT, then SIPI twice, to every processor but this one (the ICR's "all
 * excluding self"), as the MP spec's start-up sequence; then waits (for a
 * bounded time: the harness checks ap_arrived) until bench_cpus - 1 APs
 * have arrived. */
void start_aps(void)
{
	char *to = (char *)AP_TRAMP;

	for (int i = 0; i < ap_tramp_end - ap_tramp_start; i++)
		to[i] = ap_tramp_start[i];
	*lapic(LAPIC_SVR) = 0x1ff;
	send_ipi(0x000c4500); /* INIT, level assert */
	short_pause();
	send_ipi(0x000c4600 | (AP_TRAMP >> 12)); /* SIPI */
	short_pause();
	send_ipi(0x000c4600 | (AP_TRAMP >> 12));
	for (unsigned long spins = 0; ap_arrived + 1 < bench_cpus && spins < 2000000; spins++)
		;
}

volatile unsigned bench_scenario = SCENARIO_IDLE;
volatile unsigned next_result;	/* what the stepped-over line computed */
volatile unsigned f_calls;	/* how many times f ran */
volatile int f_sink;

/* The conditional breakpoint's target: `hbreak f if n == 5000`. */
int f(int n)
{
	f_calls++;
	return n * 3 + 1;
}

void next_region(void)
{
	unsigned i, acc = 7;

	next_result = 0;
	for (i = 0; i < 170; i++) acc += (i ^ 5) + (acc >> 3); /* NEXT_LINE */
	next_result = acc; /* AFTER_NEXT_LINE */
}

void cond_region(void)
{
	int k;

	for (k = 0;; k++)
		f_sink += f(k);
}

void bench_main(void)
{
	switch (bench_scenario) {
	case SCENARIO_STEP:
		step_region();
		break;
	case SCENARIO_BREAKPOINT:
		bp_region();
		break;
	case SCENARIO_SERIAL_PER_OUT:
		serial_per_out();
		break;
	case SCENARIO_SERIAL_REP_OUTSB:
		serial_rep_outsb();
		break;
	case SCENARIO_NEXT:
		next_region();
		break;
	case SCENARIO_COND:
		cond_region();
		break;
	case SCENARIO_STORES:
		store_region();
		break;
	case SCENARIO_TIMER_RATE:
		timer_setup(119, timer_isr);
		timer_idle();
		break;
	case SCENARIO_TIMER_STEP:
		timer_setup(1193, timer_isr_noiret);
		timer_spin();
		break;
	case SCENARIO_SMP_STEP:
		start_aps();
		step_region();
		break;
	case SCENARIO_SMP_BP:
		start_aps();
		bsp_spin();
		break;
	case SCENARIO_INT_PAIRS:
		timer_setup(0, timer_isr); /* the PIT's slowest rate: 18.2 Hz */
		outb(0x21, 0xff);
		int_pairs();
		break;
	default:
		break;
	}
}
