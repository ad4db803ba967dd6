'use strict';
// PostgreSQL, the second storage engine (docs/postgresql.md): the tests' own
// server (tests/tools/pg.js) and what is built on it so far. One server for
// the whole file, a database per test; the last test stops it and finds no
// process of it left.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const { test, run, assert } = require('../lib/t');
const pg = require('../tools/pg');

const ROOT = path.resolve(__dirname, '..', '..');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// psql as a libpq client of URI (not the tool's socket shortcut): its output, status, stderr.
function psqlUri(srv, uri, sql, env = {}) {
  const r = spawnSync(path.join(srv.bin, 'psql'), ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', uri, '-c', sql], {
    encoding: 'utf8', env: { PATH: process.env.PATH, ...env },
  });
  return { code: r.status, out: (r.stdout || '').trim(), err: (r.stderr || '').trim() };
}

function uidOf(pid) {
  const m = /^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}

test('the server runs as an unprivileged user, on a unix socket and 127.0.0.1', async (srv) => {
  assert.ok(pg.alive(srv.pid));
  assert.notStrictEqual(uidOf(srv.pid), 0, 'postgres runs as root');
  if (process.getuid() !== 0) assert.strictEqual(uidOf(srv.pid), process.getuid());
  const db = srv.createDb();
  assert.strictEqual(srv.psql(db, "SHOW listen_addresses; SHOW port; SELECT current_user"),
    `127.0.0.1\n${srv.port}\ntally`);
  assert.ok(fs.statSync(path.join(srv.socket, `.s.PGSQL.${srv.port}`)).isSocket());
});

test('psql connects over the socket without a password and over TCP only with the right one', async (srv) => {
  const db = srv.createDb();
  assert.deepStrictEqual(psqlUri(srv, srv.socketUri(db), 'SELECT current_database()').out, db);
  const tcp = psqlUri(srv, srv.uri(db), "SELECT inet_server_addr() || ' ' || current_database()");
  assert.strictEqual(tcp.code, 0, tcp.err);
  assert.strictEqual(tcp.out, `127.0.0.1/32 ${db}`);
  const none = psqlUri(srv, srv.uri(db, { password: false }), 'SELECT 1', { PGPASSWORD: '' });
  assert.notStrictEqual(none.code, 0);
  assert.match(none.err, /password authentication failed|no password supplied/);
  const wrong = psqlUri(srv, srv.uri(db).replace(encodeURIComponent(srv.password), 'wrong'), 'SELECT 1');
  assert.notStrictEqual(wrong.code, 0);
  assert.match(wrong.err, /password authentication failed/);
});

test('commits are synchronous; fsync off unless asked; text sorts by bytes as in SQLite', async (srv) => {
  const db = srv.createDb();
  assert.strictEqual(srv.psql(db, 'SHOW synchronous_commit; SHOW fsync; SHOW lc_collate'), 'on\noff\nC');
  assert.strictEqual(srv.psql(db, "SELECT string_agg(x, ',' ORDER BY x) FROM (VALUES ('b'), ('B'), ('a'), ('_')) v(x)"),
    'B,_,a,b');
});

test('a database per test: each new one is empty and apart from the others', async (srv) => {
  const a = srv.createDb();
  const b = srv.createDb();
  assert.notStrictEqual(a, b);
  srv.psql(a, 'CREATE TABLE only_in_a (x integer)');
  assert.strictEqual(srv.psql(b, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'"), '0');
  assert.strictEqual(srv.psql(a, "SELECT count(*) FROM pg_tables WHERE tablename = 'only_in_a'"), '1');
  assert.throws(() => srv.createDb(a), /already exists/);
  assert.throws(() => srv.createDb('x; DROP DATABASE postgres'), /bad database name/);
});

test('a crash of the server (immediate shutdown) keeps what was committed', async (srv) => {
  const db = srv.createDb();
  srv.psql(db, 'CREATE TABLE kept (x integer); INSERT INTO kept VALUES (42)');
  const before = srv.pid;
  await srv.restart('immediate');
  assert.notStrictEqual(srv.pid, before);
  assert.ok(!pg.alive(before));
  assert.strictEqual(srv.psql(db, 'SELECT x FROM kept'), '42');
  assert.match(srv.log(), /database system was interrupted|not properly shut down/);
});

test('a test process that dies by SIGKILL takes its server with it', async () => {
  const script = `const pg = require(${JSON.stringify(path.join(ROOT, 'tests/tools/pg.js'))});
    pg.start().then((s) => { s.psql('postgres', 'SELECT 1');
      process.stdout.write(JSON.stringify({ procs: s.processes(), dir: s.dir }) + '\\n');
      process.kill(process.pid, 'SIGKILL'); });`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const { sig } = await new Promise((r) => child.on('exit', (code, s) => r({ code, sig: s })));
  assert.strictEqual(sig, 'SIGKILL');
  const { procs, dir } = JSON.parse(out);
  assert.ok(procs.length >= 2, `postmaster and its workers: ${procs}`);
  const end = Date.now() + 10000;
  while (procs.some(pg.alive) && Date.now() < end) await sleep(20);
  assert.deepStrictEqual(procs.filter(pg.alive), []);
  // Its directory stays (no one was left to remove it) until the next start sweeps it.
  assert.ok(fs.existsSync(dir));
  pg.sweep(path.dirname(dir));
  assert.ok(!fs.existsSync(dir), `${dir} not swept`);
});

test('an uncaught exception in the test process stops its server too', async () => {
  const script = `const pg = require(${JSON.stringify(path.join(ROOT, 'tests/tools/pg.js'))});
    pg.start().then((s) => { process.stdout.write(JSON.stringify({ procs: s.processes(), dir: s.dir }) + '\\n');
      throw new Error('boom'); });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.notStrictEqual(r.status, 0);
  assert.match(r.stderr, /boom/);
  const { procs, dir } = JSON.parse(r.stdout);
  assert.deepStrictEqual(procs.filter(pg.alive), []);
  assert.ok(!fs.existsSync(dir), `${dir} left behind`);
});

test('pg.js exec runs a program with TALLY_DB naming a fresh database, then stops the server', async () => {
  const script = `process.stdout.write(JSON.stringify({ db: process.env.TALLY_DB, sock: process.env.TALLY_PG_SOCKET_URI,
    pid: Number(require('fs').readFileSync(process.env.TALLY_PG_SOCKET + '/../data/postmaster.pid', 'utf8').split('\\n')[0]) }));
    process.exit(3);`;
  const r = spawnSync(process.execPath, [path.join(ROOT, 'tests/tools/pg.js'), 'exec', '--', process.execPath, '-e', script],
    { encoding: 'utf8' });
  assert.strictEqual(r.status, 3, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.match(j.db, /^postgresql:\/\/tally:[0-9a-f]+@127\.0\.0\.1:\d+\/tally$/);
  assert.match(j.sock, /^postgresql:\/\/tally@\/tally\?host=/);
  assert.ok(j.pid > 0 && !pg.alive(j.pid));
  const usage = spawnSync(process.execPath, [path.join(ROOT, 'tests/tools/pg.js'), 'exec'], { encoding: 'utf8' });
  assert.strictEqual(usage.status, 2);
});

// Last: the server of this file stops by its PID and leaves no process and no directory.
test('stop: the postmaster and every backend gone, the directory removed', async (srv) => {
  const db = srv.createDb();
  // A client connected while it stops: fast shutdown ends its backend too.
  const client = spawn(path.join(srv.bin, 'psql'), ['-X', srv.socketUri(db)], { stdio: ['pipe', 'ignore', 'ignore'] });
  client.stdin.write('SELECT 1;\n');
  const end = Date.now() + 5000;
  while (srv.processes().length < 7 && Date.now() < end) await sleep(20);
  const procs = srv.processes();
  assert.ok(procs.includes(srv.pid) && procs.length >= 3, `${procs}`);
  await srv.stop();
  assert.deepStrictEqual(procs.filter(pg.alive), []);
  assert.ok(!fs.existsSync(srv.dir));
  client.kill();
});

run({
  before: () => pg.start(),
  after: async (srv) => {
    if (srv && pg.alive(srv.pid)) await srv.stop();
  },
});
