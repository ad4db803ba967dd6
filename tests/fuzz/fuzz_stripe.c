/*
 * Stripe: the Stripe-Signature header and the event body. Input: the header,
 * a newline, the body. The body is also mapped as if it had verified.
 */
#include "base/event.h"
#include "fuzz.h"
#include "providers/stripe/stripe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct stripe_verifier v;
	static struct bev e;
	static int ready;
	struct cfg *c = fuzz_cfg();
	char *text = fuzz_text(data, size), *body, why[256];
	const char *w;

	if (!ready) {
		text_copy(c->stripe.secrets[0], SECRET_MAX, "whsec_fuzz");
		c->stripe.nsecrets = 1;
		stripe_verifier_init(&v, &c->stripe);
		ready = 1;
	}
	body = strchr(text, '\n');
	if (body != NULL) {
		*body++ = '\0';
		(void)stripe_verify(&v, text, body, strlen(body), 1700000000000LL, &w);
		(void)stripe_parse(c, body, strlen(body), &e, why, sizeof(why));
	}
	free(text);
	return 0;
}
