/*
 * bin/tally: App Store commands (apple status, apple missed).
 * (Being built: issue "Apple App Store".)
 */
#include "cli.h"

int
cmd_apple_status(struct cli *c)
{
	(void)c;
	return cli_fail("tally apple status is not built yet", NULL);
}

int
cmd_apple_missed(struct cli *c)
{
	(void)c;
	return cli_fail("tally apple missed is not built yet", NULL);
}
