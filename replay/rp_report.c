/*
 * rp_report.c: the divergence report: where (record index, and the input being
 * replayed), what was expected and what came, a few records of context either side,
 * whether it rests on inferred input, and a summary of the engine state there.
 */
#include <stdio.h>
#include <string.h>

#include "rp_internal.h"

const char *rp_div_kind_name(enum rp_div_kind k)
{
	switch (k) {
	case RP_DIV_NONE: return "none";
	case RP_DIV_MISMATCH: return "mismatch";
	case RP_DIV_MISSING: return "missing-output";
	case RP_DIV_EXTRA: return "extra-output";
	case RP_DIV_UNRECORDED_READ: return "unrecorded-read";
	case RP_DIV_EFFECT: return "table-effect";
	case RP_DIV_FINGERPRINT: return "fingerprint";
	case RP_DIV_INPUT: return "input-refused";
	case RP_DIV_ORACLE: return "oracle";
	}
	return "?";
}

/* Keep a copy of each consumed record (the first 64 payload bytes suffice to print it). */
void rp_hist_push(struct rp_session *s, const struct itr_rec *r)
{
	unsigned i = s->hist_pos;
	struct rp_mrec *m = &s->hist[i];
	m->type = r->type;
	m->flags = r->flags;
	m->domain = r->domain;
	m->cpu = r->cpu;
	m->len = r->len > 64 ? 64 : r->len;
	m->ts = r->ts;
	memcpy(s->hist_buf[i], r->payload, m->len);
	m->payload = s->hist_buf[i];
	s->hist_index[i] = r->index;
	s->hist_pos = (i + 1) % RP_HIST;
	if (s->hist_n < RP_HIST)
		s->hist_n++;
}

static void ctx_add(struct rp_divergence *d, uint64_t index, const struct itr_rec *r)
{
	if (d->nctx >= sizeof(d->ctx) / sizeof(d->ctx[0]))
		return;
	struct rp_ctx_line *l = &d->ctx[d->nctx++];
	l->index = index;
	rp_format_rec(r, l->text, sizeof(l->text));
}

static void state_summary(struct rp_session *s, char *buf, size_t n)
{
	struct vits_queue_info q = { 0 };
	struct vits_stats st;
	memset(&st, 0, sizeof(st));
	vits_query_queue(s->v, &q);
	vits_get_stats(s->v, &st);
	int k = snprintf(buf, n,
			 "ITS %s, queue %u bytes, CREADR 0x%x%s, CWRITER 0x%x; %llu guest "
			 "commands run (%llu failed), %llu physical, %llu injections, %llu MSIs "
			 "(%llu dropped); policy %s",
			 q.enabled ? "enabled" : "disabled", q.size, q.creadr,
			 q.stalled ? " (stalled)" : "", q.cwriter,
			 (unsigned long long)st.guest_cmd_total, (unsigned long long)st.cmd_errors,
			 (unsigned long long)st.phys_cmd_total, (unsigned long long)st.injections,
			 (unsigned long long)st.msis, (unsigned long long)st.msis_dropped,
			 vits_policy_name((enum vits_policy)s->cfg.policy));
	if (k < 0 || (size_t)k >= n)
		return;
	uint8_t fp[RP_FP_V1_LEN];
	if (rp_fingerprint_v1(s->v, fp, sizeof(fp)) > 0)
		snprintf(buf + k, n - (size_t)k, "; %u devices, %u events, %u collections mapped",
			 itr_get32(fp + 20), itr_get32(fp + 24), itr_get32(fp + 28));
}

void rp_diverge(struct rp_session *s, enum rp_div_kind kind, const struct itr_rec *at,
		const char *what, const char *expected, const char *got)
{
	if (s->stop)
		return;
	s->stop = 1;
	struct rp_result *res = s->res;
	struct rp_divergence *d = &res->div;
	res->diverged = 1;
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->index = at ? at->index : s->st.read;
	uint64_t at_index = d->index;   /* peeking below may move the window's slots */
	d->input_index = s->input_index;
	snprintf(d->what, sizeof(d->what), "%s", what);
	snprintf(d->expected, sizeof(d->expected), "%s", expected);
	snprintf(d->got, sizeof(d->got), "%s", got);

	/* Inferred input: the divergent record itself, or the latest inferred input. */
	if (at && (at->flags & ITR_RF_INFERRED)) {
		d->inferred = 1;
		snprintf(d->inferred_why, sizeof(d->inferred_why),
			 "the record is inferred (rule %s: %s)", itr_rule_name(s->pending_rule),
			 itr_rule_text(s->pending_rule));
	} else if (s->last_inferred_index != UINT64_MAX) {
		d->inferred = 1;
		snprintf(d->inferred_why, sizeof(d->inferred_why),
			 "inputs before it are inferred; the latest is record %llu (rule %s: %s)",
			 (unsigned long long)s->last_inferred_index,
			 itr_rule_name(s->last_inferred_rule), itr_rule_text(s->last_inferred_rule));
	}
	if (res->loss_records) {
		size_t l = strlen(d->inferred_why);
		snprintf(d->inferred_why + l, sizeof(d->inferred_why) - l,
			 "%sthe trace lost records before this point (%llu LOSS records)",
			 l ? "; " : "", (unsigned long long)res->loss_records);
	}

	/* Context: records consumed before, the record, records after. */
	unsigned c = s->o.context ? s->o.context : 4;
	if (c > RP_CTX_MAX)
		c = RP_CTX_MAX;
	unsigned nb = s->hist_n < c ? s->hist_n : c;
	for (unsigned i = 0; i < nb; i++) {
		unsigned j = (s->hist_pos + RP_HIST - nb + i) % RP_HIST;
		struct itr_rec r = { .type = s->hist[j].type, .flags = s->hist[j].flags,
				     .domain = s->hist[j].domain, .cpu = s->hist[j].cpu,
				     .len = s->hist[j].len, .payload = s->hist[j].payload };
		ctx_add(d, s->hist_index[j], &r);
	}
	d->ctx_at = d->nctx;
	size_t k0 = 0;
	if (at) {
		/* at is the record at the cursor, or an input further ahead. */
		for (k0 = 0; k0 < 1u << 16; k0++) {
			const struct itr_rec *r = rp_peek(&s->st, k0);
			if (!r || r->index == at_index)
				break;
		}
	}
	for (size_t k = k0 > c ? k0 - c : 0; k <= k0 + c; k++) {
		const struct itr_rec *r = rp_peek(&s->st, k);
		if (!r)
			break;
		ctx_add(d, r->index, r);
	}
	if (!at)
		d->ctx_at = d->nctx;
	else
		for (unsigned i = 0; i < d->nctx; i++)
			if (d->ctx[i].index == at_index && i >= d->ctx_at) {
				d->ctx_at = i;
				break;
			}
	state_summary(s, d->state, sizeof(d->state));
}
