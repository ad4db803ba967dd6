'use strict';
// bin/tally-reconcile's Google Play pass against the fake Google (tests/fakes/google.js), after
// purchases pushed through nginx + tally-google: a voided purchase whose notification never came
// is clawed back once (a second run and the late notification take nothing more); subscriptions
// that expired or renewed at Google while their pushes were lost are corrected (newest wins, the
// renewal's payment granted once); 410 and 404 recorded and not asked again; 429 and 5xx leave
// the subscription for the next run, which applies it; 403 alerted once a day. Then
// `tally google status` (text and JSON, a subscription and a one-time product) and the support
// console's search by purchase token and by Google order id (with and without "..N").
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { test, run, assert } = require('../lib/t');
const C = require('../lib/console');
const J = require('../lib/jobs');
const G = require('../lib/google');
const { FakeGoogle } = require('../fakes/google');

const PKG = 'com.example.tally';
const { DAY } = J;
const HOUR = 3600e3;

function config(g) {
  return {
    google: {
      package_name: PKG, push_audience: g.audience, push_service_account: g.pushEmail,
      certs_url: g.certsUrl, api_base: g.apiBase, token_url: g.tokenUrl,
    },
    http: { timeout: '3s', connect_timeout: '1s' },
    policy: { grace_period: '7d', renewal_leeway: '1d' },
    products: {
      pro_monthly: { kind: 'subscription', entitlements: ['pro'], credits: 1000, match: { google: ['pro_monthly'] } },
      credits_500: { kind: 'pack', credits: 500, match: { google: ['credits_500'] } },
    },
  };
}

const user = (p) => `${p}_${crypto.randomBytes(4).toString('hex')}`;
const mid = () => String(10000000000 + crypto.randomInt(1e9));
const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

async function push(ctx, notification) {
  const body = ctx.g.pushBody(notification, { messageId: mid() });
  const r = await ctx.env.request('POST', '/webhooks/google', body, {
    'Content-Type': 'application/json', Authorization: `Bearer ${ctx.g.signPush()}`,
  });
  assert.strictEqual(r.status, 200, r.text);
  return r.json;
}

// A subscription of account, its period [start, expiry], bought through a PURCHASED push. By
// default it ended an hour ago with no push since: due for the pass at the wall clock.
async function buySub(ctx, account, o = {}) {
  const s = { token: G.token(), order: G.orderId(), account };
  s.start = o.start !== undefined ? o.start : Date.now() - 30 * DAY - HOUR;
  s.expiry = o.expiry !== undefined ? o.expiry : Date.now() - HOUR;
  s.doc = (extra = {}) => G.subV2({ productId: 'pro_monthly', orderId: s.order, start: s.start, expiry: s.expiry, account, ...extra });
  ctx.g.setSubscription(s.token, s.doc());
  const r = await push(ctx, G.subNotification(G.SUB.PURCHASED, s.token));
  assert.strictEqual(r.state, 'applied', JSON.stringify(r));
  return s;
}

// A pack bought through a ONE_TIME_PRODUCT_PURCHASED push.
async function buyPack(ctx, account) {
  const p = { token: G.token(), order: G.orderId(), account };
  ctx.g.setProduct('credits_500', p.token, G.productPurchase({ orderId: p.order, account, consumed: true }));
  const r = await push(ctx, G.productNotification(G.ONE_TIME.PURCHASED, p.token, 'credits_500'));
  assert.strictEqual(r.state, 'applied', JSON.stringify(r));
  return p;
}

const reconcile = (ctx, args = []) => J.jobAsync(ctx.env, 'reconcile', ['--json', '--provider', 'google', ...args]);
const items = (r, action) => r.json.items.filter((i) => i.action === action);
const line = (r) => items(r, 'provider').find((i) => i.provider === 'google');
const count = (r, name) => r.json.counts[name] || 0;
const subOf = (env, u, token) => env.user(u).subscriptions.find((x) => x.provider_id === token);
const pro = (env, u) => env.user(u).entitlements.some((e) => e.name === 'pro');
const fetches = (g, token) => g.requests.filter((q) => q.method === 'GET' && q.path.endsWith(`/subscriptionsv2/tokens/${encodeURIComponent(token)}`)).length;
const payState = (env, key) => (env.sql(`SELECT p.state FROM payments p JOIN payment_keys k ON k.payment_id = p.id WHERE k.provider = 'google' AND k.key = '${key}'`)[0] || {}).state;

async function ok(ctx, args) {
  const r = await reconcile(ctx, args);
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  assert.strictEqual(line(r).result, 'ok', JSON.stringify(line(r)));
  return r;
}

// --- voided purchases ---

test('a voided subscription order the webhook never delivered is clawed back once', async (ctx) => {
  const u = user('gv_sub');
  const s = await buySub(ctx, u, { start: Date.now() - 2 * DAY, expiry: Date.now() + 28 * DAY });
  assert.strictEqual(ctx.env.user(u).balance.available, 1000);
  ctx.g.addVoided(G.voided({ token: s.token, orderId: s.order, voidedTime: Date.now() - HOUR }), { productType: 1 });
  const r = await ok(ctx);
  const applied = items(r, 'google voided purchase');
  assert.strictEqual(applied.length, 1, JSON.stringify(r.json.items));
  assert.strictEqual(applied[0].result, 'applied', JSON.stringify(applied[0]));
  assert.match(applied[0].event_id, new RegExp(`^voided:${esc(s.order)}:\\d+$`));
  assert.strictEqual(payState(ctx.env, s.order), 'refunded');
  assert.strictEqual(ctx.env.user(u).balance.available, 0, 'the grant clawed back');
  assert.strictEqual(subOf(ctx.env, u, s.token).state, 'refunded', 'the latest period refunded: access ends');
  assert.ok(!pro(ctx.env, u));
  const stored = ctx.env.sql(`SELECT CAST(b.body AS TEXT) AS body, i.type FROM inbox i JOIN inbox_bodies b ON b.inbox_id = i.id WHERE i.event_id = '${applied[0].event_id}'`)[0];
  assert.strictEqual(stored.type, 'VOIDED_PURCHASE/FULL');
  const env = JSON.parse(stored.body);
  assert.strictEqual(env.tally_google.call, 'none');
  assert.strictEqual(env.notification.voidedPurchaseNotification.orderId, s.order);
  assert.strictEqual(env.notification.voidedPurchaseNotification.productType, 1);
  assert.strictEqual(env.purchase.orderId, s.order, 'the VoidedPurchase as Google listed it');
  // Twice run = once: the payment is refunded, nothing is queued again.
  const before = ctx.env.counts();
  const again = await ok(ctx);
  assert.strictEqual(items(again, 'google voided purchase').length, 0, JSON.stringify(again.json.items));
  assert.ok(count(again, 'google.voided_already') >= 1);
  assert.deepStrictEqual(ctx.env.counts(), before);
  // The notification arriving late is stored and revokes nothing again.
  const late = await push(ctx, G.voidedNotification({ purchaseToken: s.token, orderId: s.order, productType: 1, refundType: 1 }));
  assert.strictEqual(late.state, 'applied');
  assert.strictEqual(ctx.env.sql(`SELECT count(*) AS n FROM ledger WHERE user_id = '${u}' AND kind = 'clawback'`)[0].n, 1);
  assert.strictEqual(ctx.env.user(u).balance.available, 0);
});

test('a voided pack is found by its token too; an order tally never recorded is counted, not applied', async (ctx) => {
  const u = user('gv_pack');
  const p = await buyPack(ctx, u);
  assert.strictEqual(ctx.env.user(u).balance.available, 500);
  // Promo-code purchases may have no order id: the token is the key.
  const doc = G.voided({ token: p.token, orderId: p.order, voidedTime: Date.now() - 2 * HOUR });
  delete doc.orderId;
  ctx.g.addVoided(doc, { productType: 2 });
  ctx.g.addVoided(G.voided({ voidedTime: Date.now() - 2 * HOUR }), { productType: 2 });
  const r = await ok(ctx);
  const applied = items(r, 'google voided purchase');
  assert.strictEqual(applied.length, 1, JSON.stringify(r.json.items));
  assert.strictEqual(applied[0].result, 'applied');
  assert.ok(count(r, 'google.voided_unknown') >= 1);
  assert.strictEqual(ctx.env.user(u).balance.available, 0);
  assert.strictEqual(payState(ctx.env, p.order), 'refunded');
});

test('a quantity-based partial refund is recorded once and revokes nothing', async (ctx) => {
  const u = user('gv_part');
  const p = await buyPack(ctx, u);
  ctx.g.addVoided(G.voided({ token: p.token, orderId: p.order, voidedTime: Date.now() - 3 * HOUR, quantity: 1 }), { productType: 2 });
  const r = await ok(ctx);
  const applied = items(r, 'google voided purchase');
  assert.strictEqual(applied.length, 1, JSON.stringify(r.json.items));
  assert.strictEqual(ctx.env.user(u).balance.available, 500);
  assert.strictEqual(payState(ctx.env, p.order), 'paid');
  const again = await ok(ctx);
  assert.strictEqual(items(again, 'google voided purchase').length, 0);
  assert.ok(count(again, 'google.voided_recorded') >= 1);
  assert.strictEqual(ctx.env.sql(`SELECT count(*) AS n FROM inbox WHERE event_id LIKE 'voided:${p.order}:%'`)[0].n, 1);
});

// --- drift ---

test('a renewal and an expiry at Google whose pushes were lost are corrected, once', async (ctx) => {
  const a = user('gd_renew');
  const b = user('gd_expire');
  const sa = await buySub(ctx, a);
  const sb = await buySub(ctx, b);
  assert.strictEqual(subOf(ctx.env, a, sa.token).state, 'active');
  ctx.env.tally(['credits', 'revoke', a, '400', '--reason', 'usage in test', '--operator', 'test']);
  // At Google: a renewed for a month (order ..0); b expired.
  const renewed = Date.now() + 29 * DAY;
  ctx.g.setSubscription(sa.token, sa.doc({ orderId: `${sa.order}..0`, expiry: renewed }));
  ctx.g.setSubscription(sb.token, sb.doc({ state: 'EXPIRED', autoRenew: false }));
  const r = await ok(ctx);
  const drift = items(r, 'drift');
  const da = drift.find((d) => d.user_id === a);
  const db = drift.find((d) => d.user_id === b);
  assert.strictEqual(da.result, 'found', JSON.stringify(drift));
  assert.match(da.theirs, /^active until /);
  assert.strictEqual(db.result, 'found');
  assert.match(db.theirs, /^expired/);
  const applied = items(r, 'google subscription').filter((i) => i.subject === da.subject || i.subject === db.subject);
  assert.strictEqual(applied.length, 2, JSON.stringify(r.json.items));
  for (const i of applied) {
    assert.strictEqual(i.result, 'applied', JSON.stringify(i));
    assert.match(i.event_id, /^reconcile:.+:[0-9a-f]{32}$/);
  }
  const subA = subOf(ctx.env, a, sa.token);
  assert.strictEqual(subA.state, 'active');
  assert.strictEqual(Date.parse(subA.period_end), renewed);
  assert.ok(pro(ctx.env, a));
  assert.strictEqual(ctx.env.user(a).balance.available, 1000, 'credits reset for the renewed period');
  assert.strictEqual(payState(ctx.env, `${sa.order}..0`), 'paid');
  assert.strictEqual(subOf(ctx.env, b, sb.token).state, 'expired');
  assert.ok(!pro(ctx.env, b));
  // Corrected: the next run asks nothing of them and applies nothing.
  const before = fetches(ctx.g, sa.token) + fetches(ctx.g, sb.token);
  const again = await ok(ctx);
  assert.strictEqual(items(again, 'drift').filter((d) => d.user_id === a || d.user_id === b).length, 0);
  assert.strictEqual(fetches(ctx.g, sa.token) + fetches(ctx.g, sb.token), before);
  // The RENEWED push arriving late grants nothing again.
  const late = await push(ctx, G.subNotification(G.SUB.RENEWED, sa.token));
  assert.strictEqual(late.state, 'applied');
  assert.strictEqual(ctx.env.sql(`SELECT count(*) AS n FROM payments WHERE user_id = '${a}' AND kind = 'renewal'`)[0].n, 1);
  assert.strictEqual(ctx.env.user(a).balance.available, 1000);
});

test('a subscription not yet due is not read; one ending within the day is; the same answer twice is one event', async (ctx) => {
  const u = user('gd_near');
  const far = await buySub(ctx, u, { start: Date.now() - DAY, expiry: Date.now() + 20 * DAY });
  const near = await buySub(ctx, user('gd_near2'), { start: Date.now() - 29 * DAY, expiry: Date.now() + 6 * HOUR });
  const r = await ok(ctx);
  assert.strictEqual(fetches(ctx.g, far.token), 1, 'only its push read it');
  assert.strictEqual(fetches(ctx.g, near.token), 2, 'the push, then the pass');
  assert.ok(count(r, 'google.in_sync') >= 1);
  // Canceled at Google (auto-renew off) while its push was lost: the ending is found.
  ctx.g.setSubscription(near.token, near.doc({ state: 'CANCELED' }));
  const c1 = await ok(ctx);
  const applied = items(c1, 'google subscription').filter((i) => i.subject.includes(near.token.slice(0, 48)));
  assert.strictEqual(applied.length, 1, JSON.stringify(c1.json.items));
  assert.strictEqual(subOf(ctx.env, near.account, near.token).state, 'canceled');
  // The row made to differ by hand: the same answer again is the same event, a duplicate.
  ctx.env.sql(`UPDATE subscriptions SET state = 'active', cancel_at_period_end = 0 WHERE ext_id = '${near.token}'`);
  const c2 = await ok(ctx);
  const second = items(c2, 'google subscription').filter((i) => i.subject.includes(near.token.slice(0, 48)));
  assert.strictEqual(second.length, 1);
  assert.strictEqual(second[0].event_id, applied[0].event_id);
  assert.strictEqual(second[0].result, 'duplicate');
  ctx.env.sql(`UPDATE subscriptions SET state = 'canceled', cancel_at_period_end = 1 WHERE ext_id = '${near.token}'`);
});

test('410 and 404 are recorded, and not asked again until the subscription changes', async (ctx) => {
  const gone = await buySub(ctx, user('gd_410'));
  const lost = await buySub(ctx, user('gd_404'));
  ctx.g.failNext(new RegExp(`/subscriptionsv2/tokens/${esc(gone.token)}$`), 410, 1);
  ctx.g.subscriptions.delete(lost.token);
  const r = await ok(ctx);
  const d410 = items(r, 'drift').find((d) => d.subject.includes(gone.token.slice(0, 48)));
  const d404 = items(r, 'drift').find((d) => d.subject.includes(lost.token.slice(0, 48)));
  assert.strictEqual(d410.result, 'recorded');
  assert.match(d410.theirs, /410/);
  assert.strictEqual(d404.result, 'recorded');
  assert.match(d404.theirs, /404/);
  const row410 = ctx.env.sql(`SELECT state, reason FROM inbox WHERE provider = 'google' AND event_id = 'reconcile:${gone.token}:410'`)[0];
  const row404 = ctx.env.sql(`SELECT state, reason FROM inbox WHERE provider = 'google' AND event_id = 'reconcile:${lost.token}:404'`)[0];
  assert.strictEqual(row410.state, 'ignored', JSON.stringify(row410));
  assert.strictEqual(row404.state, 'failed', JSON.stringify(row404));
  assert.match(row404.reason, /404/);
  assert.strictEqual(subOf(ctx.env, gone.account, gone.token).state, 'active', 'nothing applied');
  const asked = fetches(ctx.g, gone.token) + fetches(ctx.g, lost.token);
  const again = await ok(ctx);
  assert.strictEqual(fetches(ctx.g, gone.token) + fetches(ctx.g, lost.token), asked, 'not asked again');
  assert.ok(count(again, 'google.gone_before') >= 2);
  // A push about it since: its state is newer than what was recorded, so it is read again.
  ctx.g.setSubscription(lost.token, lost.doc({ state: 'EXPIRED', autoRenew: false }));
  await push(ctx, G.subNotification(G.SUB.EXPIRED, lost.token));
  ctx.env.sql(`UPDATE subscriptions SET state = 'active' WHERE ext_id = '${lost.token}'`);
  await ok(ctx);
  assert.strictEqual(fetches(ctx.g, lost.token), asked - fetches(ctx.g, gone.token) + 2);
  assert.strictEqual(subOf(ctx.env, lost.account, lost.token).state, 'expired');
});

test('429 and 5xx leave the subscription for the next run, which applies it', async (ctx) => {
  for (const status of [429, 503]) {
    const u = user(`gd_${status}`);
    const s = await buySub(ctx, u);
    ctx.g.setSubscription(s.token, s.doc({ state: 'EXPIRED', autoRenew: false }));
    ctx.g.failNext(/\/subscriptionsv2\/tokens\//, status, 1);
    const r = await reconcile(ctx);
    assert.strictEqual(r.code, 1, r.stdout);
    assert.strictEqual(line(r).result, 'error');
    assert.match(line(r).reason, new RegExp(`${status}.*left for the next run`));
    assert.ok(count(r, 'google.left') >= 1);
    assert.strictEqual(subOf(ctx.env, u, s.token).state, 'active', `${status}: unchanged`);
    const next = await ok(ctx);
    assert.strictEqual(subOf(ctx.env, u, s.token).state, 'expired', `${status}: applied on the next run`);
    assert.ok(items(next, 'google subscription').some((i) => i.subject.includes(s.token.slice(0, 48)) && i.result === 'applied'));
  }
});

test('403: the google line\'s error and one alert a day, however many runs', async (ctx) => {
  const alerts = () => ctx.env.sql("SELECT count(*) AS n FROM outbox WHERE kind = 'alert' AND topic = 'reconcile.refused'")[0].n;
  const before = ctx.env.counts();
  ctx.g.failNext(/\/voidedpurchases/, 403, 2);
  const r1 = await reconcile(ctx);
  assert.strictEqual(r1.code, 1, r1.stdout);
  assert.strictEqual(line(r1).result, 'error');
  assert.match(line(r1).reason, /403/);
  assert.strictEqual(alerts(), 1);
  const payload = JSON.parse(ctx.env.sql("SELECT payload FROM outbox WHERE topic = 'reconcile.refused'")[0].payload);
  assert.strictEqual(payload.provider, 'google');
  assert.match(payload.message, /insufficient permissions/);
  const r2 = await reconcile(ctx);
  assert.strictEqual(r2.code, 1);
  assert.strictEqual(alerts(), 1, 'the same day: no second alert');
  const after = ctx.env.counts();
  assert.deepStrictEqual({ ...after, outbox: after.outbox - 1 }, before, 'nothing else written');
  // A dry run alerts nothing either.
  ctx.g.failNext(/\/voidedpurchases/, 401, 2);
  const dry = await reconcile(ctx, ['--dry-run', '--now', new Date(Date.now() + 2 * DAY).toISOString()]);
  assert.strictEqual(dry.code, 1);
  assert.strictEqual(alerts(), 1);
  ctx.g.reset();
});

// --- tally google status ---

test('tally google status: Google beside tally and what would change, in text and JSON', async (ctx) => {
  const u = user('gs');
  const s = await buySub(ctx, u, { start: Date.now() - DAY, expiry: Date.now() + 29 * DAY });
  const agree = await ctx.env.tallyAsync(['google', 'status', s.token, '--json']);
  assert.strictEqual(agree.code, 0, agree.stderr + agree.stdout);
  const a = JSON.parse(agree.stdout);
  assert.strictEqual(a.agree, true);
  assert.deepStrictEqual(a.changes, []);
  assert.strictEqual(a.google.status, 200);
  assert.strictEqual(a.google.answer.latestOrderId, s.order, 'Google\'s answer verbatim');
  assert.strictEqual(a.tally.subscription.user, u);
  assert.strictEqual(a.tally.subscription.state, 'active');
  assert.strictEqual(a.tally.linked_user, u);
  assert.deepStrictEqual(a.tally.payments.map((p) => [p.key, p.recorded, p.state]), [[s.order, true, 'paid']]);
  // Renewed and set to end at Google, pushes lost: the differences, and nothing applied.
  const end = Date.now() + 59 * DAY;
  ctx.g.setSubscription(s.token, s.doc({ orderId: `${s.order}..0`, expiry: end, autoRenew: false }));
  const before = ctx.env.counts();
  const differ = await ctx.env.tallyAsync(['google', 'status', s.token, '--json']);
  assert.strictEqual(differ.code, 1, differ.stderr);
  const d = JSON.parse(differ.stdout);
  assert.strictEqual(d.agree, false);
  assert.strictEqual(d.reads_as.state, 'active');
  assert.strictEqual(d.reads_as.period_end, new Date(end).toISOString());
  assert.strictEqual(d.reads_as.cancel_at_period_end, true);
  assert.strictEqual(d.reads_as.order, `${s.order}..0`);
  assert.ok(d.changes.some((c) => /^period end .* -> /.test(c)), JSON.stringify(d.changes));
  assert.ok(d.changes.some((c) => c === 'ends at period end no -> yes'), JSON.stringify(d.changes));
  assert.ok(d.changes.some((c) => c.startsWith(`payment ${s.order}..0 (renewal, `)), JSON.stringify(d.changes));
  assert.deepStrictEqual(d.tally.payments, [{ key: `${s.order}..0`, recorded: false }]);
  const text = await ctx.env.tallyAsync(['google', 'status', s.token]);
  assert.strictEqual(text.code, 1);
  assert.match(text.stdout, new RegExp(`^purchase token ${esc(s.token)} \\(subscriptionsv2.get\\)`));
  assert.match(text.stdout, /Google: 200, subscriptionState SUBSCRIPTION_STATE_ACTIVE, lineItems.productId pro_monthly/);
  assert.match(text.stdout, /tally: subscription \d+ of user gs_[0-9a-f]+: active, product pro_monthly/);
  assert.match(text.stdout, /payment GPA\.[0-9-]+\.\.0: not recorded/);
  assert.match(text.stdout, /would change: /);
  assert.match(text.stdout, /DIFFER\n$/);
  assert.deepStrictEqual(ctx.env.counts(), before, 'status applies nothing');
  // A one-time product with --product; a token Google does not know; bad usage.
  const p = await buyPack(ctx, u);
  const prod = await ctx.env.tallyAsync(['google', 'status', p.token, '--product', 'credits_500', '--json']);
  assert.strictEqual(prod.code, 0, prod.stderr + prod.stdout);
  const pj = JSON.parse(prod.stdout);
  assert.strictEqual(pj.call, 'products');
  assert.strictEqual(pj.tally.subscription, null);
  assert.ok(pj.tally.payments.every((x) => x.recorded), JSON.stringify(pj.tally.payments));
  const unknown = await ctx.env.tallyAsync(['google', 'status', G.token()]);
  assert.strictEqual(unknown.code, 0, 'Google has nothing and neither has tally');
  assert.match(unknown.stdout, /Google: 404/);
  assert.match(unknown.stdout, /nothing to apply: Google answered 404/);
  assert.strictEqual((await ctx.env.tallyAsync(['google', 'status'])).code, 2);
  assert.strictEqual((await ctx.env.tallyAsync(['google', 'status', 'x'.repeat(300)])).code, 2);
  ctx.g.failNext(/\/subscriptionsv2\//, 403, 1);
  const refused = await ctx.env.tallyAsync(['google', 'status', s.token]);
  assert.strictEqual(refused.code, 1);
  assert.match(refused.stderr, /403/);
});

// --- the console's search ---

test('the console\'s search finds a purchase token and a Google order id, with or without ..N', async (ctx) => {
  const u = user('gc');
  const s = await buySub(ctx, u, { start: Date.now() - DAY, expiry: Date.now() + 29 * DAY });
  // A renewal recorded (..0); its next order (..1) is not.
  ctx.g.setSubscription(s.token, s.doc({ orderId: `${s.order}..0`, expiry: Date.now() + 59 * DAY }));
  await push(ctx, G.subNotification(G.SUB.RENEWED, s.token));
  const other = user('gc_other');
  const s2 = await buySub(ctx, other, { start: Date.now() - DAY, expiry: Date.now() + 29 * DAY });
  // Its first order not recorded under its id: only the renewal below will be.
  ctx.env.sql(`UPDATE payment_keys SET key = 'moved:' || key WHERE key = '${s2.order}'`);
  ctx.g.setSubscription(s2.token, s2.doc({ orderId: `${s2.order}..4`, expiry: Date.now() + 59 * DAY }));
  await push(ctx, G.subNotification(G.SUB.RENEWED, s2.token));
  const c = new C.Client(ctx.env);
  assert.strictEqual((await c.login()).status, 303);
  const to = async (q) => {
    const r = await c.get(`/admin/search?q=${encodeURIComponent(q)}`);
    return r.status === 303 ? r.headers.location : `${r.status} ${r.text.slice(0, 400)}`;
  };
  const page = (x) => `/admin/user?id=${encodeURIComponent(x)}`;
  assert.strictEqual(await to(s.token), page(u));
  assert.strictEqual(await to(s.order), page(u));
  assert.strictEqual(await to(`${s.order}..0`), page(u));
  assert.strictEqual(await to(`${s.order}..1`), page(u), 'an unrecorded renewal: its first order');
  assert.strictEqual(await to(s2.order), page(other), 'a first order not recorded: a renewal of it');
  assert.strictEqual(await to(`${s2.order}..2`), page(other));
  const none = await c.get(`/admin/search?q=${encodeURIComponent(G.orderId())}`);
  assert.strictEqual(none.status, 200);
  assert.match(none.text, /Nothing has this id\./);
  const help = await c.get('/admin/search');
  assert.match(help.text, /Google Play purchase token or order id/);
});

test('tally verify is clean after everything above', async (ctx) => {
  const v = ctx.env.verify();
  assert.ok(v.ok, JSON.stringify(v.doc));
});

run({
  before: async () => {
    const g = await new FakeGoogle({ packageName: PKG }).start();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tally-gr-'));
    const sa = path.join(dir, 'sa.json');
    fs.writeFileSync(sa, g.serviceAccountJson(), { mode: 0o600 });
    const env = await C.startConsole({ config: config(g), handlers: ['google', 'console'], env: { GOOGLE_SERVICE_ACCOUNT_FILE: sa } });
    return { g, env, dir };
  },
  after: async (ctx, failed) => {
    await ctx.env.stop(failed > 0 && process.env.KEEP);
    await ctx.g.close();
    fs.rmSync(ctx.dir, { recursive: true, force: true });
  },
});
