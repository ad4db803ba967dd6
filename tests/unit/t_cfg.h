/*
 * Config tests' shared helpers: parse a config text into a fresh cfg, and
 * check that one is refused with a message naming the key.
 */
#ifndef TALLY_T_CFG_H
#define TALLY_T_CFG_H

#include <stdio.h>
#include <string.h>

#include "cfg/cfg.h"

/* Parse text into a fresh cfg (after cfg_defaults); the caller cfg_releases. */
static inline enum terr
load(struct cfg *c, const char *text, char *why, size_t whysize)
{
	cfg_defaults(c);
	why[0] = '\0';
	return cfg_parse(c, text, strlen(text), why, whysize);
}

/* 1 when text is refused with TERR_CONFIG naming want; else the message is printed. */
static inline int
refused(const char *text, const char *want)
{
	struct cfg c;
	char why[512];
	enum terr rc = load(&c, text, why, sizeof(why));
	int ok = rc == TERR_CONFIG && strstr(why, want) != NULL;

	cfg_release(&c);
	if (!ok)
		printf("# %s: rc=%d why=\"%s\" (wanted TERR_CONFIG naming \"%s\")\n", text, (int)rc,
		    why, want);
	return ok;
}

#endif
