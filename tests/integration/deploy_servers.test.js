'use strict';
// The web server configurations of deploy/ at work, not only parsed: nginx,
// lighttpd, Apache (mod_proxy_fcgi), Apache starting the handlers itself
// (mod_fcgid) and Caddy, each started on 127.0.0.1 in front of the real
// tally-stripe and of fcgi_echo (tests/tools/fcgi_echo.c) on the sockets of
// the other endpoints, which answers with the CGI parameters it was sent.
const fs = require('fs');
const path = require('path');
const { test, run, assert } = require('../lib/t');
const { Env, BIN } = require('../lib/harness');
const S = require('../lib/stripe-events');
const W = require('../lib/webservers');

const PROXIES = ['nginx', 'lighttpd', 'apache', 'caddy'];
const ENDPOINTS = W.nginxEndpoints();

// A view of env that sends through another port (and, for mod_fcgid, another database).
function via(env, port, over = {}) {
  const o = { port: { value: port } };
  for (const [k, v] of Object.entries(over)) o[k] = { value: v };
  return Object.create(env, o);
}

function pack(user) {
  return S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: user, metadata: { product: 'credits_500' },
  }));
}

// The path tally's handlers see (lib/http/http.c http_path): DOCUMENT_URI when
// sent, else SCRIPT_NAME + PATH_INFO (RFC 3875 4.1.5).
function tallyPath(params) {
  if (params.DOCUMENT_URI !== undefined) return params.DOCUMENT_URI.split('?')[0];
  return (params.SCRIPT_NAME || '') + (params.PATH_INFO || '');
}

async function expectRefused(v, method, p, what) {
  const r = await v.request(method, p, method === 'POST' ? '{}' : undefined,
    method === 'POST' ? { 'Content-Type': 'application/json' } : {});
  assert.ok(r.status >= 400 && r.status < 500, `${what}: ${method} ${p} answered ${r.status}`);
  assert.ok(!(r.json && r.json.socket), `${what}: ${method} ${p} reached a handler (${r.text.slice(0, 80)})`);
  assert.ok(!(r.json && r.json.error && r.json.error.code === 'bad_signature'), `${what}: ${method} ${p} reached tally-stripe`);
}

async function oversized(ctx, v, what) {
  const before = ctx.env.counts();
  // Between tally's limit (1 MiB) and the server's (2 MiB): tally's own JSON 413.
  let r = await v.request('POST', '/webhooks/stripe', Buffer.alloc(1536 * 1024, 0x20),
    { 'Content-Type': 'application/json', 'Stripe-Signature': 't=1,v1=00' });
  assert.strictEqual(r.status, 413, `${what}: 1.5 MiB: ${r.status} ${r.text.slice(0, 120)}`);
  assert.strictEqual(r.json && r.json.error.code, 'body_too_large', `${what}: tally answered it: ${r.text.slice(0, 120)}`);
  // Past the server's limit: the server's 413, tally never sees it.
  r = await v.request('POST', '/webhooks/stripe', Buffer.alloc(2560 * 1024, 0x20),
    { 'Content-Type': 'application/json', 'Stripe-Signature': 't=1,v1=00' }).catch((e) => ({ status: 0, text: String(e) }));
  assert.ok(r.status === 413 || r.status === 0, `${what}: 2.5 MiB: ${r.status} ${String(r.text).slice(0, 120)}`);
  assert.ok(!r.json, `${what}: 2.5 MiB reached tally instead of being refused by the server: ${r.text}`);
  assert.deepStrictEqual(ctx.env.counts(), before, `${what}: oversized bodies changed nothing`);
}

for (const kind of PROXIES) {
  test(`${kind}: every location of deploy/nginx/tally.conf reaches its socket with its path, Proxy header dropped`, async (ctx) => {
    const v = via(ctx.env, ctx.servers[kind].port);
    for (const e of ENDPOINTS) {
      if (e.socket === 'stripe') continue; // the real handler: checked below
      const body = e.method === 'POST' ? '{"hello":"tally"}' : undefined;
      const r = await v.request(e.method, `${e.path}?q=1`, body,
        { Proxy: 'http://attacker.example:3128', 'Content-Type': 'application/json' });
      assert.strictEqual(r.status, 200, `${e.method} ${e.path}: ${r.status} ${r.text.slice(0, 200)}`);
      assert.strictEqual(r.json.socket, e.socket, `${e.path} went to ${r.json.socket}.sock`);
      assert.strictEqual(tallyPath(r.json.params), e.path, `${e.path}: the handler would see ${JSON.stringify(r.json.params)}`);
      assert.strictEqual(r.json.params.REQUEST_METHOD, e.method);
      assert.strictEqual(r.json.params.QUERY_STRING, 'q=1');
      assert.ok(!r.json.params.HTTP_PROXY, `${e.path}: HTTP_PROXY reached the handler: ${r.json.params.HTTP_PROXY}`);
      if (body) assert.strictEqual(r.json.body_bytes, body.length);
    }
  });

  test(`${kind}: a signed Stripe event through it is applied and answered 200`, async (ctx) => {
    const v = via(ctx.env, ctx.servers[kind].port);
    const user = `u_${kind}`;
    const r = await v.stripe(pack(user));
    assert.strictEqual(r.status, 200, r.text);
    assert.strictEqual(r.json.state, 'applied');
    assert.strictEqual(ctx.env.user(user).balance.available, 500);
    const bad = await v.stripe(pack(user), { secret: 'whsec_wrong' });
    assert.strictEqual(bad.status, 401, 'the signature is still checked behind it');
    assert.strictEqual(ctx.env.user(user).balance.available, 500);
  });

  test(`${kind}: bodies over tally's limit get tally's 413, over the server's its own, nothing stored`, async (ctx) => {
    await oversized(ctx, via(ctx.env, ctx.servers[kind].port), kind);
  });

  test(`${kind}: unknown paths${kind === 'nginx' ? '' : ' and wrong methods'} are refused before any handler`, async (ctx) => {
    const v = via(ctx.env, ctx.servers[kind].port);
    // deploy/nginx/tally.conf leaves methods to the handlers (tally answers 405 itself).
    for (const e of kind === 'nginx' ? [] : ENDPOINTS) {
      if (e.location.startsWith('/webhooks/')) await expectRefused(v, 'GET', e.path, kind);
      if (e.location === '/metrics') await expectRefused(v, 'POST', e.path, kind);
    }
    await expectRefused(v, 'GET', '/', kind);
    await expectRefused(v, 'POST', '/webhooks/stripe-not', kind);
    await expectRefused(v, 'GET', '/tally.db', kind);
  });
}

test('apache mod_fcgid: Apache starts tally-stripe itself (FastCGI on fd 0) and a signed event is applied', async (ctx) => {
  const f = ctx.fcgid;
  const v = via(ctx.env, f.server.port, { db: f.db, configPath: f.config });
  const r = await v.stripe(pack('u_fcgid'));
  assert.strictEqual(r.status, 200, `${r.status} ${r.text} ${f.server.log()}`);
  assert.strictEqual(r.json.state, 'applied');
  assert.strictEqual(v.user('u_fcgid').balance.available, 500);
  // Several at once: mod_fcgid sends each process one request at a time and starts more.
  const rs = await Promise.all(Array.from({ length: 12 }, (_, i) => v.stripe(pack(`u_fcgid_${i % 3}`))));
  for (const x of rs) assert.strictEqual(x.status, 200, x.text);
  for (let i = 0; i < 3; i++) assert.strictEqual(v.user(`u_fcgid_${i}`).balance.available, 2000);
  const t = v.tally(['verify']);
  assert.strictEqual(t.code, 0, t.stdout + t.stderr);
});

test('apache mod_fcgid: every location of deploy/nginx/tally.conf starts its handler with its path and environment', async (ctx) => {
  const f = ctx.fcgid;
  const v = via(ctx.env, f.server.port);
  // Every handler but tally-stripe is fcgi_echo here: it shows what mod_fcgid started it with.
  for (const e of ENDPOINTS) {
    if (e.socket === 'stripe') continue;
    const body = e.method === 'POST' ? '{"hello":"tally"}' : undefined;
    const r = await v.request(e.method, `${e.path}?q=1`, body, { Proxy: 'http://attacker.example', 'Content-Type': 'application/json' });
    assert.strictEqual(r.status, 200, `${e.method} ${e.path}: ${r.status} ${r.text.slice(0, 300)} ${f.server.log()}`);
    assert.strictEqual(r.json.socket, `tally-${e.socket}`);
    assert.strictEqual(tallyPath(r.json.params), e.path, JSON.stringify(r.json.params));
    assert.strictEqual(r.json.params.QUERY_STRING, 'q=1');
    assert.ok(!r.json.params.HTTP_PROXY, 'HTTP_PROXY reached the handler');
    const env = {};
    for (const line of fs.readFileSync(path.join(f.dir, `env-tally-${e.socket}`), 'utf8').split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) env[line.slice(0, i)] = line.slice(i + 1);
    }
    assert.strictEqual(env.TALLY_DB, f.db, e.socket);
    assert.strictEqual(env.TALLY_CONFIG, f.config, e.socket);
    assert.strictEqual(env.STRIPE_WEBHOOK_SECRET_FILE, undefined, `tally-stripe's secret given to tally-${e.socket}`);
    if (e.socket === 'revenuecat') assert.strictEqual(env.REVENUECAT_WEBHOOK_AUTH_FILE, path.join(f.dir, 'secrets', 'revenuecat-webhook-auth'));
  }
});

test('apache mod_fcgid: bodies over the limits and wrong methods change nothing', async (ctx) => {
  const f = ctx.fcgid;
  const v = via(ctx.env, f.server.port, { db: f.db, configPath: f.config });
  await oversized({ env: v }, v, 'mod_fcgid');
  await expectRefused(v, 'GET', '/webhooks/stripe', 'mod_fcgid');
  await expectRefused(v, 'GET', '/opt/tally/bin/tally-stripe', 'mod_fcgid');
  await expectRefused(v, 'POST', '/webhooks/stripe-not', 'mod_fcgid');
});

// mod_fcgid's own tree: a database, config and secret Apache's user owns,
// and a bin/ where tally-stripe is the real handler and the others the echo.
async function startFcgid(env) {
  const dir = path.join(env.dir, 'fcgid');
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(path.join(dir, 'secrets'), { recursive: true });
  fs.mkdirSync(bin);
  const f = { dir, db: path.join(dir, 'tally.db'), config: path.join(dir, 'tally.json') };
  fs.copyFileSync(env.configPath, f.config);
  fs.writeFileSync(path.join(dir, 'secrets', 'stripe-webhook-secret'), `${env.secret}\n`);
  fs.symlinkSync(path.join(BIN, 'tally-stripe'), path.join(bin, 'tally-stripe'));
  // The others: fcgi_echo, after writing down the environment mod_fcgid gave it.
  for (const e of ENDPOINTS) {
    const p = path.join(bin, `tally-${e.socket}`);
    if (e.socket === 'stripe' || fs.existsSync(p)) continue;
    fs.writeFileSync(p, `#!/bin/bash\nenv >"${dir}/env-$(basename "$0")"\nexec -a "$0" "${path.join(W.TOOLS, 'fcgi_echo')}"\n`, { mode: 0o755 });
  }
  const m = via(env, 0, { db: f.db }).tally(['migrate']);
  if (m.code !== 0) throw new Error(`migrate: ${m.stderr}`);
  const w = W.wwwData();
  if (w) {
    W.chownTree(dir, w);
    fs.chmodSync(env.dir, 0o755);
  }
  f.server = await W.Server.start('apache-fcgid', env.runDir, path.join(env.dir, 'apache-fcgid'), { bin, etc: dir, db: dir });
  return f;
}

run({
  before: async () => {
    const env = await Env.start();
    const ctx = { env, servers: {} };
    try {
      ctx.echo = await W.startEcho(env.runDir, [...new Set(ENDPOINTS.map((e) => e.socket))].filter((s) => s !== 'stripe'));
      W.openToWebUser(env.runDir);
      if (W.wwwData()) fs.chmodSync(env.dir, 0o755);
      for (const kind of PROXIES) ctx.servers[kind] = await W.Server.start(kind, env.runDir, path.join(env.dir, kind));
      ctx.fcgid = await startFcgid(env);
    } catch (e) {
      await stopAll(ctx);
      await env.stop(process.env.KEEP);
      throw e;
    }
    return ctx;
  },
  after: async (ctx, failed) => {
    await stopAll(ctx);
    await ctx.env.stop(failed > 0 && process.env.KEEP);
  },
});

async function stopAll(ctx) {
  for (const s of Object.values(ctx.servers)) await s.stop();
  if (ctx.fcgid && ctx.fcgid.server) await ctx.fcgid.server.stop();
  await W.stopProc(ctx.echo);
}
