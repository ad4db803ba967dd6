/* apply: moves between users (apply_move.c), for apply.c. */
#ifndef TALLY_APPLY_MOVE_H
#define TALLY_APPLY_MOVE_H

#include "core/apply_outcome.h"

enum terr ap_apply_transfer(struct actx *a, const struct bev *e, struct outcome *o);
/* Everything of user from to into, audited on both sides; from stands merged. */
enum terr ap_merge_users(struct actx *a, struct outcome *o, const char *from, const char *into);

#endif
