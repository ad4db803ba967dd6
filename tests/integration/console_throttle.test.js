'use strict';
// The console's login limit under concurrency, and what one login may cost.
// Attempts are counted by address and by the name tried BEFORE the password
// is checked, deciding and counting in one write transaction, so that however
// many guesses arrive at once at most LOGIN_FREE_TRIES (5) are checked — through
// nginx + FastCGI (threads of one process) and as plain CGI (a process each).
// A password check takes one of the host's 2 slots (lock files beside the
// database) and 32 MiB of scrypt: measured here as the peak RSS of a CGI
// login, and as the number of CGI processes holding scrypt's memory at once.
const fs = require('fs');
const path = require('path');
const http = require('http');
const { spawn } = require('child_process');
const { test, run, assert } = require('../lib/t');
const { BIN, ROOT, sleep, waitFor } = require('../lib/harness');
const C = require('../lib/console');

const TOOLS = process.env.TALLY_TOOLS || path.join(ROOT, 'build', 'release', 'tests');
const FREE = 5;          // console_req.h LOGIN_FREE_TRIES
const SLOTS = 2;         // console_req.h LOGIN_SLOTS
const SLOT_WAIT_S = 5;   // console_req.h LOGIN_SLOT_WAIT_MS / 1000
const RETRY_S = 5;       // console_req.h LOGIN_SLOT_RETRY_S
const MiB = 1024 * 1024;
// The ASan build's processes carry its shadow memory and allocator on top of what tally uses.
const ASAN = fs.readFileSync(path.join(BIN, 'tally-console')).includes('__asan_init');
// The memory one CGI login may take (docs/console.md "Security"): under 50 MB in
// the plain build (measured 46 MB: the process's 11 MB and scrypt's 32 MiB). The ASan build's
// process starts at ~32 MB (its shadow memory and allocator) and shadows the 32 MiB too (measured
// 73 MB): held to 96 MB.
const LOGIN_RSS_MAX = (ASAN ? 96 : 50) * 1000 * 1000;
// scrypt's part of it: 32 MiB (N = 2^15, r = 8), and a margin for OpenSSL's own buffers (plus,
// under ASan, the 4 MiB shadow of the 32 MiB and its redzones; measured 34.8 MB plain, 40.6 ASan).
const SCRYPT_RSS_MAX = (ASAN ? 48 : 40) * MiB;
// A hash made before: N = 2^17, r = 8, p = 1 ("password", salt "saltsalt"; Python's hashlib.scrypt).
const OLD_HASH = '$scrypt$ln=17,r=8,p=1$c2FsdHNhbHQ$tn4C_3XTCbyZT0PnkdwwSDQYp57ZNLU2XgyGIvHVwFw';

const form = (name, secret) => new URLSearchParams({ name, secret }).toString();

// One console request as plain CGI (RFC 3875: the request in the environment, the body on
// stdin), a process of its own, optionally under tests/tools/peak_rss.
function cgi(env, { method = 'POST', name, secret, addr = '192.0.2.1', rss = false } = {}) {
  const body = method === 'POST' ? form(name, secret) : '';
  const vars = {
    ...env.env(), GATEWAY_INTERFACE: 'CGI/1.1', REQUEST_METHOD: method, SCRIPT_NAME: '/admin',
    PATH_INFO: '/login', REMOTE_ADDR: addr, SERVER_PROTOCOL: 'HTTP/1.1',
  };
  // Under ASan freed memory sits in a quarantine, so a process that has finished its check
  // and given its slot back would still look as if it held scrypt's memory until it exits.
  // Without the quarantine ASan unmaps a large block when it is freed, as glibc does.
  if (vars.ASAN_OPTIONS) vars.ASAN_OPTIONS += ':quarantine_size_mb=0';
  if (method === 'POST') {
    vars.CONTENT_TYPE = 'application/x-www-form-urlencoded';
    vars.CONTENT_LENGTH = String(Buffer.byteLength(body));
  }
  const exe = path.join(BIN, 'tally-console');
  const p = rss ? spawn(path.join(TOOLS, 'peak_rss'), [exe], { env: vars })
    : spawn(exe, [], { env: vars });
  const done = new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('close', (code) => {
      const head = out.split('\r\n\r\n')[0];
      const m = /^Status: (\d+)/.exec(head);
      const headers = {};
      for (const line of head.split('\r\n')) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      const peak = /peak_rss_kb (\d+)/.exec(err);
      resolve({
        code, status: m ? Number(m[1]) : 0, headers, text: out, stderr: err,
        peak: peak ? Number(peak[1]) * 1024 : null,
      });
    });
  });
  p.stdin.end(body);
  return { proc: p, done };
}

// A login through nginx from a local address of our choice (127.0.0.0/8 is all loopback on
// Linux): nginx passes it on as REMOTE_ADDR (deploy/nginx/fastcgi.conf).
function viaNginx(env, name, secret, localAddress = '127.0.0.1') {
  const body = form(name, secret);
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: env.port, method: 'POST', path: '/admin/login', localAddress, agent: false,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': Buffer.byteLength(body) },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const tally = (xs) => xs.reduce((m, r) => { m[r.status] = (m[r.status] || 0) + 1; return m; }, {});

// Of n attempts sent at once, exactly FREE got past the count: each was checked (401), or, when
// both slots stayed busy for the whole wait (a loaded machine), answered 503 unchecked (the slot
// test below shows a 503 checks nothing); every other one was refused unchecked (429).
function fivePassed(rs, n) {
  const by = tally(rs);
  const msg = JSON.stringify(by);
  assert.deepStrictEqual(Object.keys(by).filter((k) => !['401', '429', '503'].includes(k)), [], msg);
  assert.ok((by[401] || 0) <= FREE, `more than ${FREE} checked: ${msg}`);
  assert.strictEqual((by[401] || 0) + (by[503] || 0), FREE, msg);
  assert.strictEqual(by[429], n - FREE, msg);
  assert.ok((by[401] || 0) >= 1, `none checked: ${msg}`);
}
const sessions = (env) => env.sql('SELECT count(*) AS n FROM sessions')[0].n;
const count = (env, who) => (env.sql(`SELECT count FROM login_failures WHERE who = '${who}'`)[0] || { count: 0 }).count;

function reset(env) {
  env.sql('DELETE FROM login_failures; DELETE FROM sessions');
}

test('nginx + FastCGI: of 40 wrong passwords sent at once 5 pass the count (checked: 401), 35 are refused (429); the right one then waits', async (env) => {
  reset(env);
  const rs = await Promise.all(Array.from({ length: 40 }, (_, i) => viaNginx(env, C.ADMIN, `wrong guess ${i}`)));
  fivePassed(rs, 40);
  assert.strictEqual(count(env, `name:${C.ADMIN}`), FREE, 'every checked attempt counted, no refused one');
  assert.strictEqual(count(env, 'addr:127.0.0.1'), FREE);
  const right = await viaNginx(env, C.ADMIN, C.PASSWORD);
  assert.strictEqual(right.status, 429, 'the right password inside the window is not checked');
  assert.ok(Number(right.headers['retry-after']) > 0, 'Retry-After');
  assert.ok(!right.headers['set-cookie']);
  assert.strictEqual(sessions(env), 0);
});

test('plain CGI: 25 guesses as parallel processes: 5 pass the count; then 20 more and the right one at once: none checked, the right one 429', async (env) => {
  reset(env);
  const first = await Promise.all(Array.from({ length: 25 }, (_, i) =>
    cgi(env, { name: C.ADMIN, secret: `wrong guess ${i}`, addr: '198.51.100.7' }).done));
  fivePassed(first, 25);
  const burst = Array.from({ length: 21 }, (_, i) =>
    cgi(env, { name: C.ADMIN, secret: i === 10 ? C.PASSWORD : `more guess ${i}`, addr: '198.51.100.7' }).done);
  const second = await Promise.all(burst);
  assert.deepStrictEqual(tally(second), { 429: 21 }, JSON.stringify(tally(second)));
  assert.ok(Number(second[10].headers['retry-after']) > 0);
  assert.ok(!/Set-Cookie/i.test(second[10].text), 'the right password did not log in');
  assert.strictEqual(sessions(env), 0);
  assert.strictEqual(count(env, `name:${C.ADMIN}`), FREE);
});

test('per address: 30 different names from one address at once (CGI): 5 pass, names that are no admin counted too', async (env) => {
  reset(env);
  const rs = await Promise.all(Array.from({ length: 30 }, (_, i) =>
    cgi(env, { name: `nobody${i}`, secret: 'a guess at all', addr: '203.0.113.9' }).done));
  fivePassed(rs, 30);
  assert.strictEqual(count(env, 'addr:203.0.113.9'), FREE);
  // Unknown names are counted as real ones are: the count says nothing of which names exist.
  assert.strictEqual(env.sql("SELECT count(*) AS n FROM login_failures WHERE who LIKE 'name:nobody%'")[0].n, FREE);
  // The admin's own right password from that address waits as well.
  const r = await cgi(env, { name: C.ADMIN, secret: C.PASSWORD, addr: '203.0.113.9' }).done;
  assert.strictEqual(r.status, 429);
  assert.strictEqual(sessions(env), 0);
});

test('per name: one name from 30 addresses at once (nginx, REMOTE_ADDR 127.0.0.x): 5 pass; the right password from a fresh address waits', async (env) => {
  reset(env);
  const rs = await Promise.all(Array.from({ length: 30 }, (_, i) =>
    viaNginx(env, C.ADMIN, `wrong guess ${i}`, `127.0.0.${10 + i}`)));
  fivePassed(rs, 30);
  assert.strictEqual(count(env, `name:${C.ADMIN}`), FREE);
  const addrs = env.sql("SELECT who FROM login_failures WHERE who LIKE 'addr:127.0.0.%'").map((x) => x.who);
  assert.strictEqual(addrs.length, FREE, 'each address seen as its own');
  const r = await viaNginx(env, C.ADMIN, C.PASSWORD, '127.0.0.99');
  assert.strictEqual(r.status, 429);
  // Under CGI as well: the same name from yet another address.
  const c = await cgi(env, { name: C.ADMIN, secret: C.PASSWORD, addr: '192.0.2.200' }).done;
  assert.strictEqual(c.status, 429);
  assert.strictEqual(sessions(env), 0);
});

test(`one CGI login peaks under ${LOGIN_RSS_MAX / 1e6} MB (${ASAN ? 'ASan' : 'plain'} build), scrypt's part under ${SCRYPT_RSS_MAX / MiB} MiB; an old N = 2^17 hash verifies and is rehashed`, async (env) => {
  reset(env);
  const page = await cgi(env, { method: 'GET', rss: true }).done;
  assert.strictEqual(page.status, 200);
  const login = await cgi(env, { name: C.ADMIN, secret: C.PASSWORD, addr: '192.0.2.50', rss: true }).done;
  assert.strictEqual(login.status, 303, login.stderr);
  const unknown = await cgi(env, { name: 'nobody', secret: 'a long guess here', addr: '192.0.2.51', rss: true }).done;
  assert.strictEqual(unknown.status, 401);
  const mb = (x) => `${(x / 1e6).toFixed(1)} MB`;
  console.log(`# peak RSS: page ${mb(page.peak)}, login ${mb(login.peak)}, unknown name ${mb(unknown.peak)}`);
  for (const [what, r] of [['login', login], ['unknown name', unknown]]) {
    assert.ok(r.peak < LOGIN_RSS_MAX, `${what}: ${mb(r.peak)} >= ${mb(LOGIN_RSS_MAX)}`);
    assert.ok(r.peak - page.peak < SCRYPT_RSS_MAX, `${what}: scrypt took ${mb(r.peak - page.peak)}`);
    // Checked for real: the dummy hash costs what a real one does (at least 3/4 of its 32 MiB).
    assert.ok(r.peak - page.peak > 24 * MiB, `${what}: only ${mb(r.peak - page.peak)} over the page`);
  }
  // An admin whose hash predates N = 2^15, r = 8, p = 3 still logs in (128 MiB, once) ...
  env.sql(`INSERT INTO admins (name, password_hash, created_at, updated_at) VALUES ('old', '${OLD_HASH}', 1, 1)`);
  const old = await cgi(env, { name: 'old', secret: 'password', addr: '192.0.2.52', rss: true }).done;
  assert.strictEqual(old.status, 303, old.stderr);
  console.log(`# peak RSS: login with an old N = 2^17 hash ${mb(old.peak)}`);
  assert.ok(old.peak - page.peak > 100 * MiB, `the old hash took ${mb(old.peak - page.peak)}`);
  const row = env.sql("SELECT password_hash AS h, updated_at AS u FROM admins WHERE name = 'old'")[0];
  assert.match(row.h, /^\$scrypt\$ln=15,r=8,p=3\$/, 'rehashed with the new parameters at that login');
  assert.strictEqual(row.u, 1, 'the password itself did not change');
  // ... and from then on costs what any login does.
  const again = await cgi(env, { name: 'old', secret: 'password', addr: '192.0.2.53', rss: true }).done;
  assert.strictEqual(again.status, 303);
  assert.ok(again.peak < LOGIN_RSS_MAX, `after the rehash: ${mb(again.peak)}`);
  env.sql("DELETE FROM admins WHERE name = 'old'");
});

// Hold slot file i of the console's database as another process would: flock(1) holds it
// (-o: not its command), in a process group of its own, so release() ends both.
async function holdSlot(env, i) {
  const file = `${env.db}.login-${i}`;
  const p = spawn('flock', ['-x', '-o', file, 'sleep', '120'], { stdio: 'ignore', detached: true });
  await waitFor(() => new Promise((resolve) => {
    const probe = spawn('flock', ['-xn', file, 'true'], { stdio: 'ignore' });
    probe.on('close', (code) => resolve(code !== 0));
  }), `slot ${i} held`);
  return p;
}

async function release(p) {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise((r) => p.once('exit', r));
  process.kill(-p.pid, 'SIGTERM');
  await gone;
}

test('with both slots held by other processes a login is not checked: 503 with Retry-After after the wait, through CGI and FastCGI; one slot free is enough', async (env) => {
  reset(env);
  const holders = [await holdSlot(env, 0), await holdSlot(env, 1)];
  try {
    let t0 = Date.now();
    const c = await cgi(env, { name: C.ADMIN, secret: C.PASSWORD, addr: '192.0.2.60' }).done;
    let took = (Date.now() - t0) / 1000;
    assert.strictEqual(c.status, 503, 'the right password is not checked without a slot');
    assert.strictEqual(c.headers['retry-after'], String(RETRY_S));
    assert.ok(took >= SLOT_WAIT_S - 0.5 && took < SLOT_WAIT_S + 10, `answered after ${took} s`);
    assert.match(c.stderr, /every password check slot busy/);
    t0 = Date.now();
    const f = await viaNginx(env, C.ADMIN, C.PASSWORD, '127.0.0.60');
    took = (Date.now() - t0) / 1000;
    assert.strictEqual(f.status, 503);
    assert.strictEqual(f.headers['retry-after'], String(RETRY_S));
    assert.ok(took < SLOT_WAIT_S + 10, `answered after ${took} s`);
    assert.strictEqual(sessions(env), 0);
    await release(holders.pop());
    const ok = await cgi(env, { name: C.ADMIN, secret: C.PASSWORD, addr: '192.0.2.61' }).done;
    assert.strictEqual(ok.status, 303, 'one free slot of two');
  } finally {
    for (const h of holders) await release(h);
  }
});

// VmRSS of a live process in bytes, or null once it has gone.
function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch (_) { return null; }
}

test(`concurrent password checks across CGI processes never exceed the ${SLOTS} slots (processes holding scrypt's memory at once)`, async (env) => {
  reset(env);
  const page = await cgi(env, { method: 'GET', rss: true }).done;
  const big = page.peak + 20 * MiB; // well past the process, well under scrypt's 32 MiB
  const n = 8;
  const runs = Array.from({ length: n }, (_, i) =>
    cgi(env, { name: `checker${i}`, secret: 'a guess at all', addr: `192.0.2.${100 + i}` }));
  let live = true;
  let most = 0;
  const sampler = (async () => {
    while (live) {
      const now = runs.filter((r) => (rssOf(r.proc.pid) || 0) > big).length;
      if (now > most) most = now;
      await sleep(2);
    }
  })();
  const rs = await Promise.all(runs.map((r) => r.done));
  live = false;
  await sampler;
  console.log(`# at most ${most} of ${n} CGI processes over ${(big / 1e6).toFixed(1)} MB at once`);
  // Each from its own address and name: none over the limit; checked, or 503 past the wait.
  const by = tally(rs);
  assert.strictEqual((by[401] || 0) + (by[503] || 0), n, JSON.stringify(by));
  assert.ok((by[401] || 0) >= SLOTS, JSON.stringify(by));
  assert.ok(most >= 1, 'the sampler saw the checks');
  assert.ok(most <= SLOTS, `${most} password checks at once`);
});

run({
  before: () => C.startConsole({ handlers: ['console'] }),
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
