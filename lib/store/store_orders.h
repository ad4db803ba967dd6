/*
 * Storage of what tally sells itself: orders (purchases tally issues for the
 * direct providers and the credit balance), referral rewards, and the
 * columns of a user that access depends on (registration for the free tier,
 * the trial taken, the referrer, the next free allowance). See store.h for
 * the connection and transactions.
 */
#ifndef TALLY_STORE_ORDERS_H
#define TALLY_STORE_ORDERS_H

#include <stdint.h>

#include "store/store.h"

/* --- orders --- */

enum order_state { ORDER_PENDING, ORDER_PAID, ORDER_REFUNDED, ORDER_EXPIRED, ORDER_CANCELED };

const char *order_state_str(enum order_state st);

struct order_row {
	char id[ID_MAX];
	char provider[PROVIDER_MAX];
	char user[USER_ID_MAX + 1];
	char product[CFG_NAME_MAX]; /* catalog id */
	int64_t amount;             /* smallest unit of currency, from the catalog */
	char currency[16];
	enum order_state state;
	int live;
	char provider_ref[ID_MAX]; /* "" until the provider made it */
	char charge_id[ID_MAX];    /* "" until paid */
	int64_t pay_id;            /* 0 until paid */
	int64_t expires_at;
	int64_t created_at;
	int64_t updated_at;
};

/* Insert r; TERR_DUP when the id (or the provider's ref) is taken. */
enum terr store_order_insert(struct store *s, const struct order_row *r);
enum terr store_order_get(struct store *s, const char *id, struct order_row *out);
/* The order the provider knows as ref (a Razorpay order id, a CryptoBot invoice id). */
enum terr store_order_find_ref(struct store *s, const char *provider, const char *ref,
    struct order_row *out);
/* Write state, provider_ref, charge_id, pay_id and updated_at of r; TERR_DUP when the charge id is another order's. */
enum terr store_order_update(struct store *s, const struct order_row *r);
/* The order a payment paid. */
enum terr store_order_of_pay(struct store *s, int64_t pay_id, struct order_row *out);

/* --- users' access columns --- */

struct user_row {
	char id[USER_ID_MAX + 1];
	int64_t created_at;
	char merged_into[USER_ID_MAX + 1];
	char referrer[USER_ID_MAX + 1]; /* "" when none */
	int64_t registered_at;          /* 0: not registered through the API */
	int64_t trial_used_at;          /* 0: the app-managed trial is still available */
	int64_t free_next_at;           /* the next free allowance; 0: none due */
};

enum terr store_user_row(struct store *s, const char *id, struct user_row *out);
/* Set the referrer once; TERR_CONFLICT when the user already has one. */
enum terr store_user_set_referrer(struct store *s, const char *id, const char *referrer);
/* Mark registered once; TERR_DUP when it already was. */
enum terr store_user_set_registered(struct store *s, const char *id, int64_t at);
/* Mark the trial taken once; TERR_DUP when it already was. */
enum terr store_user_set_trial_used(struct store *s, const char *id, int64_t at);
enum terr store_user_set_free_next(struct store *s, const char *id, int64_t at);

/* --- referral rewards --- */

struct referral_row {
	char buyer[USER_ID_MAX + 1];
	int64_t pay_id;
	char referrer[USER_ID_MAX + 1];
	int64_t percent;
	int64_t credits;
	int64_t grant_id; /* 0 when no credits were granted */
	int64_t created_at;
};

/* Insert r; TERR_DUP when this (buyer, payment) was rewarded already. */
enum terr store_referral_insert(struct store *s, const struct referral_row *r);
/* Paying referrals (distinct buyers rewarded) of referrer and the credits they earned it. */
enum terr store_referral_stats(struct store *s, const char *referrer, int64_t *buyers,
    int64_t *credits);
/* *yes = 1 when buyer was rewarded for referrer before. */
enum terr store_referral_has_buyer(struct store *s, const char *referrer, const char *buyer,
    int *yes);

#endif
