'use strict';
// What the direct providers' tests share: a catalog priced in INR, Stars and USDT, users made the
// way the app makes them, `tally checkout` run while a fake answers in this process, and the
// counts that say "changed nothing" (orders included).
const { spawn } = require('child_process');
const path = require('path');
const { BIN } = require('./harness');

const DAY = 86400 * 1000;

function catalog(extra = {}) {
  return {
    policy: { grace_period: '7d', renewal_leeway: '1d' },
    http: { timeout: '2s', connect_timeout: '1s' },
    products: {
      credits_100: { kind: 'pack', credits: 100, prices: { INR: 49900, XTR: 250, USDT: '4.99' } },
      // Sold by tally itself: one purchase is 30 days (a Stars subscription when paid in XTR).
      pro_month: {
        kind: 'subscription', entitlements: ['pro'], credits: 1000, period: '30d',
        prices: { INR: 99900, XTR: 500, TON: '2.5' },
      },
      // Run by Razorpay: a plan of Razorpay's.
      pro_plan: {
        kind: 'subscription', entitlements: ['pro'], credits: 1000, prices: { INR: 99900 },
        match: { razorpay: ['plan_pro_monthly'] },
      },
      free_only: { kind: 'pack', credits: 5, match: { stripe: ['price_free_only'] } },
    },
    ...extra,
  };
}

// A user as the app registers one (the API's POST /v1/users): here straight into the table.
function addUser(env, id) {
  env.sql(`INSERT OR IGNORE INTO users (id, created_at) VALUES ('${id}', ${Date.now()})`);
}

function tally(env, args, extraEnv = {}) {
  return new Promise((resolve) => {
    const p = spawn(path.join(BIN, 'tally'), args, { env: env.env(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function checkout(env, user, provider, product) {
  const r = await tally(env, ['checkout', user, provider, product, '--json', '--operator', 'ops_test']);
  if (r.code !== 0) throw new Error(`checkout exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

function order(env, id) {
  const rows = env.sql(`SELECT * FROM orders WHERE id = '${id}'`);
  return rows[0] || null;
}

function counts(env) {
  const tables = ['users', 'links', 'inbox', 'subscriptions', 'entitlements', 'payments', 'payment_keys', 'grants', 'ledger', 'audit', 'outbox', 'orders'];
  const q = tables.map((t) => `SELECT '${t}' AS t, count(*) AS n FROM ${t}`).join(' UNION ALL ');
  const out = {};
  for (const r of env.sql(q)) out[r.t] = r.n;
  return out;
}

function balance(env, user) {
  const doc = env.user(user);
  return doc ? doc.balance.available : null;
}

// Alerts written for an inbox row (dedup key alert:inbox:<id>:<state>).
function alerts(env, inboxId) {
  return env.sql(`SELECT count(*) AS n FROM outbox WHERE kind = 'alert' AND dedup_key LIKE 'alert:inbox:${inboxId}:%'`)[0].n;
}

function expire(env, orderId) {
  env.sql(`UPDATE orders SET expires_at = ${Date.now() - 1000} WHERE id = '${orderId}'`);
}

module.exports = { catalog, addUser, tally, checkout, order, counts, balance, alerts, expire, DAY };
