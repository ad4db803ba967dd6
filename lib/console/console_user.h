/* The support console's user page (console_user.c), for console.c. */
#ifndef TALLY_CONSOLE_USER_H
#define TALLY_CONSOLE_USER_H

#include "console/console_req.h"

void page_user(struct creq *q);

#endif
