'use strict';
// bin/tally-deliver against a small HTTP sink in this process: Standard Webhooks signatures
// checked with the `standardwebhooks` npm package (and by HMAC computed here), the same
// webhook-id on every retry, the backoff schedule, Retry-After, 410, dead after max_attempts
// with an alert, Slack-shaped alerts, kinds without a URL, no secret, kill -9 mid-send
// (delivered again: at least once), two runs at once (once), --dry-run, --limit. The first
// test starts from a Stripe webhook: the core writes the user.updated row itself.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { Webhook } = require('standardwebhooks');
const { test, assert } = require('../lib/t');
const { Env, DEFAULT_CATALOG } = require('../lib/harness');
const S = require('../lib/stripe-events');
const J = require('../lib/jobs');

const SECRET = `whsec_${crypto.randomBytes(32).toString('base64')}`;
const SECRET2 = `whsec_${crypto.randomBytes(24).toString('base64')}`;
const sink = new J.Sink();

function config(deliver) {
  return { ...JSON.parse(JSON.stringify(DEFAULT_CATALOG)), deliver };
}

const deliver = (env, args = [], opts = {}) => J.jobAsync(env, 'deliver', ['--json', ...args], opts);
const row = (env, id) => env.sql(`SELECT * FROM outbox WHERE id = ${id}`)[0];
let seq = 0;

// An outbox row as the core writes one; returns its id.
function outbox(env, kind, topic, payload, nextAt = Date.now()) {
  const key = `test:${kind}:${++seq}:${crypto.randomBytes(4).toString('hex')}`;
  env.sql(`INSERT INTO outbox (kind, topic, user_id, dedup_key, payload, next_at, created_at) VALUES ('${kind}', '${topic}', 'dv_user', '${key}', '${JSON.stringify(payload).replace(/'/g, "''")}', ${nextAt}, ${nextAt})`);
  return env.sql(`SELECT id FROM outbox WHERE dedup_key = '${key}'`)[0].id;
}

const to = (p) => sink.requests.filter((r) => r.path === p);
const idOf = (r) => r.headers['webhook-id'];
const expectedId = (dedup) => `msg_${crypto.createHash('sha256').update(dedup).digest('hex').slice(0, 32)}`;

// The signature as the spec defines it, computed here: base64 HMAC-SHA256 over id.timestamp.body.
function hmac(secret, r) {
  const key = Buffer.from(secret.slice(6), 'base64');
  return crypto.createHmac('sha256', key).update(`${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`).digest('base64');
}

function verified(r, secret = SECRET) {
  return new Webhook(secret).verify(r.body, {
    'webhook-id': r.headers['webhook-id'], 'webhook-timestamp': r.headers['webhook-timestamp'],
    'webhook-signature': r.headers['webhook-signature'],
  });
}

test('a Stripe subscription becomes a signed user.updated webhook the standardwebhooks package accepts', async (env) => {
  const user = 'dv_ann';
  const cus = S.rid('cus');
  const sub = S.rid('sub');
  const inv = S.rid('in');
  for (const evt of [
    S.event('checkout.session.completed', S.checkoutSession({ mode: 'subscription', customer: cus, subscription: sub, clientReferenceId: user, invoice: inv })),
    S.event('customer.subscription.created', S.subscription({ id: sub, customer: cus, price: 'price_pro_monthly' })),
    S.event('invoice.paid', S.invoice({ id: inv, customer: cus, subscription: sub, price: 'price_pro_monthly', paymentIntent: S.rid('pi') })),
  ]) assert.strictEqual((await env.stripe(evt)).status, 200);
  const rows = env.sql(`SELECT id, dedup_key, payload FROM outbox WHERE kind = 'webhook' AND user_id = '${user}' ORDER BY id`);
  assert.ok(rows.length >= 1, 'the core wrote webhook rows');
  const last = JSON.parse(rows[rows.length - 1].payload);
  assert.strictEqual(last.type, 'user.updated');
  assert.strictEqual(last.data.balance, 1000);
  assert.deepStrictEqual(last.data.entitlements.map((e) => e.name), ['pro']);
  assert.strictEqual(last.data.event.provider, 'stripe');
  assert.strictEqual(last.data.event.type, 'invoice.paid');
  sink.requests = [];
  const r = await deliver(env);
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  const got = to('/hooks');
  assert.strictEqual(got.length, rows.length);
  for (let i = 0; i < rows.length; i++) {
    const q = got[i];
    assert.strictEqual(q.method, 'POST');
    assert.strictEqual(q.headers['content-type'], 'application/json');
    assert.strictEqual(q.body, rows[i].payload, 'the stored payload, byte for byte');
    assert.strictEqual(idOf(q), expectedId(rows[i].dedup_key));
    assert.ok(Math.abs(Number(q.headers['webhook-timestamp']) - Date.now() / 1000) < 60, 'the time of the attempt');
    assert.deepStrictEqual(verified(q), JSON.parse(rows[i].payload), 'verified by the standardwebhooks package');
    assert.strictEqual(q.headers['webhook-signature'], `v1,${hmac(SECRET, q)}`);
    assert.strictEqual(row(env, rows[i].id).state, 'sent');
    assert.strictEqual(row(env, rows[i].id).attempts, 1);
  }
  const again = await deliver(env);
  assert.deepStrictEqual(again.json.counts, {}, 'sent rows are not sent again');
  assert.strictEqual(to('/hooks').length, rows.length);
});

test('a failing receiver: backoff 5 s then 5 min, the same webhook-id each time, dead after max_attempts with an alert', async (env) => {
  const t0 = Date.now();
  const id = outbox(env, 'webhook', 'user.updated', { type: 'user.updated', data: { user_id: 'dv_user', balance: 7 } }, t0);
  const dedup = row(env, id).dedup_key;
  sink.requests = [];
  sink.plans['/hooks'] = [500, 503, 500];
  let r = await deliver(env, [], { now: t0 });
  assert.strictEqual(r.code, 0, r.stderr);
  let o = row(env, id);
  assert.strictEqual(o.state, 'pending');
  assert.strictEqual(o.attempts, 1);
  assert.strictEqual(o.next_at, t0 + 5e3, 'retried 5 s later');
  assert.match(o.last_error, /^HTTP 500: failure 500/);
  assert.strictEqual(r.json.items[0].result, 'failed');
  r = await deliver(env, [], { now: t0 + 4e3 });
  assert.strictEqual(to('/hooks').length, 1, 'not before its time');
  r = await deliver(env, [], { now: t0 + 5e3 });
  o = row(env, id);
  assert.strictEqual(o.attempts, 2);
  assert.strictEqual(o.next_at, t0 + 5e3 + 300e3, 'then 5 min');
  assert.match(o.last_error, /^HTTP 503/);
  r = await deliver(env, [], { now: t0 + 305e3 });
  o = row(env, id);
  assert.strictEqual(o.state, 'dead', 'max_attempts is 3');
  assert.strictEqual(o.attempts, 3);
  assert.strictEqual(r.json.counts['webhook.dead'], 1);
  const tries = to('/hooks');
  assert.strictEqual(tries.length, 3);
  assert.ok(tries.every((q) => idOf(q) === expectedId(dedup)), 'one webhook-id for every retry');
  for (const q of tries) verified(q);
  // The alert of the dead row, delivered in the same run to the Slack-shaped endpoint.
  const alert = env.sql(`SELECT * FROM outbox WHERE dedup_key = 'alert:outbox-dead:${id}'`)[0];
  assert.strictEqual(alert.kind, 'alert');
  assert.strictEqual(alert.topic, 'outbox.dead');
  const slack = to('/slack').filter((q) => JSON.parse(q.body).text.includes(`outbox_id=${id}`));
  assert.strictEqual(slack.length, 1, JSON.stringify(to('/slack')));
  const text = JSON.parse(slack[0].body).text;
  assert.match(text, /^\[tally\] outbox\.dead: outbox_id=\d+ kind=webhook topic=user\.updated user_id=dv_user attempts=3 last_error=HTTP 500/);
  assert.strictEqual(slack[0].headers['webhook-signature'], undefined, 'Slack takes no signature');
  assert.strictEqual(row(env, alert.id).state, 'sent');
});

test('Retry-After longer than the schedule is honoured; 410 Gone is dead at once', async (env) => {
  const t0 = Date.now();
  const a = outbox(env, 'notify', 'trial_ending', { type: 'trial_ending', user_id: 'dv_user' }, t0);
  sink.plans['/notify'] = [429];
  sink.headers = { 'Retry-After': '3600' };
  await deliver(env, [], { now: t0 });
  sink.headers = {};
  assert.strictEqual(row(env, a).next_at, t0 + 3600e3);
  assert.match(row(env, a).last_error, /^HTTP 429/);
  const b = outbox(env, 'notify', 'expired', { type: 'expired', user_id: 'dv_user' }, t0);
  sink.plans['/notify'] = [410];
  const r = await deliver(env, [], { now: t0 + 1 });
  assert.strictEqual(row(env, b).state, 'dead');
  assert.strictEqual(row(env, b).attempts, 1);
  assert.strictEqual(r.json.counts['notify.dead'], 1);
  assert.strictEqual(row(env, a).state, 'pending', 'the other waits its Retry-After');
});

test('a kind without a URL is dead at once (not configured), with no alert', async (env) => {
  const cfgPath = path.join(env.dir, 'no-notify.json');
  fs.writeFileSync(cfgPath, JSON.stringify(config({ webhook_url: `${sink.url}/hooks` })));
  const id = outbox(env, 'notify', 'payment_failed', { type: 'payment_failed', user_id: 'dv_user' });
  const r = await deliver(env, [], { env: { TALLY_CONFIG: cfgPath } });
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(row(env, id).state, 'dead');
  assert.strictEqual(row(env, id).last_error, 'not configured: deliver.notify_url');
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM outbox WHERE dedup_key = 'alert:outbox-dead:${id}'`)[0].n, 0);
});

test('no TALLY_WEBHOOK_SECRET: webhooks wait unsigned-never, alerts still go, exit 1 saying why', async (env) => {
  const w = outbox(env, 'webhook', 'user.updated', { type: 'user.updated', data: {} });
  const a = outbox(env, 'alert', 'event.attention', { type: 'event.attention', state: 'failed', reason: 'test' });
  const before = to('/hooks').length;
  let r = await deliver(env, [], { env: { TALLY_WEBHOOK_SECRET: '' } });
  assert.strictEqual(r.code, 1);
  assert.match(r.stderr, /TALLY_WEBHOOK_SECRET is not set: webhooks and notifications are never sent unsigned/);
  assert.strictEqual(row(env, w).state, 'pending');
  assert.strictEqual(row(env, w).attempts, 0);
  assert.strictEqual(row(env, a).state, 'sent');
  assert.strictEqual(to('/hooks').length, before);
  r = await deliver(env, [], { env: { TALLY_WEBHOOK_SECRET: 'whsec_c2hvcnQ=' } });
  assert.strictEqual(r.code, 1);
  assert.match(r.stderr, /expected whsec_ and the base64 of 24 to 64 random bytes/);
  assert.ok(!r.stderr.includes('c2hvcnQ'), 'the secret is never logged');
  r = await deliver(env);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(row(env, w).state, 'sent');
});

test('two secrets while one is rolled: one v1 signature each, both verify', async (env) => {
  const id = outbox(env, 'webhook', 'user.updated', { type: 'user.updated', data: { balance: 1 } });
  const r = await deliver(env, [], { env: { TALLY_WEBHOOK_SECRET: `${SECRET}, ${SECRET2}` } });
  assert.strictEqual(r.code, 0, r.stderr);
  const q = to('/hooks').find((x) => idOf(x) === expectedId(row(env, id).dedup_key));
  const sigs = q.headers['webhook-signature'].split(' ');
  assert.deepStrictEqual(sigs, [`v1,${hmac(SECRET, q)}`, `v1,${hmac(SECRET2, q)}`]);
  verified(q, SECRET);
  verified(q, SECRET2);
});

test('kill -9 while the receiver answers: the row is sent again later with the same webhook-id (at least once)', async (env) => {
  const t0 = Date.now();
  const id = outbox(env, 'webhook', 'user.updated', { type: 'user.updated', data: { balance: 2 } }, t0);
  const before = to('/hooks').length;
  sink.delayMs = 5000;
  const p = J.spawnJob(env, 'deliver', [], { now: t0 });
  await J.until(() => to('/hooks').length > before, 'the request to arrive');
  p.kill('SIGKILL');
  await p.done;
  sink.delayMs = 0;
  const o = row(env, id);
  assert.strictEqual(o.state, 'pending', 'never marked sent');
  assert.strictEqual(o.attempts, 1, 'the attempt was claimed');
  assert.strictEqual(o.next_at, t0 + 5e3);
  let r = await deliver(env, [], { now: t0 + 1e3 });
  assert.ok(!r.json.items.some((i) => i.subject.startsWith(`outbox ${id} `)), 'not before its retry time');
  r = await deliver(env, [], { now: t0 + 5e3 });
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(row(env, id).state, 'sent');
  const got = to('/hooks').slice(before);
  assert.strictEqual(got.length, 2);
  assert.strictEqual(idOf(got[0]), idOf(got[1]), 'the receiver can drop the repeat by webhook-id');
});

test('two runs at once deliver each row once', async (env) => {
  const t0 = Date.now();
  const ids = [];
  for (let i = 0; i < 40; i++) ids.push(outbox(env, 'webhook', 'user.updated', { type: 'user.updated', data: { n: i } }, t0));
  const before = to('/hooks').length;
  const [a, b] = await Promise.all([deliver(env, [], { now: t0 }), deliver(env, [], { now: t0 })]);
  assert.strictEqual(a.code, 0, a.stderr);
  assert.strictEqual(b.code, 0, b.stderr);
  const got = to('/hooks').slice(before).map(idOf);
  assert.strictEqual(got.length, 40);
  assert.strictEqual(new Set(got).size, 40, 'no duplicates');
  assert.ok(ids.every((i) => row(env, i).state === 'sent' && row(env, i).attempts === 1));
});

test('--dry-run sends nothing and changes nothing; --limit bounds a run', async (env) => {
  const t0 = Date.now();
  const ids = [1, 2, 3].map((n) => outbox(env, 'notify', 'trial_ending', { type: 'trial_ending', n }, t0));
  const before = to('/notify').length;
  const counts = env.counts();
  let r = await deliver(env, ['--dry-run'], { now: t0 });
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(r.json.counts['notify.would_send'], 3);
  assert.deepStrictEqual(env.counts(), counts);
  assert.ok(ids.every((i) => row(env, i).attempts === 0));
  assert.strictEqual(to('/notify').length, before);
  r = await deliver(env, ['--limit', '2'], { now: t0 });
  assert.strictEqual(r.json.counts['notify.sent'], 2);
  r = await deliver(env, [], { now: t0 });
  assert.strictEqual(r.json.counts['notify.sent'], 1);
  assert.strictEqual(to('/notify').length, before + 3);
});

test('a notification is signed like a webhook', async (env) => {
  const id = outbox(env, 'notify', 'payment_failed', { type: 'payment_failed', user_id: 'dv_user', subscription_id: 3 });
  await deliver(env);
  const q = to('/notify').find((x) => idOf(x) === expectedId(row(env, id).dedup_key));
  assert.deepStrictEqual(verified(q), { type: 'payment_failed', user_id: 'dv_user', subscription_id: 3 });
});

test('an unreachable receiver: the error recorded, retried later', async (env) => {
  const cfgPath = path.join(env.dir, 'unreachable.json');
  fs.writeFileSync(cfgPath, JSON.stringify(config({ webhook_url: 'http://127.0.0.1:1/nothing', timeout: '2s' })));
  const t0 = Date.now();
  const id = outbox(env, 'webhook', 'user.updated', { type: 'user.updated', data: {} }, t0);
  const r = await deliver(env, [], { now: t0, env: { TALLY_CONFIG: cfgPath } });
  assert.strictEqual(r.code, 0, r.stderr);
  const o = row(env, id);
  assert.strictEqual(o.state, 'pending');
  assert.match(o.last_error, /^no answer: /);
  assert.strictEqual(o.next_at, t0 + 5e3);
  await deliver(env, [], { now: t0 + 5e3 });
  assert.strictEqual(row(env, id).state, 'sent');
});

J.suite(async () => {
  await sink.start();
  return Env.start({
    config: config({
      webhook_url: `${sink.url}/hooks`, notify_url: `${sink.url}/notify`, alert_url: `${sink.url}/slack`,
      max_attempts: 3, timeout: '10s',
    }),
    env: { TALLY_WEBHOOK_SECRET: SECRET },
  });
}, () => sink.close());
