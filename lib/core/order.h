/*
 * Orders before they are paid: the answer to a provider that asks before it
 * takes the money (hook.h HOOK_PRECHECK: Telegram's pre_checkout_query,
 * which waits at most 10 s for answerPreCheckoutQuery). The order the
 * question names must be one tally issued, made for that provider, pending,
 * not expired, for exactly the amount and currency asked (invariant 4). The
 * order is read, never written, and the question is not stored (it is not a
 * payment): what became of it is said in the request's log line.
 */
#ifndef TALLY_ORDER_H
#define TALLY_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "cfg/cfg.h"
#include "providers/hook.h"

struct store; /* store/store.h */

/*
 * How a provider is answered (Telegram: telegram_answer_precheckout): ok, or
 * a refusal with error_message for the payer. TERR_OK when the provider took
 * the answer; otherwise why says what went wrong, never a secret. Named by
 * the one endpoint that calls out (struct handler's answer), so that no
 * other links libcurl.
 */
typedef enum terr (*order_answer_fn)(const struct cfg *c, const char *query_id, int ok,
    const char *error_message, char *why, size_t whysize);

struct order_precheck {
	int answered;   /* the provider took the answer */
	int accepted;   /* the answer was yes */
	char note[256]; /* for the log line: "accepted: order ord_... pending", "refused: ..." */
};

/*
 * Check the question u->q of provider at now through s (read only; NULL
 * when the database could not be opened: refused, the payer may retry) and
 * answer it through answer (NULL: not answered). out says what happened.
 */
void order_precheckout(const struct cfg *c, struct store *s, const char *provider,
    const struct hook_update *u, int64_t now, order_answer_fn answer, struct order_precheck *out);

#endif
