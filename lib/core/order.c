/*
 * The answer to a provider's question before it takes the money (order.h).
 */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "base/money.h"
#include "base/text.h"
#include "base/tm.h"
#include "core/order.h"
#include "store/store_orders.h"

/* A refusal's text for the payer (Telegram's error_message takes up to 200 bytes). */
#define ORDER_MESSAGE_MAX 200

/*
 * May the order q names be paid through provider at now, as asked? 1 yes;
 * 0 no, with a message for the payer in msg and the reason for the log in
 * reason; -1 when the order could not be read (storage): refused too, the
 * payer may retry.
 */
static int
payable(struct store *s, const char *provider, const struct hook_precheck *q, int64_t now,
    char *msg, size_t msgsize, char *reason, size_t reasonsize)
{
	struct order_row ord;
	char want[MONEY_TEXT_SIZE], got[MONEY_TEXT_SIZE], q1[80], t1[TM_ISO_SIZE], t2[TM_ISO_SIZE];
	enum terr rc;

	msg[0] = reason[0] = '\0';
	if (q->order[0] == '\0' || !text_id_valid(q->order, ID_MAX - 1) ||
	    (rc = store_order_get(s, q->order, &ord)) == TERR_NOTFOUND) {
		snprintf(msg, msgsize, "This purchase is not known. Please start it again.");
		text_quote(q1, sizeof(q1), q->order, 64);
		snprintf(reason, reasonsize,
		    "unknown order: the invoice payload %s is no order tally issued", q1);
		return 0;
	}
	if (rc != TERR_OK) {
		snprintf(msg, msgsize,
		    "The purchase cannot be checked right now. Please try again.");
		snprintf(reason, reasonsize, "order %s could not be read: %s", q->order,
		    err_str(rc));
		return -1;
	}
	if (strcmp(ord.provider, provider) != 0) {
		snprintf(msg, msgsize, "This purchase is not payable here.");
		snprintf(reason, reasonsize, "order %s was made for %s, not %s", ord.id,
		    ord.provider, provider);
		return 0;
	}
	if (ord.state != ORDER_PENDING) {
		snprintf(msg, msgsize, "This purchase is already %s.",
		    ord.state == ORDER_PAID ? "paid" : "closed");
		snprintf(reason, reasonsize, "order %s is %s, not pending", ord.id,
		    order_state_str(ord.state));
		return 0;
	}
	if (now > ord.expires_at) {
		snprintf(msg, msgsize, "This purchase has expired. Please start it again.");
		tm_iso(ord.expires_at, t1);
		tm_iso(now, t2);
		snprintf(reason, reasonsize, "order %s expired at %s (now %s)", ord.id, t1, t2);
		return 0;
	}
	if (q->amount != ord.amount || strcmp(q->currency, ord.currency) != 0) {
		money_text(ord.amount, ord.currency, want, sizeof(want));
		money_text(q->amount, q->currency, got, sizeof(got));
		snprintf(msg, msgsize,
		    "The price of this purchase has changed. Please start it again.");
		snprintf(reason, reasonsize, "order %s is %s, the invoice says %s", ord.id, want,
		    got);
		return 0;
	}
	snprintf(reason, reasonsize, "order %s pending", ord.id);
	return 1;
}

void
order_precheckout(const struct cfg *c, struct store *s, const char *provider,
    const struct hook_update *u, int64_t now, order_answer_fn answer, struct order_precheck *out)
{
	char msg[ORDER_MESSAGE_MAX], reason[512], why[256] = "", what[96];
	int ok = -1;
	enum terr rc = TERR_CONFIG;

	if (s != NULL)
		ok = payable(s, provider, &u->q, now, msg, sizeof(msg), reason, sizeof(reason));
	else {
		snprintf(msg, sizeof(msg),
		    "The purchase cannot be checked right now. Please try again.");
		snprintf(reason, sizeof(reason), "the database could not be opened");
	}
	if (answer != NULL)
		rc = answer(c, u->q.id, ok == 1, msg, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "this endpoint cannot answer");
	out->answered = rc == TERR_OK;
	out->accepted = ok == 1;
	snprintf(out->note, sizeof(out->note), "%s: %.160s%s%.60s",
	    rc != TERR_OK ? "not answered"
		: ok == 1 ? "accepted"
			  : "refused",
	    reason, rc != TERR_OK ? "; " : "", rc != TERR_OK ? why : "");
	if (rc != TERR_OK) {
		snprintf(what, sizeof(what), "%s not answered", u->what);
		log_msg(LOG_WARN, what, why);
	}
}
