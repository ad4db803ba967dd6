'use strict';
// bin/tally-grace-expiry with --now: past_due past its grace, canceled past its period end,
// tally's own trial at its end and a store's trial a renewal leeway later, plans tally runs
// for direct providers, balance plans only as a safety net, credits past their expiry (with
// ledger entries), pending orders past their expiry; each once, with the core's audit and
// notice; and the job's promises: a second run does nothing, kill -9 then a rerun completes
// without doubles, two runs at once, --dry-run, --limit.
const { test, assert } = require('../lib/t');
const { startApi } = require('../lib/api');
const S = require('../lib/stripe-events');
const J = require('../lib/jobs');

const { DAY } = J;
const LEEWAY = DAY;

const expire = (env, opts, args = []) => J.job(env, 'grace-expiry', ['--json', ...args], opts);
const sub = (env, user) => env.sql(`SELECT * FROM subscriptions WHERE user_id = '${user}' ORDER BY id DESC LIMIT 1`)[0];
const notices = (env, user) => env.sql(`SELECT topic FROM outbox WHERE kind = 'notify' AND user_id = '${user}' ORDER BY id`).map((r) => r.topic);

async function ok(env, evt) {
  const r = await env.stripe(evt);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.state, 'applied', r.text);
}

// A Stripe subscription of user in status with period [start, end] (seconds).
async function stripeSub(env, user, status, start, end, extra = {}) {
  const cus = S.rid('cus');
  const id = S.rid('sub');
  await ok(env, S.event('checkout.session.completed', S.checkoutSession({ mode: 'subscription', customer: cus, subscription: id, clientReferenceId: user }), { created: start }));
  await ok(env, S.event('customer.subscription.created', S.subscription({ id, customer: cus, price: 'price_pro_monthly', status, periodStart: start, periodEnd: end, ...extra }), { created: start }));
  return { cus, id };
}

test('past_due past its grace: expired once, with the expired notice; not before', async (env) => {
  const now = S.nowS();
  await stripeSub(env, 'ge_pd', 'past_due', now - 30 * 86400, now);
  const s = sub(env, 'ge_pd');
  assert.strictEqual(s.state, 'past_due');
  const end = s.grace_until || s.state_at + 7 * DAY;
  let r = expire(env, { now: end - 1000 });
  assert.ok(!r.json.items.some((i) => i.user_id === 'ge_pd'), 'not before its grace ends');
  r = expire(env, { now: end + 1000 });
  const item = r.json.items.find((i) => i.user_id === 'ge_pd');
  assert.deepStrictEqual([item.action, item.result, item.event_id], ['subscription.expire', 'applied', `expire:${s.id}:${end}`]);
  assert.strictEqual(sub(env, 'ge_pd').state, 'expired');
  assert.deepStrictEqual(notices(env, 'ge_pd').filter((t) => t === 'expired'), ['expired']);
  const doc = env.user('ge_pd');
  assert.ok(doc.audit.some((a) => a.actor === 'job:grace-expiry' && a.action === 'subscription.update'));
  assert.ok(!doc.entitlements.some((e) => e.name === 'pro'));
  r = expire(env, { now: end + 2000 });
  assert.ok(!r.json.items.some((i) => i.user_id === 'ge_pd'), 'a second run does nothing');
});

test('canceled past its period end: expired, its plan credits expire with a ledger entry', async (env) => {
  const now = S.nowS();
  const c = await stripeSub(env, 'ge_cx', 'active', now - 86400, now + 29 * 86400, { cancelAtPeriodEnd: true });
  await ok(env, S.event('invoice.paid', S.invoice({ id: S.rid('in'), customer: c.cus, subscription: c.id, price: 'price_pro_monthly', periodStart: now - 86400, periodEnd: now + 29 * 86400, paymentIntent: S.rid('pi') }), { created: now - 86400 }));
  const s = sub(env, 'ge_cx');
  assert.strictEqual(s.state, 'canceled');
  assert.strictEqual(env.user('ge_cx').balance.available, 1000);
  const r = expire(env, { now: s.period_end + 60e3 });
  assert.strictEqual(r.json.items.find((i) => i.user_id === 'ge_cx').event_id, `expire:${s.id}:${s.period_end}`);
  assert.strictEqual(sub(env, 'ge_cx').state, 'expired');
  const ledger = env.sql("SELECT amount, kind, actor FROM ledger WHERE user_id = 'ge_cx' AND kind = 'expire'");
  assert.deepStrictEqual(ledger, [{ amount: -1000, kind: 'expire', actor: 'job:grace-expiry' }]);
});

test('tally\'s own trial ends at trial_end (trial_ended notice); a store\'s trial a renewal leeway later', async (env) => {
  assert.ok([200, 201].includes((await env.api('POST', '/v1/users/ge_trial', {})).status));
  const t = await env.api('POST', '/v1/users/ge_trial/trial', {});
  assert.ok([200, 201].includes(t.status), t.text);
  const app = sub(env, 'ge_trial');
  assert.strictEqual(app.provider, 'app');
  let r = expire(env, { now: app.trial_end + 1000 });
  assert.strictEqual(r.json.items.find((i) => i.user_id === 'ge_trial').result, 'applied');
  assert.strictEqual(sub(env, 'ge_trial').state, 'expired');
  assert.deepStrictEqual(notices(env, 'ge_trial').filter((x) => x === 'trial_ended'), ['trial_ended']);
  const now = S.nowS();
  await stripeSub(env, 'ge_strial', 'trialing', now, now + 7 * 86400, { trialEnd: now + 7 * 86400, trialStart: now });
  const st = sub(env, 'ge_strial');
  assert.strictEqual(st.state, 'trialing');
  r = expire(env, { now: st.trial_end + 60e3 });
  assert.ok(!r.json.items.some((i) => i.user_id === 'ge_strial'), 'the store\'s conversion may be on its way');
  r = expire(env, { now: st.trial_end + LEEWAY + 60e3 });
  assert.strictEqual(r.json.items.find((i) => i.user_id === 'ge_strial').event_id, `expire:${st.id}:${st.trial_end + LEEWAY}`);
  assert.strictEqual(sub(env, 'ge_strial').state, 'expired');
});

test('a direct provider\'s plan (plan:...) ends at its period end; a balance plan only a leeway after it', async (env) => {
  const t0 = Date.now() - 40 * DAY;
  J.seedSubs(env, 1, { prefix: 'ge_rzp', provider: 'razorpay', ext: 'plan:pro_monthly:', product: 'pro_monthly', start: t0, end: t0 + 30 * DAY });
  J.seedSubs(env, 1, { prefix: 'ge_bal', provider: 'balance', ext: 'plan:plan_balance:', product: 'plan_balance', start: t0, end: t0 + 30 * DAY });
  const end = t0 + 30 * DAY;
  let r = expire(env, { now: end + 1000 });
  assert.ok(r.json.items.some((i) => i.user_id === 'ge_rzp0' && i.result === 'applied'));
  assert.ok(!r.json.items.some((i) => i.user_id === 'ge_bal0'), 'the renewals job\'s to renew or end');
  assert.strictEqual(sub(env, 'ge_rzp0').state, 'expired');
  r = expire(env, { now: end + LEEWAY + 1000 });
  assert.strictEqual(r.json.items.find((i) => i.user_id === 'ge_bal0').result, 'applied');
  assert.strictEqual(sub(env, 'ge_bal0').state, 'expired');
});

test('credits past their expiry: one credits.expire per user, ledger entries, once', async (env) => {
  const t0 = Date.now() - 10 * DAY;
  J.seedGrants(env, 3, { prefix: 'ge_g', amount: 40, expires: t0 + DAY, at: t0 });
  env.sql(`INSERT INTO grants (user_id, source, amount, remaining, expires_at, created_at) VALUES ('ge_g0', 'promo', 5, 5, ${t0 + 2 * DAY}, ${t0});
    INSERT INTO ledger (user_id, grant_id, amount, kind, reason, actor, created_at) SELECT user_id, id, 5, 'grant', 'seeded', 'test', ${t0} FROM grants WHERE user_id = 'ge_g0' AND amount = 5`);
  const r = expire(env, { now: t0 + 3 * DAY });
  const mine = r.json.items.filter((i) => /^ge_g\d$/.test(i.user_id));
  assert.deepStrictEqual(mine.map((i) => i.user_id).sort(), ['ge_g0', 'ge_g1', 'ge_g2'], 'one event per user');
  assert.ok(mine.every((i) => i.action === 'credits.expire' && i.result === 'applied' && i.event_id.startsWith(`credits-expire:${i.user_id}:`)));
  assert.deepStrictEqual(env.sql("SELECT sum(amount) AS s FROM ledger WHERE user_id = 'ge_g0' AND kind = 'expire'")[0].s, -45);
  const again = expire(env, { now: t0 + 3 * DAY + 1000 });
  assert.ok(!again.json.items.some((i) => /^ge_g\d$/.test(i.user_id)));
});

test('a pending order past its expiry is expired once', async (env) => {
  const t0 = Date.now() - DAY;
  env.sql(`INSERT INTO users (id, created_at) VALUES ('ge_ord', ${t0});
    INSERT INTO orders (id, provider, user_id, product_id, amount, currency, state, live, expires_at, created_at, updated_at)
    VALUES ('ord_ge1', 'cryptobot', 'ge_ord', 'credits_500', 500, 'USD', 'pending', 1, ${t0 + 3600e3}, ${t0}, ${t0})`);
  let r = expire(env, { now: t0 + 3600e3 - 1 });
  assert.ok(!r.json.items.some((i) => i.subject === 'order ord_ge1'));
  r = expire(env, { now: t0 + 3600e3 + 1 });
  const item = r.json.items.find((i) => i.subject === 'order ord_ge1');
  assert.deepStrictEqual([item.action, item.event_id, item.result], ['order.expire', 'order-expire:ord_ge1', 'applied']);
  assert.strictEqual(env.sql("SELECT state FROM orders WHERE id = 'ord_ge1'")[0].state, 'expired');
  r = expire(env, { now: t0 + 3600e3 + 2 });
  assert.ok(!r.json.items.some((i) => i.subject === 'order ord_ge1'));
});

const expiredOf = (env, prefix) => ({
  events: env.sql(`SELECT count(*) AS n FROM inbox WHERE provider = 'job' AND event_id LIKE 'credits-expire:${prefix}%'`)[0].n,
  entries: env.sql(`SELECT count(*) AS n FROM ledger WHERE kind = 'expire' AND user_id LIKE '${prefix}%'`)[0].n,
  left: env.sql(`SELECT count(*) AS n FROM grants WHERE remaining > 0 AND user_id LIKE '${prefix}%'`)[0].n,
});

test('kill -9 mid-run, then a rerun completes: each grant expired once', async (env) => {
  const t0 = Date.now() - 10 * DAY;
  const n = 4000;
  J.seedGrants(env, n, { prefix: 'ge_k', amount: 10, expires: t0 + DAY, at: t0 });
  const p = J.spawnJob(env, 'grace-expiry', [], { now: t0 + 2 * DAY });
  await J.until(() => expiredOf(env, 'ge_k').events >= 200, 'progress');
  p.kill('SIGKILL');
  await p.done;
  const mid = expiredOf(env, 'ge_k');
  assert.ok(mid.events < n);
  assert.strictEqual(mid.events, mid.entries, 'every committed event with its ledger entry');
  const r = J.job(env, 'grace-expiry', [], { now: t0 + 2 * DAY });
  assert.strictEqual(r.code, 0, r.stderr);
  assert.deepStrictEqual(expiredOf(env, 'ge_k'), { events: n, entries: n, left: 0 });
});

test('two runs at once expire each grant once; --dry-run and --limit', async (env) => {
  const t0 = Date.now() - 10 * DAY;
  J.seedGrants(env, 1200, { prefix: 'ge_two', amount: 10, expires: t0 + DAY, at: t0 });
  J.seedGrants(env, 6, { prefix: 'ge_lim', amount: 10, expires: t0 + DAY, at: t0 });
  const before = env.counts();
  const dry = expire(env, { now: t0 + 2 * DAY }, ['--dry-run']);
  assert.strictEqual(dry.json.counts['credits.expire.would_apply'], 1206);
  assert.deepStrictEqual(env.counts(), before);
  const lim = expire(env, { now: t0 + 2 * DAY }, ['--limit', '4']);
  assert.strictEqual(lim.json.counts['credits.expire.applied'], 4);
  const [a, b] = await Promise.all([
    J.jobAsync(env, 'grace-expiry', [], { now: t0 + 2 * DAY }), J.jobAsync(env, 'grace-expiry', [], { now: t0 + 2 * DAY }),
  ]);
  assert.strictEqual(a.code, 0, a.stderr);
  assert.strictEqual(b.code, 0, b.stderr);
  assert.deepStrictEqual(expiredOf(env, 'ge_two'), { events: 1200, entries: 1200, left: 0 });
  assert.strictEqual(expiredOf(env, 'ge_lim').left, 0);
});

J.suite(() => startApi());
