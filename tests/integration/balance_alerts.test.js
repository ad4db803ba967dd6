'use strict';
// Balance alerts (config balance_alerts, products.<id>.balance_low): balance.low when a
// user's balance falls below the threshold, balance.empty when it reaches zero, once per
// crossing, decided in the transaction that changes the balance. Through the real API
// behind nginx (three tally-api processes), Stripe webhooks, the CLI, the deliver job
// against a receiver in this process (Standard Webhooks, checked with the
// `standardwebhooks` package) and `tally rebuild`.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { Webhook } = require('standardwebhooks');
const { test, run, assert } = require('../lib/t');
const { startApi } = require('../lib/api');
const S = require('../lib/stripe-events');
const J = require('../lib/jobs');

const SECRET = `whsec_${crypto.randomBytes(32).toString('base64')}`;
const sink = new J.Sink();
const DAY = 86400;

function config(extra = {}) {
  return {
    stripe: { test_mode: true },
    policy: { grace_period: '7d', renewal_leeway: '1d' },
    deliver: { webhook_url: `${sink.url}/hooks` },
    balance_alerts: { low: 100 },
    products: {
      // A percentage of the allowance, and credits, per product.
      pro_monthly: {
        kind: 'subscription', entitlements: ['pro'], credits: 1000, trial_credits: 100, balance_low: '25%',
        match: { stripe: ['price_pro_monthly'] },
      },
      team_monthly: {
        kind: 'subscription', entitlements: ['team'], credits: 5000, balance_low: 300,
        match: { stripe: ['price_team_monthly'] },
      },
      // No key of its own: balance_alerts.low.
      basic_monthly: { kind: 'subscription', entitlements: ['basic'], credits: 400, match: { stripe: ['price_basic'] } },
      credits_500: { kind: 'pack', credits: 500, match: { stripe: ['price_credits_500'] } },
    },
    ...extra,
  };
}

// The balance alerts the core wrote, oldest first, as {topic, data, dedup_key}.
function alerts(env, user) {
  return env.sql(`SELECT topic, dedup_key, payload, kind FROM outbox WHERE topic LIKE 'balance.%' AND user_id = '${user}' ORDER BY id`)
    .map((r) => ({ kind: r.kind, topic: r.topic, dedup: r.dedup_key, ...JSON.parse(r.payload) }));
}
const topics = (env, user) => alerts(env, user).map((a) => `${a.topic}@${a.data.balance}`);
const state = (env, user) => env.sql(`SELECT state, balance, threshold FROM balance_alerts WHERE user_id = '${user}'`)[0];

let seq = 0;
async function spend(env, user, amount) {
  const r = await env.api('POST', `/v1/users/${user}/spend`, { amount, idempotency_key: `k${++seq}`, reason: 'test' }, env.keys.spend);
  assert.strictEqual(r.status, 200, r.text);
  return r.json.balance;
}
async function register(env, user) {
  const r = await env.api('POST', `/v1/users/${user}`);
  assert.strictEqual(r.status, 200, r.text);
}
async function promo(env, user, credits) {
  const r = await env.api('POST', `/v1/users/${user}/promotions`, { credits, reason: 'test', idempotency_key: `p${++seq}` });
  assert.strictEqual(r.status, 200, r.text);
}

// A Stripe subscription of price for user, paid: its first period's credits.
async function subscribe(env, user, price, start = S.nowS()) {
  const cus = S.rid('cus');
  const sub = S.rid('sub');
  await env.stripe(S.event('customer.subscription.created', S.subscription({ id: sub, customer: cus, price, metadata: { user_id: user }, periodStart: start })));
  const w = await env.stripe(S.event('invoice.paid', S.invoice({
    id: S.rid('in'), customer: cus, subscription: sub, price, subMetadata: { user_id: user }, paymentIntent: S.rid('pi'), periodStart: start,
  })));
  assert.strictEqual(w.json.state, 'applied', w.text);
  return { cus, sub, start };
}

test('credits (balance_alerts.low 100): down, up and down again fires twice; zero fires empty', async (env) => {
  const U = 'ba_abs';
  await register(env, U);
  await promo(env, U, 150);
  assert.deepStrictEqual(state(env, U), { state: 'ok', balance: 150, threshold: 100 });
  assert.strictEqual(await spend(env, U, 40), 110);
  assert.deepStrictEqual(topics(env, U), [], 'above the threshold: nothing');
  assert.strictEqual(await spend(env, U, 20), 90);
  assert.deepStrictEqual(topics(env, U), ['balance.low@90'], 'crossing down: one');
  assert.strictEqual(await spend(env, U, 10), 80);
  assert.deepStrictEqual(topics(env, U), ['balance.low@90'], 'still below: not again');
  assert.deepStrictEqual(state(env, U), { state: 'low', balance: 90, threshold: 100 }, 'the state as the crossing left it');
  // A grant that lifts it back re-arms it, silently; the next crossing fires again.
  await promo(env, U, 50);
  assert.deepStrictEqual(state(env, U), { state: 'ok', balance: 130, threshold: 100 });
  assert.deepStrictEqual(topics(env, U), ['balance.low@90']);
  assert.strictEqual(await spend(env, U, 30), 100);
  assert.deepStrictEqual(topics(env, U), ['balance.low@90'], 'at the threshold is not below it');
  assert.strictEqual(await spend(env, U, 1), 99);
  assert.deepStrictEqual(topics(env, U), ['balance.low@90', 'balance.low@99'], 'up and down again: twice');
  assert.strictEqual(await spend(env, U, 99), 0);
  assert.deepStrictEqual(topics(env, U), ['balance.low@90', 'balance.low@99', 'balance.empty@0']);
  assert.deepStrictEqual(state(env, U), { state: 'empty', balance: 0, threshold: 100 });
  const all = alerts(env, U);
  const low = all[0];
  assert.strictEqual(low.kind, 'webhook', 'sent to the app, as user.updated');
  assert.deepStrictEqual(Object.keys(low).sort(), ['data', 'dedup', 'kind', 'timestamp', 'topic', 'type']);
  assert.strictEqual(low.type, 'balance.low');
  assert.match(low.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  assert.deepStrictEqual({ ...low.data, inbox_id: 0, event: { ...low.data.event, id: '' } }, {
    // allowance: read, since some threshold of the catalog is a percentage: a promotion is none.
    user_id: U, balance: 90, threshold: 100, percent: null, allowance: 0, set_by: 'balance_alerts.low',
    inbox_id: 0, event: { provider: 'app', id: '', type: 'credits.spend' },
  });
  const ev = env.sql(`SELECT id, event_id FROM inbox WHERE id = ${low.data.inbox_id}`)[0];
  assert.strictEqual(low.data.event.id, ev.event_id, 'the spend that crossed');
  assert.deepStrictEqual(Object.keys(all[2].data).sort(), ['balance', 'event', 'inbox_id', 'user_id']);
  assert.strictEqual(new Set(all.map((a) => a.dedup)).size, 3, 'one dedup key per crossing');
  // From zero up, still below the threshold, then to zero again: empty again, no low.
  await promo(env, U, 30);
  assert.deepStrictEqual(state(env, U).state, 'low');
  assert.strictEqual(await spend(env, U, 30), 0);
  assert.deepStrictEqual(topics(env, U).slice(3), ['balance.empty@0']);
});

test('a spend from above the threshold straight to zero sends balance.empty alone', async (env) => {
  const U = 'ba_jump';
  await register(env, U);
  await promo(env, U, 500);
  assert.strictEqual(await spend(env, U, 500), 0);
  assert.deepStrictEqual(topics(env, U), ['balance.empty@0']);
  assert.deepStrictEqual(state(env, U), { state: 'empty', balance: 0, threshold: 100 });
});

test('a percentage of the allowance (products.pro_monthly.balance_low 25%): 250 of 1000; a renewal re-arms it', async (env) => {
  const U = 'ba_pct';
  const s = await subscribe(env, U, 'price_pro_monthly');
  assert.deepStrictEqual(state(env, U), { state: 'ok', balance: 1000, threshold: 250 });
  assert.strictEqual(await spend(env, U, 750), 250);
  assert.deepStrictEqual(topics(env, U), []);
  assert.strictEqual(await spend(env, U, 1), 249);
  const a = alerts(env, U);
  assert.deepStrictEqual(topics(env, U), ['balance.low@249']);
  assert.deepStrictEqual({ threshold: a[0].data.threshold, percent: a[0].data.percent, allowance: a[0].data.allowance, set_by: a[0].data.set_by },
    { threshold: 250, percent: 25, allowance: 1000, set_by: 'products.pro_monthly.balance_low' });
  // The renewal RESETS the credits to 1000 (a reset and a grant, one change): no alert, re-armed.
  const w = await env.stripe(S.event('invoice.paid', S.invoice({
    id: S.rid('in'), customer: s.cus, subscription: s.sub, price: 'price_pro_monthly', subMetadata: { user_id: U },
    paymentIntent: S.rid('pi'), billingReason: 'subscription_cycle', periodStart: s.start + 30 * DAY, periodEnd: s.start + 60 * DAY,
  }), { created: s.start + 1 }));
  assert.strictEqual(w.json.state, 'applied', w.text);
  assert.strictEqual(env.user(U).balance.available, 1000);
  assert.deepStrictEqual(state(env, U), { state: 'ok', balance: 1000, threshold: 250 });
  assert.deepStrictEqual(topics(env, U), ['balance.low@249']);
  assert.strictEqual(await spend(env, U, 800), 200);
  assert.deepStrictEqual(topics(env, U), ['balance.low@249', 'balance.low@200']);
});

test('several products: the largest of their thresholds, a percentage of the whole allowance', async (env) => {
  const U = 'ba_two';
  await subscribe(env, U, 'price_pro_monthly');
  await subscribe(env, U, 'price_team_monthly');
  // The new plan SETS the plan credits to its own 5000 (billing.md); the allowance is both
  // plans' credits per period, 1000 + 5000: pro's 25% is 1500, team's 300 credits; the larger holds.
  assert.strictEqual(env.user(U).balance.available, 5000);
  assert.strictEqual(await spend(env, U, 3500), 1500);
  assert.deepStrictEqual(topics(env, U), []);
  assert.strictEqual(await spend(env, U, 100), 1400);
  const a = alerts(env, U);
  assert.deepStrictEqual(topics(env, U), ['balance.low@1400']);
  assert.deepStrictEqual([a[0].data.threshold, a[0].data.percent, a[0].data.allowance, a[0].data.set_by],
    [1500, 25, 6000, 'products.pro_monthly.balance_low']);
  // A product without a key of its own: balance_alerts.low (100 credits), allowance read.
  const B = 'ba_basic';
  await subscribe(env, B, 'price_basic');
  assert.strictEqual(await spend(env, B, 301), 99);
  const b = alerts(env, B);
  assert.deepStrictEqual([b[0].topic, b[0].data.threshold, b[0].data.percent, b[0].data.allowance, b[0].data.set_by],
    ['balance.low', 100, null, 400, 'balance_alerts.low']);
});

test('credits that expire: the grace-expiry job\'s expiry crosses, in the job\'s own event', async (env) => {
  const U = 'ba_expiry';
  await register(env, U);
  const end = Date.now() + 3600e3;
  let r = await env.api('POST', `/v1/users/${U}/promotions`, { credits: 150, expires_at: new Date(end).toISOString(), reason: 'x', idempotency_key: 'e1' });
  assert.strictEqual(r.status, 200, r.text);
  await promo(env, U, 50);
  assert.deepStrictEqual(state(env, U), { state: 'ok', balance: 150, threshold: 100 }, 'placed at its first change');
  r = J.job(env, 'grace-expiry', ['--json'], { now: end + 1000 });
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  const a = alerts(env, U);
  assert.deepStrictEqual(a.map((x) => [x.topic, x.data.balance, x.data.event.provider]), [['balance.low', 50, 'job']]);
  r = J.job(env, 'grace-expiry', ['--json'], { now: end + 2000 });
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(alerts(env, U).length, 1, 'a second run changes nothing');
});

test('the CLI and a refused spend: an operator grant re-arms, a 402 changes nothing', async (env) => {
  const U = 'ba_cli';
  await register(env, U);
  let r = env.tally(['credits', 'grant', U, '120', '--reason', 'goodwill']);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(await spend(env, U, 30), 90);
  assert.deepStrictEqual(topics(env, U), ['balance.low@90']);
  const short = await env.api('POST', `/v1/users/${U}/spend`, { amount: 1000, idempotency_key: 'too-much' }, env.keys.spend);
  assert.strictEqual(short.status, 402);
  assert.deepStrictEqual(state(env, U), { state: 'low', balance: 90, threshold: 100 });
  r = env.tally(['credits', 'grant', U, '10', '--reason', 'goodwill']);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.deepStrictEqual(state(env, U), { state: 'ok', balance: 100, threshold: 100 });
  r = env.tally(['credits', 'revoke', U, '50', '--reason', 'abuse']);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.deepStrictEqual(topics(env, U), ['balance.low@90', 'balance.low@50'], 'an operator revoke crosses too');
});

// 30 debits of 5 from 150, all at once: through many connections over three tally-api
// processes (and, in the second round, a third of them as `tally credits revoke`
// processes of their own): the balance crosses 100 once and reaches 0 once.
for (const round of [1, 2]) {
  test(`concurrent spends across the threshold from several processes cross once (round ${round})`, async (env) => {
    const U = `ba_race${round}`;
    await register(env, U);
    await promo(env, U, 150);
    const cli = round === 2 ? 10 : 0;
    const api = Array.from({ length: 30 - cli }, (_, i) =>
      env.api('POST', `/v1/users/${U}/spend`, { amount: 5, idempotency_key: `race-${round}-${i}` }, env.keys.spend));
    const ops = Array.from({ length: cli }, () => env.tallyAsync(['credits', 'revoke', U, '5', '--reason', 'race']));
    const [rs, cs] = await Promise.all([Promise.all(api), Promise.all(ops)]);
    for (const r of rs) assert.strictEqual(r.status, 200, r.text);
    for (const c of cs) assert.strictEqual(c.code, 0, c.stderr);
    assert.strictEqual(env.user(U).balance.available, 0);
    if (!cli) {
      // Each balance a spend answered is distinct: the spends were serialized, none lost.
      assert.deepStrictEqual(rs.map((r) => r.json.balance).sort((x, y) => x - y), Array.from({ length: 30 }, (_, i) => i * 5));
    }
    const rows = env.sql(`SELECT topic, count(*) AS n FROM outbox WHERE user_id = '${U}' AND topic LIKE 'balance.%' GROUP BY topic ORDER BY topic`);
    assert.deepStrictEqual(rows, [{ topic: 'balance.empty', n: 1 }, { topic: 'balance.low', n: 1 }]);
    assert.strictEqual(alerts(env, U)[0].data.balance, 95, 'the debit that took it from 100 to 95');
    assert.deepStrictEqual(state(env, U), { state: 'empty', balance: 0, threshold: 100 });
  });
}

test('a global percentage (balance_alerts.low 50%): of the free allowance, then of a trial', async () => {
  const cfg = config({
    balance_alerts: { low: '50%' },
    free_tier: { monthly_credits: 200 },
    trial: { product: 'basic_monthly', duration: '7d' },
  });
  cfg.products.basic_monthly.trial_credits = 100;
  const env2 = await startApi({ config: cfg, env: { TALLY_WEBHOOK_SECRET: SECRET } });
  try {
    const U = 'ba_free';
    await register(env2, U); // the free tier's 200 for the month
    assert.strictEqual(env2.user(U).balance.available, 200);
    assert.strictEqual(await spend(env2, U, 100), 100);
    assert.deepStrictEqual(topics(env2, U), [], '100 is half of 200: not below');
    assert.strictEqual(await spend(env2, U, 10), 90);
    let a = alerts(env2, U);
    assert.deepStrictEqual([a[0].topic, a[0].data.threshold, a[0].data.percent, a[0].data.allowance, a[0].data.set_by],
      ['balance.low', 100, 50, 200, 'balance_alerts.low']);
    // The app-managed trial gives access: it SETS the plan credits to its 100 trial credits
    // (the free ones go), the allowance is those 100 and the threshold 50; 100 is above it
    // (re-armed, nothing sent), 40 is below.
    const t = await env2.api('POST', `/v1/users/${U}/trial`);
    assert.strictEqual(t.status, 200, t.text);
    assert.strictEqual(env2.user(U).balance.available, 100);
    assert.deepStrictEqual(state(env2, U), { state: 'ok', balance: 100, threshold: 50 });
    assert.strictEqual(await spend(env2, U, 60), 40);
    a = alerts(env2, U);
    assert.deepStrictEqual(a.map((x) => [x.topic, x.data.balance, x.data.threshold, x.data.allowance]),
      [['balance.low', 90, 100, 200], ['balance.low', 40, 50, 100]]);
    // A user never registered (no free allowance) who bought a pack: 50% of no allowance is no
    // threshold; zero still counts.
    const P = 'ba_nobase';
    const w = await env2.stripe(S.event('checkout.session.completed', S.checkoutSession({
      mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: P, metadata: { product: 'credits_500' },
    })));
    assert.strictEqual(w.json.state, 'applied', w.text);
    assert.strictEqual(await spend(env2, P, 499), 1);
    assert.deepStrictEqual(topics(env2, P), []);
    assert.deepStrictEqual(state(env2, P), { state: 'ok', balance: 500, threshold: 0 });
    assert.strictEqual(await spend(env2, P, 1), 0);
    assert.deepStrictEqual(topics(env2, P), ['balance.empty@0']);
  } finally {
    await env2.stop();
  }
});

test('the threshold checked at start: a bad key stops the CLI with the key named', async (env) => {
  const bad = path.join(env.dir, 'bad.json');
  for (const [cfg, want] of [
    [config({ balance_alerts: { low: '120%' } }), 'config: balance_alerts.low: expected credits'],
    [config({ deliver: undefined }), 'config: balance_alerts: needs deliver.webhook_url'],
    [config({ balance_alerts: undefined }), 'config: products.pro_monthly.balance_low: needs the balance_alerts section'],
  ]) {
    fs.writeFileSync(bad, JSON.stringify(cfg));
    const r = env.tally(['user', 'show', 'ba_abs'], { TALLY_CONFIG: bad });
    assert.strictEqual(r.code, 1, r.stdout);
    assert.ok(r.stderr.includes(want), r.stderr);
  }
});

test('deliver sends balance.low signed as Standard Webhooks says; the standardwebhooks package verifies it', async (env) => {
  sink.requests = [];
  // (the expiry's alert was written at the job's clock, an hour ahead)
  const r = await J.jobAsync(env, 'deliver', ['--json'], { now: Date.now() + 2 * 3600e3 });
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  const rows = env.sql("SELECT id, dedup_key, payload, state FROM outbox WHERE topic LIKE 'balance.%' ORDER BY id");
  assert.ok(rows.length >= 10);
  const got = new Map(sink.requests.filter((q) => q.path === '/hooks').map((q) => [q.headers['webhook-id'], q]));
  for (const row of rows) {
    const id = `msg_${crypto.createHash('sha256').update(row.dedup_key).digest('hex').slice(0, 32)}`;
    const q = got.get(id);
    assert.ok(q, `delivered ${row.dedup_key}`);
    assert.strictEqual(q.body, row.payload, 'the stored payload, byte for byte');
    const doc = new Webhook(SECRET).verify(q.body, {
      'webhook-id': q.headers['webhook-id'], 'webhook-timestamp': q.headers['webhook-timestamp'],
      'webhook-signature': q.headers['webhook-signature'],
    });
    assert.deepStrictEqual(doc, JSON.parse(row.payload));
    assert.strictEqual(env.sql(`SELECT state FROM outbox WHERE id = ${row.id}`)[0].state, 'sent');
  }
  // A signature made with another secret does not verify.
  const q = got.values().next().value;
  assert.throws(() => new Webhook(`whsec_${crypto.randomBytes(32).toString('base64')}`).verify(q.body, {
    'webhook-id': q.headers['webhook-id'], 'webhook-timestamp': q.headers['webhook-timestamp'], 'webhook-signature': q.headers['webhook-signature'],
  }));
});

test('rebuild replays every event into the same balance states and the same outbox rows', async (env) => {
  const into = path.join(env.dir, 'rebuilt.db');
  const r = env.tally(['rebuild', '--into', into, '--json']);
  assert.strictEqual(r.code, 0, r.stdout + r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.strictEqual(doc.identical, true, r.stdout);
  const q = "SELECT topic || ' ' || user_id || ' ' || dedup_key || ' ' || payload AS x FROM outbox WHERE topic LIKE 'balance.%' ORDER BY x";
  const live = env.sql(q).map((x) => x.x.replace(/"timestamp":"[^"]*"|"inbox_id":\d+/g, ''));
  const rebuilt = JSON.parse(execFileSync('sqlite3', ['-json', into, q], { encoding: 'utf8' })).map((x) => x.x.replace(/"timestamp":"[^"]*"|"inbox_id":\d+/g, ''));
  assert.ok(live.length >= 10);
  assert.deepStrictEqual(rebuilt, live);
  const st = "SELECT user_id, state, balance, threshold FROM balance_alerts ORDER BY user_id";
  assert.deepStrictEqual(JSON.parse(execFileSync('sqlite3', ['-json', into, st], { encoding: 'utf8' })), env.sql(st));
  // A state no event explains is a difference.
  env.sql("UPDATE balance_alerts SET state = 'ok' WHERE user_id = 'ba_jump'");
  const d = env.tally(['rebuild', '--json']);
  assert.strictEqual(d.code, 1);
  assert.ok(JSON.parse(d.stdout).differences.some((x) => x.table === 'balance_alerts' && x.row.includes("'ba_jump'")), d.stdout);
  env.sql("UPDATE balance_alerts SET state = 'empty' WHERE user_id = 'ba_jump'");
});

test('verify is clean after everything above', async (env) => {
  const v = env.verify();
  assert.ok(v.ok, JSON.stringify(v.doc));
});

run({
  before: async () => {
    await sink.start();
    return startApi({ config: config(), processes: 3, env: { TALLY_WEBHOOK_SECRET: SECRET } });
  },
  after: async (env, failed) => {
    await sink.close();
    await env.stop(failed > 0 && process.env.KEEP);
  },
});
