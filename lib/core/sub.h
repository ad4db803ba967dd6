/*
 * The subscription model's rules, as pure functions of a row and the policy:
 * which states give access and until when. apply() and every report use
 * these, so "is this user pro?" has one answer everywhere.
 */
#ifndef TALLY_SUB_H
#define TALLY_SUB_H

#include <stdint.h>

#include "cfg/cfg.h"
#include "store/store.h"

/* 1 if the state gives access while its end has not passed. */
int sub_state_grants_access(enum sub_state st);

/*
 * When access ends for r as it stands (0 = no known end):
 *   trialing  trial_end (or period_end)
 *   active    period_end + policy leeway (the renewal may arrive late)
 *   canceled  period_end (it will not renew)
 *   past_due  grace_until (or state_at + policy grace)
 * and 0 with no access for every other state.
 */
int64_t sub_access_end(const struct sub_row *r, const struct cfg_policy *p);

/* 1 if r gives access at now. */
int sub_has_access(const struct sub_row *r, const struct cfg_policy *p, int64_t now);

#endif
