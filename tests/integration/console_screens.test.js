'use strict';
// The support console with realistic data, seen in a browser at laptop and
// phone widths: a few hundred customers bought plans and packs through
// Stripe's events, spent credits through the API, some failed to renew or
// canceled, a few events went wrong, the jobs ran and an alert endpoint was
// down. The history is then spread over the last 90 days (tally writes the
// time it received each event; the test moves those times back, keeping
// their order, so the chart has days to show). Every page must render
// without a CSP violation or a console error, and fit a phone's width.
// With TALLY_SCREENSHOTS=DIR the pictures of docs/console.md are written there
// (`TALLY_SCREENSHOTS=docs node tests/integration/console_screens.test.js`).
const fs = require('fs');
const http = require('http');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { test, run, assert } = require('../lib/t');
const { BIN, freePort } = require('../lib/harness');
const C = require('../lib/console');
const S = require('../lib/stripe-events');

const DAY = 86400 * 1000;
const FEATURED = 'maria.garcia@example.com';
const NAMES = ['li.wei', 'j.smith', 'ana.souza', 'k.nakamura', 'o.petrenko', 'f.dubois', 'a.kumar',
  'm.rossi', 'e.johnson', 's.kim', 'r.alvarez', 't.nguyen', 'h.schmidt', 'p.nowak', 'y.cohen'];

function rnd(seed) {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

function sqlScript(env, statements) {
  const r = spawnSync('sqlite3', [env.db], { input: `BEGIN;\n${statements.join(';\n')};\nCOMMIT;\n`, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}

async function populate(env) {
  const random = rnd(7);
  const plans = ['price_pro_monthly', 'price_pro_monthly', 'price_pro_monthly', 'price_team_monthly', 'price_pro_yearly', 'price_rollover'];
  const users = [FEATURED];
  for (let i = 0; users.length < 160; i++) users.push(`${NAMES[i % NAMES.length]}${i >= NAMES.length ? Math.floor(i / NAMES.length) : ''}@example.com`);
  const spendKey = env.tallyJson(['keys', 'create', '--name', 'app-backend', '--scopes', 'read,spend,admin']).key;
  const api = (method, p, body) => env.request(method, p, JSON.stringify(body || {}), {
    Authorization: `Bearer ${spendKey}`, 'Content-Type': 'application/json',
  });
  const subs = {};
  for (const u of users) {
    await api('POST', `/v1/users/${encodeURIComponent(u)}`);
    const r = random();
    if (r < 0.75) {
      const price = u === FEATURED ? 'price_pro_monthly' : plans[Math.floor(random() * plans.length)];
      subs[u] = await C.subscribe(env, u, { price, status: random() < 0.12 ? 'trialing' : 'active' });
      subs[u].price = price;
    }
    if (r > 0.55 || u === FEATURED) await C.pack(env, u);
    const spends = u === FEATURED ? 4 : Math.floor(random() * 4);
    for (let k = 0; k < spends; k++) {
      await api('POST', `/v1/users/${encodeURIComponent(u)}/spend`, {
        amount: 5 + Math.floor(random() * 60), idempotency_key: `k${k}`, reason: ['image render', 'export', 'chat', 'transcription'][k % 4],
      });
    }
  }
  // Some customers cancel, some payments fail, some subscriptions end.
  for (const u of Object.keys(subs)) {
    const { cus, sub, price } = subs[u];
    const r = random();
    if (u === FEATURED) continue;
    if (r < 0.1) await C.post(env, S.event('customer.subscription.deleted', S.subscription({ id: sub, customer: cus, price, status: 'canceled', endedAt: S.nowS(), metadata: { user_id: u } })));
    else if (r < 0.18) await C.post(env, S.event('customer.subscription.updated', S.subscription({ id: sub, customer: cus, price, status: 'active', cancelAtPeriodEnd: true, metadata: { user_id: u } })));
    else if (r < 0.24) await C.post(env, S.event('customer.subscription.updated', S.subscription({ id: sub, customer: cus, price, status: 'past_due', metadata: { user_id: u } })));
  }
  // What needs attention: prices the catalog does not know, payments of customers tally never saw.
  for (let i = 0; i < 3; i++) {
    await C.post(env, S.event('invoice.paid', S.invoice({ id: S.rid('in'), customer: S.rid('cus'), subscription: S.rid('sub'), price: 'price_enterprise_2026', subMetadata: { user_id: `lead${i}@example.com` } })));
  }
  for (let i = 0; i < 4; i++) {
    await C.post(env, S.event('checkout.session.completed', S.checkoutSession({ mode: 'payment', customer: S.rid('cus'), paymentIntent: S.rid('pi'), metadata: { product: 'credits_500' } })));
  }
  // The featured customer's support story: an operator's grant and a linked Telegram account.
  const c = new C.Client(env);
  await c.login();
  const g = await c.form(`/admin/user?id=${encodeURIComponent(FEATURED)}`, 'credits.grant');
  await c.submit(g, { amount: '200', reason: 'Export failed twice on Nov 3 (ticket #4821)' });
  const l = await c.form(`/admin/user?id=${encodeURIComponent(FEATURED)}`, 'links.add');
  await c.submit(l, { provider: 'telegram', kind: 'user', ext_id: '521937774', reason: 'customer also pays in the Telegram bot' });
  return users;
}

// Move the history back over 90 days, each table's times in the order they were written.
function backdate(env) {
  const now = Date.now();
  const start = now - 89 * DAY - DAY / 2;
  const ids = env.sql('SELECT id FROM inbox ORDER BY id').map((r) => r.id);
  const max = ids.length;
  // More events per day as the app grows, a little weekly rhythm; times only grow.
  const timeOf = (k) => {
    const x = (k + 1) / max;
    return Math.round(start + (now - start - 60000) * (Math.pow(x, 0.55) + 0.003 * Math.sin(x * 2 * Math.PI * 13)));
  };
  const st = ids.map((id, k) => `UPDATE inbox SET received_at = ${timeOf(k)}, updated_at = ${timeOf(k)}, event_at = ${timeOf(k)} WHERE id = ${id}`);
  st.push('UPDATE ledger SET created_at = (SELECT received_at FROM inbox WHERE inbox.id = ledger.inbox_id) WHERE inbox_id IS NOT NULL');
  st.push('UPDATE audit SET at = (SELECT received_at FROM inbox WHERE inbox.id = audit.inbox_id) WHERE inbox_id IS NOT NULL');
  st.push(`UPDATE subscriptions SET created_at = IFNULL((SELECT min(received_at) FROM inbox WHERE inbox.user_id = subscriptions.user_id), created_at)`);
  st.push(`UPDATE subscriptions SET updated_at = min(${now - DAY}, created_at + 20 * ${DAY}) WHERE state IN ('expired', 'revoked', 'refunded', 'paused')`);
  st.push(`UPDATE users SET created_at = IFNULL((SELECT min(received_at) FROM inbox WHERE inbox.user_id = users.id), created_at)`);
  sqlScript(env, st);
}

// Today's traffic, after the history was moved back: the app spends credits.
async function todays(env) {
  const key = env.tallyJson(['keys', 'create', '--name', 'app-today', '--scopes', 'spend']).key;
  const users = env.sql("SELECT user_id AS u FROM grants WHERE remaining > 100 GROUP BY user_id LIMIT 40").map((r) => r.u);
  for (const [i, u] of users.entries()) {
    await env.request('POST', `/v1/users/${encodeURIComponent(u)}/spend`, JSON.stringify({
      amount: 3 + (i * 7) % 40, idempotency_key: `today${i}`, reason: 'image render',
    }), { Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' });
  }
}

// The jobs, as cron runs them (asynchronously: the fake endpoints answer from this process).
function runJob(env, exe) {
  return new Promise((resolve) => {
    const p = spawn(exe, [], {
      env: env.env({ TALLY_WEBHOOK_SECRET: 'whsec_' + Buffer.from('screens-test-secret-0123456789').toString('base64') }),
      stdio: ['ignore', 'ignore', 'ignore'],
    });
    const timer = setTimeout(() => p.kill('SIGKILL'), 60000);
    p.on('close', (code) => { clearTimeout(timer); resolve(code); });
  });
}

async function runJobs(env) {
  for (const job of ['renewals', 'grace-expiry', 'reminders', 'deliver']) {
    const exe = path.join(BIN, `tally-${job}`);
    if (fs.existsSync(exe)) await runJob(env, exe);
  }
}

async function visit(ctx, p) {
  const resp = await ctx.page.goto(`${ctx.env.base}${p}`);
  assert.strictEqual(resp.status(), 200, p);
  const wide = await ctx.page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
  return wide;
}

test('every page renders with realistic data, without a console error or CSP violation', async (ctx) => {
  const pages = ['/admin', `/admin/user?id=${encodeURIComponent(FEATURED)}`, '/admin/attention',
    '/admin/attention?state=orphaned', '/admin/attention?state=unknown_product', '/admin/outbox',
    `/admin/search?q=${encodeURIComponent('j.smith@example.com')}`];
  const ev = ctx.env.sql("SELECT max(id) AS id FROM inbox WHERE provider = 'stripe'")[0].id;
  pages.push(`/admin/event?id=${ev}`);
  for (const p of pages) {
    const wide = await visit(ctx, p);
    assert.strictEqual(wide, false, `${p} fits the window`);
  }
  const overview = await ctx.page.goto(`${ctx.env.base}/admin`);
  assert.strictEqual(overview.status(), 200);
  const cards = await ctx.page.locator('.card .n').allTextContents();
  assert.ok(Number(cards[0].replace(/\D/g, '')) > 50, `active subscriptions: ${cards[0]}`);
  assert.strictEqual(await ctx.page.locator('svg rect.bar').count() > 60, true, 'bars on most days');
  assert.deepStrictEqual(ctx.errors, []);
});

test('on a phone the pages fit the screen; tables scroll inside their box', async (ctx) => {
  await ctx.page.setViewportSize({ width: 390, height: 844 });
  for (const p of ['/admin', `/admin/user?id=${encodeURIComponent(FEATURED)}`, '/admin/attention']) {
    assert.strictEqual(await visit(ctx, p), false, `${p} fits a phone`);
  }
  const shot = path.join(ctx.out, 'console-phone.png');
  await ctx.page.goto(`${ctx.env.base}/admin/user?id=${encodeURIComponent(FEATURED)}`);
  await ctx.page.screenshot({ path: shot });
  assert.ok(fs.statSync(shot).size > 10000);
  await ctx.page.setViewportSize({ width: 1280, height: 900 });
  assert.deepStrictEqual(ctx.errors, []);
});

test('screenshots of the overview and of a user page', async (ctx) => {
  const { page, env } = ctx;
  await page.goto(`${env.base}/admin`);
  await page.screenshot({ path: path.join(ctx.out, 'console-overview.png'), fullPage: true });
  // The user page from the top to the ledger (the audit trail and events follow below).
  await page.setViewportSize({ width: 1280, height: 1760 });
  await page.goto(`${env.base}/admin/user?id=${encodeURIComponent(FEATURED)}`);
  await page.screenshot({ path: path.join(ctx.out, 'console-user.png') });
  await page.setViewportSize({ width: 1280, height: 900 });
  for (const f of ['console-overview.png', 'console-user.png']) {
    const png = fs.readFileSync(path.join(ctx.out, f));
    assert.strictEqual(png.subarray(1, 4).toString(), 'PNG');
    assert.ok(png.length > 20000, `${f}: ${png.length} bytes`);
  }
});

run({
  before: async () => {
    // An alert endpoint that is down: the deliver job gives up on it (dead deliveries).
    const alertPort = await freePort();
    const down = http.createServer((req, res) => { req.resume(); res.writeHead(502); res.end('bad gateway'); });
    const up = http.createServer((req, res) => { req.resume(); res.writeHead(200); res.end('ok'); });
    await new Promise((r) => down.listen(alertPort, '127.0.0.1', r));
    const upPort = await freePort();
    await new Promise((r) => up.listen(upPort, '127.0.0.1', r));
    const cfg = C.consoleCatalog();
    cfg.deliver = {
      alert_url: `http://127.0.0.1:${alertPort}/hooks/slack`, max_attempts: 1,
      webhook_url: `http://127.0.0.1:${upPort}/tally`, notify_url: `http://127.0.0.1:${upPort}/notify`,
    };
    let env;
    try {
      env = await C.startConsole({ config: cfg });
    } catch (e) {
      // A deliver section this build does not know yet: the same data without it.
      env = await C.startConsole();
    }
    await populate(env);
    await runJobs(env);
    backdate(env);
    await todays(env);
    const b = await C.browser();
    const errors = [];
    b.page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text()); });
    b.page.on('pageerror', (e) => errors.push(e.message));
    const login = new C.Client(env);
    await login.login();
    await b.context.addCookies([{ name: 'tally_console', value: login.cookie, domain: '127.0.0.1', path: '/admin', httpOnly: true, sameSite: 'Strict' }]);
    const out = process.env.TALLY_SCREENSHOTS ? path.resolve(process.env.TALLY_SCREENSHOTS) : env.dir;
    fs.mkdirSync(out, { recursive: true });
    return { env, b, page: b.page, errors, out, servers: [down, up] };
  },
  after: async (ctx, failed) => {
    await ctx.b.close();
    for (const s of ctx.servers) s.close();
    await ctx.env.stop(failed > 0 && process.env.KEEP);
  },
});
