/*
 * Storage of credits (store_credits.c): grants and the ledger, the audit and
 * the outbox, and the sums tally verify checks. The types are store.h's;
 * the contract of every function is store.h's too.
 */
#ifndef TALLY_STORE_CREDITS_H
#define TALLY_STORE_CREDITS_H

#include "store/store.h"
#include <stddef.h>
#include <stdint.h>

/* --- credits --- */

const char *grant_source_str(enum grant_source g);
enum terr store_grant_insert(struct store *s, struct grant_row *r);
enum terr store_grant_set_remaining(struct store *s, int64_t id, int64_t remaining);
enum terr store_grant_set_expiry(struct store *s, int64_t id, int64_t expires_at);
/*
 * Grants of a user with remaining > 0 and not expired at now (expires_at 0
 * or > now), soonest-expiring first, never-expiring last (the order credits
 * are spent in). Pass now = 0 to include expired ones too.
 */
enum terr store_grants_live(struct store *s, const char *user, int64_t now, struct grant_row *out,
    size_t max, size_t *n);
/* Grants with remaining > 0 of a subscription, of a payment. */
enum terr store_grants_of_sub(struct store *s, int64_t sub_id, struct grant_row *out, size_t max,
    size_t *n);
enum terr store_grants_of_pay(struct store *s, int64_t pay_id, struct grant_row *out, size_t max,
    size_t *n);
/* Pack grants of a user with remaining > 0. */
enum terr store_grants_packs(struct store *s, const char *user, struct grant_row *out, size_t max,
    size_t *n);
/*
 * Period-bound plan grants (source subscription, trial or free, with an
 * expiry) of a user with remaining > 0: what a new subscription replaces.
 */
enum terr store_grants_plan(struct store *s, const char *user, struct grant_row *out, size_t max,
    size_t *n);
enum terr store_ledger_insert(struct store *s, struct ledger_row *r);
/* The newest max entries of a user, newest first. */
enum terr store_ledger_of(struct store *s, const char *user, struct ledger_row *out, size_t max,
    size_t *n);
/* The newest max entries of a user with their grant's source, newest first. */
enum terr store_ledger_lines_of(struct store *s, const char *user, struct ledger_line *out,
    size_t max, size_t *n);
/* Entries at or after since (ms), after after_id, in id order (exports). */
enum terr store_ledger_since(struct store *s, int64_t since, int64_t after_id,
    struct ledger_row *out, size_t max, size_t *n);

/* --- audit and outbox --- */

enum terr store_audit_insert(struct store *s, struct audit_row *r);
enum terr store_audit_of(struct store *s, const char *user, struct audit_row *out, size_t max,
    size_t *n);
/* TERR_DUP when a row with the same dedup_key exists (then nothing is written). */
enum terr store_outbox_insert(struct store *s, struct outbox_row *r);
enum terr store_outbox_count(struct store *s, const char *kind, const char *topic, int64_t *n);

/* --- balance alerts (lib/core/apply_balance.c) --- */

/* Where a balance stands against the alert thresholds: at or above the low one, below it, zero. */
enum balance_state { BALANCE_OK, BALANCE_LOW, BALANCE_EMPTY, BALANCE__MAX };

struct balance_alert_row {
	char user[USER_ID_MAX + 1];
	enum balance_state state;
	int64_t balance;   /* the live balance when the state was set */
	int64_t threshold; /* the low threshold then, in credits; 0: none */
	int64_t inbox_id;  /* the event whose change set it; 0 when none */
	int64_t changed_at;
};

const char *balance_state_str(enum balance_state st);
/* The user's row; TERR_NOTFOUND when the user has none yet. */
enum terr store_balance_alert_get(struct store *s, const char *user, struct balance_alert_row *out);
/* Insert or replace the user's row. */
enum terr store_balance_alert_set(struct store *s, const struct balance_alert_row *r);

/* --- checks for tally verify --- */

/* Credits a user can spend at now: remaining of unexpired grants. */
enum terr store_balance_live(struct store *s, const char *user, int64_t now, int64_t *balance);
/* The newest paid payment of a subscription (0 when none). */
enum terr store_pay_latest_of_sub(struct store *s, int64_t sub_id, int64_t *pay_id);
/* Sum of ledger entries and of remaining over a user's grants (for tests and verify). */
enum terr store_balance_sums(struct store *s, const char *user, int64_t *ledger_sum,
    int64_t *remaining_sum);

#endif
