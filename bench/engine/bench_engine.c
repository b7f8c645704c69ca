/*
 * bench-engine: guest commands per second through the engine for a Linux-like mix,
 * and cached MSI translations per second, on one core.
 *
 * The embedder here is as thin as a hypervisor's: guest RAM is one flat buffer, the
 * injection op counts.  Each figure is the median of REPS runs; the spread (min and
 * max) is printed too, because machines here are shared and noisy.
 *
 * Usage: bench-engine [--reps N] [--json]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vits.h"

#define RAM_BASE   0x40000000ull
#define RAM_SIZE   (8u << 20)
#define QUEUE_GPA  (RAM_BASE)
#define QUEUE_PAGES 256u
#define QUEUE_BYTES (QUEUE_PAGES * 4096u)
#define DEVTAB_GPA (RAM_BASE + (2u << 20))
#define PROP_GPA   (RAM_BASE + (4u << 20))
#define ITT_GPA    (RAM_BASE + (6u << 20))

struct bench_env {
	uint8_t *ram;
	uint64_t injections;
};

static void *b_alloc(void *ctx, size_t n) { return calloc(1, n); }
static void b_free(void *ctx, void *p, size_t n) { free(p); }

static int b_read(void *ctx, uint64_t gpa, void *buf, size_t len)
{
	struct bench_env *e = ctx;
	if (gpa < RAM_BASE || gpa - RAM_BASE > RAM_SIZE || len > RAM_SIZE - (gpa - RAM_BASE))
		return -1;
	memcpy(buf, e->ram + (gpa - RAM_BASE), len);
	return 0;
}

static void b_inject(void *ctx, uint32_t vcpu, uint32_t intid)
{
	((struct bench_env *)ctx)->injections++;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static struct vits *make_engine(struct bench_env *env)
{
	struct vits_config cfg;
	vits_config_default(&cfg);
	cfg.nr_vcpus = 4;
	struct vits_ops ops = { .sz = sizeof(ops), .alloc = b_alloc, .free = b_free,
				.read_guest = b_read, .inject = b_inject };
	struct vits *v;
	if (vits_create(&cfg, &ops, env, NULL, &v) < 0) {
		fprintf(stderr, "bench-engine: vits_create failed\n");
		exit(2);
	}
	/* Enable every LPI's property byte (priority 0xa0, group 1, enabled). */
	memset(env->ram + (PROP_GPA - RAM_BASE), 0xa3, 1u << 16);
	vits_set_prop_table(v, PROP_GPA, 16);
	uint64_t baser = GITS_FIELD_SET(0, BASER, VALID, 1);
	baser = GITS_FIELD_SET(baser, BASER, SIZE, 15);
	baser |= DEVTAB_GPA;
	vits_mmio_write(v, GITS_BASER0, 8, baser);
	uint64_t cbaser = GITS_FIELD_SET(0, CBASER, VALID, 1) | QUEUE_GPA | (QUEUE_PAGES - 1);
	vits_mmio_write(v, GITS_CBASER, 8, cbaser);
	vits_mmio_write(v, GITS_CWRITER, 8, 0);
	vits_mmio_write(v, GITS_CTLR, 4, 1);
	return v;
}

static void put_cmd(struct bench_env *env, uint32_t slot, struct its_cmd c)
{
	its_cmd_to_bytes(&c, env->ram + (QUEUE_GPA - RAM_BASE) + (size_t)slot * ITS_CMD_BYTES);
}

/*
 * Fill the queue with repeating rounds of what Linux sends for a device's life:
 * MAPD; per vector MAPTI+SYNC, INV+SYNC (unmask), MOVI+SYNC (affinity);
 * DISCARD+SYNC per vector; MAPD V=0.  State after a round equals state before it,
 * so the queue can be replayed forever.  Returns the number of slots filled.
 */
static uint32_t fill_linux_mix(struct bench_env *env, uint32_t nslots)
{
	const uint32_t vectors = 32, dev = 0x10;
	uint32_t slot, round;
	struct its_cmd cmds[4 + 8 * 32];
	uint32_t n = 0;

	/* Collections 0..3 on vCPUs 0..3, once at the head of the queue (idempotent
	 * when the pass repeats). */
	for (uint32_t c = 0; c < 4; c++)
		put_cmd(env, c, its_mk_mapc(c, c, 1));

	cmds[n++] = its_mk_mapd(dev, 4, ITT_GPA, 1);
	for (uint32_t e = 0; e < vectors; e++) {
		cmds[n++] = its_mk_mapti(dev, e, 8192 + e, 0);
		cmds[n++] = its_mk_sync(0);
		cmds[n++] = its_mk_devev(ITS_OP_INV, dev, e);
		cmds[n++] = its_mk_sync(0);
		cmds[n++] = its_mk_movi(dev, e, 1 + e % 3);
		cmds[n++] = its_mk_sync(1 + e % 3);
	}
	for (uint32_t e = 0; e < vectors; e++) {
		cmds[n++] = its_mk_devev(ITS_OP_DISCARD, dev, e);
		cmds[n++] = its_mk_sync(0);
	}
	cmds[n++] = its_mk_mapd(dev, 0, 0, 0);
	round = n;
	/* Whole rounds only; leave one slot free as software does. */
	for (slot = 4; slot + round < nslots; slot += round)
		for (uint32_t i = 0; i < round; i++)
			put_cmd(env, slot + i, cmds[i]);
	return slot;    /* commands placed */
}

static double bench_commands(struct vits *v, uint32_t placed)
{
	const uint32_t passes = 40;
	double t0 = now_s();
	for (uint32_t p = 0; p < passes; p++) {
		vits_mmio_write(v, GITS_CWRITER, 8, (uint64_t)placed * ITS_CMD_BYTES);
		/* Rewind: disable, reprogram CBASER (CREADR = 0), re-enable. */
		vits_mmio_write(v, GITS_CTLR, 4, 0);
		uint64_t cbaser;
		vits_mmio_read(v, GITS_CBASER, 8, &cbaser);
		vits_mmio_write(v, GITS_CWRITER, 8, 0);
		vits_mmio_write(v, GITS_CBASER, 8, cbaser);
		vits_mmio_write(v, GITS_CTLR, 4, 1);
	}
	double dt = now_s() - t0;
	return (double)placed * passes / dt;
}

static double bench_msis(struct vits *v)
{
	const uint32_t n = 20u * 1000 * 1000;
	double t0 = now_s();
	for (uint32_t i = 0; i < n; i++)
		vits_msi(v, 0x20, i & 31);
	return (double)n / (now_s() - t0);
}

static void summarise(const char *name, double *x, int reps, const char *unit, int json,
		      int last)
{
	qsort(x, (size_t)reps, sizeof(*x), cmp_double);
	double med = x[reps / 2];
	if (json)
		printf("  \"%s\": {\"median\": %.0f, \"min\": %.0f, \"max\": %.0f}%s\n", name, med,
		       x[0], x[reps - 1], last ? "" : ",");
	else
		printf("%-28s median %8.2f M%s  (min %.2f, max %.2f, %d runs)\n", name, med / 1e6,
		       unit, x[0] / 1e6, x[reps - 1] / 1e6, reps);
}

int main(int argc, char **argv)
{
	int reps = 9, json = 0;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--reps") && i + 1 < argc)
			reps = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--json"))
			json = 1;
		else {
			fprintf(stderr, "usage: bench-engine [--reps N] [--json]\n");
			return 2;
		}
	}
	if (reps < 1 || reps > 1000) {
		fprintf(stderr, "bench-engine: --reps must be 1..1000\n");
		return 2;
	}

	/* Engine 1: the command mix, replayed from a full 1 MiB queue. */
	struct bench_env env = { .ram = calloc(1, RAM_SIZE) };
	struct vits *v = make_engine(&env);
	uint32_t placed = fill_linux_mix(&env, QUEUE_BYTES / ITS_CMD_BYTES);

	/* Engine 2: one device with 32 mapped, enabled events, for the MSI path. */
	struct bench_env menv = { .ram = calloc(1, RAM_SIZE) };
	struct vits *m = make_engine(&menv);
	uint32_t k = 0;
	put_cmd(&menv, k++, its_mk_mapc(0, 0, 1));
	put_cmd(&menv, k++, its_mk_mapd(0x20, 4, ITT_GPA, 1));
	for (uint32_t e = 0; e < 32; e++)
		put_cmd(&menv, k++, its_mk_mapti(0x20, e, 8192 + e, 0));
	put_cmd(&menv, k++, its_mk_sync(0));
	vits_mmio_write(m, GITS_CWRITER, 8, (uint64_t)k * ITS_CMD_BYTES);

	double *cmds = calloc((size_t)reps, sizeof(double));
	double *msis = calloc((size_t)reps, sizeof(double));
	for (int r = 0; r < reps; r++) {
		cmds[r] = bench_commands(v, placed);
		msis[r] = bench_msis(m);
	}
	struct vits_stats st;
	vits_get_stats(v, &st);
	if (st.cmd_errors != 0) {
		fprintf(stderr, "bench-engine: the mix produced %llu command errors\n",
			(unsigned long long)st.cmd_errors);
		return 1;
	}
	vits_get_stats(m, &st);
	if (st.cmd_errors != 0 || st.xlate_misses > 64 || menv.injections == 0) {
		fprintf(stderr, "bench-engine: MSI path not served by the cache (errors %llu, misses %llu, dropped %llu)\n", (unsigned long long)st.cmd_errors, (unsigned long long)st.xlate_misses, (unsigned long long)st.msis_dropped);
		return 1;
	}
	if (json)
		printf("{\n");
	else
		printf("vits engine, one core, %u-command Linux-like queue\n", placed);
	summarise("guest_commands_per_s", cmds, reps, "cmd/s", json, 0);
	summarise("cached_msi_translations_per_s", msis, reps, "msi/s", json, 1);
	if (json)
		printf("}\n");
	vits_destroy(v);
	vits_destroy(m);
	free(cmds);
	free(msis);
	free(env.ram);
	free(menv.ram);
	return 0;
}
