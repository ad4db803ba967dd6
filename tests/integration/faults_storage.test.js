'use strict';
// Storage faults under a running handler: the database locked past the busy
// timeout by another process, the disk full (a small tmpfs), the file system
// read-only. Each answers 503 and commits nothing partial; the provider's
// next retry succeeds; `tally verify` passes. Needs root (mount), as CI has.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, execFileSync } = require('child_process');
const { test, run, assert } = require('../lib/t');
const { Env, DEFAULT_CATALOG, sleep } = require('../lib/harness');
const S = require('../lib/stripe-events');

function pack(user) {
  return S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: user, metadata: { product: 'credits_500' }, amountTotal: 500,
  }));
}

// An Env whose database lives in dir (a tmpfs of ours), started like Env.start.
async function envIn(dir) {
  const env = new Env({});
  env.db = path.join(dir, 'tally.db');
  env.writeConfig(DEFAULT_CATALOG);
  const m = env.tally(['migrate']);
  if (m.code !== 0) throw new Error(m.stderr);
  await env.startHandler('stripe');
  await env.startNginx();
  return env;
}

function mountTmpfs(sizeKb) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tally-fault-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir]);
  return dir;
}

function umount(dir) {
  try { execFileSync('umount', ['-l', dir]); } catch (_) { /* gone */ }
  fs.rmSync(dir, { recursive: true, force: true });
}

const inbox = (env, id) => env.sql(`SELECT count(*) AS n FROM inbox WHERE event_id = '${id}'`)[0].n;

test('the database locked past the busy timeout: 503, nothing stored; the retry succeeds', async (env) => {
  const evt = pack('f_lock');
  // Another process holds the write lock for 8 s (SQLite's own busy timeout is 5 s).
  const holder = spawn('sqlite3', [env.db], { stdio: ['pipe', 'ignore', 'ignore'] });
  holder.stdin.write('BEGIN IMMEDIATE;\nINSERT INTO users (id, created_at) VALUES (\'f_holder\', 1);\n.shell sleep 8\nROLLBACK;\n.quit\n');
  holder.stdin.end();
  await sleep(500);
  const t0 = Date.now();
  const r = await env.stripe(evt);
  assert.strictEqual(r.status, 503, r.text);
  assert.strictEqual(r.json.error.code, 'storage_unavailable');
  assert.ok(Date.now() - t0 >= 4500, 'it waited for the busy timeout first');
  assert.strictEqual(inbox(env, evt.id), 0);
  await new Promise((resolve) => holder.on('exit', resolve));
  const retry = await env.stripe(evt);
  assert.strictEqual(retry.status, 200, retry.text);
  assert.strictEqual(env.user('f_lock').balance.available, 500);
  assert.strictEqual(env.user('f_holder'), null);
  assert.ok(env.verify().ok);
});

test('the disk full: 503 and nothing partial; once space is freed the retries succeed', async () => {
  const dir = mountTmpfs(4096);
  let env;
  try {
    env = await envIn(dir);
    // Leave little room: fill the file system but for ~200 KB.
    const free = () => Number(execFileSync('df', ['--output=avail', '-B1', dir], { encoding: 'utf8' }).trim().split('\n')[1]);
    fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc(Math.max(0, free() - 200 * 1024)));
    const sent = [];
    let failed = null;
    for (let i = 0; i < 400 && failed === null; i++) {
      const evt = pack(`f_disk_${i % 10}`);
      const r = await env.stripe(evt);
      if (r.status === 200) sent.push(evt);
      else if (r.status === 503) failed = evt;
      else throw new Error(`unexpected ${r.status} ${r.text}`);
    }
    assert.ok(failed !== null, 'the disk never filled');
    assert.ok(sent.length > 0);
    assert.strictEqual(inbox(env, failed.id), 0, 'the refused event left no row');
    fs.rmSync(path.join(dir, 'filler'));
    const retry = await env.stripe(failed);
    assert.strictEqual(retry.status, 200, retry.text);
    for (const evt of sent) assert.strictEqual((await env.stripe(evt)).json.duplicate, true);
    const total = env.sql("SELECT sum(remaining) AS s FROM grants WHERE user_id LIKE 'f_disk_%'")[0].s;
    assert.strictEqual(total, 500 * (sent.length + 1), 'every acknowledged event once, the refused one after its retry');
    assert.ok(env.verify().ok);
  } finally {
    if (env) await env.stop();
    umount(dir);
  }
});

test('the database file read-only: 503, nothing stored; writable again, the retry succeeds', async () => {
  // As an unprivileged user (root writes whatever the permissions say).
  const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
  const nogroup = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tally-ro-'));
  fs.chownSync(dir, nobody, nogroup);
  const env = new Env({ uid: nobody, gid: nogroup });
  try {
    fs.chmodSync(env.dir, 0o755);
    env.db = path.join(dir, 'tally.db');
    env.writeConfig(DEFAULT_CATALOG);
    assert.strictEqual(env.tally(['migrate']).code, 0);
    for (const f of fs.readdirSync(dir)) fs.chownSync(path.join(dir, f), nobody, nogroup);
    fs.chownSync(env.runDir, nobody, nogroup);
    await env.startHandler('stripe');
    await env.startNginx();
    assert.strictEqual((await env.stripe(pack('f_ro'))).status, 200);
    // The file becomes read-only; a handler (re)started on it can read, never write.
    await env.killHandler('stripe', 'SIGTERM');
    fs.chmodSync(env.db, 0o444);
    await env.startHandler('stripe');
    const evt = pack('f_ro');
    const r = await env.stripe(evt);
    assert.strictEqual(r.status, 503, r.text);
    assert.strictEqual(r.json.error.code, 'storage_unavailable');
    assert.strictEqual(inbox(env, evt.id), 0);
    const again = await env.stripe(evt);
    assert.strictEqual(again.status, 503, 'still read-only: still 503');
    fs.chmodSync(env.db, 0o644);
    const retry = await env.stripe(evt);
    assert.strictEqual(retry.status, 200, retry.text);
    assert.strictEqual(env.user('f_ro').balance.available, 1000);
    assert.ok(env.verify().ok);
  } finally {
    await env.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

run({
  before: () => Env.start(),
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
