#include <stdio.h>

#include "appstore.h"

enum terr
appstore_parse(const struct cfg *c, const char *body, size_t n, struct bev *e, char *why,
    size_t whysize)
{
	(void)c;
	(void)body;
	(void)n;
	bev_init(e);
	snprintf(why, whysize, "App Store notifications are not read yet");
	return TERR_INVAL;
}
