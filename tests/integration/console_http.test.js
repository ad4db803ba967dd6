'use strict';
// The support console over plain HTTP through nginx (no browser): the security
// headers, the session cookie's attributes, and every refusal — no session, an
// ended session, a form without or with a wrong CSRF token, a cross-site form,
// repeated failed logins, logout, keys without the admin scope — each checked
// to change nothing; attacker-chosen ids escaped; no secret in any log.
const { test, run, assert } = require('../lib/t');
const C = require('../lib/console');

const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function securityHeaders(r) {
  assert.strictEqual(r.headers['content-security-policy'], CSP);
  assert.strictEqual(r.headers['x-frame-options'], 'DENY');
  assert.strictEqual(r.headers['referrer-policy'], 'same-origin');
  assert.strictEqual(r.headers['x-content-type-options'], 'nosniff');
  assert.strictEqual(r.headers['cache-control'], 'no-store');
}

const balance = (env, u) => env.user(u).balance.available;

async function loggedIn(env) {
  const c = new C.Client(env);
  const r = await c.login();
  assert.strictEqual(r.status, 303, r.text);
  return c;
}

test('every answer carries the security headers; pages without a session go to the login page', async (env) => {
  for (const p of ['/admin', '/admin/user?id=x', '/admin/attention', '/admin/outbox', '/admin/event?id=1']) {
    const r = await env.request('GET', p);
    assert.strictEqual(r.status, 303, p);
    assert.strictEqual(r.headers.location, '/admin/login');
    securityHeaders(r);
  }
  const login = await env.request('GET', '/admin/login');
  assert.strictEqual(login.status, 200);
  securityHeaders(login);
  assert.ok(!/<script/i.test(login.text), 'no script on the page');
  const css = await env.request('GET', '/admin/style.css');
  assert.strictEqual(css.status, 200);
  assert.match(css.headers['content-type'], /^text\/css/);
  assert.strictEqual((await env.request('GET', '/admin/nope')).status, 404);
  assert.strictEqual((await env.request('GET', '/adminx')).status, 404);
  assert.strictEqual((await env.request('PUT', '/admin/login', '')).status, 405);
});

test('login: a wrong password is 401 with no cookie; the right one sets a session cookie of the documented kind', async (env) => {
  const c = new C.Client(env);
  const bad = await c.login(C.ADMIN, 'not the password');
  assert.strictEqual(bad.status, 401);
  assert.strictEqual(bad.setCookie, undefined);
  const unknown = await c.login('mallory', 'not the password');
  assert.strictEqual(unknown.status, 401);
  assert.strictEqual(env.sql("SELECT count FROM login_failures WHERE who = 'name:mallory'")[0].count, 1,
    'names that are no admin are counted as admins are, so being slowed down tells no name apart');
  const ok = await c.login();
  assert.strictEqual(ok.status, 303);
  assert.strictEqual(ok.headers.location, '/admin');
  const attrs = ok.setCookie.split('; ');
  assert.match(attrs[0], /^tally_console=[A-Za-z0-9_-]{43}$/);
  assert.deepStrictEqual(attrs.slice(1).sort(), ['HttpOnly', 'Max-Age=28800', 'Path=/admin', 'SameSite=Strict']);
  // Only the SHA-256 of the cookie is stored.
  const rows = env.sql('SELECT hex(token_hash) AS h, admin, length(csrf) AS n, expires_at - created_at AS ttl FROM sessions');
  const mine = rows.find((x) => x.h === require('crypto').createHash('sha256').update(c.cookie).digest('hex').toUpperCase());
  assert.ok(mine, 'the session row is keyed by the hash');
  assert.strictEqual(mine.admin, C.ADMIN);
  assert.strictEqual(mine.ttl, 8 * 3600 * 1000);
  assert.strictEqual(mine.n, 43);
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM sessions WHERE CAST(token_hash AS TEXT) LIKE '%${c.cookie}%'`)[0].n, 0);
  // Over TLS (the web server says so) the cookie is Secure too.
  const tls = await new C.Client(env).login(C.ADMIN, C.PASSWORD, { 'X-Forwarded-Proto': 'https' });
  assert.match(tls.setCookie, /; Secure/);
  const page = await c.get('/admin');
  assert.strictEqual(page.status, 200);
  assert.match(page.text, /<h1>Overview<\/h1>/);
  env.sql("DELETE FROM login_failures");
});

test('an admin API key logs in; a key without the admin scope does not; revoking the key ends its session', async (env) => {
  const admin = env.tallyJson(['keys', 'create', '--name', 'console-key', '--scopes', 'admin']);
  const read = env.tallyJson(['keys', 'create', '--name', 'reader', '--scopes', 'read']);
  const c = new C.Client(env);
  assert.strictEqual((await c.login('', read.key)).status, 401);
  const ok = await c.login('', admin.key);
  assert.strictEqual(ok.status, 303);
  const page = await c.get('/admin');
  assert.strictEqual(page.status, 200);
  assert.ok(page.text.includes(`key:${admin.id}`), 'the page names the key as the admin');
  assert.strictEqual(env.tally(['keys', 'revoke', admin.id]).code, 0);
  const after = await c.get('/admin');
  assert.strictEqual(after.status, 303);
  assert.strictEqual(after.headers.location, '/admin/login?ended=1');
  env.sql("DELETE FROM login_failures");
});

test('grant credits: the form applies an operator event, and the page shows the audit and ledger rows it wrote', async (env) => {
  await C.subscribe(env, 'u_http_grant');
  const c = await loggedIn(env);
  const f = await c.form('/admin/user?id=u_http_grant', 'credits.grant');
  const before = balance(env, 'u_http_grant');
  const r = await c.submit(f, { amount: '25', reason: 'goodwill after outage' });
  assert.strictEqual(r.status, 303, r.text);
  assert.match(r.headers.location, /^\/admin\/done\?event=\d+$/);
  assert.strictEqual(balance(env, 'u_http_grant'), before + 25);
  const done = await c.get(r.headers.location);
  assert.strictEqual(done.status, 200);
  assert.match(done.text, /operator:alice/);
  assert.match(done.text, /goodwill after outage/);
  assert.match(done.text, /Ledger entries written/);
  const audit = env.sql("SELECT actor, reason FROM audit WHERE user_id = 'u_http_grant' AND reason = 'goodwill after outage'");
  assert.deepStrictEqual(audit.map((a) => a.actor), ['operator:alice']);
  // The same form sent again (a double click) is done once: its nonce is the event's id.
  const again = await c.submit(f, { amount: '25', reason: 'goodwill after outage' });
  assert.strictEqual(again.status, 303);
  assert.strictEqual(again.headers.location, r.headers.location);
  assert.strictEqual(balance(env, 'u_http_grant'), before + 25);
  // A refused action changes nothing and says why.
  const g2 = await c.form('/admin/user?id=u_http_grant', 'credits.revoke');
  const refused = await c.submit(g2, { amount: '999999999', reason: 'too much' });
  assert.strictEqual(refused.status, 409);
  assert.match(refused.text, /insufficient_credits|Refused/);
  assert.strictEqual(balance(env, 'u_http_grant'), before + 25);
  const noReason = await c.submit(await c.form('/admin/user?id=u_http_grant', 'credits.grant'), { amount: '5', reason: '' });
  assert.strictEqual(noReason.status, 400, 'a reason is required');
  assert.strictEqual(balance(env, 'u_http_grant'), before + 25);
});

test('the user page shows money in major units with the currency, next to the credits it bought', async (env) => {
  await C.subscribe(env, 'u_http_money');
  const c = await loggedIn(env);
  const page = await c.get('/admin/user?id=u_http_money');
  assert.strictEqual(page.status, 200);
  // Stripe's invoice of 1000 cents in "usd": 10.00 USD in the payment's audit row, never 1000.
  assert.match(page.text, /initial 10\.00 USD for pro_monthly/);
  assert.doesNotMatch(page.text, /\b(1000|10\.00) usd\b/);
});

test('a form without the CSRF token, with a wrong one, or from another site is refused and changes nothing', async (env) => {
  await C.subscribe(env, 'u_http_csrf');
  const c = await loggedIn(env);
  const f = await c.form('/admin/user?id=u_http_csrf', 'credits.grant');
  const before = env.counts();
  const fields = { ...f.fields, amount: '50', reason: 'csrf test' };
  const { csrf, ...without } = fields;
  const r1 = await c.post('/admin/action', without);
  assert.strictEqual(r1.status, 403);
  assert.match(r1.text, /Nothing was changed/);
  const r2 = await c.post('/admin/action', { ...fields, csrf: csrf.slice(0, -1) + (csrf.endsWith('A') ? 'B' : 'A') });
  assert.strictEqual(r2.status, 403);
  const r3 = await c.post('/admin/action', { ...fields, csrf: '' });
  assert.strictEqual(r3.status, 403);
  // Another session's token is not this session's.
  const other = await loggedIn(env);
  const otherForm = await other.form('/admin/user?id=u_http_csrf', 'credits.grant');
  const r4 = await c.post('/admin/action', { ...fields, csrf: otherForm.fields.csrf });
  assert.strictEqual(r4.status, 403);
  // The right token, but the browser says the form came from another site.
  const r5 = await c.post('/admin/action', fields, { Origin: 'https://evil.example' });
  assert.strictEqual(r5.status, 403);
  const r6 = await c.post('/admin/action', fields, { 'Sec-Fetch-Site': 'cross-site' });
  assert.strictEqual(r6.status, 403);
  // Without a session at all: to the login page.
  const r7 = await new C.Client(env).post('/admin/action', fields);
  assert.strictEqual(r7.status, 303);
  assert.strictEqual(r7.headers.location, '/admin/login');
  // Logout needs the token too.
  const r8 = await c.post('/admin/logout', {});
  assert.strictEqual(r8.status, 403);
  assert.deepStrictEqual(env.counts(), before);
  assert.strictEqual((await c.get('/admin')).status, 200, 'the session still works');
  // And with everything right it goes through.
  const ok = await c.post('/admin/action', fields, { Origin: env.base });
  assert.strictEqual(ok.status, 303);
});

test('a session past its expiry is sent to the login page and can do nothing', async (env) => {
  await C.subscribe(env, 'u_http_exp');
  const c = await loggedIn(env);
  const f = await c.form('/admin/user?id=u_http_exp', 'credits.grant');
  const hash = require('crypto').createHash('sha256').update(c.cookie).digest('hex');
  env.sql(`UPDATE sessions SET expires_at = ${Date.now() - 1000} WHERE token_hash = X'${hash}'`);
  const page = await c.get('/admin/user?id=u_http_exp');
  assert.strictEqual(page.status, 303);
  assert.strictEqual(page.headers.location, '/admin/login?ended=1');
  const before = env.counts();
  const r = await c.submit(f, { amount: '10', reason: 'after expiry' });
  assert.strictEqual(r.status, 303);
  assert.strictEqual(r.headers.location, '/admin/login?ended=1');
  assert.deepStrictEqual(env.counts(), before);
  const login = await c.get('/admin/login?ended=1');
  assert.match(login.text, /Your session has ended/);
});

test('repeated failed logins are slowed down: after 5, even the right password waits 30 s, then 60 s', async (env) => {
  env.sql('DELETE FROM login_failures');
  const c = new C.Client(env);
  for (let i = 0; i < 5; i++) assert.strictEqual((await c.login(C.ADMIN, `guess ${i}`)).status, 401);
  const rows = env.sql('SELECT who, count FROM login_failures ORDER BY who');
  assert.deepStrictEqual(rows, [{ who: 'addr:127.0.0.1', count: 5 }, { who: `name:${C.ADMIN}`, count: 5 }]);
  const t0 = Date.now();
  const slowed = await c.login();
  assert.ok(Date.now() - t0 < 2000, 'refused at once, without checking the password');
  assert.strictEqual(slowed.status, 429);
  assert.ok(!slowed.setCookie);
  const wait = Number(slowed.headers['retry-after']);
  assert.ok(wait > 25 && wait <= 30, `Retry-After ${wait}`);
  assert.match(slowed.text, /Too many failed logins/);
  // Another name from the same address is slowed as well.
  assert.strictEqual((await c.login('bob', 'whatever')).status, 429);
  // 31 s later one more try is allowed; a sixth failure doubles the wait.
  env.sql(`UPDATE login_failures SET last_at = last_at - 31000`);
  assert.strictEqual((await c.login(C.ADMIN, 'guess 6')).status, 401);
  const twice = await c.login();
  assert.strictEqual(twice.status, 429);
  const wait2 = Number(twice.headers['retry-after']);
  assert.ok(wait2 > 55 && wait2 <= 60, `Retry-After ${wait2}`);
  env.sql(`UPDATE login_failures SET last_at = last_at - 61000`);
  const ok = await c.login();
  assert.strictEqual(ok.status, 303, 'the right password after the wait');
  assert.strictEqual(env.sql('SELECT count(*) AS n FROM login_failures')[0].n, 0, 'a success clears the count');
});

test('logout ends the session: the cookie is cleared and the old cookie opens nothing', async (env) => {
  const c = await loggedIn(env);
  const old = c.cookie;
  const page = await c.get('/admin');
  const f = C.forms(page.text).find((x) => x.action === '/admin/logout');
  const r = await c.post('/admin/logout', f.fields);
  assert.strictEqual(r.status, 303);
  assert.strictEqual(r.headers.location, '/admin/login?out=1');
  assert.match([].concat(r.headers['set-cookie'])[0], /^tally_console=; Path=\/admin; Max-Age=0; HttpOnly; SameSite=Strict/);
  const hash = require('crypto').createHash('sha256').update(old).digest('hex');
  assert.strictEqual(env.sql(`SELECT count(*) AS n FROM sessions WHERE token_hash = X'${hash}'`)[0].n, 0);
  const after = await c.get('/admin');
  assert.strictEqual(after.status, 303);
});

test('ids and product ids with <script> are escaped in every page that shows them', async (env) => {
  await C.subscribe(env, C.XSS_USER);
  await C.pack(env, C.XSS_USER, C.XSS_PRODUCT);
  const c = await loggedIn(env);
  const user = await c.get(`/admin/user?id=${encodeURIComponent(C.XSS_USER)}`);
  assert.strictEqual(user.status, 200, user.text);
  assert.ok(!/<script/i.test(user.text), 'no <script element');
  assert.ok(!/<img/i.test(user.text), 'no <img element');
  assert.ok(user.text.includes('&lt;script&gt;window.__xss=1&lt;/script&gt;'), 'the product id as text');
  assert.ok(user.text.includes('&quot;&gt;&lt;script&gt;window.__xss=2'), 'the user id as text');
  const search = await c.get(`/admin/search?q=${encodeURIComponent(C.XSS_USER)}`);
  assert.strictEqual(search.status, 303, 'one user: to the user page');
  const ev = env.sql(`SELECT max(id) AS id FROM inbox WHERE user_id = '${C.XSS_USER.replace(/'/g, "''")}'`)[0].id;
  const evPage = await c.get(`/admin/event?id=${ev}`);
  assert.ok(!/<script/i.test(evPage.text));
  assert.ok(evPage.text.includes('&lt;script&gt;'), 'the raw body, escaped');
});

test('tally admin: create refuses a taken name and a short password; passwd ends the sessions of that admin', async (env) => {
  assert.strictEqual(C.adminSet(env, C.ADMIN, 'another long password').code, 1);
  assert.strictEqual(C.adminSet(env, 'bob', 'short').code, 1);
  assert.strictEqual(C.adminSet(env, 'bad name!', 'a long enough password').code, 2);
  assert.strictEqual(C.adminSet(env, 'nobody', 'a long enough password', 'passwd').code, 1);
  const c = await loggedIn(env);
  assert.strictEqual((await c.get('/admin')).status, 200);
  const r = C.adminSet(env, C.ADMIN, 'a new long password', 'passwd');
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual((await c.get('/admin')).status, 303, 'the old session ended');
  assert.strictEqual((await new C.Client(env).login(C.ADMIN, C.PASSWORD)).status, 401);
  assert.strictEqual((await new C.Client(env).login(C.ADMIN, 'a new long password')).status, 303);
  const audit = env.sql("SELECT actor, action, object FROM audit WHERE action LIKE 'admin.%' ORDER BY id");
  assert.deepStrictEqual(audit.map((a) => a.action), ['admin.create', 'admin.passwd']);
  assert.strictEqual(C.adminSet(env, C.ADMIN, C.PASSWORD, 'passwd').code, 0);
  env.sql('DELETE FROM login_failures');
});

test('no password, key or cookie appears in the logs', async (env) => {
  const fs = require('fs');
  const path = require('path');
  const c = await loggedIn(env);
  const logs = ['console', 'api', 'stripe'].map((n) => env.log(n)).join('\n')
    + fs.readFileSync(path.join(env.dir, 'nginx', 'error.log'), 'utf8');
  assert.ok(logs.includes('console: login'), 'logins are logged');
  for (const secret of [C.PASSWORD, c.cookie, 'a new long password']) assert.ok(!logs.includes(secret), `not in logs: ${secret.slice(0, 4)}...`);
});

test('behind lighttpd, Apache and Caddy too: login, a page with a query, a form, the cookie over TLS', async (env) => {
  const fs = require('fs');
  const path = require('path');
  const W = require('../lib/webservers');
  await C.subscribe(env, 'u_servers');
  W.openToWebUser(env.runDir);
  if (W.wwwData()) fs.chmodSync(env.dir, 0o755);
  for (const kind of ['lighttpd', 'apache', 'caddy']) {
    const bin = { lighttpd: '/usr/sbin/lighttpd', apache: '/usr/sbin/apache2', caddy: '/usr/bin/caddy' }[kind];
    if (!fs.existsSync(bin)) continue;
    const server = await W.Server.start(kind, env.runDir, path.join(env.dir, kind));
    try {
      const view = Object.create(env, { port: { value: server.port } });
      const c = new C.Client(view);
      const login = await c.login();
      assert.strictEqual(login.status, 303, `${kind}: ${login.status} ${login.text}`);
      const page = await c.get('/admin/user?id=u_servers');
      assert.strictEqual(page.status, 200, `${kind}: ${page.status} ${page.headers.location || ''} ${page.text.slice(0, 300)}`);
      assert.match(page.text, /User <span class="mono">u_servers<\/span>/, kind);
      securityHeaders(page);
      const f = C.forms(page.text).find((x) => x.fields.do === 'credits.grant');
      const r = await c.submit(f, { amount: '1', reason: `through ${kind}` });
      assert.strictEqual(r.status, 303, `${kind}: ${r.text}`);
      assert.match(r.headers.location, /^\/admin\/done\?event=\d+$/);
      // A client's X-Forwarded-Proto: Caddy replaces it with its own (it terminates TLS itself
      // and then says HTTPS=on); the others pass it on as a TLS proxy in front of them would.
      const tls = await new C.Client(view).login(C.ADMIN, C.PASSWORD, { 'X-Forwarded-Proto': 'https' });
      if (kind === 'caddy') assert.doesNotMatch(tls.setCookie, /; Secure/, kind);
      else assert.match(tls.setCookie, /; Secure/, `${kind}: ${tls.setCookie}`);
    } finally {
      await server.stop();
    }
  }
  assert.strictEqual(env.sql("SELECT count(*) AS n FROM audit WHERE reason LIKE 'through %'")[0].n >= 1, true);
});

run({
  before: () => C.startConsole(),
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
