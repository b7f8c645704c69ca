/*
 * ptest.h: what the policy tests share: a world of N domains on one host backed by
 * the physical ITS model (replay/harness/multihost.h), a standard guest geometry,
 * one-line command helpers and PASS/FAIL checks (tests/harness/tcheck.h).
 */
#ifndef TESTS_POLICY_PTEST_H
#define TESTS_POLICY_PTEST_H

#include <stdbool.h>
#include <stdint.h>

#include "multihost.h"
#include "tcheck.h"

#define LPI_ON  0xa3u   /* priority 0xa0, Group1, Enable */
#define LPI_OFF 0xa2u
#define PT_LPI(n) (LPI_INTID_BASE + (n))

struct pt_opts {
	unsigned ndom;                       /* 1..MH_MAX_DOMAINS */
	uint8_t policy[MH_MAX_DOMAINS];      /* per domain */
	uint32_t budget;                     /* per-trap budget, 0 = none */
	uint32_t invall_threshold;           /* K */
	uint8_t sync_squash;
	uint32_t nr_vcpus;                   /* per domain */
	uint32_t nr_pcpus;
	uint32_t nr_plpis;
	uint32_t pits_queue_bytes;           /* 0: 64 KiB */
	bool pits_skip_errors;
	unsigned queue_pages;                /* guest command queue */
	uint8_t devid_bits, eventid_bits, cid_bits, intid_bits;
	uint8_t error_mode;
};

/* 1 domain, forward, 4 vCPUs, 4 pCPUs, 4096 pLPIs, 64 KiB physical queue, strict,
 * 16 queue pages, 12 DeviceID bits, 8 EventID bits, 4 collection bits, 14 INTID
 * bits, skip mode, no budget, K = 0, no squashing. */
void pt_opts_default(struct pt_opts *o);
/* All domains get policy p. */
void pt_opts_policy(struct pt_opts *o, uint8_t p);

/* Create the world and program every domain's vITS; NULL (printed) on failure. */
struct multihost *pt_world(const struct pt_opts *o);
static inline struct mh_domain *pt_dom(struct multihost *mh, unsigned i) { return mh->dom[i]; }

/* Submit commands to domain d (0 or -1). */
int pt_cmds(struct mh_domain *d, const struct its_cmd *c, size_t n);
int pt_cmd(struct mh_domain *d, struct its_cmd c);
/* MAPD V=1 of vdevid with 2^bits events, ITT in the domain's RAM. */
struct its_cmd pt_mapd(uint32_t vdevid, unsigned bits);
struct its_cmd pt_unmapd(uint32_t vdevid);

/* mh_quiesce + mh_check, reported as one check named name; true when it held. */
bool pt_check(struct tstate *t, struct multihost *mh, const char *name);

/* Host totals (vits_host_get_stats). */
struct vits_host_stats pt_host(struct multihost *mh);

/* Physical commands of type idx the host sent between two snapshots. */
static inline uint64_t pt_d(const struct vits_host_stats *a, const struct vits_host_stats *b,
			    enum its_cmd_index idx)
{
	return b->phys_cmds[idx] - a->phys_cmds[idx];
}

/* A name for printing tables. */
const char *pt_policy(uint8_t p);

/* ---- PRNG (splitmix64-seeded xorshift64*) ---- */
struct pt_rng {
	uint64_t s;
};
void pt_rng_seed(struct pt_rng *r, uint64_t seed);
uint64_t pt_rnd(struct pt_rng *r);
static inline uint64_t pt_below(struct pt_rng *r, uint64_t n) { return n ? pt_rnd(r) % n : 0; }
static inline bool pt_chance(struct pt_rng *r, unsigned pct) { return pt_below(r, 100) < pct; }

#endif /* TESTS_POLICY_PTEST_H */
