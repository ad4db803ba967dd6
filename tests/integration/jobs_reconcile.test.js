'use strict';
// bin/tally-reconcile against fake provider APIs in this process (Stripe: tests/fakes/stripe_sync.js;
// Apple: tests/fakes/apple.js; RevenueCat: tests/fakes/revenuecat.js) with the real handlers
// behind nginx for the webhooks tally did receive: missed events applied once (the webhook's
// ids dedup them), stale subscriptions fetched and their provider state applied, the drift
// report, a provider unreachable or refusing (its error, nothing of it applied, the others
// still run, exit 1), --dry-run, --provider, and nothing configured.
const crypto = require('crypto');
const { test, assert } = require('../lib/t');
const { Env, DEFAULT_CATALOG } = require('../lib/harness');
const S = require('../lib/stripe-events');
const A = require('../lib/apple');
const { post: applePost, sd, userId, txId, PRO } = require('../lib/apple-env');
const R = require('../lib/revenuecat-events');
const J = require('../lib/jobs');
const { FakeStripeSync } = require('../fakes/stripe_sync');
const { FakeApple } = require('../fakes/apple');
const { FakeRevenueCat, subscription: rcSub } = require('../fakes/revenuecat');

const STRIPE_KEY = `sk_test_${crypto.randomBytes(12).toString('hex')}`;
const RC_KEY = `sk_${crypto.randomBytes(12).toString('hex')}`;
const RC_AUTH = `Bearer whk_${crypto.randomBytes(12).toString('hex')}`;
const KEY_ID = 'TESTKEY123';
const ISSUER = '57246542-96fe-1a63-e053-0824d011072a';
const { DAY } = J;
const DS = 86400;

let stripe;
let apple;
let rc;
let pki;

const reconcile = (env, args = [], opts = {}) => J.jobAsync(env, 'reconcile', ['--json', ...args], opts);
const items = (r, action) => r.json.items.filter((i) => i.action === action);

async function hook(env, evt) {
  const r = await env.stripe(evt);
  assert.strictEqual(r.status, 200, r.text);
  return evt;
}

// A Stripe customer's subscription events (period [start, end] in seconds).
function stripeSub(user, start, end, o = {}) {
  const c = { user, cus: S.rid('cus'), sub: S.rid('sub'), inv: S.rid('in'), start, end };
  c.events = [
    S.event('checkout.session.completed', S.checkoutSession({ mode: 'subscription', customer: c.cus, subscription: c.sub, clientReferenceId: user, invoice: c.inv }), { created: o.created || start }),
    S.event('customer.subscription.created', S.subscription({ id: c.sub, customer: c.cus, price: 'price_pro_monthly', periodStart: start, periodEnd: end }), { created: o.created || start }),
    S.event('invoice.paid', S.invoice({ id: c.inv, customer: c.cus, subscription: c.sub, price: 'price_pro_monthly', periodStart: start, periodEnd: end, paymentIntent: S.rid('pi') }), { created: o.created || start }),
  ];
  return c;
}

test('stripe: the events the webhook missed are applied once; the ones it brought are found in the inbox', async (env) => {
  const now = S.nowS();
  const a = stripeSub('rc_s1', now - 60, now + 30 * DS, { created: now - 60 });
  for (const e of a.events) await hook(env, e);
  const cancel = S.event('customer.subscription.updated', S.subscription({
    id: a.sub, customer: a.cus, price: 'price_pro_monthly', periodStart: a.start, periodEnd: a.end, cancelAtPeriodEnd: true,
  }), { created: now - 30, previous: { cancel_at_period_end: false } });
  const pack = S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: 'rc_s2', metadata: { product: 'credits_500' }, amountTotal: 500,
  }), { created: now - 20 });
  const ignored = S.event('payment_intent.created', { id: S.rid('pi'), object: 'payment_intent' }, { created: now - 10 });
  stripe.events.push(...a.events, cancel, pack, ignored);
  stripe.requests = [];
  const r = await reconcile(env, ['--provider', 'stripe']);
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  assert.strictEqual(r.json.counts['stripe.events_fetched'], 5, 'only the types tally reads were asked for');
  assert.strictEqual(r.json.counts['stripe event.applied'], 2, r.stdout);
  assert.strictEqual(r.json.counts['stripe event.duplicate'], 3);
  assert.deepStrictEqual(items(r, 'stripe event').filter((i) => i.result === 'applied').map((i) => i.event_id), [cancel.id, pack.id], 'oldest first');
  assert.strictEqual(env.user('rc_s2').balance.available, 500);
  assert.strictEqual(env.user('rc_s1').subscriptions[0].cancel_at_period_end, true);
  assert.deepStrictEqual(items(r, 'provider').map((i) => [i.provider, i.result]), [['stripe', 'ok']]);
  const q = stripe.requests.find((x) => x.path === '/v1/events').query;
  assert.strictEqual(q.getAll('types[]').length, 14);
  assert.ok(Number(q.get('created[gt]')) <= now - 3 * DS + 5, 'a first run looks three days back');
  assert.strictEqual(stripe.requests[0].auth, `Bearer ${STRIPE_KEY}`);
  assert.ok(!r.stdout.includes(STRIPE_KEY) && !r.stderr.includes(STRIPE_KEY), 'the key is never printed');
  // A second run: every event is in the inbox; the window now starts an hour before the last success.
  const again = await reconcile(env, ['--provider', 'stripe']);
  assert.strictEqual(again.json.counts['stripe event.duplicate'], 5);
  assert.strictEqual(again.json.counts['stripe event.applied'], undefined);
  const q2 = stripe.requests.filter((x) => x.path === '/v1/events').pop().query;
  assert.ok(Number(q2.get('created[gt]')) >= S.nowS() - 3700, 'since the last success less an hour');
});

test('stripe: a failure on the second page applies nothing, the run exits 1 saying why', async (env) => {
  const now = S.nowS();
  const missed = [1, 2, 3].map((i) => S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: `rc_half${i}`, metadata: { product: 'credits_500' }, amountTotal: 500,
  }), { created: now - i }));
  stripe.events.push(...missed);
  stripe.pageSize = 2;
  stripe.fail(500, { after: 1 });
  const r = await reconcile(env, ['--provider', 'stripe', '--since', '1h']);
  stripe.pageSize = 100;
  assert.strictEqual(r.code, 1);
  assert.strictEqual(r.json.ok, false);
  assert.match(r.json.error, /^stripe: Stripe answered 500: failure 500 injected/);
  assert.deepStrictEqual(items(r, 'provider').map((i) => [i.provider, i.result]), [['stripe', 'error']]);
  for (let i = 1; i <= 3; i++) assert.strictEqual(env.user(`rc_half${i}`), null, 'nothing half-done');
  const ok = await reconcile(env, ['--provider', 'stripe', '--since', '1h']);
  assert.strictEqual(ok.code, 0, ok.stderr);
  for (let i = 1; i <= 3; i++) assert.strictEqual(env.user(`rc_half${i}`).balance.available, 500);
});

test('stripe: stale subscriptions are fetched and Stripe\'s state applied as an event (drift report)', async (env) => {
  const now = S.nowS();
  const renewed = stripeSub('rc_stale1', now - 33 * DS, now - 3 * DS);
  const ended = stripeSub('rc_stale2', now - 34 * DS, now - 4 * DS);
  const same = stripeSub('rc_stale3', now - 35 * DS, now - 5 * DS);
  for (const c of [renewed, ended, same]) for (const e of c.events) await hook(env, e);
  stripe.subscriptions[renewed.sub] = S.subscription({ id: renewed.sub, customer: renewed.cus, price: 'price_pro_monthly', periodStart: now - 3 * DS, periodEnd: now + 27 * DS });
  stripe.subscriptions[ended.sub] = S.subscription({ id: ended.sub, customer: ended.cus, price: 'price_pro_monthly', status: 'canceled', periodStart: ended.start, periodEnd: ended.end, endedAt: ended.end });
  stripe.subscriptions[same.sub] = S.subscription({ id: same.sub, customer: same.cus, price: 'price_pro_monthly', periodStart: same.start, periodEnd: same.end });
  const r = await reconcile(env, ['--provider', 'stripe', '--since', '1m']);
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  const drift = items(r, 'drift');
  assert.deepStrictEqual(drift.map((d) => d.user_id), ['rc_stale2', 'rc_stale1'], 'stale first: the oldest end first; the one in sync is not drift');
  const d1 = drift.find((d) => d.user_id === 'rc_stale1');
  assert.strictEqual(d1.provider, 'stripe');
  assert.match(d1.tally, /^active until /);
  assert.match(d1.theirs, /^active until /);
  assert.strictEqual(drift.find((d) => d.user_id === 'rc_stale2').theirs.split(' ')[0], 'expired');
  const fixes = items(r, 'stripe subscription');
  assert.strictEqual(fixes.length, 2);
  assert.ok(fixes.every((f) => f.result === 'applied' && /^reconcile:sub_[0-9a-f]+:[0-9a-f]{32}$/.test(f.event_id)), JSON.stringify(fixes));
  assert.strictEqual(r.json.counts['stripe.in_sync'], 1);
  const s1 = env.user('rc_stale1').subscriptions[0];
  assert.strictEqual(s1.state, 'active');
  assert.strictEqual(Date.parse(s1.period_end), (now + 27 * DS) * 1000);
  assert.strictEqual(env.user('rc_stale2').subscriptions[0].state, 'expired');
  assert.ok(!env.user('rc_stale2').entitlements.some((e) => e.name === 'pro'));
  const again = await reconcile(env, ['--provider', 'stripe', '--since', '1m']);
  assert.strictEqual(items(again, 'drift').length, 0, 'in sync now');
});

function appleSubscribed() {
  const user = userId();
  const tx = A.transaction({ appAccountToken: user, originalTransactionId: txId(), productId: PRO });
  return { user, ...A.notification('SUBSCRIBED', 'INITIAL_BUY', { chain: pki.chains.good, tx, renewal: A.renewalInfo(tx), signedDate: sd() }) };
}

test('apple: notifications the inbox lacks are fetched, verified and applied (as tally apple missed)', async (env) => {
  const ns = [1, 2, 3].map(() => appleSubscribed());
  assert.strictEqual((await applePost(env, ns[0].body)).status, 200);
  apple.notifications = ns.map((n) => ({ signedPayload: n.signedPayload, signedDate: n.payload.signedDate, failed: false }));
  const r = await reconcile(env, ['--provider', 'apple', '--since', '1h']);
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  assert.strictEqual(r.json.counts['apple.fetched'], 3);
  assert.strictEqual(r.json.counts['apple notification.applied'], 2);
  assert.strictEqual(r.json.counts['apple notification.duplicate'], 1);
  for (const n of ns) assert.strictEqual(env.user(n.user).subscriptions[0].state, 'active');
  const again = await reconcile(env, ['--provider', 'apple', '--since', '1h']);
  assert.strictEqual(again.json.counts['apple notification.duplicate'], 3);
});

test('revenuecat: the user of a stale subscription is synced (a missed renewal applied)', async (env) => {
  const u = 'rc_rcuser';
  const t0 = Date.now();
  const first = R.txn();
  const r0 = await R.post(env, R.initialPurchase({ user: u, txn: first, original: first, purchased: t0 - 33 * DAY, expires: t0 - 3 * DAY }), RC_AUTH);
  assert.strictEqual(r0.json.state, 'applied', r0.text);
  const renewal = R.txn();
  rc.set(u, {
    original: u,
    subs: { 'com.tally.pro.monthly': rcSub({ txn: renewal, purchased: t0 - 3 * DAY, expires: t0 + 27 * DAY }) },
    entitlements: { pro: { expires: t0 + 27 * DAY, product: 'com.tally.pro.monthly' } },
  });
  const r = await reconcile(env, ['--provider', 'revenuecat']);
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  const d = items(r, 'drift').filter((i) => i.provider === 'revenuecat');
  assert.ok(d.some((i) => i.event_id === `sync:${u}:${renewal}:renewal` && i.result === 'applied'), JSON.stringify(d));
  const doc = env.user(u);
  assert.strictEqual(Date.parse(doc.subscriptions[0].period_end), t0 + 27 * DAY);
  assert.strictEqual(doc.balance.available, 1000);
  assert.ok(rc.requests.some((q) => q.url === `/v1/subscribers/${u}` && q.authorization === `Bearer ${RC_KEY}`));
});

test('a provider unreachable: its error, the others still run, exit 1', async (env) => {
  stripe.fail(503);
  const n = appleSubscribed();
  apple.notifications.push({ signedPayload: n.signedPayload, signedDate: n.payload.signedDate, failed: true });
  const r = await reconcile(env, ['--since', '1h']);
  assert.strictEqual(r.code, 1);
  const p = Object.fromEntries(items(r, 'provider').map((i) => [i.provider, i]));
  assert.strictEqual(p.stripe.result, 'error');
  assert.match(p.stripe.reason, /Stripe answered 503/);
  assert.strictEqual(p.apple.result, 'ok');
  assert.strictEqual(p.revenuecat.result, 'ok');
  assert.strictEqual(env.user(n.user).subscriptions[0].state, 'active', 'Apple\'s part still applied');
  const text = await J.jobAsync(env, 'reconcile', ['--provider', 'stripe', '--since', '1h'], { env: { STRIPE_API_KEY: 'sk_test_wrong' } });
  assert.strictEqual(text.code, 1);
  assert.match(text.stdout, /^provider stripe: error: Stripe answered 401: Invalid API Key provided/m);
  assert.match(text.stdout, /FAILED: stripe: Stripe answered 401/);
  assert.ok(!text.stdout.includes('sk_test_wrong') && !text.stderr.includes('sk_test_wrong'));
});

test('--dry-run applies nothing and says what it would', async (env) => {
  const now = S.nowS();
  const pack = S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: 'rc_dry', metadata: { product: 'credits_500' }, amountTotal: 500,
  }), { created: now });
  stripe.events.push(pack);
  const before = env.counts();
  const r = await reconcile(env, ['--provider', 'stripe', '--since', '1h', '--dry-run']);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(r.json.counts['stripe event.would_apply'], 1);
  assert.deepStrictEqual(env.counts(), before);
});

test('nothing configured: nothing to do, exit 0', async (env) => {
  const r = await reconcile(env, [], { env: { STRIPE_API_KEY: '', REVENUECAT_API_KEY: '', APPLE_PRIVATE_KEY: '' } });
  assert.strictEqual(r.code, 0, r.stderr);
  assert.deepStrictEqual(items(r, 'provider'), []);
  const bad = await reconcile(env, ['--provider', 'paypal']);
  assert.strictEqual(bad.code, 2);
});

J.suite(async () => {
  pki = A.makePki();
  const kp = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  stripe = await new FakeStripeSync({ key: STRIPE_KEY }).start();
  apple = await new FakeApple({ publicKey: kp.publicKey, keyId: KEY_ID, issuerId: ISSUER, bundleId: A.BUNDLE, appAppleId: A.APP_ID, pageSize: 2 }).start();
  rc = await new FakeRevenueCat({ apiKey: RC_KEY }).start();
  const cfg = JSON.parse(JSON.stringify(DEFAULT_CATALOG));
  cfg.stripe.api_base = stripe.url;
  cfg.apple = {
    bundle_id: A.BUNDLE, app_apple_id: A.APP_ID, sandbox: false, roots: [pki.root.pem],
    api_base: apple.url, api_sandbox_base: 'http://127.0.0.1:9', key_id: KEY_ID, issuer_id: ISSUER,
  };
  cfg.revenuecat = { sandbox: false, api_base: rc.url };
  cfg.http = { timeout: '2s', connect_timeout: '1s' };
  cfg.products.apple_pro = { kind: 'subscription', entitlements: ['pro'], credits: 1000, match: { apple: [PRO, 'com.tally.pro.monthly'] } };
  return Env.start({
    config: cfg,
    handlers: ['stripe', 'appstore', 'revenuecat'],
    env: {
      STRIPE_API_KEY: STRIPE_KEY, REVENUECAT_API_KEY: RC_KEY, REVENUECAT_WEBHOOK_AUTH: RC_AUTH,
      APPLE_PRIVATE_KEY: kp.privateKey.export({ type: 'pkcs8', format: 'pem' }),
    },
  });
}, async () => {
  await stripe.close();
  await apple.stop();
  await rc.close();
});
