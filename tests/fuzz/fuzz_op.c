/* tally's own events as stored (replays and rebuilds parse them again): operator, app, job. */
#include "base/event.h"
#include "fuzz.h"
#include "core/op.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const sources[] = { OP_OPERATOR, OP_APP, OP_JOB };
	static struct bev e;
	char why[256];

	if (size == 0)
		return 0;
	(void)op_parse(sources[data[0] % 3], (const char *)data + 1, size - 1, &e, why,
	    sizeof(why));
	return 0;
}
