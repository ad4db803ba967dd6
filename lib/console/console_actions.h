/* The support console's forms' POSTs (console_actions.c), for console.c. */
#ifndef TALLY_CONSOLE_ACTIONS_H
#define TALLY_CONSOLE_ACTIONS_H

#include "console/console_req.h"

void console_action(struct creq *q);
/* The providers whose ids may be linked to a user, NULL-terminated. */
extern const char *const console_providers[];

#endif
