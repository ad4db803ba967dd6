/*
 * Google Play: a push body as the webhook reads it once its token verified
 * (the event id, the wrapped format, the base64 notification), the envelope
 * made of it, and any stored body (an envelope with Google's purchase, or a
 * push that could not be read) through the row's parser and the mapping.
 */
#include "providers/google/google.h"
#include "providers/google/google_push.h"
#include "base/event.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct bev e;
	static char env[GOOGLE_ENVELOPE_MAX + 1];
	struct cfg *c = fuzz_cfg();
	struct google_push p;
	struct google_envelope v;
	struct buf b;
	char why[256], id[ID_MAX];
	const char *body = (const char *)data;

	/* The seeds' package (fuzz.h's catalog has no google section). */
	if (!c->google.enabled) {
		c->google.enabled = 1;
		text_copy(c->google.package_name, sizeof(c->google.package_name), "com.example.tally");
	}
	google_push_event_id(body, size, id, sizeof(id));
	if (google_push_read(&c->google, body, size, &p, why, sizeof(why)) == TERR_OK) {
		/* What the webhook stores when Google answers nothing about the purchase. */
		memset(&v, 0, sizeof(v));
		v.message_id = id;
		v.publish_time = p.publish_time;
		v.fetched_at = 1700000000000LL;
		v.call = google_note_call(&p.note);
		v.status = v.call == GOOGLE_CALL_NONE ? 0 : 404;
		v.token = p.note.token;
		v.notification = p.data.p;
		v.notification_n = p.data.len;
		buf_init_fixed(&b, env, sizeof(env));
		if (google_envelope_write(&v, &b) == TERR_OK)
			(void)google_parse(c, b.p, b.len, &e, why, sizeof(why));
	}
	google_push_release(&p);
	(void)google_parse(c, body, size, &e, why, sizeof(why));
	return 0;
}
