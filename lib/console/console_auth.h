/* Sessions, CSRF and login of the support console (console_auth.c), for console.c. */
#ifndef TALLY_CONSOLE_AUTH_H
#define TALLY_CONSOLE_AUTH_H

#include "console/console_req.h"

/* The session the request's cookie names, into q (q->authed). */
void console_session(struct creq *q);
/* 1 when the form's csrf field is the session's (constant time). */
int console_csrf_ok(struct creq *q);
/* 1 when the request's Origin (if any) and Sec-Fetch-Site (if any) are this site's. */
int console_same_origin(struct creq *q);
void console_login_page(struct creq *q);
void console_login(struct creq *q);
void console_logout(struct creq *q);

#endif
