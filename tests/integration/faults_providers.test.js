'use strict';
// Providers' APIs misbehaving while tally talks to them: every provider's API
// base points at one bad server on 127.0.0.1 that, by turn, answers HTML, JSON
// of the wrong shape, a body cut off mid-way, a body past any bound, an empty
// 200, a reset connection, or nothing within the timeout; and at a port where
// nothing listens. Checkout (Stripe, Razorpay, Telegram, CryptoBot through the
// API), reconciliation (bin/tally-reconcile over Stripe and Apple),
// `tally revenuecat sync`, `tally apple status` and `tally razorpay verify`
// must each fail with a clear error, say which provider, leave no partial
// state (an order tally made first ends canceled, never pending), never print
// a key; the API answers a provider's fault as a gateway does (502), never as
// the app's mistake (400) or a success.
const crypto = require('crypto');
const http = require('http');
const { test, run, assert } = require('../lib/t');
const { Env } = require('../lib/harness');
const D = require('../lib/direct');
const J = require('../lib/jobs');

const KEYS = {
  STRIPE_API_KEY: `sk_test_${crypto.randomBytes(12).toString('hex')}`,
  RAZORPAY_KEY_SECRET: `rks_${crypto.randomBytes(12).toString('hex')}`,
  TELEGRAM_BOT_TOKEN: `1234:${crypto.randomBytes(12).toString('hex')}`,
  CRYPTOBOT_TOKEN: `4321:${crypto.randomBytes(12).toString('hex')}`,
  REVENUECAT_API_KEY: `sk_rc_${crypto.randomBytes(12).toString('hex')}`,
};
const ADMIN_KEY_NAME = 'faults';
let bad;
let adminKey;
let applePem;

// One server, many wrong answers.
const MODES = ['html', 'wrong_shape', 'empty', 'truncated', 'huge', 'reset', 'slow', 'down'];

function badServer() {
  const s = { mode: 'html', requests: 0 };
  s.server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      s.requests++;
      switch (s.mode) {
        case 'html':
          res.writeHead(200, { 'Content-Type': 'text/html' });
          return res.end('<html><body>502 Bad Gateway</body></html>');
        case 'wrong_shape':
          res.writeHead(200, { 'Content-Type': 'application/json' });
          return res.end(JSON.stringify({ unexpected: [1, 2, 3], ok: 'yes', result: 'nope', data: null }));
        case 'empty':
          res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 0 });
          return res.end();
        case 'truncated':
          res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': 4000 });
          res.write('{"id":"cut_off","object":"checkout.session","url":"https://');
          return setTimeout(() => res.destroy(), 50);
        case 'huge': {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          const chunk = `"${'x'.repeat(1 << 20)}",`;
          res.write('{"data":[');
          let n = 0;
          const more = () => {
            if (res.destroyed) return;
            if (n++ >= 64) return res.end('"x"]}');
            if (res.write(chunk)) setImmediate(more); else res.once('drain', more);
          };
          res.on('error', () => {});
          return more();
        }
        case 'reset':
          return req.socket.destroy();
        case 'slow':
          return setTimeout(() => { if (!res.destroyed) { res.writeHead(200); res.end('{}'); } }, 4000);
        default:
          res.writeHead(500);
          return res.end();
      }
    });
  });
  return new Promise((resolve) => s.server.listen(0, '127.0.0.1', () => {
    s.url = `http://127.0.0.1:${s.server.address().port}`;
    resolve(s);
  }));
}

// A port nothing listens on: bind one, note it, close it.
function deadPort() {
  return new Promise((resolve) => {
    const srv = http.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function config(base) {
  const cfg = D.catalog({
    http: { timeout: '1s', connect_timeout: '1s' },
    checkout: { success_url: 'https://app.example/ok', cancel_url: 'https://app.example/cancel' },
    stripe: { api_base: base, test_mode: true },
    razorpay: { key_id: 'rzp_test_Faults0000001', api_base: base, test_mode: true },
    telegram: { api_base: base },
    cryptobot: { api_base: base },
    revenuecat: { api_base: base, sandbox: false },
    apple: {
      bundle_id: 'com.tally.faults', app_apple_id: 1234567890, api_base: base, api_sandbox_base: base,
      key_id: 'FAULTKEY01', issuer_id: '57246542-96fe-1a63-e053-0824d011072a',
    },
  });
  cfg.products.pro_plan_stripe = { kind: 'subscription', entitlements: ['pro'], credits: 1000, match: { stripe: ['price_pro_faults'] } };
  return cfg;
}

function noKeyIn(text, where) {
  for (const [name, v] of Object.entries(KEYS)) assert.ok(!text.includes(v), `${where} prints ${name}`);
}

// What must hold of state after a failed call: nothing but canceled orders (and their audit) added.
function sameState(env, before, what) {
  const after = D.counts(env);
  const pending = env.sql("SELECT count(*) AS n FROM orders WHERE state = 'pending'")[0].n;
  assert.strictEqual(pending, 0, `${what}: an order left pending`);
  for (const t of ['users', 'links', 'subscriptions', 'entitlements', 'payments', 'payment_keys', 'grants', 'ledger', 'outbox']) {
    assert.strictEqual(after[t], before[t], `${what}: ${t} changed`);
  }
  assert.strictEqual(env.sql('SELECT count(*) AS n FROM grants WHERE amount != remaining')[0].n, 0, `${what}: a grant moved`);
}

async function eachMode(env, fn) {
  const wrong = [];
  for (const mode of MODES) {
    if (mode === 'down') {
      await env.setBase(`http://127.0.0.1:${await deadPort()}`);
    } else {
      await env.setBase(bad.url);
      bad.mode = mode;
    }
    try {
      await fn(mode);
    } catch (e) {
      wrong.push(`${mode}: ${e.message.split('\n')[0]}`);
    }
  }
  await env.setBase(bad.url);
  assert.deepStrictEqual(wrong, []);
}

function api(env, method, path, body) {
  return env.request(method, path, body === undefined ? undefined : JSON.stringify(body), {
    Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json',
  });
}

for (const [provider, product] of [['stripe', 'pro_plan_stripe'], ['razorpay', 'credits_100'], ['telegram', 'credits_100'], ['cryptobot', 'credits_100']]) {
  test(`checkout through ${provider}: every wrong answer is a 502 with its reason, no order left pending, nothing granted`, async (env) => {
    await eachMode(env, async (mode) => {
      const before = D.counts(env);
      const r = await api(env, 'POST', '/v1/users/f_user/checkout', { provider, product });
      assert.ok(r.status === 502, `${mode}: ${r.status} ${r.text.slice(0, 200)}`);
      assert.ok(r.json && r.json.error && /^provider_/.test(r.json.error.code), `${mode}: ${r.text.slice(0, 200)}`);
      assert.ok(r.json.error.message.length > 10, `${mode}: no reason given`);
      noKeyIn(r.text, `${provider} checkout answer`);
      sameState(env, before, `${provider} ${mode}`);
    });
  });
}

test('reconcile: Stripe and Apple answering wrong: each provider\'s error named, exit 1, nothing applied', async (env) => {
  await eachMode(env, async (mode) => {
    const before = D.counts(env);
    const r = await J.jobAsync(env, 'reconcile', ['--json', '--since', '1h', '--provider', 'stripe'], { env: KEYS });
    assert.strictEqual(r.code, 1, `stripe ${mode}: exit ${r.code} ${r.stdout.slice(0, 300)}`);
    const p = r.json.items.find((i) => i.action === 'provider' && i.provider === 'stripe');
    assert.ok(p && p.result === 'error' && /Stripe/.test(p.reason), `stripe ${mode}: ${JSON.stringify(p)}`);
    const a = await J.jobAsync(env, 'reconcile', ['--json', '--since', '1h', '--provider', 'apple'], { env: { ...KEYS, APPLE_PRIVATE_KEY: applePem } });
    assert.strictEqual(a.code, 1, `apple ${mode}: exit ${a.code} ${a.stdout.slice(0, 300)}`);
    const q = a.json.items.find((i) => i.action === 'provider' && i.provider === 'apple');
    assert.ok(q && q.result === 'error' && q.reason.length > 10, `apple ${mode}: ${JSON.stringify(q)}`);
    noKeyIn(r.stdout + r.stderr + a.stdout + a.stderr, 'reconcile');
    sameState(env, before, `reconcile ${mode}`);
  });
});

test('reconcile: Razorpay and CryptoBot answering wrong: each provider\'s error named, exit 1, nothing applied', async (env) => {
  // A pending order at each, made there (a provider ref), so that reconcile asks about it.
  const exp = Date.now() + 3600e3;
  env.sql(`INSERT OR IGNORE INTO orders (id, provider, user_id, product_id, amount, currency, state, live, provider_ref, expires_at, created_at, updated_at)
    VALUES ('ord_faults_rzp', 'razorpay', 'f_user', 'credits_100', 49900, 'INR', 'pending', 0, 'order_Faults00000002', ${exp}, ${Date.now()}, ${Date.now()}),
           ('ord_faults_cb', 'cryptobot', 'f_user', 'credits_100', 499000000, 'USDT', 'pending', 0, '9100001', ${exp}, ${Date.now()}, ${Date.now()})`);
  await eachMode(env, async (mode) => {
    const before = D.counts(env);
    for (const [provider, who] of [['razorpay', /Razorpay/], ['cryptobot', /Crypto Pay/]]) {
      const r = await J.jobAsync(env, 'reconcile', ['--json', '--provider', provider], { env: KEYS });
      assert.strictEqual(r.code, 1, `${provider} ${mode}: exit ${r.code} ${r.stdout.slice(0, 300)}`);
      const p = r.json.items.find((i) => i.action === 'provider' && i.provider === provider);
      assert.ok(p && p.result === 'error' && who.test(p.reason), `${provider} ${mode}: ${JSON.stringify(p)}`);
      noKeyIn(r.stdout + r.stderr, 'reconcile');
    }
    assert.deepStrictEqual(D.counts(env), before, `reconcile direct ${mode}: the database changed`);
  });
  env.sql("UPDATE orders SET state = 'canceled' WHERE id IN ('ord_faults_rzp', 'ord_faults_cb')");
});

test('tally revenuecat sync, tally apple status, tally razorpay verify: exit 1 with the reason, nothing changed', async (env) => {
  await eachMode(env, async (mode) => {
    const before = D.counts(env);
    const runs = [
      ['revenuecat sync', await D.tally(env, ['revenuecat', 'sync', 'f_user'], KEYS)],
      ['apple status', await D.tally(env, ['apple', 'status', '2000000123456789'], { ...KEYS, APPLE_PRIVATE_KEY: applePem })],
      ['razorpay verify', await D.tally(env, ['razorpay', 'verify', 'f_user', 'order_Faults00000001', 'pay_Faults00000001',
        crypto.createHmac('sha256', KEYS.RAZORPAY_KEY_SECRET).update('order_Faults00000001|pay_Faults00000001').digest('hex')], KEYS)],
    ];
    for (const [what, r] of runs) {
      assert.strictEqual(r.code, 1, `${what} ${mode}: exit ${r.code}\n${r.stdout}${r.stderr}`);
      assert.ok(r.stderr.trim().length + r.stdout.trim().length > 10, `${what} ${mode}: no reason given`);
      noKeyIn(r.stdout + r.stderr, what);
    }
    sameState(env, before, `cli ${mode}`);
  });
});

test('the handlers are unharmed: tally verify is clean and no process died', async (env) => {
  const v = env.verify();
  assert.ok(v.ok, JSON.stringify(v.doc));
  for (const [name, p] of Object.entries(env.handlers)) assert.strictEqual(p.exitCode, null, `${name} exited`);
  // Every process the test restarted (to point it at another base) left cleanly: none crashed
  // on a wrong answer and was replaced unnoticed.
  for (const p of env.procs) assert.ok(p.exitCode === null || p.exitCode === 0, `a handler ended with ${p.exitCode} ${p.signalCode}`);
  assert.ok(!/runtime error|AddressSanitizer|Segmentation/.test(env.log('api')), env.log('api').slice(-2000));
  assert.ok(bad.requests > 50, `the bad server saw ${bad.requests} requests`);
});

run({
  before: async () => {
    bad = await badServer();
    const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    applePem = privateKey.export({ type: 'pkcs8', format: 'pem' });
    const env = await Env.start({
      config: config(bad.url),
      handlers: ['api'],
      env: { ...KEYS, TALLY_JWT_SECRET: crypto.randomBytes(32).toString('hex') },
    });
    // Point every provider at another base: rewrite the config file, which the API reads when it
    // starts (the jobs and the CLI read it each run).
    env.setBase = async (base) => {
      if (env.base === base) return;
      env.base = base;
      env.writeConfig(config(base));
      await env.killHandler('api', 'SIGTERM');
      await env.startHandler('api');
    };
    env.base = bad.url;
    adminKey = env.tallyJson(['keys', 'create', '--name', ADMIN_KEY_NAME, '--scopes', 'read,spend,admin']).key;
    D.addUser(env, 'f_user');
    return env;
  },
  after: async (env, failed) => {
    await new Promise((r) => bad.server.close(() => r()));
    if (bad.server.closeAllConnections) bad.server.closeAllConnections();
    return env.stop(failed > 0 && process.env.KEEP);
  },
});
