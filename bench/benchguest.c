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
};

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
	default:
		break;
	}
}
