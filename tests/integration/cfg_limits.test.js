'use strict';
// A secret that breaks its documented constraint stops the executable at start
// (lib/cfg/cfg.c cfg_load_env; jobs/deliver.c for TALLY_WEBHOOK_SECRET), for each
// entry of a rotation list, with a log line naming the variable and the entry's
// place and never the secret: a 16-byte TALLY_JWT_SECRET would otherwise sign
// user tokens anyone can brute-force, and a Stripe API key given as the webhook
// secret would refuse every event without saying why.
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { test, run, assert } = require('../lib/t');
const { BIN, waitFor, sleep } = require('../lib/harness');
const { startApi, jwt, nowS } = require('../lib/api');

const CATALOG = { products: { pack: { kind: 'pack', credits: 10, match: { stripe: ['price_pack'] } } } };
const GOOD_JWT = crypto.randomBytes(24).toString('hex'); // 48 bytes
const SHORT_JWT = crypto.randomBytes(8).toString('hex'); // 16 bytes

function workdir(config = CATALOG) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tally-cfglimits-'));
  fs.writeFileSync(path.join(dir, 'tally.json'), JSON.stringify(config));
  const env = envOf(dir);
  const m = spawnSync(path.join(BIN, 'tally'), ['migrate'], { env, encoding: 'utf8' });
  assert.strictEqual(m.status, 0, m.stderr);
  return dir;
}

function envOf(dir, extra = {}) {
  return {
    PATH: process.env.PATH,
    TALLY_DB: path.join(dir, 'tally.db'),
    TALLY_CONFIG: path.join(dir, 'tally.json'),
    ASAN_OPTIONS: process.env.ASAN_OPTIONS || '',
    UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || '',
    ...extra,
  };
}

// Start bin/tally-NAME on a socket; resolve with how it ended (or with the
// running process once its socket is there).
function startHandler(dir, name, extra) {
  const sock = path.join(dir, `${name}.sock`);
  const p = spawn(path.join(BIN, `tally-${name}`), ['--listen', sock], { env: envOf(dir, extra), stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  p.stderr.on('data', (d) => { log += d; });
  const ended = new Promise((r) => p.on('close', (code) => r(code)));
  return waitFor(() => fs.existsSync(sock) || p.exitCode !== null, `tally-${name} to listen or exit`)
    .then(async () => {
      if (p.exitCode !== null) await ended;
      return { p, sock, ended, log: () => log, listening: fs.existsSync(sock) };
    });
}

async function stop(h) {
  if (h.p.exitCode === null && h.p.signalCode === null) {
    h.p.kill('SIGTERM');
    await Promise.race([h.ended, sleep(3000)]);
    if (h.p.exitCode === null && h.p.signalCode === null) h.p.kill('SIGKILL');
  }
}

// The start failure as logged: one JSON line "configuration invalid" whose detail names `want`.
function refusedAtStart(h, want, secrets) {
  assert.ok(!h.listening, 'it listened');
  assert.strictEqual(h.p.exitCode, 1, h.log());
  const line = h.log().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)).find((j) => j.msg === 'configuration invalid');
  assert.ok(line, `no "configuration invalid" line: ${h.log()}`);
  assert.strictEqual(line.level, 'error');
  assert.ok(JSON.stringify(line).includes(want), `the line does not say ${want}: ${JSON.stringify(line)}`);
  for (const s of secrets) assert.ok(!h.log().includes(s), 'a secret is in the log');
}

test('tally-api with a 16-byte TALLY_JWT_SECRET refuses to start, naming the variable, not the value', async () => {
  const dir = workdir();
  let h;
  try {
    h = await startHandler(dir, 'api', { TALLY_JWT_SECRET: SHORT_JWT });
    refusedAtStart(h, 'TALLY_JWT_SECRET: secret 1 of the list: expected at least 32 bytes', [SHORT_JWT]);
  } finally {
    if (h) await stop(h);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('tally-api with a rotation list whose second entry is short refuses to start, naming entry 2', async () => {
  const dir = workdir();
  let h;
  try {
    h = await startHandler(dir, 'api', { TALLY_JWT_SECRET: `${GOOD_JWT},${SHORT_JWT}` });
    refusedAtStart(h, 'TALLY_JWT_SECRET: secret 2 of the list', [SHORT_JWT, GOOD_JWT]);
  } finally {
    if (h) await stop(h);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the same short secret from TALLY_JWT_SECRET_FILE stops every executable that reads the environment', async () => {
  const dir = workdir();
  let h;
  try {
    const f = path.join(dir, 'jwt-secret');
    fs.writeFileSync(f, `${SHORT_JWT}\n`, { mode: 0o600 });
    h = await startHandler(dir, 'stripe', { TALLY_JWT_SECRET_FILE: f, STRIPE_WEBHOOK_SECRET: 'whsec_x' });
    refusedAtStart(h, 'TALLY_JWT_SECRET: secret 1', [SHORT_JWT]);
    const cli = spawnSync(path.join(BIN, 'tally'), ['migrate'], { env: envOf(dir, { TALLY_JWT_SECRET_FILE: f }), encoding: 'utf8' });
    assert.strictEqual(cli.status, 1, cli.stderr);
    assert.match(cli.stderr, /TALLY_JWT_SECRET: secret 1/);
    assert.ok(!cli.stderr.includes(SHORT_JWT));
  } finally {
    if (h) await stop(h);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('two good JWT secrets while one is rolled: tokens of either verify through nginx', async () => {
  const old = crypto.randomBytes(16).toString('hex'); // exactly 32 bytes
  const env = await startApi({ env: { TALLY_JWT_SECRET: `${old}, ${GOOD_JWT}` } });
  try {
    for (const secret of [old, GOOD_JWT]) {
      const r = await env.api('GET', '/v1/users/u_rolled', undefined, jwt({ sub: 'u_rolled', exp: nowS() + 60 }, { secret }));
      assert.strictEqual(r.status, 404, r.text); // verified: the user is unknown, not the token
      assert.strictEqual(r.json.error.code, 'unknown_user');
    }
    const r = await env.api('GET', '/v1/users/u_rolled', undefined, jwt({ sub: 'u_rolled', exp: nowS() + 60 }, { secret: crypto.randomBytes(16).toString('hex') }));
    assert.strictEqual(r.status, 401);
  } finally {
    await env.stop();
  }
});

test('tally-stripe given a Stripe API key as its webhook secret refuses to start without printing it', async () => {
  const dir = workdir();
  let h;
  try {
    const key = `sk_test_${crypto.randomBytes(12).toString('hex')}`;
    h = await startHandler(dir, 'stripe', { STRIPE_WEBHOOK_SECRET: key });
    refusedAtStart(h, 'STRIPE_WEBHOOK_SECRET: secret 1 of the list: expected whsec_', [key, key.slice(8)]);
    const good = `whsec_${crypto.randomBytes(12).toString('hex')}`;
    h = await startHandler(dir, 'stripe', { STRIPE_WEBHOOK_SECRET: `${good}, ${key}` });
    refusedAtStart(h, 'STRIPE_WEBHOOK_SECRET: secret 2', [key.slice(8), good.slice(6)]);
    h = await startHandler(dir, 'stripe', { STRIPE_WEBHOOK_SECRET: `${good}, whsec_new` });
    assert.ok(h.listening, h.log());
  } finally {
    if (h) await stop(h);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('tally migrate refuses a TALLY_SYNCHRONOUS that is neither full nor normal', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tally-cfglimits-'));
  try {
    fs.writeFileSync(path.join(dir, 'tally.json'), '{}');
    const r = spawnSync(path.join(BIN, 'tally'), ['migrate'], { env: envOf(dir, { TALLY_SYNCHRONOUS: 'off' }), encoding: 'utf8' });
    assert.strictEqual(r.status, 1, r.stderr);
    assert.match(r.stderr, /TALLY_SYNCHRONOUS: expected full or normal/);
    assert.ok(!fs.existsSync(path.join(dir, 'tally.db')), 'the database was made anyway');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('tally-deliver with a rotation list whose second TALLY_WEBHOOK_SECRET is short exits 1 naming entry 2, never a secret', () => {
  const dir = workdir({ ...CATALOG, deliver: { webhook_url: 'http://127.0.0.1:9/hooks' } });
  try {
    const good = crypto.randomBytes(32).toString('base64');
    const short = crypto.randomBytes(8).toString('base64');
    const r = spawnSync(path.join(BIN, 'tally-deliver'), ['--json'], {
      env: envOf(dir, { TALLY_WEBHOOK_SECRET: `whsec_${good}, whsec_${short}` }), encoding: 'utf8',
    });
    assert.strictEqual(r.status, 1, r.stderr);
    assert.match(r.stderr, /TALLY_WEBHOOK_SECRET: secret 2 of the list: expected whsec_ and the base64 of 24 to 64 random bytes/);
    for (const s of [good, short]) assert.ok(!r.stderr.includes(s) && !r.stdout.includes(s), 'a secret was printed');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

run();
