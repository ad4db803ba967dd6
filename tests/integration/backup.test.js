'use strict';
// tally backup: online backups of the live database while two handler
// processes take a stream of Stripe events, and the restore procedure of the
// docs/deployment.md (stop, copy over, remove -wal and -shm, start). The database carries
// 40 MB of ballast so that a backup takes many steps while the writers commit.
const fs = require('fs');
const path = require('path');
const { spawn, execFileSync } = require('child_process');
const { test, run, assert } = require('../lib/t');
const { Env, BIN, sleep } = require('../lib/harness');
const S = require('../lib/stripe-events');

function pack(user) {
  return S.event('checkout.session.completed', S.checkoutSession({
    mode: 'payment', paymentIntent: S.rid('pi'), clientReferenceId: user, metadata: { product: 'credits_500' },
  }));
}

const sqlite = (db, q) => execFileSync('sqlite3', ['-cmd', '.timeout 5000', db, q], { encoding: 'utf8' }).trim();
// tally backup, killed if it has not finished in ms (a copy that keeps starting over never does).
function backup(env, dest, ms) {
  return new Promise((resolve, reject) => {
    const p = spawn(path.join(BIN, 'tally'), ['backup', dest, '--json'], { env: env.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { p.kill('SIGKILL'); stderr += `killed after ${ms} ms`; }, ms);
    p.on('error', reject);
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout, stderr }); });
  });
}

const eventIds = (db) => new Set(sqlite(db, "SELECT event_id FROM inbox WHERE provider = 'stripe'").split('\n').filter(Boolean));

test('backups taken under a stream of events each hold every event acknowledged before they began', async (env) => {
  const acked = []; // { id, at } in the order the 200s came
  let stop = false;
  let n = 0;
  async function provider() {
    while (!stop) {
      const evt = pack(`u_stream_${n++ % 40}`);
      const r = await env.stripe(evt);
      if (r.status === 200) acked.push({ id: evt.id, at: Date.now() });
    }
  }
  const providers = Array.from({ length: 6 }, provider);
  await sleep(300);
  env.backups = [];
  let during = 0;
  for (let i = 0; i < 3; i++) {
    const dest = path.join(env.dir, `backup-${i}.db`);
    const before = acked.slice().map((a) => a.id);
    const started = Date.now();
    const r = await backup(env, dest, 20000);
    const ended = Date.now();
    during += acked.filter((a) => a.at > started && a.at < ended).length;
    assert.strictEqual(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.strictEqual(doc.integrity, 'ok');
    assert.ok(doc.steps > 10, `a 40 MB database copied in small steps: ${r.stdout}`);
    assert.strictEqual(doc.restarts, 0, `the copy never started over: ${r.stdout}`);
    env.backups.push({ dest, before });
    await sleep(150);
  }
  stop = true;
  await Promise.all(providers);
  assert.ok(during > 0, 'the handlers went on answering 200 while backups were copied');
  for (const b of env.backups) {
    const ids = eventIds(b.dest);
    const missing = b.before.filter((id) => !ids.has(id));
    assert.deepStrictEqual(missing, [], `${path.basename(b.dest)} lacks acknowledged events`);
    assert.ok(b.before.length > 0);
    // One self-contained file, nothing beside it; in WAL mode like the live one; intact.
    for (const sfx of ['-wal', '-shm', '-journal', '.partial']) assert.ok(!fs.existsSync(b.dest + sfx), b.dest + sfx);
    assert.strictEqual(fs.readFileSync(b.dest).subarray(18, 20).toString('hex'), '0202', 'WAL mode in the header');
    assert.strictEqual(sqlite(b.dest, 'PRAGMA integrity_check'), 'ok');
    assert.strictEqual(fs.statSync(b.dest).mode & 0o077, 0, 'a backup is readable by its owner only');
  }
  // Later backups hold more: they are snapshots of their own moment.
  assert.ok(eventIds(env.backups[2].dest).size > eventIds(env.backups[0].dest).size);
});

test('a backup restored into a fresh place passes tally verify', async (env) => {
  const fresh = path.join(env.dir, 'restored');
  fs.mkdirSync(fresh);
  const db = path.join(fresh, 'tally.db');
  fs.copyFileSync(env.backups[1].dest, db);
  const r = env.tally(['verify'], { TALLY_DB: db });
  assert.strictEqual(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /verify: ok/);
  // tally opens it read-write (WAL again) and it holds the users of the backup.
  const u = env.tally(['user', 'show', 'u_stream_0', '--json'], { TALLY_DB: db });
  assert.strictEqual(u.code, 0, u.stderr);
  assert.ok(JSON.parse(u.stdout).balance.available >= 500);
});

test('restore over the live database (stop, copy, remove -wal and -shm, start): the handler serves the restored state', async (env) => {
  const backup = env.backups[0].dest;
  const inBackup = eventIds(backup).size;
  assert.ok(eventIds(env.db).size > inBackup, 'the live database moved on after the backup');
  await env.killHandler('stripe', 'SIGTERM');
  fs.copyFileSync(backup, env.db);
  for (const sfx of ['-wal', '-shm']) fs.rmSync(env.db + sfx, { force: true });
  await env.startHandler('stripe');
  const r = await env.stripe(pack('u_after_restore'));
  assert.strictEqual(r.status, 200, r.text);
  assert.strictEqual(eventIds(env.db).size, inBackup + 1);
  assert.strictEqual(env.user('u_after_restore').balance.available, 500);
  const v = env.verify();
  assert.ok(v.ok, JSON.stringify(v.doc));
  // An event acknowledged after the backup was taken is gone with the restore: the
  // provider's retries (or tally apple missed / revenuecat sync) bring it back.
  const lost = [...eventIds(env.backups[2].dest)].find((id) => !eventIds(env.db).has(id));
  assert.ok(lost, 'an event newer than the restored backup');
});

test('tally backup never overwrites without --force, never the live database, and copies any schema version', async (env) => {
  const dest = env.backups[0].dest;
  const size = fs.statSync(dest).size;
  let r = env.tally(['backup', dest]);
  assert.strictEqual(r.code, 1);
  assert.match(r.stderr, /exists \(--force replaces it\)/);
  assert.strictEqual(fs.statSync(dest).size, size);
  r = env.tally(['backup', env.db, '--force']);
  assert.strictEqual(r.code, 1);
  assert.match(r.stderr, /live database/);
  r = env.tally(['backup', dest, '--force']);
  assert.strictEqual(r.code, 0, r.stderr);
  assert.match(r.stdout, /integrity ok/);
  r = env.tally(['backup']);
  assert.strictEqual(r.code, 2);
  r = env.tally(['backup', path.join(env.dir, 'x.db')], { TALLY_DB: path.join(env.dir, 'no-such.db') });
  assert.strictEqual(r.code, 1);
  assert.ok(!fs.existsSync(path.join(env.dir, 'no-such.db')), 'a wrong TALLY_DB is not created');
  // A database behind this build's schema (before `tally migrate` of an upgrade).
  const old = path.join(env.dir, 'old.db');
  r = env.tally(['migrate', '--to', '1'], { TALLY_DB: old });
  assert.strictEqual(r.code, 0, r.stderr);
  r = env.tally(['backup', path.join(env.dir, 'old-backup.db')], { TALLY_DB: old });
  assert.strictEqual(r.code, 0, r.stderr);
  assert.strictEqual(sqlite(path.join(env.dir, 'old-backup.db'), 'PRAGMA user_version'), '1');
});

run({
  before: async () => {
    const env = await Env.start({ processes: 2 });
    // Ballast: a table tally does not know, 10 000 pages of 4 KiB.
    sqlite(env.db, 'CREATE TABLE test_ballast (b BLOB); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 10000) INSERT INTO test_ballast SELECT randomblob(4000) FROM c;');
    return env;
  },
  after: (env, failed) => env.stop(failed > 0 && process.env.KEEP),
});
