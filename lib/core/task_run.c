/*
 * Tasks tried: the clients, the executors by provider, one try from claim
 * to outcome, the alerts. See task_run.h and task.h.
 */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/text.h"
#include "base/tm.h"
#include "core/task_run.h"
#include "providers/google/google_api.h"
#include "providers/google/google_task.h"
#include "store/store_credits.h"

/* Characters of a task's key an alert shows (a purchase token is long; `tally tasks` has it whole). */
#define ALERT_KEY_SHOWN 24

/* ------------------------------------------------------------ clients */

void
task_clients_init(struct task_clients *cl, const struct cfg *c)
{
	memset(cl, 0, sizeof(*cl));
	cl->cfg = c;
}

void
task_clients_release(struct task_clients *cl)
{
	if (cl->google_owned)
		google_api_free(cl->google);
	cl->google = NULL;
	cl->google_owned = 0;
}

/* The Google client, made on first use; NULL with why when it cannot be (TERR_CONFIG ...). */
static struct google_api *
google_client(struct task_clients *cl, enum terr *rc, char *why, size_t whysize)
{
	if (cl->google == NULL && cl->google_err == TERR_OK) {
		cl->google_err =
		    google_api_new(cl->cfg, &cl->google, cl->google_why, sizeof(cl->google_why));
		if (cl->google_err == TERR_OK)
			cl->google_owned = 1;
		else
			cl->google = NULL;
	}
	if (cl->google == NULL) {
		*rc = cl->google_err != TERR_OK ? cl->google_err : TERR_CONFIG;
		snprintf(why, whysize, "no Google Play API client: %s", cl->google_why);
	}
	return cl->google;
}

void
task_clients_open(struct task_clients *cl)
{
	char why[REASON_MAX];
	enum terr rc;

	if (cl->cfg->google.enabled)
		google_client(cl, &rc, why, sizeof(why));
	else if (cl->google == NULL && cl->google_err == TERR_OK) {
		/* Decided now too: a thread must never make it later. */
		cl->google_err = TERR_CONFIG;
		text_copy(cl->google_why, sizeof(cl->google_why),
		    "the configuration has no google section");
	}
}

/* ----------------------------------------------------------- executors */

/* Do t; TERR_OK when done (*already: the provider had it done before), else its error, with why. */
typedef enum terr (*task_exec_fn)(struct task_clients *cl, int op, const struct task_row *t,
    int *already, char *why, size_t whysize);

static enum terr
exec_google(struct task_clients *cl, int op, const struct task_row *t, int *already, char *why,
    size_t whysize)
{
	struct google_api *g;
	enum terr rc;

	*already = 0;
	if ((g = google_client(cl, &rc, why, whysize)) == NULL)
		return rc;
	return google_task_run(g, (enum google_task)op, t->key, t->arg, already, why, whysize);
}

/* The executor of each provider that has tasks. */
static const struct {
	const char *provider;
	task_exec_fn exec;
} execs[] = {
	{ "google", exec_google },
};

static task_exec_fn
exec_of(const struct task_kind *k)
{
	size_t i;

	for (i = 0; k != NULL && i < sizeof(execs) / sizeof(execs[0]); i++)
		if (strcmp(execs[i].provider, k->provider) == 0)
			return execs[i].exec;
	return NULL;
}

/* -------------------------------------------------------------- alerts */

struct alert {
	char storage[2048];
	struct buf payload;
	struct outbox_row row;
};

/* An alert about t (topic, dedup): its payload and its outbox row in a. */
static void
alert_make(struct alert *a, const struct task_row *t, const char *topic, const char *dedup,
    const char *error, int64_t now)
{
	char key[ALERT_KEY_SHOWN + 8];
	struct jw w;

	if (strlen(t->key) > ALERT_KEY_SHOWN)
		snprintf(key, sizeof(key), "%.*s...", ALERT_KEY_SHOWN, t->key);
	else
		text_copy(key, sizeof(key), t->key);
	buf_init_fixed(&a->payload, a->storage, sizeof(a->storage));
	jw_init(&w, &a->payload);
	jw_obj(&w);
	jw_kstr(&w, "type", topic);
	jw_kint(&w, "task_id", t->id);
	jw_kstr(&w, "provider", t->provider);
	jw_kstr(&w, "kind", t->kind);
	jw_kstr(&w, "key", key);
	if (t->user[0] != '\0')
		jw_kstr(&w, "user_id", t->user);
	if (t->inbox_id != 0)
		jw_kint(&w, "inbox_id", t->inbox_id);
	if (t->deadline != 0)
		jw_ktime(&w, "deadline", t->deadline);
	jw_kint(&w, "attempts", t->attempts);
	if (error != NULL && error[0] != '\0')
		jw_kstr(&w, "error", error);
	jw_end(&w);
	if (a->payload.err != TERR_OK) {
		/* An error too long to quote: the task's id still says which. */
		buf_reset(&a->payload);
		buf_printf(&a->payload, "{\"type\":\"%s\",\"task_id\":%lld}", topic,
		    (long long)t->id);
	}
	memset(&a->row, 0, sizeof(a->row));
	a->row.kind = OUTBOX_ALERT;
	text_copy(a->row.topic, sizeof(a->row.topic), topic);
	text_copy(a->row.user, sizeof(a->row.user), t->user);
	text_copy(a->row.dedup_key, sizeof(a->row.dedup_key), dedup);
	a->row.payload = buf_cstr(&a->payload);
	a->row.next_at = a->row.created_at = now;
}

/* "alert:task:<id>:<what>" */
static void
alert_of_task(struct alert *a, const struct task_row *t, const char *topic, const char *what,
    const char *error, int64_t now)
{
	char dedup[64];

	snprintf(dedup, sizeof(dedup), "alert:task:%lld:%s", (long long)t->id, what);
	alert_make(a, t, topic, dedup, error, now);
}

/* Blocked tasks of a provider are one cause: one alert a day for all of them. */
static void
alert_blocked(struct alert *a, const struct task_row *t, const char *error, int64_t now)
{
	char dedup[32 + PROVIDER_MAX + TM_ISO_SIZE], day[TM_ISO_SIZE];

	tm_iso(now, day);
	day[10] = '\0'; /* YYYY-MM-DD */
	snprintf(dedup, sizeof(dedup), "alert:task:blocked:%s:%s", t->provider, day);
	alert_make(a, t, "task.blocked", dedup, error, now);
}

/* ------------------------------------------------------------------ try */

static void
log_try(const struct task_row *t, const struct task_outcome *o)
{
	struct logline l;

	if (o->result == TASK_R_TAKEN)
		return; /* nothing happened here */
	log_begin(&l,
	    o->result == TASK_R_DONE        ? LOG_INFO
		: o->result == TASK_R_RETRY ? LOG_WARN
					    : LOG_ERROR,
	    "task");
	log_int(&l, "task_id", t->id);
	log_str(&l, "provider", t->provider);
	log_str(&l, "kind", t->kind);
	log_str(&l, "result", task_result_str(o->result));
	log_int(&l, "attempts", o->attempts);
	if (o->why[0] != '\0')
		log_str(&l, "why", o->why);
	log_end(&l);
}

/* The deadline passed before t was done: given up without a try. */
static enum terr
expire(struct store *s, const struct task_row *t, int64_t now, struct task_outcome *out)
{
	struct alert a;
	enum terr rc;

	snprintf(out->why, sizeof(out->why), "deadline passed after %lld tries%s%.400s",
	    (long long)t->attempts, t->last_error[0] != '\0' ? "; last error: " : "",
	    t->last_error);
	alert_of_task(&a, t, "task.deadline_passed", "late", out->why, now);
	rc = store_task_expire(s, t->id, t->attempts, now, out->why, &a.row);
	if (rc == TERR_CONFLICT) {
		out->result = TASK_R_TAKEN;
		text_copy(out->why, sizeof(out->why),
		    "no longer pending, or another runner has it");
		return TERR_OK;
	}
	if (rc != TERR_OK)
		return rc;
	out->result = TASK_R_LATE;
	out->alerted = 1;
	return TERR_OK;
}

/* The try's outcome for the provider's answer rc (why), and its alert in a (NULL: none). */
static struct outbox_row *
judge(const struct task_row *t, enum terr rc, int already, const char *why, int64_t now,
    struct task_outcome *out, struct task_end *end, struct alert *a)
{
	end->at = now;
	end->error = out->why;
	text_copy(out->why, sizeof(out->why), why[0] != '\0' || rc == TERR_OK ? why : err_str(rc));
	switch (rc) {
	case TERR_OK:
		out->result = TASK_R_DONE;
		end->state = TASK_DONE;
		if (!already)
			out->why[0] = '\0';
		return NULL;
	case TERR_NOTFOUND:
	case TERR_STALE:
	case TERR_INVAL:
		out->result = TASK_R_GIVEN_UP;
		end->state = TASK_GIVEN_UP;
		alert_of_task(a, t, "task.given_up", "given_up", out->why, now);
		return &a->row;
	case TERR_AUTH:
	case TERR_CONFIG: out->result = TASK_R_BLOCKED; break;
	default: out->result = TASK_R_RETRY; break;
	}
	end->state = TASK_PENDING;
	end->due_at = out->next_at = task_next_try(out->attempts, now, t->deadline);
	if (out->result != TASK_R_BLOCKED)
		return NULL;
	alert_blocked(a, t, out->why, now);
	return &a->row;
}

enum terr
task_try(struct store *s, struct task_clients *cl, const struct task_row *t, int64_t now,
    struct task_outcome *out)
{
	const struct task_kind *k = task_kind(t->kind);
	task_exec_fn exec = exec_of(k);
	struct outbox_row *alert;
	struct task_end end;
	struct task_row tried;
	struct alert a;
	char why[REASON_MAX] = "";
	int64_t hold;
	int already = 0;
	enum terr rc;

	memset(out, 0, sizeof(*out));
	memset(&end, 0, sizeof(end));
	out->attempts = t->attempts;
	if (t->state != TASK_PENDING || t->due_at > now) {
		out->result = TASK_R_TAKEN;
		text_copy(out->why, sizeof(out->why), "not due");
		return TERR_OK;
	}
	if (t->deadline != 0 && now >= t->deadline) {
		if ((rc = expire(s, t, now, out)) == TERR_OK)
			log_try(t, out);
		return rc;
	}
	/* Held past every call one try may make, in case this runner dies in the middle. */
	hold = now + TASK_CALLS_MAX * cl->cfg->http.timeout + TASK_CLAIM_MARGIN_MS;
	if ((rc = store_task_claim(s, t->id, t->attempts, now, hold)) == TERR_CONFLICT) {
		out->result = TASK_R_TAKEN;
		text_copy(out->why, sizeof(out->why), "another runner has it");
		return TERR_OK;
	}
	if (rc != TERR_OK)
		return rc;
	out->attempts = t->attempts + 1;
	tried = *t;
	tried.attempts = out->attempts;
	if (exec == NULL) {
		/* A kind this build has no executor for (written by a newer one): a person must look. */
		snprintf(why, sizeof(why), "no executor for task kind %s", t->kind);
		rc = TERR_INVAL;
	} else
		rc = exec(cl, k->op, t, &already, why, sizeof(why));
	alert = judge(&tried, rc, already, why, now, out, &end, &a);
	rc = store_task_finish(s, t->id, out->attempts, &end, alert);
	if (rc == TERR_CONFLICT) {
		/* Its claim lapsed during the call and another runner took it: that one records. */
		out->result = TASK_R_TAKEN;
		text_copy(out->why, sizeof(out->why), "the claim lapsed; another runner has it");
		rc = TERR_OK;
	} else if (rc == TERR_OK)
		out->alerted = alert != NULL;
	if (rc == TERR_OK)
		log_try(t, out);
	return rc;
}

enum terr
task_alert_near(struct store *s, const struct task_row *t, int64_t now, int *alerted)
{
	char error[REASON_MAX + 64], when[TM_ISO_SIZE];
	struct alert a;
	enum terr rc;

	*alerted = 0;
	tm_iso(t->deadline, when);
	snprintf(error, sizeof(error), "not done %s before its deadline %s%s%.400s",
	    t->attempts > 0 ? "yet" : "or tried yet", when,
	    t->last_error[0] != '\0' ? "; last error: " : "", t->last_error);
	alert_of_task(&a, t, "task.deadline_near", "near", error, now);
	rc = store_task_near_alerted(s, t->id, now, &a.row);
	if (rc == TERR_CONFLICT)
		return TERR_OK;
	if (rc == TERR_OK)
		*alerted = 1;
	return rc;
}

enum terr
task_run_event(struct store *s, struct task_clients *cl, int64_t inbox_id, int64_t now, int *tried)
{
	struct task_row rows[TASK_PER_EVENT_MAX];
	struct task_outcome o;
	size_t n = 0, i;
	enum terr rc;

	if (tried != NULL)
		*tried = 0;
	if (inbox_id == 0)
		return TERR_OK;
	if ((rc = store_tasks_of_inbox(s, inbox_id, rows, TASK_PER_EVENT_MAX, &n)) != TERR_OK) {
		log_msg(LOG_ERROR, "cannot read the tasks of an event", err_str(rc));
		return rc;
	}
	for (i = 0; i < n; i++) {
		/*
		 * A task never tried is due from its event's commit, whichever
		 * clock stamped it (the writer's may run ahead of the request's).
		 */
		int64_t at = rows[i].attempts == 0 && rows[i].due_at > now ? rows[i].due_at : now;
		if ((rc = task_try(s, cl, &rows[i], at, &o)) != TERR_OK) {
			log_msg(LOG_ERROR, "cannot record a task's try", err_str(rc));
			return rc;
		}
		if (tried != NULL && o.result != TASK_R_TAKEN)
			(*tried)++;
	}
	return TERR_OK;
}
