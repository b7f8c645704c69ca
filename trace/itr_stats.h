/*
 * itr_stats.h: totals over a trace, in constant memory (its-trace stats, replay).
 */
#ifndef ITR_STATS_H
#define ITR_STATS_H

#include "itr_types.h"
#include "vits.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Devices counted one by one; commands of further devices go to other_device_cmds. */
#define ITR_STATS_MAX_DEVICES 4096u

struct itr_dev_stats {
	uint32_t devid;
	uint32_t used;
	uint64_t commands, msis;
};

struct itr_stats {
	uint64_t records, by_type[256];
	uint64_t guest_commands, by_command[ITS_IDX_COUNT], other_commands;
	uint64_t cmd_errors, unobserved_outcomes;
	uint64_t errors_by_reason[VITS_R_COUNT];
	uint64_t phys_commands, phys_by_command[ITS_IDX_COUNT];
	uint64_t phys_by_cause_cmd[ITS_IDX_COUNT];  /* caused by a guest command of type i */
	uint64_t queue_wraps;
	uint64_t msis, msis_dropped;
	uint64_t injections, host_lpis, host_lpis_dropped;
	uint64_t mmio_reads, mmio_writes, mem_reads, prop_writes;
	uint64_t inferred, lost, loss_records, checkpoints, expected_effects;
	uint64_t unknown_records, short_records;
	uint64_t first_ts, last_ts;
	int have_ts;
	uint32_t ndev;
	uint64_t other_device_cmds, other_device_msis;
	struct itr_dev_stats dev[2 * ITR_STATS_MAX_DEVICES];  /* open addressing */
	uint16_t last_slot[65536];                           /* per domain */
	uint8_t have_slot[65536 / 8];
};

/* A zeroed struct itr_stats is ready; it is large (~400 KiB): allocate it. */
struct itr_stats *itr_stats_new(void);
void itr_stats_free(struct itr_stats *s);

/* Count one record. */
void itr_stats_add(struct itr_stats *s, const struct itr_rec *r);

/* Devices in the order of the table (call fn for each used entry). */
void itr_stats_foreach_device(const struct itr_stats *s,
			      void (*fn)(void *ctx, const struct itr_dev_stats *d), void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* ITR_STATS_H */
