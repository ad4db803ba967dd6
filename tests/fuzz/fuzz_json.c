/* The JSON reader every parser stands on: limits, duplicate keys, UTF-8, NULs. */
#include "fuzz.h"
#include "base/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *root = NULL;
	const char *why;
	int64_t v;
	int b;

	if (json_parse((const char *)data, size, 32, &root, &why) == TERR_OK) {
		(void)jstr(root, "id");
		(void)jint(root, "amount", &v);
		(void)jbool(root, "livemode", &b);
		(void)jpath(root, "data.object");
		cJSON_Delete(root);
	}
	return 0;
}
