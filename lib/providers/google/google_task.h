/*
 * What tally owes Google Play after it commits a purchase (PROVIDERS.md
 * 7.5: every purchase acknowledged within three days, or Google refunds it
 * and revokes access; license testers' within minutes; a consumable
 * consumed so it can be bought again), done through the Android Publisher
 * client (google_api.h). core/task.c runs these for the tasks of kinds
 * google_ack_sub, google_ack_product and google_consume.
 *
 * A call Google refuses as made (400), or for a purchase it does not know
 * (404) or no longer keeps (410), may still be done already: tally's first
 * try may have reached Google without its answer reaching tally, or the
 * app acknowledged the purchase itself. So before such a refusal counts,
 * the purchase is read as Google has it now (subscriptionsv2.get or
 * products.get): acknowledged (or consumed) there means done.
 */
#ifndef TALLY_GOOGLE_TASK_H
#define TALLY_GOOGLE_TASK_H

#include <stddef.h>

#include "base/err.h"
#include "providers/google/google_api.h"

enum google_task {
	GOOGLE_TASK_ACK_SUB,     /* purchases.subscriptions.acknowledge */
	GOOGLE_TASK_ACK_PRODUCT, /* purchases.products.acknowledge */
	GOOGLE_TASK_CONSUME,     /* purchases.products.consume */
};

/*
 * Do op for the purchase token and product (a subscription's: its product
 * id, as the acknowledge call names it). TERR_OK when done; *already is then
 * 1 when Google had it done before (why says so), else 0. Otherwise what
 * google_api.h says of the call's answer (TERR_NOTFOUND, TERR_STALE,
 * TERR_INVAL: refused for good; TERR_AUTH: the operator must act; TERR_IO:
 * try again later; TERR_CONFIG, TERR_NOMEM), with why.
 */
enum terr google_task_run(struct google_api *g, enum google_task op, const char *token,
    const char *product, int *already, char *why, size_t whysize);

/*
 * Whether Google's own document of a purchase says op is done: body[0..n)
 * a SubscriptionPurchaseV2 (GOOGLE_TASK_ACK_SUB: acknowledgementState
 * ACKNOWLEDGEMENT_STATE_ACKNOWLEDGED) or a ProductPurchase
 * (acknowledgementState 1; consumptionState 1 for GOOGLE_TASK_CONSUME).
 * 1 yes, 0 no or unreadable.
 */
int google_task_done_in(enum google_task op, const char *body, size_t n);

#endif
