/*
 * rp_diff.c: two traces of the same inputs (before and after an engine change, say),
 * compared by their outputs.
 *
 * Both traces are walked in step over the records that carry inputs or outputs of the
 * engine: outputs (commands and outcomes, injections, physical commands, CREADR
 * changes, expected table effects) must be equal byte for byte; inputs (register
 * accesses, MSIs, property-table changes and writes, host LPIs, assignments) must be
 * the same, and the outputs they carry (a register read's value, an MSI's result)
 * equal.  Guest-memory reads are the engine's doing and its input at once: compared as
 * outputs.  Stream records (notes, checkpoints, inferred markers) are skipped.  The
 * first difference stops the comparison; counts cover both traces whole.
 */
#include <stdio.h>
#include <string.h>

#include "rp_internal.h"

static bool comparable(unsigned type)
{
	return (type >= ITR_REC_MMIO_READ && type <= ITR_REC_PROP_WRITE) || rp_is_effect(type);
}

/* Bytes of an input record that are input (the rest is what the engine answered). */
static uint32_t input_bytes(const struct itr_rec *r)
{
	switch (r->type) {
	case ITR_REC_MMIO_READ: return 8;          /* offset; size compared below */
	case ITR_REC_MSI: return 8;                /* devid, eventid; result is output */
	case ITR_REC_HOST_LPI: return 4;           /* plpi; intid, result are output */
	default: return r->len;
	}
}

struct side {
	struct rp_stream st;
	const struct itr_rec *r;
	uint64_t outputs, inputs, *by_type;
};

static const struct itr_rec *next_cmp(struct side *s)
{
	const struct itr_rec *r;
	while ((r = rp_peek(&s->st, 0)) && !comparable(r->type))
		rp_pop(&s->st);
	return r;
}

static void count(struct side *s, const struct itr_rec *r)
{
	s->by_type[r->type]++;
	if (rp_is_input(r->type))
		s->inputs++;
	else
		s->outputs++;
}

int rp_diff(const char *a, const char *b, struct rp_diff_result *res, char *msg, size_t msglen)
{
	memset(res, 0, sizeof(*res));
	struct side A = { .by_type = res->by_type_a }, B = { .by_type = res->by_type_b };
	struct itr_reader_opts ro = { .sz = sizeof(ro) };
	if (rp_stream_open_file(&A.st, a, &ro, msg, msglen))
		return RP_E_TRACE;
	if (rp_stream_open_file(&B.st, b, &ro, msg, msglen)) {
		rp_stream_close(&A.st);
		return RP_E_TRACE;
	}
	const struct itr_rec *ra, *rb;
	for (;;) {
		ra = next_cmp(&A);
		rb = next_cmp(&B);
		if (!ra || !rb)
			break;
		if (!res->differ) {
			bool ia = rp_is_input(ra->type), ib = rp_is_input(rb->type);
			const char *why = NULL;
			if (ia && ib) {
				uint32_t n = input_bytes(ra);
				if (ra->type != rb->type || ra->len != rb->len || ra->domain != rb->domain ||
				    memcmp(ra->payload, rb->payload, n < ra->len ? n : ra->len) ||
				    (ra->type == ITR_REC_MMIO_READ && ra->len > 16 &&
				     ra->payload[16] != rb->payload[16])) {
					res->inputs_differ = 1;
					why = "the traces do not have the same inputs here";
				} else if (memcmp(ra->payload, rb->payload, ra->len)) {
					why = ra->type == ITR_REC_MMIO_READ ?
					      "a register read returned a different value" :
					      "the same input had a different result";
				}
			} else if (ia != ib) {
				why = ia ? "B has an output A does not have before this input"
					 : "A has an output B does not have before this input";
			} else if (ra->type != rb->type || ra->len != rb->len ||
				   ra->domain != rb->domain || memcmp(ra->payload, rb->payload, ra->len)) {
				why = "the outputs differ";
			}
			if (why) {
				res->differ = 1;
				res->index_a = ra->index;
				res->index_b = rb->index;
				rp_format_rec(ra, res->a, sizeof(res->a));
				rp_format_rec(rb, res->b, sizeof(res->b));
				snprintf(res->what, sizeof(res->what), "%s", why);
			}
		}
		count(&A, ra);
		count(&B, rb);
		rp_pop(&A.st);
		rp_pop(&B.st);
	}
	if (!res->differ && (ra || rb)) {
		res->differ = 1;
		const struct itr_rec *r = ra ? ra : rb;
		res->index_a = ra ? ra->index : A.st.read;
		res->index_b = rb ? rb->index : B.st.read;
		if (ra)
			rp_format_rec(ra, res->a, sizeof(res->a));
		else
			snprintf(res->a, sizeof(res->a), "end of trace");
		if (rb)
			rp_format_rec(rb, res->b, sizeof(res->b));
		else
			snprintf(res->b, sizeof(res->b), "end of trace");
		snprintf(res->what, sizeof(res->what), "%s goes on where %s ends (%s)", ra ? "A" : "B",
			 ra ? "B" : "A", rp_is_input(r->type) ? "an input" : "an output");
		if (rp_is_input(r->type))
			res->inputs_differ = 1;
	}
	for (; ra; ra = next_cmp(&A)) {
		count(&A, ra);
		rp_pop(&A.st);
	}
	for (; rb; rb = next_cmp(&B)) {
		count(&B, rb);
		rp_pop(&B.st);
	}
	res->outputs_a = A.outputs;
	res->outputs_b = B.outputs;
	res->inputs_a = A.inputs;
	res->inputs_b = B.inputs;
	const struct itr_read_stats *sa = itr_reader_stats(A.st.rd), *sb = itr_reader_stats(B.st.rd);
	int rc = 0;
	if (sa->damage_events || sb->damage_events || A.st.err < 0 || B.st.err < 0) {
		snprintf(msg, msglen, "%s is damaged", sa->damage_events || A.st.err < 0 ? a : b);
		rc = RP_E_DAMAGED;
	}
	rp_stream_close(&A.st);
	rp_stream_close(&B.st);
	return rc;
}
