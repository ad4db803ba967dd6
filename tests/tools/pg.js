#!/usr/bin/env node
'use strict';
// The tests' own PostgreSQL: a fresh server from Debian's packages
// (postgresql 15) in a temporary directory, gone when the test is.
//
//   const pg = require('../tools/pg');
//   const srv = await pg.start();           // initdb + postgres, ready to connect
//   const db = srv.createDb();              // a new empty database, its name
//   srv.uri(db)                             // postgresql://tally:PW@127.0.0.1:PORT/db
//   srv.psql(db, 'SELECT 1')                // psql over the unix socket, its output
//   await srv.restart('immediate')          // a crash of the server (SIGQUIT), then up again
//   await srv.stop()                        // by PID; the directory is removed
//
//   node tests/tools/pg.js exec [--fsync] -- PROGRAM ARGS...
//     runs PROGRAM with TALLY_DB set to a fresh database of a fresh server
//     (and the TALLY_PG_* of env() below), then stops the server; exits
//     with PROGRAM's status.
//
// The server:
//  - runs as an unprivileged user: postgres refuses to run as root, and CI
//    runs the tests as root. As root it runs as Debian's `postgres` system
//    user (made by the postgresql-common package) through setpriv(1);
//    otherwise as the caller.
//  - is the test's own child (postgres itself, not pg_ctl, which detaches
//    the server from the test), started with a parent-death signal: if the
//    test process dies, even by SIGKILL, the kernel sends the postmaster
//    SIGQUIT (immediate shutdown) and the server goes with it. A normal
//    exit of the test stops it too (an 'exit' handler).
//  - listens on a unix socket in its directory (trusted: only the test
//    reaches it, the directory is 0700) and on a free 127.0.0.1 port
//    (a password, SCRAM-SHA-256), so both ways tally will connect are real.
//  - commits as tally needs (synchronous_commit=on); fsync is off unless
//    asked for (fsync: true): a crash of the server (restart('immediate'))
//    keeps what the kernel holds, so only a power loss would tell them apart.
//  - has the C locale, so text sorts by bytes as in SQLite.
const fs = require('fs');
const os = require('os');
const path = require('path');
const net = require('net');
const crypto = require('crypto');
const { spawn, spawnSync, execFileSync } = require('child_process');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const PREFIX = 'tally-pg-';
const TEMPLATE = 'tally-pgdata-';
const USER = 'tally';

// The server's programs: pg_config's bindir (libpq-dev), else the newest /usr/lib/postgresql/N/bin.
function binDir() {
  if (process.env.TALLY_PG_BIN) return process.env.TALLY_PG_BIN;
  const r = spawnSync('pg_config', ['--bindir'], { encoding: 'utf8' });
  const d = r.status === 0 ? r.stdout.trim() : '';
  if (d && fs.existsSync(path.join(d, 'postgres'))) return d;
  const base = '/usr/lib/postgresql';
  const vers = fs.existsSync(base) ? fs.readdirSync(base).filter((v) => /^\d+$/.test(v)).sort((a, b) => b - a) : [];
  for (const v of vers) if (fs.existsSync(path.join(base, v, 'bin', 'postgres'))) return path.join(base, v, 'bin');
  throw new Error('no PostgreSQL server found: install the postgresql package (./build.sh deps)');
}

// Who runs the server: { uid, gid, wrap } where wrap(argv) is the command line that runs argv as them.
function runAs() {
  if (process.getuid() !== 0) {
    return { uid: process.getuid(), gid: process.getgid(), wrap: (argv, death) => (death ? ['setpriv', '--pdeathsig', 'SIGQUIT', '--', ...argv] : argv) };
  }
  const id = (flag) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const u = id('-u');
  const g = id('-g');
  if (u.status !== 0 || g.status !== 0) throw new Error('running as root, and there is no postgres user to run the server as (install postgresql)');
  return {
    uid: Number(u.stdout.trim()),
    gid: Number(g.stdout.trim()),
    wrap: (argv, death) => ['setpriv', '--reuid', 'postgres', '--regid', 'postgres', '--init-groups',
      ...(death ? ['--pdeathsig', 'SIGQUIT'] : []), '--', ...argv],
  };
}

function alive(pid) {
  // A zombie (dead, not yet reaped by whoever inherited it) counts as gone.
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch (_) {
    return false;
  }
}

// The pids whose parent is pid (the postmaster's backends and workers).
function childrenOf(pid) {
  const out = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === pid) out.push(Number(d));
    } catch (_) { /* gone meanwhile */ }
  }
  return out;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Directories of earlier servers whose test died by SIGKILL (the server went
// with it, the directory stayed): removed when their owner's pid is gone.
function sweep(base) {
  let names = [];
  try { names = fs.readdirSync(base).filter((n) => n.startsWith(PREFIX)); } catch (_) { return; }
  for (const n of names) {
    const dir = path.join(base, n);
    try {
      const owner = Number(fs.readFileSync(path.join(dir, 'owner'), 'utf8'));
      const pidFile = path.join(dir, 'data', 'postmaster.pid');
      const pm = fs.existsSync(pidFile) ? Number(fs.readFileSync(pidFile, 'utf8').split('\n')[0]) : 0;
      if (owner > 0 && !alive(owner) && !(pm > 0 && alive(pm))) fs.rmSync(dir, { recursive: true, force: true });
    } catch (_) { /* not ours to judge: no owner file yet, or not readable */ }
  }
}

// The cluster initdb makes, made once per server version, user and options in
// base (a directory of its own, renamed into place whole so that a
// concurrent test sees it complete or not at all); its path.
function template(bin, as, base) {
  const args = ['-U', USER, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--no-locale', '--no-sync', '--wal-segsize=1'];
  const version = spawnSync(path.join(bin, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout || '';
  const key = crypto.createHash('sha256').update(`${bin}\n${version}\n${as.uid}\n${args.join(' ')}`).digest('hex').slice(0, 16);
  const tpl = path.join(base, `${TEMPLATE}${key}`);
  if (fs.existsSync(path.join(tpl, 'PG_VERSION'))) return tpl;
  const work = fs.mkdtempSync(path.join(base, `${PREFIX}init-`));
  try {
    fs.writeFileSync(path.join(work, 'owner'), String(process.pid));
    fs.chownSync(work, as.uid, as.gid);
    const data = path.join(work, 'data');
    const argv = as.wrap([path.join(bin, 'initdb'), '-D', data, ...args], false);
    const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`initdb failed (${r.status}): ${r.stderr || r.stdout}`);
    try {
      fs.renameSync(data, tpl);
    } catch (e) {
      if (!fs.existsSync(path.join(tpl, 'PG_VERSION'))) throw e; // else another test made it first
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  return tpl;
}

const running = new Set();
let exitHooked = false;

// At exit (the test's process.exit, an uncaught exception): stop what is still running, synchronously.
function onExit() {
  for (const s of running) s.stopSync();
}

// Block this thread for ms (only at exit, where nothing else may run).
function pause(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

class Server {
  constructor(opts) {
    this.opts = opts;
    this.bin = binDir();
    this.as = runAs();
    const base = opts.base || os.tmpdir();
    sweep(base);
    this.dir = fs.mkdtempSync(path.join(base, PREFIX));
    this.data = path.join(this.dir, 'data');
    this.socket = path.join(this.dir, 'sock');
    this.logFile = path.join(this.dir, 'server.log');
    this.user = USER;
    this.password = crypto.randomBytes(18).toString('hex');
    this.proc = null;
    this.pid = 0;
    this.port = 0;
    this.dbs = 0;
    fs.writeFileSync(path.join(this.dir, 'owner'), String(process.pid));
    fs.mkdirSync(this.socket, { mode: 0o700 });
    for (const p of [this.dir, this.socket]) fs.chownSync(p, this.as.uid, this.as.gid);
    fs.chmodSync(this.dir, 0o700);
  }

  // The data directory: a copy of a cluster made once by initdb (the bootstrap
  // superuser "tally", trusted on the socket, SCRAM-SHA-256 over TCP, UTF-8, the C
  // locale), kept beside the servers' directories for the next ones: initdb
  // costs about a second of CPU, a copy a tenth of it. The password is set at
  // the first start (setPassword).
  initdb() {
    const tpl = template(this.bin, this.as, path.dirname(this.dir));
    const r = spawnSync('cp', ['-a', tpl, this.data], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`cp of the initdb template failed: ${r.stderr}`);
  }

  setPassword() {
    this.psql('postgres', `ALTER ROLE ${USER} PASSWORD '${this.password}'`);
  }

  settings() {
    return {
      listen_addresses: '127.0.0.1',
      port: String(this.port),
      unix_socket_directories: this.socket,
      unix_socket_permissions: '0700',
      synchronous_commit: 'on',
      fsync: this.opts.fsync ? 'on' : 'off',
      // Small: a test's data is small and several servers may run at once on 2 cores.
      shared_buffers: '16MB',
      max_connections: String(this.opts.maxConnections || 100),
      huge_pages: 'off',
      log_min_messages: 'warning',
      log_min_error_statement: 'panic',
      ...(this.opts.settings || {}),
    };
  }

  // Start postgres on a free port; the port taken meanwhile by another process is tried again.
  async launch() {
    for (let attempt = 0; ; attempt++) {
      if (!this.port || attempt > 0) this.port = await freePort();
      const args = [path.join(this.bin, 'postgres'), '-D', this.data];
      for (const [k, v] of Object.entries(this.settings())) args.push('-c', `${k}=${v}`);
      const argv = this.as.wrap(args, true);
      const log = fs.openSync(this.logFile, 'a');
      const p = spawn(argv[0], argv.slice(1), { stdio: ['ignore', log, log] });
      fs.closeSync(log);
      this.proc = p;
      this.pid = p.pid;
      p.exited = new Promise((r) => p.once('exit', (code, sig) => r({ code, sig })));
      running.add(this);
      if (!exitHooked) {
        process.on('exit', onExit);
        exitHooked = true;
      }
      const ok = await this.waitReady(p);
      if (ok) return;
      running.delete(this);
      const tail = this.log().split('\n').slice(-15).join('\n');
      if (attempt < 2 && /could not bind|Address already in use/.test(tail)) continue;
      throw new Error(`postgres did not start:\n${tail}`);
    }
  }

  // postmaster.pid's status line says "ready" once it accepts connections (PostgreSQL 10+).
  async waitReady(p) {
    const pidFile = path.join(this.data, 'postmaster.pid');
    const end = Date.now() + 30000;
    while (Date.now() < end) {
      if (p.exitCode !== null || p.signalCode !== null) return false;
      try {
        const lines = fs.readFileSync(pidFile, 'utf8').split('\n');
        if (Number(lines[0]) === p.pid && lines[7] && lines[7].trim() === 'ready') return true;
      } catch (_) { /* not written yet */ }
      await sleep(15);
    }
    p.kill('SIGKILL');
    await p.exited;
    return false;
  }

  log() {
    try { return fs.readFileSync(this.logFile, 'utf8'); } catch (_) { return ''; }
  }

  // A new empty database; its name (t1, t2 ... or the name given).
  createDb(name) {
    const db = name || `t${++this.dbs}`;
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(db)) throw new Error(`bad database name ${db}`);
    // FILE_COPY: a copy of template1's files, not its every page through the WAL (PostgreSQL 15's default).
    this.psql('postgres', `CREATE DATABASE ${db} STRATEGY FILE_COPY`);
    return db;
  }

  // The libpq URIs of a database: over TCP with the password (or without), over the socket.
  uri(db, { password = true } = {}) {
    const auth = password ? `${USER}:${encodeURIComponent(this.password)}` : USER;
    return `postgresql://${auth}@127.0.0.1:${this.port}/${db}`;
  }

  socketUri(db) {
    return `postgresql://${USER}@/${db}?host=${encodeURIComponent(this.socket)}&port=${this.port}`;
  }

  // What a program under test is given: TALLY_DB and the parts of it.
  env(db) {
    return {
      TALLY_DB: this.uri(db),
      TALLY_PG_SOCKET_URI: this.socketUri(db),
      TALLY_PG_NOPASS_URI: this.uri(db, { password: false }),
      TALLY_PG_PASSWORD: this.password,
      TALLY_PG_PORT: String(this.port),
      TALLY_PG_SOCKET: this.socket,
      TALLY_PG_USER: USER,
      TALLY_PG_DB: db,
    };
  }

  // psql over the socket: SQL on stdin, unaligned tuples only, stops at the first error.
  // Output trimmed; throws with psql's message on failure.
  psql(db, sql, { args = [] } = {}) {
    const r = spawnSync(path.join(this.bin, 'psql'),
      ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', this.socket, '-p', String(this.port), '-U', USER, '-d', db, ...args],
      { input: sql, encoding: 'utf8', env: { PATH: process.env.PATH } });
    if (r.status !== 0) throw new Error(`psql: ${(r.stderr || '').trim() || `exit ${r.status}`}`);
    return r.stdout.trim();
  }

  // The postmaster and its children now (to check later that none is left).
  processes() {
    return this.pid && alive(this.pid) ? [this.pid, ...childrenOf(this.pid)] : [];
  }

  async halt(signal) {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    p.kill(signal);
    const t = setTimeout(() => p.kill('SIGKILL'), 15000);
    await p.exited;
    clearTimeout(t);
  }

  // Up again on the same directory and port: after a crash ('immediate', SIGQUIT:
  // no shutdown checkpoint, recovery from the WAL at start) or a clean stop ('fast').
  async restart(mode = 'fast') {
    await this.halt(mode === 'immediate' ? 'SIGQUIT' : 'SIGINT');
    running.delete(this);
    await this.launch();
  }

  // Fast shutdown (SIGINT: clients disconnected, a checkpoint), waited for; the directory removed.
  async stop() {
    await this.halt('SIGINT');
    running.delete(this);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  // The same at exit, where nothing can be awaited: immediate shutdown, polled.
  stopSync() {
    running.delete(this);
    if (this.pid && alive(this.pid)) {
      try { process.kill(this.pid, 'SIGQUIT'); } catch (_) { /* gone */ }
      const pidFile = path.join(this.data, 'postmaster.pid');
      for (let i = 0; i < 250 && fs.existsSync(pidFile); i++) pause(20);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// A running server. opts: fsync (false), maxConnections (100), settings ({name: value}), base (os.tmpdir()).
async function start(opts = {}) {
  const s = new Server(opts);
  try {
    s.initdb();
    await s.launch();
    s.setPassword();
  } catch (e) {
    await s.stop().catch(() => {});
    throw e;
  }
  return s;
}

async function main(argv) {
  const usage = () => {
    process.stderr.write('usage: node tests/tools/pg.js exec [--fsync] -- PROGRAM [ARGS...]\n');
    process.exit(2);
  };
  if (argv[0] !== 'exec') usage();
  let i = 1;
  const opts = {};
  for (; i < argv.length && argv[i] !== '--'; i++) {
    if (argv[i] === '--fsync') opts.fsync = true;
    else usage();
  }
  const prog = argv.slice(i + 1);
  if (i >= argv.length || prog.length === 0) usage();
  const srv = await start(opts);
  const db = srv.createDb('tally');
  const child = spawn(prog[0], prog.slice(1), { stdio: 'inherit', env: { ...process.env, ...srv.env(db) } });
  const { code, sig } = await new Promise((r) => {
    child.on('error', (e) => { process.stderr.write(`pg.js: ${prog[0]}: ${e.message}\n`); r({ code: 127 }); });
    child.on('exit', (c, s) => r({ code: c, sig: s }));
  });
  await srv.stop();
  process.exit(sig ? 128 + (os.constants.signals[sig] || 0) : code);
}

if (require.main === module) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`pg.js: ${e.message}\n`);
    process.exit(1);
  });
}

module.exports = { start, sweep, alive, childrenOf };
