/*
 * The configuration section of the support console (console; see cfg.h and
 * docs/console.md): how long a session lasts, and whether its cookie is always
 * marked Secure.
 */
#include "cfg/cfg_console.h"
#include "cfg/cfg_read.h"

#define MINUTE_MS (60LL * 1000)
#define HOUR_MS   (60 * MINUTE_MS)

/* A working day: long enough not to interrupt support, short enough that a forgotten tab expires. */
#define SESSION_TTL_DEFAULT (8 * HOUR_MS)
/* At most a month: a session cookie is a credential. */
#define SESSION_TTL_MAX     (31 * 24 * HOUR_MS)

void
cfg_console_defaults(struct cfg *c)
{
	c->console.session_ttl = SESSION_TTL_DEFAULT;
	c->console.secure_cookie = 0;
}

enum terr
cfg_parse_console(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "session_ttl", "secure_cookie", NULL };
	struct cfg_console *k = &c->console;
	enum terr rc;

	if ((rc = cfg_section(o, "console", keys, why, size)) != TERR_OK ||
	    (rc = cfg_get_duration(o, "session_ttl", "console", &k->session_ttl, why, size)) !=
		TERR_OK ||
	    (rc = cfg_get_bool(o, "secure_cookie", "console", &k->secure_cookie, why, size)) !=
		TERR_OK)
		return rc;
	if (k->session_ttl < 1000 || k->session_ttl > SESSION_TTL_MAX)
		return cfg_fail(why, size,
		    "config: console.session_ttl: expected a duration from 1s to 31d");
	return TERR_OK;
}
