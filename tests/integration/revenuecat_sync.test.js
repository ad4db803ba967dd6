'use strict';
// `tally revenuecat sync USER` against a fake RevenueCat REST API on 127.0.0.1
// (tests/fakes/revenuecat.js, RevenueCat's response format): what it applies when tally
// missed webhooks, that a second run applies nothing, --dry-run and --json, and its
// failures: 404, 429 (waited out when Retry-After is short, refused when long), timeouts,
// a refused or missing API key. Webhooks go through nginx + tally-revenuecat as usual.
const crypto = require('crypto');
const path = require('path');
const { spawn } = require('child_process');
const { test, run, assert } = require('../lib/t');
const { Env, BIN } = require('../lib/harness');
const R = require('../lib/revenuecat-events');
const { FakeRevenueCat, subscription, purchase } = require('../fakes/revenuecat');

const AUTH = `Bearer whk_${crypto.randomBytes(18).toString('hex')}`;
const API_KEY = `sk_${crypto.randomBytes(16).toString('hex')}`;
const { DAY } = R;
const sameTime = (iso, ms) => assert.strictEqual(Date.parse(iso), ms, `${iso} is not ${new Date(ms).toISOString()}`);

let fake;

// The CLI runs while the fake answers in this process: spawn, not spawnSync.
function sync(env, args, extraEnv = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const p = spawn(path.join(BIN, 'tally'), ['revenuecat', 'sync', ...args], { env: env.env(extraEnv) });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - t0 }));
  });
}

async function ok(env, body) {
  const r = await R.post(env, body, AUTH);
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(r.json.state, 'applied', r.text);
  return r.json;
}

const sub0 = (doc) => doc.subscriptions[0];

// A customer who subscribed through a webhook tally received: returns its subscription.
async function subscribed(env, user) {
  const s = { user, original: R.txn(), start: Date.now() - 10 * DAY };
  s.end = s.start + 30 * DAY;
  s.txn = s.original;
  await ok(env, R.initialPurchase({ user, txn: s.txn, original: s.original, purchased: s.start, expires: s.end }));
  return s;
}

test('sync-applies-a-missed-renewal-and-a-second-run-applies-nothing', async (env) => {
  const u = 'sy_carol';
  const s = await subscribed(env, u);
  const r = env.tally(['credits', 'revoke', u, '300', '--reason', 'usage', '--operator', 'test']);
  assert.strictEqual(r.code, 0, r.stderr);
  const renewal = R.txn();
  fake.set(u, {
    original: u,
    subs: { 'com.tally.pro.monthly': subscription({ txn: renewal, purchased: s.end, expires: s.end + 30 * DAY }) },
    entitlements: { pro: { expires: s.end + 30 * DAY, product: 'com.tally.pro.monthly' } },
  });
  fake.requests = [];
  const out = await sync(env, [u, '--operator', 'ops_ann']);
  assert.strictEqual(out.code, 0, out.stderr + out.stdout);
  assert.match(out.stdout, new RegExp(`RENEWAL sync:${u}:${renewal}:renewal: applied`));
  assert.match(out.stdout, /1 events applied/);
  const doc = env.user(u);
  sameTime(sub0(doc).period_end, s.end + 30 * DAY);
  assert.strictEqual(doc.balance.available, 1000, 'the renewal resets the credits');
  const actor = `revenuecat:sync:${u}:${renewal}:renewal`;
  assert.ok(doc.audit.some((a) => a.actor === actor && a.action === 'subscription.update'), 'audited as the sync event');
  assert.ok(doc.ledger.some((l) => l.actor === actor && l.kind === 'grant' && l.reason === 'revenuecat sync by operator ops_ann'), 'naming its operator');
  // What RevenueCat was asked, and how.
  assert.strictEqual(fake.requests.length, 1);
  assert.strictEqual(fake.requests[0].url, `/v1/subscribers/${u}`);
  assert.strictEqual(fake.requests[0].authorization, `Bearer ${API_KEY}`);
  assert.strictEqual(fake.requests[0].platform, undefined, 'no X-Platform from a server');
  assert.ok(!out.stdout.includes(API_KEY) && !out.stderr.includes(API_KEY));

  const before = env.counts();
  const again = await sync(env, [u]);
  assert.strictEqual(again.code, 0, again.stderr);
  assert.match(again.stdout, /in sync: nothing to change/);
  assert.deepStrictEqual(env.counts(), before, 'a second sync changes nothing');
  // The webhook of that renewal, arriving late, grants nothing again.
  const late = await ok(env, R.renewal({ user: u, txn: renewal, original: s.original, purchased: s.end, expires: s.end + 30 * DAY, at: Date.now() - 60000 }));
  assert.match(late.reason, /already recorded/);
  assert.strictEqual(env.user(u).balance.available, 1000);
});

test('sync-creates-what-tally-never-heard-of', async (env) => {
  const u = 'sy_dan';
  const start = Date.now() - 2 * DAY;
  const subTxn = R.txn();
  const packTxn = R.txn();
  fake.set(u, {
    original: u,
    subs: { 'pro:monthly': subscription({ store: 'play_store', txn: `GPA.${subTxn}..0`, purchased: start, expires: start + 30 * DAY }) },
    purchases: { credits_500: [purchase({ store: 'play_store', txn: `GPA.${packTxn}`, purchased: start })] },
  });
  const out = await sync(env, [u]);
  assert.strictEqual(out.code, 0, out.stderr + out.stdout);
  assert.match(out.stdout, /INITIAL_PURCHASE/);
  assert.match(out.stdout, /NON_RENEWING_PURCHASE/);
  const doc = env.user(u);
  assert.strictEqual(doc.balance.available, 1500);
  assert.strictEqual(sub0(doc).product, 'pro_monthly');
  assert.strictEqual(sub0(doc).provider_id, `GPA.${subTxn}`, "a Play renewal's order id names its subscription");
  assert.strictEqual(env.sql(`SELECT store FROM subscriptions WHERE user_id = '${u}'`)[0].store, 'PLAY_STORE');
  const again = await sync(env, [u]);
  assert.match(again.stdout, /in sync/);
  assert.strictEqual(env.user(u).balance.available, 1500);
});

test('sync-expires-cancels-uncancels-and-flags-billing-issues-as-revenuecat-says', async (env) => {
  const u = 'sy_eve';
  const s = await subscribed(env, u);
  const entry = { txn: s.txn, purchased: s.start, expires: s.end };
  fake.set(u, { original: u, subs: { 'com.tally.pro.monthly': subscription({ ...entry, unsubscribe: Date.now() - 1000 }) } });
  let out = await sync(env, [u]);
  assert.match(out.stdout, /CANCELLATION sync:sy_eve:\d+:canceled:\d+: applied/);
  assert.strictEqual(sub0(env.user(u)).state, 'canceled');

  fake.set(u, { original: u, subs: { 'com.tally.pro.monthly': subscription(entry) } });
  out = await sync(env, [u]);
  assert.match(out.stdout, /UNCANCELLATION/);
  assert.strictEqual(sub0(env.user(u)).state, 'active');

  const grace = Date.now() + 5 * DAY;
  fake.set(u, { original: u, subs: { 'com.tally.pro.monthly': subscription({ ...entry, expires: Date.now() - 1000, billingIssue: Date.now() - 2000, grace }) } });
  out = await sync(env, [u]);
  assert.match(out.stdout, /BILLING_ISSUE/);
  let doc = env.user(u);
  assert.strictEqual(sub0(doc).state, 'past_due');
  sameTime(sub0(doc).grace_until, grace);

  fake.set(u, { original: u, subs: { 'com.tally.pro.monthly': subscription({ ...entry, expires: Date.now() - 1000 }) } });
  out = await sync(env, [u]);
  assert.match(out.stdout, /EXPIRATION sync:sy_eve:\d+:expired: applied/);
  doc = env.user(u);
  assert.strictEqual(sub0(doc).state, 'expired');
  assert.strictEqual(doc.balance.available, 0);
});

test('sync-applies-a-refund', async (env) => {
  const u = 'sy_fay';
  const s = await subscribed(env, u);
  fake.set(u, { original: u, subs: { 'com.tally.pro.monthly': subscription({ txn: s.txn, purchased: s.start, expires: s.end, refunded: Date.now() - 1000 }) } });
  const out = await sync(env, [u]);
  assert.match(out.stdout, /CANCELLATION .*refunded: applied/);
  const doc = env.user(u);
  assert.strictEqual(sub0(doc).state, 'refunded');
  assert.strictEqual(doc.balance.available, 0);
});

test('sync-dry-run-changes-nothing', async (env) => {
  const u = 'sy_gus';
  fake.set(u, { original: u, purchases: { 'com.tally.credits500': [purchase({ txn: R.txn(), purchased: Date.now() - DAY })] } });
  const before = env.counts();
  const out = await sync(env, [u, '--dry-run']);
  assert.strictEqual(out.code, 0, out.stderr);
  assert.match(out.stdout, /NON_RENEWING_PURCHASE sync:sy_gus:\d+:purchase: would apply/);
  assert.match(out.stdout, /dry run: 1 events would be applied/);
  assert.deepStrictEqual(env.counts(), before);
});

test('sync-json-output', async (env) => {
  const u = 'sy_hal';
  const t = R.txn();
  fake.set(u, {
    original: `$RCAnonymousID:${'a'.repeat(32)}`,
    purchases: { 'com.tally.credits500': [purchase({ txn: t, purchased: Date.now() - DAY })] },
    entitlements: { team: { expires: Date.now() + DAY, product: 'rc_promo_team' } },
  });
  const out = await sync(env, [u, '--json']);
  assert.strictEqual(out.code, 0, out.stderr);
  const doc = JSON.parse(out.stdout);
  assert.strictEqual(doc.user, u);
  assert.strictEqual(doc.dry_run, false);
  assert.strictEqual(doc.original_app_user_id, `$RCAnonymousID:${'a'.repeat(32)}`);
  const p = doc.changes.find((c) => c.what === 'purchase');
  assert.deepStrictEqual(
    { type: p.event_type, id: p.event_id, result: p.result, tally: p.tally, txn: p.transaction_id },
    { type: 'NON_RENEWING_PURCHASE', id: `sync:${u}:${t}:purchase`, result: 'applied', tally: 'missing', txn: t },
  );
  const e = doc.changes.find((c) => c.what === 'entitlement');
  assert.strictEqual(e.product, 'team');
  assert.strictEqual(e.event_type, null, 'an entitlement no tally product explains is reported only');
  assert.ok(env.user(u).links.some((l) => l.id === `$RCAnonymousID:${'a'.repeat(32)}`), "RevenueCat's original id is linked");
});

test('sync-anonymous-id-is-url-encoded', async (env) => {
  const u = `$RCAnonymousID:${crypto.randomBytes(16).toString('hex')}`;
  fake.requests = [];
  const out = await sync(env, [u]);
  assert.strictEqual(out.code, 0, out.stderr);
  assert.strictEqual(fake.requests[0].url, `/v1/subscribers/%24RCAnonymousID%3A${u.slice(15)}`);
  assert.match(out.stdout, /created it/, 'RevenueCat creates customers it does not know (201)');
});

test('sync-404-fails-and-changes-nothing', async (env) => {
  fake.status('sy_nobody', 404);
  const before = env.counts();
  const out = await sync(env, ['sy_nobody']);
  assert.strictEqual(out.code, 1);
  assert.match(out.stderr, /RevenueCat has no such customer: RevenueCat answered 404: Subscriber not found/);
  assert.deepStrictEqual(env.counts(), before);
});

test('sync-429-with-short-retry-after-is-waited-out', async (env) => {
  const u = 'sy_ivy';
  fake.set(u, { original: u, purchases: { 'com.tally.credits500': [purchase({ txn: R.txn(), purchased: Date.now() - DAY })] } });
  fake.failNext(u, 429, { retryAfter: 1 });
  fake.requests = [];
  const out = await sync(env, [u]);
  assert.strictEqual(out.code, 0, out.stderr);
  assert.strictEqual(fake.requests.length, 2);
  assert.ok(out.ms >= 900, `waited ${out.ms} ms`);
  assert.strictEqual(env.user(u).balance.available, 500);
});

test('sync-429-with-long-retry-after-fails', async (env) => {
  fake.failNext('sy_jay', 429, { retryAfter: 120 });
  fake.requests = [];
  const before = env.counts();
  const out = await sync(env, ['sy_jay']);
  assert.strictEqual(out.code, 1);
  assert.match(out.stderr, /rate limiting.*retry after 120 s/);
  assert.strictEqual(fake.requests.length, 1, 'not retried');
  assert.deepStrictEqual(env.counts(), before);
  fake.reset();
});

test('sync-timeout-fails-and-changes-nothing', async (env) => {
  fake.delay('sy_kim', 6000);
  const before = env.counts();
  const out = await sync(env, ['sy_kim']);
  assert.strictEqual(out.code, 1);
  assert.match(out.stderr, /cannot read the customer from RevenueCat: .*[Tt]imed? ?out/);
  assert.ok(out.ms < 5000, `gave up after ${out.ms} ms (http.timeout 2s)`);
  assert.deepStrictEqual(env.counts(), before);
  fake.reset();
});

test('sync-server-error-fails', async (env) => {
  fake.failNext('sy_lee', 503);
  const out = await sync(env, ['sy_lee']);
  assert.strictEqual(out.code, 1);
  assert.match(out.stderr, /RevenueCat answered 503/);
});

test('sync-refused-api-key-fails-without-printing-it', async (env) => {
  const out = await sync(env, ['sy_carol'], { REVENUECAT_API_KEY: 'sk_wrong_key_0123456789' });
  assert.strictEqual(out.code, 1);
  assert.match(out.stderr, /refused the API key \(401\)/);
  assert.ok(!out.stderr.includes('sk_wrong_key_0123456789'));
});

test('sync-without-api-key-fails', async (env) => {
  const before = fake.requests.length;
  const out = await sync(env, ['sy_carol'], { REVENUECAT_API_KEY: undefined });
  assert.strictEqual(out.code, 1);
  assert.match(out.stderr, /not configured: REVENUECAT_API_KEY is not set/);
  assert.strictEqual(fake.requests.length, before, 'nothing was asked');
});

test('sync-usage-errors', async (env) => {
  assert.strictEqual((await sync(env, [])).code, 2);
  assert.strictEqual((await sync(env, ['a', 'b'])).code, 2);
});

run({
  before: async () => {
    fake = await new FakeRevenueCat({ apiKey: API_KEY }).start();
    return Env.start({
      handlers: ['revenuecat'],
      config: R.config({ revenuecat: { api_base: fake.url }, http: { timeout: '2s', connect_timeout: '1s' } }),
      env: { REVENUECAT_WEBHOOK_AUTH: AUTH, REVENUECAT_API_KEY: API_KEY },
    });
  },
  after: async (env, failed) => {
    await fake.close();
    await env.stop(failed > 0 && process.env.KEEP);
  },
});
