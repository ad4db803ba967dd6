#include <stdio.h>

#include "providers/hook.h"

enum terr
hook_ready(enum terr rc, int have, const char *env, char *why, size_t whysize)
{
	if (rc != TERR_OK) {
		snprintf(why, whysize, "cannot prepare the webhook secret");
		return rc;
	}
	if (!have) {
		snprintf(why, whysize, "%s is not set", env);
		return TERR_CONFIG;
	}
	return TERR_OK;
}
