'use strict';
// A newcomer's first minutes: ./build.sh serve prints commands to try, and
// each must run as printed in another shell, with nothing set but PATH and
// HOME. Like file_modes.test.js, build.sh is sourced and its serve_run started
// on a directory of our own and a free port (serve minus deps and build: it
// runs the executables of bin/); every indented command of what it prints is
// then run through `bash -c`, exactly as printed, from the repository root,
// and checked for its effect.
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { spawn, spawnSync } = require('child_process');
const { test, run, assert } = require('../lib/t');
const { ROOT, waitFor, freePort, stopGroup } = require('../lib/harness');

const PASSWORD = 'a newcomer password';

// A shell's environment with nothing of tally in it.
function shellEnv(home) {
  return {
    PATH: process.env.PATH, HOME: process.env.HOME || home,
    ASAN_OPTIONS: process.env.ASAN_OPTIONS || '', UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || '',
  };
}

// Start serve_run on VAR; resolves once it has printed its last command.
async function startServe(v, port) {
  const p = spawn('bash', ['-c', '. ./build.sh; serve_run "$0" "$1"', v, String(port)],
    { cwd: ROOT, env: shellEnv(path.dirname(v)), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const s = { p, out: '', err: '' };
  p.stdout.on('data', (d) => { s.out += d; });
  p.stderr.on('data', (d) => { s.err += d; });
  try {
    await waitFor(() => / --help\n/.test(s.out) || p.exitCode !== null, 'serve', 20000);
    assert.strictEqual(p.exitCode, null, s.out + s.err);
  } catch (e) {
    await stopServe(s);
    throw e;
  }
  return s;
}

const stopServe = (s) => stopGroup(s.p);

// The commands serve suggests: the lines indented by four spaces after "try".
function commands(out) {
  const at = out.indexOf('\ntry, in another shell');
  assert.ok(at >= 0, `no "try" section: ${out}`);
  return out.slice(at).split('\n').filter((l) => /^ {4}\S/.test(l)).map((l) => l.slice(4));
}

function sh(cmd, home, input) {
  const r = spawnSync('bash', ['-c', cmd], { cwd: ROOT, env: shellEnv(home), input: input || '', encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function request(port, method, urlPath, { body, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, agent: false,
      headers: { ...headers, ...(body !== undefined ? { 'Content-Length': Buffer.byteLength(body) } : {}) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const bearer = (key) => ({ Authorization: `Bearer ${key}` });

test('./build.sh serve: every command it prints runs as printed and does what it says', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tally-serve-cmds-'));
  const v = path.join(dir, 'var');
  const port = await freePort();
  const s = await startServe(v, port);
  try {
    // What serve says it made is where it says.
    assert.ok(s.out.includes(`database:  ${v}/tally.db\n`), s.out);
    assert.ok(s.out.includes(`api key:   ${v}/api-key `), s.out);
    assert.strictEqual(fs.statSync(path.join(v, 'api-key')).mode & 0o777, 0o600);
    // The webhooks as the banner describes them: Stripe's verifies signatures, the others are not set up.
    assert.strictEqual((await request(port, 'POST', '/webhooks/stripe', { body: '{}' })).status, 401);
    assert.strictEqual((await request(port, 'POST', '/webhooks/appstore', { body: '{}' })).status, 503);

    const cmds = commands(s.out);
    // Each kind of command the banner offers, checked below; one not known here fails the test.
    const checks = [
      [/stripe-send\.js .* subscribe --user alice$/, (r) => {
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.deepStrictEqual(r.stdout.trim().split('\n').map((l) => l.split(' -> ')[1].slice(0, 3)), ['200', '200', '200'], r.stdout);
      }],
      [/ user show alice$/, (r) => {
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stdout, /^user alice/);
        assert.match(r.stdout, /balance: 1000 credits/);
        // Money for people: major units and the currency, never Stripe's cents.
        assert.match(r.stdout, /payment\.received payment:\d+ {2}initial 10\.00 USD for pro_monthly/, r.stdout);
      }],
      [/^curl .*\/v1\/users\/alice$/, (r) => {
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        const doc = JSON.parse(r.stdout);
        assert.strictEqual(doc.user_id, 'alice');
        assert.deepStrictEqual(doc.entitlements.map((e) => e.name), ['pro']);
      }],
      [/^curl .*\/metrics$/, (r) => {
        assert.strictEqual(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /^tally_events_total\{provider="stripe",outcome="applied"\} 3$/m);
      }],
      [/ keys create --name my-app --scopes read,spend$/, async (r) => {
        assert.strictEqual(r.code, 0, r.stderr);
        const key = r.stdout.trim().split('\n').pop();
        assert.match(key, /^tk_[0-9a-f]+_\S+$/);
        // The new key reads the app's API and, without the admin scope, not the metrics.
        assert.strictEqual((await request(port, 'GET', '/v1/users/alice', { headers: bearer(key) })).status, 200);
        assert.strictEqual((await request(port, 'GET', '/metrics', { headers: bearer(key) })).status, 403);
      }],
      [/ admin create admin$/, async (r) => {
        assert.strictEqual(r.code, 0, r.stderr);
        assert.match(r.stdout, /^admin admin created$/m);
        // The admin logs in to the console the banner names.
        const body = new URLSearchParams({ name: 'admin', secret: PASSWORD }).toString();
        const login = await request(port, 'POST', '/admin/login',
          { body, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
        assert.strictEqual(login.status, 303, login.text);
        assert.ok([].concat(login.headers['set-cookie'] || []).some((c) => c.startsWith('tally_console=')));
      }],
      [/bin\/tally --help$/, (r) => {
        assert.strictEqual(r.code, 0, r.stderr);
        for (const name of ['TALLY_DB', 'TALLY_CONFIG', 'TALLY_OPERATOR']) assert.ok(r.stdout.includes(name), name);
      }],
    ];
    assert.ok(cmds.length >= checks.length, cmds.join('\n'));
    const seen = new Set();
    for (const cmd of cmds) {
      const i = checks.findIndex(([re]) => re.test(cmd));
      assert.ok(i >= 0, `serve prints a command this test does not check: ${cmd}`);
      seen.add(i);
      // The password on standard input, as the CLI reads it when it is not a terminal.
      const r = sh(cmd, dir, / admin create /.test(cmd) ? `${PASSWORD}\n` : '');
      try {
        await checks[i][1](r);
      } catch (e) {
        throw new Error(`${cmd}: ${e.message}`);
      }
    }
    assert.strictEqual(seen.size, checks.length, `not printed: ${checks.filter((_, i) => !seen.has(i)).map(([re]) => re).join(' ')}`);
    // The same commands from another directory: nothing in them is relative.
    const elsewhere = spawnSync('bash', ['-c', cmds.find((c) => / user show alice$/.test(c))],
      { cwd: dir, env: shellEnv(dir), encoding: 'utf8' });
    assert.strictEqual(elsewhere.status, 0, elsewhere.stderr);
  } finally {
    await stopServe(s);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('./build.sh serve keeps its API key across restarts and makes a new one for a new database', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tally-serve-key-'));
  const v = path.join(dir, 'var');
  const keyFile = path.join(v, 'api-key');
  let s = null;
  try {
    let port = await freePort();
    s = await startServe(v, port);
    const first = fs.readFileSync(keyFile, 'utf8').trim();
    assert.ok(!s.out.includes(first), 'serve printed its key');
    assert.strictEqual((await request(port, 'GET', '/metrics', { headers: bearer(first) })).status, 200);
    await stopServe(s);

    s = await startServe(v, port);
    assert.strictEqual(fs.readFileSync(keyFile, 'utf8').trim(), first, 'a live key was replaced');
    await stopServe(s);

    // A new database does not know the old key: serve makes another, which it accepts.
    for (const f of fs.readdirSync(v)) if (f.startsWith('tally.db')) fs.rmSync(path.join(v, f));
    port = await freePort();
    s = await startServe(v, port);
    const second = fs.readFileSync(keyFile, 'utf8').trim();
    assert.notStrictEqual(second, first);
    assert.strictEqual((await request(port, 'GET', '/metrics', { headers: bearer(first) })).status, 401);
    assert.strictEqual((await request(port, 'GET', '/metrics', { headers: bearer(second) })).status, 200);
  } finally {
    if (s) await stopServe(s);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

run();
