/*
 * ptest.c: the policy tests' shared world (see ptest.h).
 */
#include "ptest.h"

#include <stdio.h>
#include <string.h>

void pt_opts_default(struct pt_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ndom = 1;
	o->nr_vcpus = 4;
	o->nr_pcpus = 4;
	o->nr_plpis = 4096;
	o->queue_pages = 16;
	o->devid_bits = 12;
	o->eventid_bits = 8;
	o->cid_bits = 4;
	o->intid_bits = 14;
	o->error_mode = VITS_ERRMODE_SKIP;
}

void pt_opts_policy(struct pt_opts *o, uint8_t p)
{
	for (unsigned i = 0; i < MH_MAX_DOMAINS; i++)
		o->policy[i] = p;
}

struct multihost *pt_world(const struct pt_opts *o)
{
	struct mh_config mc;
	mh_config_default(&mc);
	mc.host.nr_pcpus = o->nr_pcpus;
	mc.host.nr_plpis = o->nr_plpis;
	mc.host.pdevid_bits = 16;
	mc.host.peventid_bits = o->eventid_bits;
	mc.pits.queue_bytes = o->pits_queue_bytes;
	mc.pits.skip_errors = o->pits_skip_errors;
	struct multihost *mh;
	int rc = mh_create(&mc, &mh);
	if (rc < 0) {
		printf("BROKEN mh_create: %s\n", vits_strerror(rc));
		return NULL;
	}
	for (unsigned i = 0; i < o->ndom; i++) {
		struct harness_config hc;
		harness_config_default(&hc);
		hc.vits.nr_vcpus = o->nr_vcpus;
		hc.vits.devid_bits = o->devid_bits;
		hc.vits.eventid_bits = o->eventid_bits;
		hc.vits.cid_bits = o->cid_bits;
		hc.vits.intid_bits = o->intid_bits;
		hc.vits.policy = o->policy[i];
		hc.vits.budget = o->budget;
		hc.vits.invall_threshold = o->invall_threshold;
		hc.vits.sync_squash = o->sync_squash;
		hc.vits.error_mode = o->error_mode;
		struct mh_domain *d;
		rc = mh_add_domain(mh, &hc, &d);
		if (rc < 0 || mh_guest_init(d, o->queue_pages, o->intid_bits)) {
			printf("BROKEN domain %u: %s\n", i, rc < 0 ? vits_strerror(rc) : "guest init");
			mh_destroy(mh);
			return NULL;
		}
	}
	return mh;
}

int pt_cmds(struct mh_domain *d, const struct its_cmd *c, size_t n)
{
	return mh_submit(d, c, n);
}

int pt_cmd(struct mh_domain *d, struct its_cmd c)
{
	return mh_submit(d, &c, 1);
}

struct its_cmd pt_mapd(uint32_t vdevid, unsigned bits)
{
	return its_mk_mapd(vdevid, bits - 1, MH_ITT_GPA(vdevid), 1);
}

struct its_cmd pt_unmapd(uint32_t vdevid)
{
	return its_mk_mapd(vdevid, 0, 0, 0);
}

bool pt_check(struct tstate *t, struct multihost *mh, const char *name)
{
	char msg[768];
	if (mh_quiesce(mh) != 0) {
		size_t nf;
		const struct pits_finding *f = pits_findings(mh->pits, &nf);
		if (nf)
			pits_format_finding(&f[0], msg, sizeof(msg));
		else
			snprintf(msg, sizeof(msg), "could not reach quiescence");
		return t_ok(t, false, name, "%s", msg);
	}
	int rc = mh_check(mh, msg, sizeof(msg));
	return t_ok(t, rc == 0, name, "%s", msg);
}

struct vits_host_stats pt_host(struct multihost *mh)
{
	struct vits_host_stats s;
	vits_host_get_stats(mh->host, &s);
	return s;
}

const char *pt_policy(uint8_t p)
{
	const char *n = vits_policy_name((enum vits_policy)p);
	return n ? n : "?";
}

static uint64_t pt_splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

void pt_rng_seed(struct pt_rng *r, uint64_t seed)
{
	r->s = pt_splitmix(seed);
	if (r->s == 0)
		r->s = 1;
}

uint64_t pt_rnd(struct pt_rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}
