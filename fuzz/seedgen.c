/*
 * seedgen.c: writes the seed programs of corpus/<target>/ (docs/fuzzing.md "Seeds").
 *
 * Usage: fuzz_seedgen CORPUS_DIR [QEMU_CMDQ_DIR]
 * Seeds: what a Linux driver sends (boot, probe, unmask, affinity, teardown), the
 * kvm-unit-tests ITS scenarios (its-trigger, its-pending-migration, error cases), the
 * design discussion's policy examples (property toggles, INVALL storms, lazy
 * threshold), queue edges (wrap, CWRITER = size, CBASER rewrite, stall and retry),
 * and the command streams of the bundled real Linux guests (corpus/qemu/ *.cmdq.bin,
 * raw slots in queue order).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_prog.h"

enum { MAPD, MAPC, MAPTI, MAPI, MOVI, DISCARD, INT, CLEAR, INV, INVALL, SYNC, MOVALL };
#define KICK 2u
#define V0 1u

struct prog {
	struct fz_buf b;
};

static void hdr(struct prog *p, const uint8_t h[FZ_HDR_BYTES])
{
	p->b.n = 0;
	fz_emit(&p->b, h, FZ_HDR_BYTES);
}

static void cmd(struct prog *p, unsigned sel, unsigned a, unsigned b, unsigned c, unsigned d,
		unsigned fl)
{
	uint8_t pl[7] = { (uint8_t)sel, (uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d, (uint8_t)fl, 0 };
	fz_emit_op(&p->b, FZ_OP_CMD, pl);
}

static void op(struct prog *p, unsigned kind, unsigned x, unsigned y, unsigned z)
{
	uint8_t pl[32] = { (uint8_t)x, (uint8_t)y, (uint8_t)z };
	fz_emit_op(&p->b, kind, pl);
}

static const char *g_prefix = "";

static void save(struct prog *p, const char *root, const char *target, const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", root, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s%s", root, target, g_prefix, name);
	FILE *fp = fopen(path, "wb");
	if (!fp) {
		perror(path);
		exit(2);
	}
	fwrite(p->b.p, 1, p->b.n, fp);
	fclose(fp);
}

/* Linux boot on n CPUs: MAPC, SYNC, INVALL, SYNC per CPU. */
static void boot(struct prog *p, unsigned ncpu)
{
	for (unsigned c = 0; c < ncpu; c++) {
		cmd(p, MAPC, c, c, 0, 0, 0);
		cmd(p, SYNC, c, 0, 0, 0, 0);
		cmd(p, INVALL, c, 0, 0, 0, 0);
		cmd(p, SYNC, c, 0, 0, 0, KICK);
	}
}

/* Device probe: MAPD, then MAPTI + SYNC per vector; unmask = prop byte + INV + SYNC. */
static void probe(struct prog *p, unsigned dev, unsigned nvec, unsigned cpu)
{
	cmd(p, MAPD, dev, 2, dev, 0, 0);
	for (unsigned e = 0; e < nvec; e++) {
		cmd(p, MAPTI, dev, e, dev * 4 + e, (cpu + e) & 3, 0);
		cmd(p, SYNC, (cpu + e) & 3, 0, 0, 0, KICK);
	}
	for (unsigned e = 0; e < nvec; e++) {
		op(p, FZ_OP_PROP, dev * 4 + e, 0xa3, 0);
		cmd(p, INV, dev, e, 0, 0, 0);
		cmd(p, SYNC, (cpu + e) & 3, 0, 0, 0, KICK);
	}
}

static void teardown(struct prog *p, unsigned dev, unsigned nvec)
{
	for (unsigned e = 0; e < nvec; e++) {
		cmd(p, DISCARD, dev, e, 0, 0, 0);
		cmd(p, SYNC, 0, 0, 0, 0, KICK);
	}
	cmd(p, MAPD, dev, 0, 0, 0, V0 | KICK);
}

static void msis(struct prog *p, unsigned dev, unsigned nvec)
{
	for (unsigned e = 0; e < nvec; e++) {
		op(p, FZ_OP_MSI, dev, e, 0);
		op(p, FZ_OP_HOSTLPI, e, 0, 0);
	}
}

/* Header bytes: see decode_header in fuzz_prog.c. */
static void h_make(uint8_t h[8], unsigned vcpus_m1, unsigned stall, unsigned host, unsigned policy,
		   unsigned budget_sel, unsigned pages2, unsigned cap_sel)
{
	memset(h, 0, 8);
	h[0] = (uint8_t)(vcpus_m1 | stall << 2 | host << 3 | policy << 4);
	h[1] = (uint8_t)(budget_sel | pages2 << 3 | cap_sel << 4);
	h[2] = (uint8_t)(6 | 3 << 3 | 1 << 6);      /* 20 DeviceID bits, 4 EventID bits, 2 CID bits */
	h[3] = 0;                                   /* 14 INTID bits, prop table 16 bits */
	h[5] = 0x0f | 0x10;                         /* devices 0..3 assigned, 2 pCPUs */
	h[7] = 0x55;
}

static void linux_life(struct prog *p)
{
	boot(p, 2);
	probe(p, 0, 3, 0);
	probe(p, 1, 2, 1);
	probe(p, 4, 2, 0);               /* an unassigned (purely virtual) device */
	msis(p, 0, 3);
	msis(p, 4, 2);
	cmd(p, MOVI, 0, 1, 0, 1, 0);     /* affinity change */
	cmd(p, SYNC, 1, 0, 0, 0, KICK);
	op(p, FZ_OP_MSI, 0, 1, 0);
	op(p, FZ_OP_PROP, 1, 0xa2, 0);   /* mask */
	cmd(p, INV, 0, 1, 0, 0, 0);
	cmd(p, SYNC, 0, 0, 0, 0, KICK);
	op(p, FZ_OP_MSI, 0, 1, 0);
	op(p, FZ_OP_PROP, 1, 0xa3, 0);   /* unmask: the pending one arrives */
	cmd(p, INV, 0, 1, 0, 0, 0);
	cmd(p, SYNC, 0, 0, 0, 0, KICK);
	teardown(p, 1, 2);
	teardown(p, 0, 3);
}

static void gen_common(struct prog *p, const char *root, const char *t, unsigned host_default)
{
	uint8_t h[8];
	for (unsigned pol = 0; pol < 5; pol++) {
		char name[64];
		h_make(h, 3, 0, host_default, pol, 0, 0, 0);
		hdr(p, h);
		linux_life(p);
		snprintf(name, sizeof(name), "linux-lifecycle-%u", pol);
		save(p, root, t, name);
		if (!host_default)
			break;
	}
	/* kvm-unit-tests its-trigger: INT on a disabled LPI, enable + INV delivers;
	 * MAPC V=0 then INT fails; MAPTI onto a mapped event fails; INTID 8191 fails. */
	h_make(h, 3, 0, host_default, 1, 0, 0, 0);
	hdr(p, h);
	boot(p, 4);
	cmd(p, MAPD, 0, 2, 0, 0, 0);
	op(p, FZ_OP_PROP, 0, 0xa2, 0);
	cmd(p, MAPTI, 0, 0, 0, 3, KICK);
	cmd(p, INT, 0, 0, 0, 0, KICK);
	op(p, FZ_OP_PROP, 0, 0xa3, 0);
	cmd(p, INV, 0, 0, 0, 0, 0);
	cmd(p, SYNC, 3, 0, 0, 0, KICK);
	cmd(p, MAPC, 3, 3, 0, 0, V0);
	cmd(p, INT, 0, 0, 0, 0, KICK);
	cmd(p, MAPTI, 0, 0, 1, 0, KICK);
	cmd(p, MAPTI, 0, 1, 0xe0, 0, KICK);   /* INTID 8191 */
	cmd(p, MAPTI, 0, 0xe0, 2, 0, KICK);   /* EventID beyond the ITT */
	save(p, root, t, "kut-its-trigger");
	/* kvm-unit-tests its-pending-migration: pending LPIs moved by MOVALL and MOVI. */
	h_make(h, 3, 0, host_default, 2, 0, 0, 0);
	hdr(p, h);
	boot(p, 4);
	cmd(p, MAPD, 0, 2, 0, 0, 0);
	for (unsigned e = 0; e < 4; e++) {
		op(p, FZ_OP_PROP, e, 0xa2, 0);
		cmd(p, MAPTI, 0, e, e, 0, 0);
	}
	cmd(p, INT, 0, 0, 0, 0, 0);
	cmd(p, INT, 0, 1, 0, 0, 0);
	cmd(p, MOVALL, 0, 2, 0, 0, 0);
	cmd(p, MOVI, 0, 1, 0, 3, 0);
	cmd(p, SYNC, 2, 0, 0, 0, KICK);
	op(p, FZ_OP_PROP, 0, 0xa3, 0);
	op(p, FZ_OP_PROP, 1, 0xa3, 0);
	cmd(p, INVALL, 0, 0, 0, 0, 0);
	cmd(p, INVALL, 3, 0, 0, 0, 0);
	cmd(p, SYNC, 0, 0, 0, 0, KICK);
	save(p, root, t, "kut-its-pending-migration");
	/* Design discussion: a guest toggling enable bits, INV storms and INVALLs, under
	 * lazy with a threshold K = 2 and SYNC squashing. */
	h_make(h, 1, 0, host_default, 2, 0, 0, 0);
	h[1] |= 0x80;
	h[4] = 2 << 2;
	hdr(p, h);
	boot(p, 2);
	probe(p, 0, 4, 0);
	for (unsigned r = 0; r < 6; r++) {
		for (unsigned e = 0; e < 4; e++)
			op(p, FZ_OP_PROP, e, (r & 1) ? 0xa3 : 0xa2, (uint8_t)(r == 5 ? 2 : 0));
		cmd(p, INVALL, r & 1, 0, 0, 0, 0);
		cmd(p, SYNC, 0, 0, 0, 0, KICK);
		op(p, FZ_OP_HOSTLPI, r, 0, 0);
	}
	save(p, root, t, "discussion-invall-storm");
	/* Queue edges: CWRITER = size, CWRITER beyond, unaligned, high half, CBASER
	 * rewrite while enabled and disabled, stall mode with an error and a retry. */
	h_make(h, 1, 1, host_default, 0, 0, 0, 0);
	hdr(p, h);
	boot(p, 2);
	cmd(p, MAPTI, 3, 0, 0, 0, KICK);          /* unmapped device: stalls */
	op(p, FZ_OP_MMIO, 0x08, 0, 0);            /* read CREADR */
	cmd(p, MAPD, 3, 1, 3, 0, 0);
	op(p, FZ_OP_CWRITER, 0x03, 0, 0);         /* wptr | 1: Retry */
	op(p, FZ_OP_KICK, 2, 0, 0);               /* Retry */
	op(p, FZ_OP_CWRITER, 0x00, 0, 0);         /* = size: ignored */
	op(p, FZ_OP_CWRITER, 0x01, 0, 0);         /* beyond */
	op(p, FZ_OP_CWRITER, 0x26, 0, 0);         /* high half */
	op(p, FZ_OP_CBASER, 0x00, 1, 0);          /* while enabled: ignored */
	op(p, FZ_OP_CBASER, 0x05, 1, 1);          /* disable, rewrite, enable */
	cmd(p, SYNC, 0, 0, 0, 0, KICK);
	op(p, FZ_OP_CBASER, 0x07, 0, 2);          /* queue outside RAM: faults */
	cmd(p, SYNC, 0, 0, 0, 0, KICK);
	op(p, FZ_OP_KICK, 2, 0, 0);
	op(p, FZ_OP_CBASER, 0x05, 0, 3);          /* queue straddling the end of RAM */
	for (unsigned i = 0; i < 70; i++)
		cmd(p, SYNC, i & 1, 0, 0, 0, 0);
	op(p, FZ_OP_KICK, 0, 0, 0);
	op(p, FZ_OP_KICK, 2, 0, 0);
	save(p, root, t, "queue-edges-stall");
	/* Budget: one command per call, resumes, a CWRITER write while work waits. */
	h_make(h, 1, 0, host_default, 3, 4, 0, 2);
	hdr(p, h);
	boot(p, 2);
	probe(p, 0, 2, 0);
	op(p, FZ_OP_RESUME, 3, 0, 0);
	op(p, FZ_OP_DRAIN, 1, 0, 0);
	op(p, FZ_OP_RESUME, 3, 0, 0);
	op(p, FZ_OP_DRAIN, 1, 0, 0);
	msis(p, 0, 2);
	op(p, FZ_OP_RESET, 0, 0, 0);
	op(p, FZ_OP_BASER, 0x00, 0, 0);
	op(p, FZ_OP_CBASER, 0x04, 0, 0);
	op(p, FZ_OP_PROPTABLE, 4, 0, 0);
	boot(p, 1);
	op(p, FZ_OP_RESUME, 3, 0, 0);
	op(p, FZ_OP_ASSIGN, 0, 1, 0);
	op(p, FZ_OP_ASSIGN, 0, 0, 0);
	save(p, root, t, "budget-resume-reset");
}

static void gen_wrap(struct prog *p, const char *root)
{
	uint8_t h[8];
	for (unsigned pol = 0; pol < 5; pol++) {
		char name[64];
		h_make(h, 1, pol == 3, 1, pol, pol == 2 ? 4 : 0, 0, 2 + pol);
		hdr(p, h);
		boot(p, 2);
		probe(p, 0, 4, 0);
		/* 2.5 trips round a one-page queue with the physical queue filling. */
		for (unsigned r = 0; r < 5; r++) {
			op(p, FZ_OP_BURST, 60, 10, r);             /* SYNCs */
			op(p, FZ_OP_BURST, 3, 8, 0);               /* INVs */
			op(p, FZ_OP_DRAIN, r & 1, 0, 0);
			cmd(p, MOVI, 0, r & 3, 0, r & 1, KICK);
			op(p, FZ_OP_PROP, r & 3, 0xa2 | (r & 1), 0);
			op(p, FZ_OP_RESUME, 1, 0, 0);
			op(p, FZ_OP_DRAIN, 1, 0, 0);
		}
		op(p, FZ_OP_CWRITER, 0x08, 0, 0);     /* CWRITER = CREADR - 32: a full queue */
		op(p, FZ_OP_DRAIN, 1, 0, 0);
		teardown(p, 0, 4);
		snprintf(name, sizeof(name), "wrap-burst-%u", pol);
		save(p, root, "wrap", name);
	}
}

/* A real Linux guest's queue: the non-empty slots in order, as raw commands, kicked
 * every 16 commands (the queue of the program is one or two pages). */
static void gen_qemu(struct prog *p, const char *root, const char *qdir, const char *t)
{
	DIR *d = opendir(qdir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		if (l < 9 || strcmp(e->d_name + l - 9, ".cmdq.bin"))
			continue;
		char path[4096];
		snprintf(path, sizeof(path), "%s/%s", qdir, e->d_name);
		FILE *fp = fopen(path, "rb");
		if (!fp)
			continue;
		uint8_t h[8];
		h_make(h, 3, 0, 1, 0, 0, 1, 0);
		h[2] = (uint8_t)(6 | 4 << 3 | 3 << 6);     /* 20 dev bits, 5 ev bits, 4 cid bits */
		h[3] = 3;                                  /* 16 INTID bits */
		hdr(p, h);
		uint8_t slot[32];
		unsigned n = 0;
		while (fread(slot, 1, 32, fp) == 32 && n < 1024) {
			static const uint8_t zero[32];
			if (!memcmp(slot, zero, 32))
				continue;
			fz_emit_op(&p->b, FZ_OP_RAWCMD, slot);
			if (++n % 16 == 0)
				op(p, FZ_OP_KICK, 0, 0, 0);
		}
		op(p, FZ_OP_KICK, 0, 0, 0);
		fclose(fp);
		char name[512];
		snprintf(name, sizeof(name), "linux-%.*s", (int)(l - 9), e->d_name);
		save(p, root, t, name);
	}
	closedir(d);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR [QEMU_CMDQ_DIR]\n", argv[0]);
		return 2;
	}
	struct prog p = { { 0 } };
	gen_common(&p, argv[1], "cmdq", 1);
	g_prefix = "nohost-";
	gen_common(&p, argv[1], "cmdq", 0);
	g_prefix = "";
	gen_common(&p, argv[1], "policy", 1);
	gen_wrap(&p, argv[1]);
	if (argc > 2) {
		gen_qemu(&p, argv[1], argv[2], "cmdq");
		gen_qemu(&p, argv[1], argv[2], "policy");
	}
	free(p.b.p);
	return 0;
}
