/* The config file: every section, every key's reader. */
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cfg c;
	char why[256];

	cfg_defaults(&c);
	(void)cfg_parse(&c, (const char *)data, size, why, sizeof(why));
	cfg_release(&c);
	return 0;
}
