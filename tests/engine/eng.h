/*
 * eng.h: what the engine tests share on top of the host harness (replay/harness):
 * a standard guest layout, a trace recorder that keeps every event (the harness's
 * own log drops e_its and the physical-command causes), one-command helpers, and a
 * fingerprint of the guest-visible state for "a failing command changes nothing".
 */
#ifndef ENGINE_ENG_H
#define ENGINE_ENG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "harness.h"
#include "check.h"

/* Guest layout inside the harness's default RAM [0x40000000, 0x80000000). */
#define ENG_RAM_BASE   HARNESS_DEFAULT_RAM_BASE
#define ENG_RAM_END    (HARNESS_DEFAULT_RAM_BASE + HARNESS_DEFAULT_RAM_SIZE)
#define ENG_QUEUE_GPA  0x40000000ull          /* up to 256 pages = 1 MiB */
#define ENG_DEVTAB_GPA 0x40100000ull          /* flat, up to 1 MiB */
#define ENG_PROP_GPA   0x40400000ull          /* up to 16 MiB (24 INTID bits) */
#define ENG_ITT_BASE   0x48000000ull          /* 1 MiB per device number modulo 256 */

/* Property bytes: priority 0xa0, Group1 (RES1), Enable. */
#define LPI_ON  0xa3u
#define LPI_OFF 0xa2u

struct eng_events {
	struct vits_event *ev;
	size_t n, cap;
};

struct eng {
	struct harness *h;
	struct vits *v;                 /* h->vits */
	struct eng_events rec;          /* every trace event (mem.data cleared) */
	bool record;                    /* settable: false stops recording */
	struct vits_event last_cmd;     /* the last VITS_EV_CMD seen */
	uint64_t nr_cmd_events;
};

/* Geometry of a test engine.  eng_opts_default: 4 vCPUs, 12 DeviceID bits,
 * 10 EventID bits, 4 collection bits, 16 INTID bits, skip mode, no budget,
 * one queue page, a flat device table of 8 pages of 4 KiB (4096 devices),
 * a property table of 16 INTID bits, no host. */
struct eng_opts {
	struct harness_config hc;       /* hc.vits and hc.host are the engine's */
	unsigned queue_pages;
	unsigned devtab_pages, page_size;
	bool indirect;
	unsigned prop_id_bits;          /* 0: no property table */
	bool no_guest_init;             /* leave the registers at reset */
};

void eng_opts_default(struct eng_opts *o);
/* Create (and unless no_guest_init, program and enable) a test engine; NULL on
 * failure (printed and counted as a failed check). */
struct eng *eng_new(const struct eng_opts *o);
void eng_free(struct eng *e);

/* Submit one command and kick (through the harness driver, or, when the test
 * programmed the registers itself, at CWRITER of the queue CBASER names); return the
 * reason of the last command event (-1 when no command ran).  e->last_cmd holds it. */
int eng_cmd(struct eng *e, struct its_cmd c);
/* Submit n commands and kick; the number of commands that failed. */
int eng_cmds(struct eng *e, const struct its_cmd *c, size_t n);

/* Run c, check it failed with reason (and E_ITS code e_its, and the outcome for the
 * error mode), and that the guest-visible state, injections and physical commands
 * did not change. */
void eng_expect_fail_at(const char *file, int line, struct eng *e, struct its_cmd c,
			int reason, uint32_t e_its, const char *what);
#define EXPECT_FAIL(e, c, reason, e_its, what) \
	eng_expect_fail_at(__FILE__, __LINE__, (e), (c), (reason), (e_its), (what))
/* Run c and check it succeeded. */
void eng_expect_ok_at(const char *file, int line, struct eng *e, struct its_cmd c,
		      const char *what);
#define EXPECT_OK(e, c, what) eng_expect_ok_at(__FILE__, __LINE__, (e), (c), (what))

/* Fingerprint of everything the guest can observe: devices, events (up to 2^16 per
 * device), collections, every LPI's cfg/pending/vCPU, CTLR and the BASERs. */
uint64_t eng_state_hash(struct eng *e);

/* Guest property byte; register helpers; stats. */
void eng_prop(struct eng *e, uint32_t intid, uint8_t cfg);
uint64_t eng_rd(struct eng *e, uint64_t off, unsigned size);
void eng_wr(struct eng *e, uint64_t off, unsigned size, uint64_t val);
struct vits_stats eng_stats(struct eng *e);
size_t eng_ninj(struct eng *e);
const struct harness_inject *eng_inj(struct eng *e, size_t i);
size_t eng_nphys(struct eng *e);
const struct its_cmd *eng_phys(struct eng *e, size_t i);
struct vits_lpi_info eng_lpi(struct eng *e, uint32_t intid);
uint64_t eng_itt(uint32_t devid);

/* Recorded events of one type, from index `from` of the record. */
size_t eng_count_type(struct eng *e, uint16_t type, size_t from);
void eng_clear_record(struct eng *e);

/* Write one command into the guest queue at byte offset off (bypassing the
 * harness driver's write pointer). */
void eng_put_slot(struct eng *e, uint64_t queue_gpa, uint32_t off, struct its_cmd c);

/* A standard small setup: MAPC icid i -> vCPU i for i < nr_vcpus, MAPD of devid
 * with size_m1, MAPTI (devid, ev) -> intid on icid with the property byte cfg. */
void eng_map_colls(struct eng *e);
void eng_mapd(struct eng *e, uint32_t devid, unsigned size_m1);
void eng_mapti(struct eng *e, uint32_t devid, uint32_t ev, uint32_t intid, uint32_t icid,
	       uint8_t cfg);

const char *eng_reason(int r);

#endif /* ENGINE_ENG_H */
