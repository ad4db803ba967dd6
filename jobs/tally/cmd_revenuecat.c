/*
 * bin/tally: RevenueCat commands (revenuecat sync USER).
 * (Being built: issue "RevenueCat webhooks".)
 */
#include "cli.h"

int
cmd_revenuecat_sync(struct cli *c)
{
	(void)c;
	return cli_fail("tally revenuecat sync is not built yet", NULL);
}
