#include "core/sub.h"

int
sub_state_grants_access(enum sub_state st)
{
	switch (st) {
	case SUB_TRIALING:
	case SUB_ACTIVE:
	case SUB_CANCELED:
	case SUB_PAST_DUE: return 1;
	default: return 0;
	}
}

int64_t
sub_access_end(const struct sub_row *r, const struct cfg_policy *p)
{
	switch (r->state) {
	case SUB_TRIALING: return r->trial_end != 0 ? r->trial_end : r->period_end;
	case SUB_ACTIVE: return r->period_end != 0 ? r->period_end + p->leeway : 0;
	case SUB_CANCELED: return r->period_end;
	case SUB_PAST_DUE: return r->grace_until != 0 ? r->grace_until : r->state_at + p->grace;
	default: return 0;
	}
}

int
sub_has_access(const struct sub_row *r, const struct cfg_policy *p, int64_t now)
{
	int64_t end;

	if (!sub_state_grants_access(r->state))
		return 0;
	end = sub_access_end(r, p);
	return end == 0 || end > now;
}
