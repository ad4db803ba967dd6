'use strict';
// The files tally makes are its user's only. The database holds password and
// key hashes, console sessions and raw webhook bodies; the lock file, the
// backups, serve's secret and logs sit beside it. Each executable sets its own
// umask (lib/store/store.c store_umask), so these hold when it is started under the
// usual 022 (a login shell, cron, a unit without UMask=): every program here is
// started through `sh -c 'umask 022; exec ...'`.
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { spawn, spawnSync } = require('child_process');
const { test, run, assert } = require('../lib/t');
const { ROOT, BIN, waitFor, freePort, stopGroup } = require('../lib/harness');

const CATALOG = { products: { pack: { kind: 'pack', credits: 10, match: { stripe: ['price_pack'] } } } };

function tmpdir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tally-modes-'));
}

function baseEnv(dir, extra = {}) {
  return {
    PATH: process.env.PATH,
    TALLY_DB: path.join(dir, 'tally.db'),
    TALLY_CONFIG: path.join(dir, 'tally.json'),
    ASAN_OPTIONS: process.env.ASAN_OPTIONS || '',
    UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || '',
    ...extra,
  };
}

// Run an executable of bin/ to its end under umask 022.
function run022(dir, prog, args, extra = {}) {
  const r = spawnSync('sh', ['-c', 'umask 022; exec "$0" "$@"', path.join(BIN, prog), ...args],
    { env: baseEnv(dir, extra), encoding: 'utf8', cwd: dir });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const mode = (p) => fs.statSync(p).mode & 0o777;
const octal = (m) => m.toString(8).padStart(3, '0');

function ownerOnly(p) {
  const m = mode(p);
  assert.strictEqual(m & 0o077, 0, `${p} is ${octal(m)}: group or others may open it`);
}

function migrated() {
  const dir = tmpdir();
  fs.writeFileSync(path.join(dir, 'tally.json'), JSON.stringify(CATALOG));
  const r = run022(dir, 'tally', ['migrate']);
  assert.strictEqual(r.code, 0, r.stderr);
  return dir;
}

test('tally migrate under umask 022: the database, its -wal, -shm and .lock are 0600', () => {
  const dir = migrated();
  try {
    const db = path.join(dir, 'tally.db');
    // SQLite gives the -wal and -shm the database file's mode, whatever the umask.
    for (const f of [db, `${db}-wal`, `${db}-shm`, `${db}.lock`]) {
      assert.ok(fs.existsSync(f), `${f} was not made`);
      assert.strictEqual(mode(f), 0o600, `${f} is ${octal(mode(f))}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('tally migrate on a database open to others warns with its path and mode, never changing it', () => {
  const dir = migrated();
  try {
    const db = path.join(dir, 'tally.db');
    fs.chmodSync(db, 0o644);
    const r = run022(dir, 'tally', ['migrate']);
    assert.strictEqual(r.code, 0, r.stderr);
    const line = r.stderr.split('\n').find((l) => l.includes('open to group or others'));
    assert.ok(line, `no warning: ${r.stderr}`);
    const j = JSON.parse(line);
    assert.strictEqual(j.level, 'warn');
    assert.strictEqual(j.path, db);
    assert.strictEqual(j.mode, '644');
    assert.strictEqual(mode(db), 0o644, 'the operator\'s mode was changed');
    fs.chmodSync(db, 0o600);
    assert.ok(!run022(dir, 'tally', ['migrate']).stderr.includes('open to group or others'));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// A migrated database folded into one file of mode 0600 (whatever migrate
// made): what a handler or job opens next has to make the -wal, -shm and
// .lock itself.
function foldedDb() {
  const dir = migrated();
  const db = path.join(dir, 'tally.db');
  fs.chmodSync(db, 0o600);
  const r = spawnSync('sqlite3', [db, 'PRAGMA wal_checkpoint(TRUNCATE);'], { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  fs.rmSync(`${db}.lock`, { force: true });
  for (const f of [`${db}-wal`, `${db}-shm`, `${db}.lock`]) assert.ok(!fs.existsSync(f), `${f} still there`);
  return { dir, db };
}

function post(port, urlPath, body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: urlPath, agent: false,
      headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('a handler under umask 022 makes the .lock, -wal and -shm 0600 and its socket 0660', async () => {
  const { dir, db } = foldedDb();
  const sock = path.join(dir, 'stripe.sock');
  const p = spawn('sh', ['-c', 'umask 022; exec "$0" "$@"', path.join(BIN, 'tally-stripe'), '--listen', sock],
    { env: baseEnv(dir, { STRIPE_WEBHOOK_SECRET: 'whsec_modes_test' }), stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let log = '';
  p.stderr.on('data', (d) => { log += d; });
  try {
    await waitFor(() => fs.existsSync(sock) || p.exitCode !== null, 'the socket');
    assert.strictEqual(p.exitCode, null, log);
    // Through FastCGI is not needed: the handler opens the database (and its writer) at start.
    await waitFor(() => fs.existsSync(`${db}.lock`) && fs.existsSync(`${db}-wal`) && fs.existsSync(`${db}-shm`), 'the database files');
    for (const f of [db, `${db}-wal`, `${db}-shm`, `${db}.lock`]) assert.strictEqual(mode(f), 0o600, `${f} is ${octal(mode(f))}`);
    // The web server's group reaches the socket (docs/deployment.md); nothing else does.
    assert.strictEqual(mode(sock), 0o660);
  } finally {
    await stopGroup(p);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a job under umask 022 makes the .lock, -wal and -shm 0600', () => {
  const { dir, db } = foldedDb();
  try {
    const r = run022(dir, 'tally-retry', []);
    assert.strictEqual(r.code, 0, r.stderr);
    for (const f of [db, `${db}.lock`]) assert.strictEqual(mode(f), 0o600, `${f} is ${octal(mode(f))}`);
    for (const f of [`${db}-wal`, `${db}-shm`]) if (fs.existsSync(f)) ownerOnly(f);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('tally backup under umask 022: the copy is 0600, also when --force replaces a 0644 file', () => {
  const dir = migrated();
  try {
    const dest = path.join(dir, 'backup.db');
    let r = run022(dir, 'tally', ['backup', dest]);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.strictEqual(mode(dest), 0o600);
    assert.ok(!fs.existsSync(`${dest}-wal`) && !fs.existsSync(`${dest}.partial`));
    fs.chmodSync(dest, 0o644);
    r = run022(dir, 'tally', ['backup', dest, '--force']);
    assert.strictEqual(r.code, 0, r.stderr);
    assert.strictEqual(mode(dest), 0o600);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// ./build.sh serve minus deps and build: build.sh sourced, its serve_run on a
// directory of our own and a free port, started under umask 022 over what an
// earlier serve under that umask would have left (a 0755 var/, a 0644 log and
// secret), then stopped by its process group.
test('./build.sh serve: var/, its logs, secret, API key, database files and nginx files are owner-only', async () => {
  const dir = tmpdir();
  const v = path.join(dir, 'var');
  fs.mkdirSync(path.join(v, 'log'), { recursive: true, mode: 0o755 });
  fs.chmodSync(v, 0o755);
  fs.chmodSync(path.join(v, 'log'), 0o755);
  fs.writeFileSync(path.join(v, 'log', 'stripe.log'), 'an earlier run\n', { mode: 0o644 });
  fs.writeFileSync(path.join(v, 'stripe-webhook-secret'), 'whsec_dev_earlier\n', { mode: 0o644 });
  const port = await freePort();
  const env = { PATH: process.env.PATH, HOME: process.env.HOME || dir, ASAN_OPTIONS: process.env.ASAN_OPTIONS || '', UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || '' };
  const p = spawn('bash', ['-c', 'umask 022; . ./build.sh; serve_run "$0" "$1"', v, String(port)],
    { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { out += d; });
  try {
    await waitFor(() => out.includes('tally is serving') || p.exitCode !== null, 'serve', 20000);
    assert.strictEqual(p.exitCode, null, out);
    // A webhook through nginx to a handler: every process has its files open.
    assert.strictEqual(await post(port, '/webhooks/stripe', '{}'), 401);
    const seen = [];
    const walk = (d) => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        const f = path.join(d, e.name);
        const st = fs.lstatSync(f);
        if (st.isSocket()) {
          assert.strictEqual(st.mode & 0o777, 0o660, `${f}`);
          continue;
        }
        seen.push(path.relative(v, f));
        ownerOnly(f);
        if (st.isDirectory()) walk(f);
      }
    };
    ownerOnly(v);
    walk(v);
    for (const f of ['log/stripe.log', 'log/api.log', 'log/nginx-error.log', 'stripe-webhook-secret', 'api-key', 'tally.db',
      'tally.db-wal', 'tally.db-shm', 'tally.db.lock', 'nginx/nginx.conf', 'nginx/error.log', 'nginx/tmp/body']) {
      assert.ok(seen.includes(f), `serve made no ${f}: ${seen.join(' ')}`);
    }
    assert.ok(fs.readFileSync(path.join(v, 'log', 'stripe.log'), 'utf8').startsWith('an earlier run\n'), 'the old log was replaced');
  } finally {
    await stopGroup(p);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

run();
