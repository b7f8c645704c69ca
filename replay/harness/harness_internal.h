/*
 * harness_internal.h: what the harness's own files share; not for users.
 */
#ifndef HARNESS_INTERNAL_H
#define HARNESS_INTERNAL_H

#include "harness.h"

/* Append one zeroed element of esz bytes; NULL when memory runs out. */
void *harness_vec_push(struct harness_vec *v, size_t esz);
void harness_vec_free(struct harness_vec *v);

/* The counting allocator, charging st (harness.c). */
void *harness_count_alloc(struct harness_alloc_stats *st, size_t size);
void harness_count_free(struct harness_alloc_stats *st, void *ptr, size_t size);

/* Host side (harness_host.c): fill the ops, set up and tear down the sinks. */
void harness_host_ops_init(struct vits_host_ops *ops);
int harness_host_setup(struct harness *h);
void harness_host_teardown(struct harness *h);
void harness_host_reset(struct harness *h);

#endif /* HARNESS_INTERNAL_H */
