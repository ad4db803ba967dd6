/*
 * Storage's typed rows (store_rows.c): users and their links, the inbox,
 * subscriptions, entitlements and payments. The types are store.h's; the
 * contract of every function is store.h's too (TERR_NOTFOUND, TERR_DUP ...).
 */
#ifndef TALLY_STORE_ROWS_H
#define TALLY_STORE_ROWS_H

#include "base/buf.h"
#include "store/store.h"
#include <stddef.h>
#include <stdint.h>

/* --- users and links --- */

enum terr store_user_exists(struct store *s, const char *id);
/* TERR_DUP (nothing written) when the user exists. */
enum terr store_user_insert(struct store *s, const char *id, int64_t now);
enum terr store_user_created(struct store *s, const char *id, int64_t *created_at);
/* The user's row: created_at and merged_into ("" unless merged); either may be NULL. */
enum terr store_user_get(struct store *s, const char *id, int64_t *created_at,
    char merged_into[USER_ID_MAX + 1]);
/* Move from's links and payments to into and record the merge on from. */
enum terr store_user_merge(struct store *s, const char *from, const char *into);
enum terr store_link_find(struct store *s, const char *provider, const char *kind,
    const char *ext_id, char user[USER_ID_MAX + 1]);
enum terr store_link_insert(struct store *s, const char *provider, const char *kind,
    const char *ext_id, const char *user, int64_t now);
enum terr store_link_delete(struct store *s, const char *provider, const char *kind,
    const char *ext_id);
enum terr store_links_of(struct store *s, const char *user, struct link_row *out, size_t max,
    size_t *n);

/* --- inbox --- */

const char *inbox_state_str(enum inbox_state st);
/* -1 when s names no state. */
int inbox_state_parse(const char *s);
enum terr store_inbox_find(struct store *s, const char *provider, const char *event_id,
    struct inbox_row *out);
/* Insert r with body; r->id is set. TERR_DUP (nothing written) when (provider, event_id) exists. */
enum terr store_inbox_insert(struct store *s, struct inbox_row *r, const void *body, size_t n);
/* Record the outcome: state, reason, user, orphan key, attempts, updated_at. */
enum terr store_inbox_update(struct store *s, const struct inbox_row *r);
/* One row and, when body is not NULL, its raw body. */
enum terr store_inbox_get(struct store *s, int64_t id, struct inbox_row *out, struct buf *body);
/*
 * Rows after after_id in id order: all (state < 0) or of one state; of one
 * user when user is not NULL.
 */
enum terr store_inbox_list(struct store *s, int state, const char *user, int64_t after_id,
    struct inbox_row *out, size_t max, size_t *n);
/* *any = 1 when some event is orphaned at all (a cheap test before the lookups below). */
enum terr store_inbox_any_orphan(struct store *s, int *any);
/* Ids of orphaned events waiting for (provider, kind, id). */
enum terr store_inbox_orphans(struct store *s, const char *provider, const char *kind,
    const char *id, int64_t *ids, size_t max, size_t *n);

/* --- subscriptions --- */

enum terr store_sub_find(struct store *s, const char *provider, const char *ext_id,
    struct sub_row *out);
enum terr store_sub_get(struct store *s, int64_t id, struct sub_row *out);
/* Insert r (id ignored) and set r->id. */
enum terr store_sub_insert(struct store *s, struct sub_row *r);
/* Write every field of r to the row r->id (its user too: transfers move it). */
enum terr store_sub_update(struct store *s, const struct sub_row *r);
enum terr store_subs_of(struct store *s, const char *user, struct sub_row *out, size_t max,
    size_t *n);

/* --- entitlements --- */

/* Insert or update the row (user, name, source). *changed = 1 when anything changed. */
enum terr store_ent_set(struct store *s, const struct ent_row *r, int *changed);
enum terr store_ents_of_sub(struct store *s, int64_t sub_id, struct ent_row *out, size_t max,
    size_t *n);
enum terr store_ents_of(struct store *s, const char *user, struct ent_row *out, size_t max,
    size_t *n);

/* --- payments --- */

const char *pay_state_str(enum pay_state st);
/* The payment a business key belongs to. */
enum terr store_pay_find_key(struct store *s, const char *provider, const char *key,
    struct pay_row *out);
enum terr store_pay_insert(struct store *s, struct pay_row *r);
/* Attach a key; TERR_DUP when the key already belongs to a payment. */
enum terr store_pay_key_insert(struct store *s, const char *provider, const char *key,
    int64_t pay_id);
enum terr store_pay_set_state(struct store *s, int64_t id, enum pay_state st);
enum terr store_pay_set_user(struct store *s, int64_t pay_id, const char *user);
/* Every payment of a subscription to user. */
enum terr store_pays_move_sub(struct store *s, int64_t sub_id, const char *user);
/* Credits taken back from the grants of a payment by refunds (a positive number). */
enum terr store_clawback_of_pay(struct store *s, int64_t pay_id, int64_t *amount);

#endif
