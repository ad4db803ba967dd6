/* apply: the app's outbound webhook (apply_webhook.c), for apply.c. */
#ifndef TALLY_APPLY_WEBHOOK_H
#define TALLY_APPLY_WEBHOOK_H

#include "core/apply_outcome.h"

/* The app's webhook row (user.updated) for an applied event that changed something. */
enum terr ap_webhook(struct actx *a, const struct outcome *o, const struct bev *e);

#endif
