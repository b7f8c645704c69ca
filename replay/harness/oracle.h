/*
 * oracle.h: guest-visible equivalence between an engine instance and the reference
 * model (refmodel.h).
 *
 * Compared: every mapped device (Size, ITT address), every mapped event (INTID,
 * ICID), every collection in range (its vCPU), every LPI the model maps (cfg as
 * last read, pending, pending vCPU), no LPI pending in the engine that the model does
 * not hold pending, and the delivery sequences.  Deliveries caused by one command
 * (INVALL may deliver several, in an order the architecture leaves open) are compared
 * as a multiset; across commands the order must match.
 *
 * On the first mismatch a human-readable message (what, where, expected vs got) is
 * written to msg and the result is nonzero.
 */
#ifndef HARNESS_ORACLE_H
#define HARNESS_ORACLE_H

#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "refmodel.h"

struct oracle_limits {
	/* EventIDs per device scanned in the engine for events the model lacks
	 * (the engine has no event iterator): 0 gives the default, 4096. */
	uint64_t max_event_scan;
	/* Unused: stray pending LPIs are found through the engine's pending iterator,
	 * over every INTID (this bounded the scan that did it before). */
	uint64_t max_lpi_scan;
	/* ICIDs from 0 up scanned for collections the model lacks: 0 gives 65536
	 * (all of them).  The model's collections are always checked. */
	uint64_t max_coll_scan;
	/* Skip the delivery comparison (when the caller compares deliveries itself). */
	int skip_deliveries;
};

enum oracle_result {
	ORACLE_OK = 0,
	ORACLE_MISMATCH = 1,
	ORACLE_ERROR = 2,     /* the engine answered a query with an API error */
};

/* Compare engine v (whose injections are inj[0..ninj)) with model r.  lim may be
 * NULL for the defaults.  msg (len bytes, may be 0) receives the first mismatch. */
int oracle_check(const struct vits *v, const struct harness_inject *inj, size_t ninj,
		 const struct ref *r, const struct oracle_limits *lim, char *msg, size_t len);

/* The same with the harness's engine and recorded injections. */
int oracle_check_harness(const struct harness *h, const struct ref *r,
			 const struct oracle_limits *lim, char *msg, size_t len);

/* Compare only the delivery sequences (as above). */
int oracle_check_deliveries(const struct harness_inject *inj, size_t ninj,
			    const struct ref *r, char *msg, size_t len);

#endif /* HARNESS_ORACLE_H */
