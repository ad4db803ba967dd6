'use strict';
// bin/tally-reminders with --now: trial_ending before a trial ends and plan_ending before a plan
// that does not renew by itself ends (canceled, set to end, a direct provider's plan), at the
// configured offsets, exactly once per (subscription, kind, offset, end); only the nearest
// offset when the job catches up; none for plans that renew; other offsets from the config;
// two runs at once; --dry-run; --limit.
const fs = require('fs');
const path = require('path');
const { test, assert } = require('../lib/t');
const { startApi, apiCatalog } = require('../lib/api');
const S = require('../lib/stripe-events');
const J = require('../lib/jobs');

const { DAY } = J;
const H = 3600e3;

const remind = (env, now, args = [], opts = {}) => J.job(env, 'reminders', ['--json', ...args], { now, ...opts });
const sub = (env, user) => env.sql(`SELECT * FROM subscriptions WHERE user_id = '${user}' ORDER BY id DESC LIMIT 1`)[0];
const rows = (env, user) => env.sql(`SELECT topic, dedup_key, payload FROM outbox WHERE kind = 'notify' AND user_id = '${user}' AND (topic = 'trial_ending' OR topic = 'plan_ending') ORDER BY id`);

async function trial(env, user) {
  assert.ok([200, 201].includes((await env.api('POST', `/v1/users/${user}`, {})).status));
  const t = await env.api('POST', `/v1/users/${user}/trial`, {});
  assert.ok([200, 201].includes(t.status), t.text);
  return sub(env, user);
}

test('a trial: trial_ending 3 days and 1 day before it ends, each once', async (env) => {
  const s = await trial(env, 'rm_ann');
  const end = s.trial_end;
  let r = remind(env, end - 3 * DAY - H);
  assert.ok(!r.json.items.some((i) => i.user_id === 'rm_ann'), 'nothing 3 days and an hour before');
  r = remind(env, end - 3 * DAY + H);
  const it = r.json.items.find((i) => i.user_id === 'rm_ann');
  assert.deepStrictEqual([it.action, it.result, it.event_id], ['notice', 'applied', `reminder:${s.id}:trial:3d:${end}`]);
  r = remind(env, end - 2 * DAY);
  assert.strictEqual(r.json.items.find((i) => i.user_id === 'rm_ann').result, 'duplicate', 'a second run finds it done');
  remind(env, end - DAY + H);
  remind(env, end - H);
  remind(env, end + H);
  const got = rows(env, 'rm_ann');
  assert.deepStrictEqual(got.map((x) => x.dedup_key), [
    `notice:reminder:${s.id}:trial:3d:${end}`, `notice:reminder:${s.id}:trial:1d:${end}`,
  ]);
  const payload = JSON.parse(got[0].payload);
  assert.strictEqual(payload.type, 'trial_ending');
  assert.strictEqual(payload.user_id, 'rm_ann');
  assert.strictEqual(payload.subscription_id, s.id);
});

test('catching up: only the nearest offset is sent, never a late "3 days left"', async (env) => {
  const s = await trial(env, 'rm_late');
  remind(env, s.trial_end - DAY + H);
  remind(env, s.trial_end - H);
  assert.deepStrictEqual(rows(env, 'rm_late').map((x) => x.dedup_key), [`notice:reminder:${s.id}:trial:1d:${s.trial_end}`]);
});

test('plans that do not renew by themselves get plan_ending; plans that renew get none', async (env) => {
  const now = S.nowS();
  const end = now + 10 * 86400;
  for (const [user, cancel] of [['rm_cx', true], ['rm_renews', false]]) {
    const cus = S.rid('cus');
    const id = S.rid('sub');
    await env.stripe(S.event('checkout.session.completed', S.checkoutSession({ mode: 'subscription', customer: cus, subscription: id, clientReferenceId: user })));
    const r = await env.stripe(S.event('customer.subscription.created', S.subscription({ id, customer: cus, price: 'price_pro_monthly', periodStart: now, periodEnd: end, cancelAtPeriodEnd: cancel })));
    assert.strictEqual(r.json.state, 'applied', r.text);
  }
  const t0 = Date.now();
  J.seedSubs(env, 1, { prefix: 'rm_rzp', provider: 'razorpay', ext: 'plan:pro_monthly:', product: 'pro_monthly', start: t0, end: end * 1000 });
  J.seedSubs(env, 1, { prefix: 'rm_bal', provider: 'balance', ext: 'plan:plan_balance:', product: 'plan_balance', start: t0, end: end * 1000, cancel: true });
  J.seedSubs(env, 1, { prefix: 'rm_balon', provider: 'balance', ext: 'plan:plan_balance:', product: 'plan_balance', start: t0, end: end * 1000 });
  remind(env, end * 1000 - 3 * DAY + H);
  remind(env, end * 1000 - DAY + H);
  for (const u of ['rm_cx', 'rm_rzp0', 'rm_bal0']) {
    const s = sub(env, u);
    assert.deepStrictEqual(rows(env, u).map((x) => [x.topic, x.dedup_key]), [
      ['plan_ending', `notice:reminder:${s.id}:expiry:3d:${s.period_end}`],
      ['plan_ending', `notice:reminder:${s.id}:expiry:1d:${s.period_end}`],
    ], u);
  }
  assert.deepStrictEqual(rows(env, 'rm_renews'), []);
  assert.deepStrictEqual(rows(env, 'rm_balon0'), [], 'a balance plan renewing by itself');
});

test('other offsets from the config (reminders.trial ["12h"], expiry [])', async (env) => {
  const cfgPath = path.join(env.dir, 'reminders.json');
  fs.writeFileSync(cfgPath, JSON.stringify({ ...apiCatalog(), reminders: { trial: ['12h'], expiry: [] } }));
  const s = await trial(env, 'rm_cfg');
  const o = { env: { TALLY_CONFIG: cfgPath } };
  remind(env, s.trial_end - 3 * DAY + H, [], o);
  remind(env, s.trial_end - DAY + H, [], o);
  assert.deepStrictEqual(rows(env, 'rm_cfg'), []);
  const r = remind(env, s.trial_end - 12 * H + H, [], o);
  assert.strictEqual(r.json.items.find((i) => i.user_id === 'rm_cfg').event_id, `reminder:${s.id}:trial:12h:${s.trial_end}`);
  fs.writeFileSync(cfgPath, JSON.stringify({ ...apiCatalog(), reminders: { trial: ['0d'] } }));
  const bad = remind(env, Date.now(), [], o);
  assert.strictEqual(bad.code, 1);
  assert.match(bad.stderr, /config: reminders\.trial\[0\]: expected a duration from 1s to 90d/);
});

test('two runs at once write each reminder once; --dry-run writes none; --limit bounds', async (env) => {
  const t0 = Date.now();
  J.seedSubs(env, 600, { prefix: 'rm_two', provider: 'stripe', product: 'pro_monthly', state: 'trialing', start: t0, end: t0 + 7 * DAY, trialEnd: t0 + 7 * DAY });
  const at = t0 + 6 * DAY + H;
  const before = env.counts();
  const dry = remind(env, at, ['--dry-run']);
  assert.strictEqual(dry.json.items.filter((i) => i.user_id.startsWith('rm_two') && i.result === 'would apply').length, 600);
  assert.deepStrictEqual(env.counts(), before);
  const lim = remind(env, at, ['--limit', '5']);
  assert.strictEqual(lim.json.items.length, 5);
  const [a, b] = await Promise.all([J.jobAsync(env, 'reminders', [], { now: at }), J.jobAsync(env, 'reminders', [], { now: at })]);
  assert.strictEqual(a.code, 0, a.stderr);
  assert.strictEqual(b.code, 0, b.stderr);
  const n = env.sql("SELECT count(*) AS n, count(DISTINCT user_id) AS u FROM outbox WHERE topic = 'trial_ending' AND user_id LIKE 'rm_two%'")[0];
  assert.deepStrictEqual(n, { n: 600, u: 600 });
});

J.suite(() => startApi());
