/*
 * Counters for /metrics. Any thread adds to a process-wide table of pending
 * deltas (no I/O); the write path adds them to the metrics table inside the
 * transaction it commits anyway (metrics_flush), so counting costs no fsync
 * of its own and every process's counts end up in one place.
 */
#ifndef TALLY_METRICS_H
#define TALLY_METRICS_H

#include <stdint.h>

#include "store/store.h"

/* Distinct series held pending at once; past it, new series are dropped (and counted). */
#define METRICS_PENDING_MAX 1024

/* Add delta to the counter name{labels} (labels in Prometheus form: 'provider="stripe"'). */
void metrics_add(const char *name, const char *labels, int64_t delta);

/* Record a duration into the histogram name{labels} (ms; buckets from 1 ms to 10 s). */
void metrics_observe_ms(const char *name, const char *labels, int64_t ms);

/* Write the pending deltas in s's open transaction; on failure they stay pending. */
enum terr metrics_flush(struct store *s);

#endif
