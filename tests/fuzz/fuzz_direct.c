/*
 * The direct providers: Razorpay (signature header and event), Telegram
 * (update classification and payment mapping), CryptoBot (signature, the
 * request_date check, the invoice mapping). The first input byte picks the
 * provider; the rest is "header \n body".
 */
#include "base/event.h"
#include "fuzz.h"
#include "providers/cryptobot/cryptobot.h"
#include "providers/razorpay/razorpay.h"
#include "providers/telegram/telegram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct razorpay_verifier rv;
	static struct cryptobot_verifier cv;
	static struct bev e;
	static int ready;
	struct cfg *c = fuzz_cfg();
	struct hook_update u;
	char *text, *body, why[256];
	const char *w;

	if (!ready) {
		text_copy(c->razorpay.secrets[0], SECRET_MAX, "rzp_fuzz_secret");
		c->razorpay.nsecrets = 1;
		text_copy(c->cryptobot.token, sizeof(c->cryptobot.token), "1:fuzz");
		razorpay_verifier_init(&rv, &c->razorpay);
		cryptobot_verifier_init(&cv, &c->cryptobot);
		ready = 1;
	}
	if (size == 0)
		return 0;
	text = fuzz_text(data + 1, size - 1);
	if ((body = strchr(text, '\n')) != NULL)
		*body++ = '\0';
	else
		body = text;
	switch (data[0] % 3) {
	case 0:
		(void)razorpay_verify(&rv, text, body, strlen(body), &w);
		(void)razorpay_parse(c, "evt_fuzz", body, strlen(body), &e, why, sizeof(why));
		break;
	case 1:
		if (telegram_classify(body, strlen(body), &u, why, sizeof(why)) == TERR_OK)
			(void)telegram_parse(c, body, strlen(body), &e, why, sizeof(why));
		break;
	default:
		(void)cryptobot_verify(&cv, text, body, strlen(body), 1700000000000LL, &w);
		(void)cryptobot_parse(c, body, strlen(body), &e, why, sizeof(why));
		break;
	}
	free(text);
	return 0;
}
