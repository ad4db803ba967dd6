/* RevenueCat: a webhook body and a REST subscriber answer. */
#include "base/event.h"
#include "fuzz.h"
#include "providers/revenuecat/revenuecat.h"
#include "providers/revenuecat/revenuecat_api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bev e;
	static struct rc_subscriber sub;
	char why[256];

	(void)revenuecat_parse(fuzz_cfg(), (const char *)data, size, &e, why, sizeof(why));
	(void)revenuecat_subscriber_parse((const char *)data, size, &sub, why, sizeof(why));
	return 0;
}
