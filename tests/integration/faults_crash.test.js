'use strict';
// Crashes: a few thousand deliveries across providers and the API, each sent
// again until it is answered 2xx (as providers retry), while the handlers and
// a job are killed with SIGKILL at random and restarted. At the end every
// balance equals the expectation computed here from what was acknowledged,
// nothing is lost and nothing doubled, and `tally verify` passes.
const crypto = require('crypto');
const path = require('path');
const { spawn } = require('child_process');
const { test, run, assert } = require('../lib/t');
const { Env, DEFAULT_CATALOG, BIN, sleep } = require('../lib/harness');
const S = require('../lib/stripe-events');
const R = require('../lib/revenuecat-events');

const USERS = 60;
const RC_AUTH = `Bearer rc_${crypto.randomBytes(8).toString('hex')}`;

// Send until a 2xx (or a final 4xx) arrives, as a provider or a careful client does.
async function deliver(send, stats) {
  for (let attempt = 1; ; attempt++) {
    let r;
    try {
      r = await send();
    } catch (e) {
      r = { status: 0 };
    }
    if (r.status >= 200 && r.status < 300) return r;
    if (r.status === 402 || r.status === 409) return r;
    if (r.status >= 400 && r.status < 500) throw new Error(`refused ${r.status}: ${r.text}`);
    stats.retries++;
    await sleep(20 + Math.floor(Math.random() * 80));
  }
}

test('a stream of deliveries with handlers and a job killed at random: nothing lost, nothing doubled', async (env) => {
  const key = env.tallyJson(['keys', 'create', '--name', 'crash', '--scopes', 'admin']).key;
  const api = (method, p, body) => env.request(method, p, body === undefined ? '' : JSON.stringify(body), { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' });
  const users = Array.from({ length: USERS }, (_, i) => `cr_${i}`);
  const expected = Object.fromEntries(users.map((u) => [u, 0]));
  const stats = { retries: 0, kills: 0, sent: 0, jobRuns: 0 };
  for (const u of users) await deliver(() => api('POST', `/v1/users/${u}`), stats);

  // The work: Stripe packs (500), RevenueCat packs (100), spends of 1..30 through the API.
  const work = [];
  for (const u of users) {
    for (let k = 0; k < 20; k++) {
      const evt = S.event('checkout.session.completed', S.checkoutSession({ mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: u, metadata: { product: 'credits_500' }, amountTotal: 500 }));
      const body = JSON.stringify(evt);
      work.push({ kind: 'stripe', user: u, amount: 500, send: () => env.request('POST', '/webhooks/stripe', body, { 'Content-Type': 'application/json', 'Stripe-Signature': S.sign(body, env.secret) }) });
    }
    for (let k = 0; k < 10; k++) {
      const evt = R.nonRenewing({ user: u, product: 'rc_pack_100', price: 0.99 });
      const body = JSON.stringify(evt);
      work.push({ kind: 'revenuecat', user: u, amount: 100, send: () => env.request('POST', '/webhooks/revenuecat', body, { 'Content-Type': 'application/json', Authorization: RC_AUTH }) });
    }
    for (let k = 0; k < 25; k++) {
      const amount = 1 + Math.floor(Math.random() * 30);
      const idem = crypto.randomUUID();
      work.push({ kind: 'spend', user: u, amount, send: () => api('POST', `/v1/users/${u}/spend`, { amount, idempotency_key: idem, reason: 'crash test' }) });
    }
  }
  work.sort(() => Math.random() - 0.5);

  // The killer: SIGKILL a random handler every 30-120 ms and start it again; a job run killed at random.
  let stop = false;
  const killer = (async () => {
    const names = ['stripe', 'revenuecat', 'api'];
    while (!stop) {
      await sleep(30 + Math.floor(Math.random() * 90));
      const name = names[Math.floor(Math.random() * names.length)];
      await env.killHandler(name, 'SIGKILL');
      stats.kills++;
      await sleep(30);
      await env.startHandler(name);
    }
  })();
  const jobs = (async () => {
    while (!stop) {
      const p = spawn(path.join(BIN, 'tally-renewals'), [], { env: env.env(), stdio: 'ignore' });
      const t = setTimeout(() => p.kill('SIGKILL'), Math.floor(Math.random() * 40));
      await new Promise((resolve) => p.on('exit', resolve));
      clearTimeout(t);
      stats.jobRuns++;
      await sleep(50);
    }
  })();

  // 16 deliveries in flight at once.
  let next = 0;
  const answers = [];
  const workers = Array.from({ length: 16 }, async () => {
    while (next < work.length) {
      const w = work[next++];
      const r = await deliver(w.send, stats);
      stats.sent++;
      answers.push({ w, r });
    }
  });
  await Promise.all(workers);
  stop = true;
  await killer;
  await jobs;
  for (const name of ['stripe', 'revenuecat', 'api']) if (env.handlers[name].exitCode !== null) await env.startHandler(name);

  // The expectation: every pack once; every spend answered 200 once; a 402 spends nothing.
  for (const { w, r } of answers) {
    if (w.kind === 'spend') {
      if (r.status === 200) expected[w.user] -= w.amount;
    } else expected[w.user] += w.amount;
  }
  const got = Object.fromEntries(env.sql('SELECT user_id, IFNULL(SUM(remaining), 0) AS b FROM grants GROUP BY user_id').map((x) => [x.user_id, x.b]));
  const wrong = users.filter((u) => (got[u] || 0) !== expected[u] + 50).map((u) => `${u}: ${got[u]} != ${expected[u] + 50}`);
  assert.deepStrictEqual(wrong, [], 'balances (the 50 signup credits included)');
  const packs = env.sql("SELECT count(*) AS n FROM payments WHERE provider = 'stripe'")[0].n;
  assert.strictEqual(packs, USERS * 20, 'each Stripe pack recorded once');
  assert.strictEqual(env.sql("SELECT count(*) AS n FROM payments WHERE provider = 'revenuecat'")[0].n, USERS * 10);
  const spends = answers.filter((a) => a.w.kind === 'spend' && a.r.status === 200).length;
  assert.strictEqual(env.sql("SELECT count(DISTINCT inbox_id) AS n FROM ledger WHERE kind = 'spend'")[0].n, spends);
  assert.ok(stats.kills >= 10, `only ${stats.kills} kills`);
  const v = env.verify();
  assert.ok(v.ok, JSON.stringify(v.doc));
  console.log(`# crash: ${work.length} deliveries, ${stats.retries} retries, ${stats.kills} handler kills, ${stats.jobRuns} job runs (some killed)`);
});

run({
  before: () => {
    const cfg = JSON.parse(JSON.stringify(DEFAULT_CATALOG));
    cfg.free_tier = { signup_credits: 50 };
    cfg.revenuecat = { sandbox: true };
    cfg.products.rc_pack_100 = { kind: 'pack', credits: 100, match: { revenuecat: ['rc_pack_100'] } };
    return Env.start({ config: cfg, handlers: ['stripe', 'revenuecat', 'api'], env: { REVENUECAT_WEBHOOK_AUTH: RC_AUTH } });
  },
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
