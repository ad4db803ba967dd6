/*
 * Google Play's Real-time developer notifications as Pub/Sub pushes them
 * (PROVIDERS.md 7.1, 7.3), and tally's envelope: what the inbox keeps of a
 * push, with the purchase it names as the Android Publisher API answered
 * when the push arrived.
 *
 * A push says only "this purchase changed" (Google's RTDN reference: always
 * read the purchase from the API), so the webhook does not store it as it
 * came: it reads it, fetches the purchase (google_api.h) and stores
 *
 *   {"tally_google": {"v": 1, "message_id", "publish_time", "subscription",
 *      "fetched_at": <ms>, "call": "subscriptionsv2" | "products" | "none",
 *      "status": <Google's HTTP status; 0 without a call>,
 *      "token": <purchaseToken>, "product": <the product id called, or null>},
 *    "notification": <the decoded DeveloperNotification, verbatim, or null>,
 *    "purchase": <the API's answer, verbatim, or null>}
 *
 * which google_map.h turns into an event, then and on every replay or
 * rebuild, without calling Google again. A purchase fetched without a
 * notification (the app hands it in; reconciliation) is the same envelope
 * with "notification": null. The fetching is google_fetch.h's: this file
 * calls nothing.
 */
#ifndef TALLY_GOOGLE_PUSH_H
#define TALLY_GOOGLE_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/jread.h"
#include "base/json.h"
#include "base/tally_limits.h"
#include "cfg/cfg.h"

#define GOOGLE_ENVELOPE_V     1
/* An RFC 3339 time as Google writes it (nanoseconds at most), with its NUL. */
#define GOOGLE_TIME_MAX       40
/*
 * A DeveloperNotification is a few hundred bytes; a push whose data decodes
 * to more is not read. With an API answer (GOOGLE_ANSWER_MAX) an envelope
 * stays within BODY_MAX, what a replay reads back from the inbox.
 */
#define GOOGLE_NOTE_MAX       (64 * 1024)
#define GOOGLE_ENVELOPE_MAX   BODY_MAX
/* The prefix of the id of a push whose messageId cannot be read. */
#define GOOGLE_PUSH_ID_PREFIX "push:"

/* Which of DeveloperNotification's members a notification is (rtdn-reference). */
enum google_note_kind {
	GOOGLE_NOTE_NONE,          /* no notification: a purchase fetched on its own */
	GOOGLE_NOTE_SUB,           /* subscriptionNotification */
	GOOGLE_NOTE_PRODUCT,       /* oneTimeProductNotification */
	GOOGLE_NOTE_VOIDED,        /* voidedPurchaseNotification */
	GOOGLE_NOTE_REFUND_REVIEW, /* pendingRefundReviewNotification */
	GOOGLE_NOTE_TEST,          /* testNotification */
};

/* The Android Publisher call an envelope's purchase came from. */
enum google_call {
	GOOGLE_CALL_NONE,
	GOOGLE_CALL_SUB,     /* purchases.subscriptionsv2.get */
	GOOGLE_CALL_PRODUCT, /* purchases.products.get */
};

/* A DeveloperNotification read (PROVIDERS.md 7.3). */
struct google_note {
	enum google_note_kind kind;
	int64_t code;         /* subscription, one-time: notificationType */
	int64_t event_ms;     /* eventTimeMillis (a JSON string or number) */
	char token[ID_MAX];   /* purchaseToken; "" for a refund review */
	char sku[ID_MAX];     /* one-time: the product id */
	char order[ID_MAX];   /* voided, refund review: orderId ("" when absent) */
	int64_t product_type; /* voided: 1 subscription, 2 one-time product */
	int64_t refund_type;  /* voided: 1 full, 2 quantity-based partial */
};

/*
 * Read a DeveloperNotification (the decoded data) of package into n: its
 * packageName must be package, exactly one notification member must be
 * there, and a subscription's or one-time product's token (and sku) must be
 * ids tally can key on (at most ID_MAX - 1 bytes of text). Marks r bad with
 * the reason otherwise (an unknown member: "no notification tally knows").
 */
void google_note_read(const cJSON *o, const char *package, struct google_note *n, struct jread *r);

/* The call that reads the truth behind n: subscriptionsv2, products, or none. */
enum google_call google_note_call(const struct google_note *n);

/* A push, read. */
struct google_push {
	char message_id[ID_MAX];
	char publish_time[GOOGLE_TIME_MAX];
	char subscription[ID_MAX]; /* the Pub/Sub subscription's name */
	struct buf data;           /* the decoded DeveloperNotification, verbatim */
	struct google_note note;
};

/*
 * The id a push's event is stored under: its message.messageId (else
 * message_id) when that is an id tally keeps (text, at most idsize - 1
 * bytes), else GOOGLE_PUSH_ID_PREFIX and the first 32 hex digits of the
 * SHA-256 of the body. Never fails; idsize at least 40.
 */
void google_push_event_id(const char *body, size_t n, char *id, size_t idsize);

/*
 * Read a wrapped push body[0..n) ({"message": {"data": base64, "messageId",
 * "publishTime", ...}, "subscription"}) into p (release it in every case)
 * and its data as a notification of g's package. TERR_INVAL with why (no
 * secret, values quoted) when it cannot be: not that JSON, no data, bad
 * base64, a notification that google_note_read refuses. A body holding
 * "tally_google" is refused: only tally writes envelopes.
 */
enum terr google_push_read(const struct cfg_google *g, const char *body, size_t n,
    struct google_push *p, char *why, size_t whysize);
void google_push_release(struct google_push *p);

/*
 * An RFC 3339 UTC time as Google writes them ("2026-05-01T10:00:00.123456Z":
 * 0 to 9 fractional digits, always Z) in ms, into *ms. TERR_INVAL otherwise.
 */
enum terr google_time(const char *s, int64_t *ms);

/* What one envelope holds (the texts are copied; NULL: none). */
struct google_envelope {
	const char *message_id;
	const char *publish_time;
	const char *subscription;
	int64_t fetched_at;
	enum google_call call;
	int status;
	const char *token;
	const char *product;
	const char *notification; /* JSON text, written as it is: the caller parsed it */
	size_t notification_n;
	const char *purchase; /* JSON text, written as it is: the caller parsed it */
	size_t purchase_n;
};

/* Append the envelope v to out; out's error (TERR_TOOBIG past its max). */
enum terr google_envelope_write(const struct google_envelope *v, struct buf *out);

/*
 * 1 when root (a parsed body) is read as tally's envelope: it holds
 * "tally_google" and no "message" (a push always has one).
 */
int google_is_envelope(const cJSON *root);

/*
 * A body from the network shaped like tally's envelope (only a forgery is:
 * Pub/Sub never sends one) is never stored as one: it is kept as
 * {"message": {}, GOOGLE_FORGED_KEY: "<base64 of at most GOOGLE_FORGED_KEEP
 * of its bytes>"}, which google_parse reads as a push that cannot be read.
 * Appended to out; out's error.
 */
#define GOOGLE_FORGED_KEY  "tally_google_forged"
#define GOOGLE_FORGED_KEEP (BODY_MAX / 2)
enum terr google_forged_write(const char *body, size_t n, struct buf *out);

#endif
