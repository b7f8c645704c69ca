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
	/* A Linux driver's interrupts through the translation cache: a device (not
	 * assigned) with two vectors fires (the MSIs fill the cache), one vector's affinity
	 * changes (MOVI), a CPU goes away and its collection is retargeted (MAPC), the driver
	 * frees the other vector (mask, INV, DISCARD) and the device fires it once more (a
	 * late MSI, which the ITS drops), then the moved one.  Kept under 256 bytes (cmdq's
	 * max_len): the collections are mapped without boot()'s INVALLs. */
	h_make(h, 3, 0, host_default, 1, 0, 0, 0);
	hdr(p, h);
	for (unsigned c = 0; c < 4; c++)
		cmd(p, MAPC, c, c, 0, 0, 0);
	cmd(p, SYNC, 0, 0, 0, 0, KICK);
	cmd(p, MAPD, 4, 2, 4, 0, 0);
	cmd(p, MAPTI, 4, 0, 16, 0, 0);
	cmd(p, MAPTI, 4, 1, 17, 1, 0);
	op(p, FZ_OP_PROP, 16, 0xa3, 0);
	op(p, FZ_OP_PROP, 17, 0xa3, 0);
	cmd(p, INV, 4, 0, 0, 0, 0);
	cmd(p, INV, 4, 1, 0, 0, 0);
	cmd(p, SYNC, 0, 0, 0, 0, KICK);
	msis(p, 4, 2);
	cmd(p, MOVI, 4, 1, 0, 2, 0);
	cmd(p, SYNC, 2, 0, 0, 0, KICK);
	op(p, FZ_OP_MSI, 4, 1, 0);
	cmd(p, MAPC, 0, 3, 0, 0, 0);
	cmd(p, SYNC, 3, 0, 0, 0, KICK);
	op(p, FZ_OP_MSI, 4, 0, 0);
	op(p, FZ_OP_PROP, 16, 0xa2, 0);
	cmd(p, INV, 4, 0, 0, 0, 0);
	cmd(p, SYNC, 3, 0, 0, 0, 0);
	cmd(p, DISCARD, 4, 0, 0, 0, 0);
	cmd(p, SYNC, 3, 0, 0, 0, KICK);
	op(p, FZ_OP_MSI, 4, 0, 0);
	op(p, FZ_OP_MSI, 4, 1, 0);
	save(p, root, t, "linux-msi-affinity-free");
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

/* The targets' -max_len (fuzz/cmdq.options, policy.options): libFuzzer cuts a longer
 * seed there anyway, so a longer one only costs reading it. */
#define SEED_MAX_LEN 4096u

/* A real Linux guest's queue: the non-empty slots in order, as raw commands, kicked
 * every 16 commands (the queue of the program is one or two pages), as many as fit
 * in SEED_MAX_LEN bytes. */
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
		size_t room = 1 + fuzz_op_len(FZ_OP_RAWCMD) + 2 * (1 + fuzz_op_len(FZ_OP_KICK));
		while (p->b.n + room <= SEED_MAX_LEN && fread(slot, 1, 32, fp) == 32) {
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


/* ---- multidomain (fuzz_multidomain.c reads the same op kinds as multi-domain ops) -- */

static void mcmd(struct prog *p, unsigned dom, unsigned sel, unsigned a, unsigned b, unsigned c,
		 unsigned d, unsigned fl)
{
	uint8_t pl[7] = { (uint8_t)sel, (uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d, (uint8_t)fl,
			  (uint8_t)dom };
	fz_emit_op(&p->b, FZ_OP_CMD, pl);
}

static void mprop(struct prog *p, unsigned dom, unsigned lpi, unsigned val)
{
	op(p, FZ_OP_PROP, lpi, val, dom);
}

static void mfire(struct prog *p, unsigned dom, unsigned dev, unsigned ev)
{
	op(p, FZ_OP_MSI, dom << 4 | dev, ev, 0);
}

static void mcheck(struct prog *p) { op(p, FZ_OP_L1, 0, 0, 0); }
static void mquiesce(struct prog *p) { op(p, FZ_OP_HOSTLPI, 0, 0, 0); }
static void mpump(struct prog *p, unsigned rate) { op(p, FZ_OP_RESUME, rate, 0, 0); }

/* Device dev of domain dom: MAPD (4 events), MAPTI of events 0..n-1 to LPIs
 * base.. on collection icid, SYNC. */
static void mprobe(struct prog *p, unsigned dom, unsigned dev, unsigned n, unsigned base,
		   unsigned icid)
{
	mcmd(p, dom, MAPD, dev, 1, 0, 0, 0);
	for (unsigned e = 0; e < n; e++)
		mcmd(p, dom, MAPTI, dev, e, base + e, icid, 0);
	mcmd(p, dom, SYNC, 0, 0, 0, icid, KICK);
}

/* Header: see md_decode in fuzz_multidomain.c.  pol: 0 lazy-global, 3 lazy, 4 eager,
 * 5 forward, 6 virtual; k: 0, 1, 2, 8 for 0..3. */
static void mh_hdr(struct prog *p, unsigned ndom, unsigned pcpus, unsigned qsel,
		   const unsigned pol[4], unsigned k, unsigned vcpus_m1, uint8_t assign)
{
	uint8_t h[8] = { 0 };
	h[0] = (uint8_t)(((ndom - 2) == 2 ? 3 : ndom - 2) | (pcpus - 1) << 2 | qsel << 4);
	for (unsigned i = 0; i < 4; i++)
		h[1 + i] = (uint8_t)(pol[i] | k << 5);
	h[5] = (uint8_t)(vcpus_m1 | vcpus_m1 << 2);
	h[6] = assign;
	h[7] = 0xff;
	hdr(p, h);
}

static void gen_multidomain(struct prog *p, const char *root)
{
	static const unsigned lg[4] = { 0, 0, 0, 0 };
	static const unsigned mixed[4] = { 0, 5, 4, 3 };
	static const unsigned mixed2[4] = { 5, 4, 3, 6 };

	/* Domain 1's lazy-global INVALL (answered with K = 2 INVs) must not forget the
	 * dirty bit of domain 0's LPI: domain 0's INV + SYNC must still reach the
	 * physical ITS. */
	mh_hdr(p, 2, 1, 5, lg, 2, 0, 0x05);
	mprobe(p, 0, 0, 2, 0, 0);
	mprobe(p, 1, 0, 2, 0, 0);
	mcheck(p);
	mprop(p, 0, 0, 0xa2);
	mprop(p, 1, 1, 0xa2);
	mcmd(p, 1, INVALL, 0, 0, 0, 0, 0);
	mcmd(p, 1, SYNC, 0, 0, 0, 0, KICK);
	mcmd(p, 0, INV, 0, 0, 0, 0, 0);
	mcmd(p, 0, SYNC, 0, 0, 0, 0, KICK);
	mcheck(p);
	mfire(p, 0, 0, 0);
	mfire(p, 1, 0, 1);
	mprop(p, 0, 0, 0xa3);
	mcmd(p, 0, INV, 0, 0, 0, 0, 0);
	mcmd(p, 0, SYNC, 0, 0, 0, 0, KICK);
	mcheck(p);
	save(p, root, "multidomain", "lazyglobal-cross-invall-k");

	/* The same with K = 0 (a physical INVALL) on another pCPU than domain 0's LPI. */
	mh_hdr(p, 2, 2, 5, lg, 0, 1, 0x05);
	mprobe(p, 0, 0, 2, 0, 0);
	mprobe(p, 1, 0, 2, 4, 1);
	mprop(p, 0, 0, 0xa2);
	mprop(p, 1, 4, 0xa2);
	mcmd(p, 1, INVALL, 0, 0, 0, 1, 0);
	mcmd(p, 1, SYNC, 0, 0, 0, 1, KICK);
	mcmd(p, 0, INV, 0, 0, 0, 0, 0);
	mcmd(p, 0, SYNC, 0, 0, 0, 0, KICK);
	mcheck(p);
	mprop(p, 0, 1, 0xa2);
	mprop(p, 1, 5, 0xa2);
	mcmd(p, 1, INVALL, 0, 0, 0, 1, 0);
	mcmd(p, 1, SYNC, 0, 0, 0, 1, KICK);
	mcmd(p, 0, INVALL, 0, 0, 0, 0, 0);
	mcmd(p, 0, SYNC, 0, 0, 0, 0, KICK);
	mcheck(p);
	save(p, root, "multidomain", "lazyglobal-invall-other-pcpu");

	/* Teardown under traffic: a physical queue of one command, three domains with
	 * MSIs flowing; domain 1 is destroyed while the others work, then a new domain
	 * takes its slot and its devices. */
	mh_hdr(p, 3, 2, 0, mixed, 1, 1, 0x3f);
	for (unsigned d = 0; d < 3; d++) {
		mprobe(p, d, 0, 3, 0, 0);
		mprobe(p, d, 1, 2, 8, 1);
	}
	mquiesce(p);
	for (unsigned d = 0; d < 3; d++) {
		mfire(p, d, 0, 0);
		mfire(p, d, 1, 1);
		mprop(p, d, 2, 0xa2);
	}
	op(p, FZ_OP_RESET, 1, 0, 0);
	mfire(p, 1, 0, 1);
	mcmd(p, 0, INV, 0, 2, 0, 0, KICK);
	mcmd(p, 2, DISCARD, 1, 0, 0, 0, KICK);
	mpump(p, 1);
	mfire(p, 0, 1, 1);
	mpump(p, 2);
	mcmd(p, 0, SYNC, 0, 0, 0, 0, KICK);
	mcheck(p);
	op(p, FZ_OP_RESET, 0x81, 0, 0);
	mprobe(p, 1, 0, 2, 0, 0);
	mquiesce(p);
	mfire(p, 1, 0, 0);
	mfire(p, 1, 0, 1);
	mcheck(p);
	save(p, root, "multidomain", "teardown-under-traffic");

	/* A physical device handed from one domain to another while its teardown is
	 * queued behind a full physical queue. */
	mh_hdr(p, 2, 2, 1, lg, 0, 1, 0x01);
	op(p, FZ_OP_ASSIGN, 0 << 4 | 2, 2, 0);           /* domain 0 vdev 2 := pdev 0x40 */
	mprobe(p, 0, 2, 3, 0, 1);
	mquiesce(p);
	mfire(p, 0, 2, 0);
	mfire(p, 0, 2, 1);
	op(p, FZ_OP_ASSIGN, 0 << 4 | 2, 1, 0);           /* unassign */
	op(p, FZ_OP_ASSIGN, 1 << 4 | 2, 2, 0);           /* domain 1 vdev 2 := pdev 0x40 */
	mpump(p, 1);
	op(p, FZ_OP_ASSIGN, 0 << 4 | 2, 1, 0);
	op(p, FZ_OP_ASSIGN, 1 << 4 | 2, 2, 0);
	mprobe(p, 1, 2, 2, 4, 0);
	mquiesce(p);
	mfire(p, 1, 2, 0);
	mfire(p, 0, 2, 0);
	mcheck(p);
	save(p, root, "multidomain", "pdev-handover");

	/* Four domains, four policies, a Linux-like life each, interleaved. */
	mh_hdr(p, 4, 4, 4, mixed2, 0, 3, 0xff);
	for (unsigned d = 0; d < 4; d++)
		mprobe(p, d, 0, 4, 0, d & 3);
	for (unsigned d = 0; d < 4; d++) {
		mprop(p, d, 1, 0xa2);
		mcmd(p, d, INV, 0, 1, 0, 0, 0);
		mcmd(p, d, SYNC, 0, 0, 0, 0, KICK);
		mquiesce(p);
		mfire(p, d, 0, 1);
		mfire(p, d, 0, 2);
		mcmd(p, d, MOVI, 0, 2, 0, 1, 0);
		mcmd(p, d, SYNC, 0, 0, 0, 1, KICK);
		mcmd(p, d, INT, 0, 3, 0, 0, KICK);
	}
	mcheck(p);
	for (unsigned d = 0; d < 4; d++) {
		mprop(p, d, 1, 0xa3);
		mcmd(p, d, INVALL, 0, 0, 0, 0, 0);
		mcmd(p, d, SYNC, 0, 0, 0, 0, KICK);
	}
	op(p, FZ_OP_RESET, 2, 0, 0);
	mquiesce(p);
	mfire(p, 0, 0, 0);
	mcmd(p, 3, DISCARD, 0, 0, 0, 0, KICK);
	mcmd(p, 3, MAPD, 0, 0, 0, 0, V0 | KICK);
	mcheck(p);
	save(p, root, "multidomain", "four-policies");
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
	gen_multidomain(&p, argv[1]);
	if (argc > 2) {
		gen_qemu(&p, argv[1], argv[2], "cmdq");
		gen_qemu(&p, argv[1], argv[2], "policy");
	}
	free(p.b.p);
	return 0;
}
