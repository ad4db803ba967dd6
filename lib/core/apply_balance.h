/* apply: balance alerts (apply_balance.c), for apply.c. */
#ifndef TALLY_APPLY_BALANCE_H
#define TALLY_APPLY_BALANCE_H

#include "core/apply_outcome.h"

/*
 * For each user whose balance the applied event e changed (o->touched):
 * where the balance now stands against the thresholds of config
 * balance_alerts, the state kept in balance_alerts, and on a crossing down
 * an outbox row (balance.low or balance.empty) in the event's transaction.
 * Nothing when the section is absent. Returns storage errors only.
 */
enum terr ap_balance_alerts(struct actx *a, struct outcome *o, const struct bev *e);

#endif
