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

/* A manage link: the longest is Google Play's with its sku and package percent-encoded. */
#define SUB_MANAGE_URL_MAX (URL_MAX + 3 * ID_MAX)

/*
 * What the customer is told of a subscription and of each entitlement it
 * gives (docs/user-document.md, "Entitlement detail"), from the stored row
 * and the config alone, never a provider call:
 *   will_renew       a renewal is due at the period end: active or trialing,
 *                    with access, not set to cancel, and renewed by someone
 *                    (not tally's own trial, not a plan paid once)
 *   problem          past_due: "grace" while access continues, until
 *                    problem_ends_at; "retry" once access has ended
 *                    (problem_ends_at, past) while the store may still
 *                    recover the payment; NULL otherwise
 *   in_trial         trialing with access, until trial_ends_at
 *   canceled_at_period_end  access continues to its end, then stops
 *   managed_in       "stripe", "app_store", "google_play", "telegram",
 *                    "amazon", "revenuecat" (another store RevenueCat
 *                    reports) or "app" (a plan tally sells: the app)
 *   manage_url       where the customer manages it, "" when tally has none:
 *                    stripe.portal_login_url; the App Store's and Google
 *                    Play's subscription pages
 */
struct sub_detail {
	int will_renew;
	const char *problem;
	int64_t problem_ends_at;
	int in_trial;
	int64_t trial_ends_at;
	int canceled_at_period_end;
	const char *managed_in;
	char manage_url[SUB_MANAGE_URL_MAX];
};

void sub_detail(const struct sub_row *r, const struct cfg *c, int64_t now, struct sub_detail *d);

#endif
