/*
 * RevenueCat: webhook authentication, the mapping of RevenueCat events (and
 * through them Google Play's, Amazon's and the other stores') to normalized
 * billing events, the REST API v1 client and the comparison behind
 * `tally revenuecat sync`. Only these files know RevenueCat's wire format:
 *
 *   revenuecat.c       authentication and reading an event (what a handler links)
 *   revenuecat_read.c  the field readers every event type's mapping uses
 *   revenuecat_map.c   what each event type means (the table below)
 *   revenuecat_ids.c   RevenueCat's stores and product ids in tally's catalog
 *   revenuecat_api.c   GET /v1/subscribers/{app_user_id} over httpc (libcurl)
 *                      (revenuecat_api.h)
 *   lib/job/revenuecat_sync.c  RevenueCat's view of a customer against tally's, as
 *                      events (it reads storage and applies: job/revenuecat_sync.h)
 *
 * Sources: RevenueCat/docs @bf39a9c docs/integrations/webhooks.md,
 * docs/integrations/webhooks/event-types-and-fields.mdx, event-flows.md,
 * code_blocks/integrations/webhooks/ (sample events), openapi-spec/api-v1.yaml
 * (PROVIDERS.md section 3).
 *
 * Authentication (webhooks.md "Authorization"): RevenueCat sends the value
 * set in its dashboard verbatim as the Authorization header of every POST;
 * no signature scheme is documented. tally compares the whole header value
 * with REVENUECAT_WEBHOOK_AUTH.
 *
 * Mapping (one event, its aspects; event-types-and-fields.mdx "Event Types"):
 *   INITIAL_PURCHASE      SUB trialing (period_type TRIAL) or active + PAY initial
 *   RENEWAL               SUB active (trialing if TRIAL) + PAY renewal: credits RESET,
 *                         to the product the event names (a deferred PRODUCT_CHANGE
 *                         takes effect here)
 *   CANCELLATION          cancel_reason CUSTOMER_SUPPORT (a refund): REFUND full of
 *                         transaction_id (revokes, claws back); BILLING_ERROR: SUB
 *                         past_due (like BILLING_ISSUE, which RevenueCat sends with
 *                         it); UNSUBSCRIBE, PRICE_INCREASE, DEVELOPER_INITIATED,
 *                         UNKNOWN and any other: SUB canceled, access until
 *                         expiration_at_ms (EXPIRATION ends it)
 *   UNCANCELLATION        SUB active, auto-renew back on
 *   NON_RENEWING_PURCHASE PAY one-off (a pack ADDS credits); with expiration_at_ms, a
 *                         subscription product is a period that will not renew (SUB
 *                         canceled + PAY initial); store PROMOTIONAL: SUB without
 *                         payment (entitlements, no credits)
 *   EXPIRATION            SUB expired (paused when expiration_reason is
 *                         SUBSCRIPTION_PAUSED): access and plan credits end
 *   BILLING_ISSUE         SUB past_due, grace until grace_period_expiration_at_ms (else
 *                         policy.grace_period) + NOTICE billing_issue
 *   PRODUCT_CHANGE        links only: the new product takes effect with the RENEWAL or
 *                         INITIAL_PURCHASE that carries it
 *   SUBSCRIPTION_PAUSED   links only: access continues until EXPIRATION
 *   SUBSCRIPTION_EXTENDED SUB with the new period end, state unchanged, no credits
 *   TRANSFER              TRANSFER from transferred_from to transferred_to
 *   TEMPORARY_ENTITLEMENT_GRANT  SUB canceled until expiration_at_ms (at most 24 h),
 *                         keyed on transaction_id, no payment and so no credits;
 *                         INITIAL_PURCHASE of that transaction replaces it
 *   REFUND_REVERSED       REINSTATE of transaction_id
 *   VIRTUAL_CURRENCY_TRANSACTION  CREDIT: the sum of the adjustments, whatever their
 *                         currency code (refused when one event mixes codes)
 *   SUBSCRIBER_ALIAS      links only (legacy)
 *   TEST, INVOICE_ISSUANCE, EXPERIMENT_ENROLLMENT and unknown types: stored, ignored,
 *                         with the reason
 */
#ifndef TALLY_REVENUECAT_H
#define TALLY_REVENUECAT_H

#include <stddef.h>
#include <stdint.h>

#include "base/event.h"
#include "cfg/cfg.h"
#include "providers/hook.h"
#include "providers/revenuecat/revenuecat_ids.h"

/*
 * Check the Authorization header value (NULL when absent) against the
 * configured value: lengths first, then ct_eq over the bytes. TERR_OK;
 * TERR_AUTH for a missing or wrong value; TERR_CONFIG when none is
 * configured. *why is a static description for the client; neither value is
 * ever copied or logged.
 */
enum terr revenuecat_verify(const struct cfg_revenuecat *c, const char *header, const char **why);

/*
 * The webhook's side for the provider table (hook.h): no state; init says
 * TERR_CONFIG, "REVENUECAT_WEBHOOK_AUTH is not set", when it is not;
 * verify is revenuecat_verify of the request's Authorization.
 */
enum terr revenuecat_hook_init(void **state, const struct cfg *c, char *why, size_t whysize);
enum terr revenuecat_hook_verify(void *state, const struct cfg *c, const struct hook_req *q,
    const char **why);

/*
 * Map a verified (authenticated) event body into e (bev_init'ed here; e->raw
 * points into body). TERR_INVAL with why when the body is not a RevenueCat
 * event or a field has the wrong type. Event types without effects map to an
 * event without aspects and a note (stored, acknowledged).
 */
enum terr revenuecat_parse(const struct cfg *c, const char *body, size_t n, struct bev *e,
    char *why, size_t whysize);

#endif
