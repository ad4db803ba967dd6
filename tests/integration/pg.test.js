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

// Two test processes of their own, each with its own server, started with
// this file's server (before) so that their starts overlap with its tests:
// pg.js exec running a program that kills pg.js by SIGKILL, and a test that
// throws.
const PG_JS = path.join(ROOT, 'tests', 'tools', 'pg.js');

// Run argv, its stdout and stderr kept: { code, sig, out, err }.
function collect(argv) {
  return new Promise((resolve) => {
    const p = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code, sig) => resolve({ code, sig, out, err, pid: p.pid }));
  });
}

function startOthers() {
  // Under pg.js exec: what it was given, its server's processes, then SIGKILL to pg.js.
  const killer = `const pg = require(${JSON.stringify(PG_JS)}); const fs = require('fs');
    const dir = require('path').dirname(process.env.TALLY_PG_SOCKET);
    const pid = Number(fs.readFileSync(dir + '/data/postmaster.pid', 'utf8').split('\\n')[0]);
    process.stdout.write(JSON.stringify({ db: process.env.TALLY_DB, sock: process.env.TALLY_PG_SOCKET_URI,
      procs: [pid, ...pg.childrenOf(pid)], dir, pg: process.ppid }) + '\\n');
    process.kill(process.ppid, 'SIGKILL');`;
  const thrower = `const pg = require(${JSON.stringify(PG_JS)});
    pg.start().then((s) => { s.psql('postgres', 'SELECT 1');
      process.stdout.write(JSON.stringify({ procs: s.processes(), dir: s.dir }) + '\\n'); throw new Error('boom'); });`;
  return {
    killed: collect([process.execPath, PG_JS, 'exec', '--', process.execPath, '-e', killer]),
    thrown: collect([process.execPath, '-e', thrower]),
  };
}

async function gone(procs) {
  const end = Date.now() + 10000;
  while (procs.some(pg.alive) && Date.now() < end) await sleep(20);
  return procs.filter(pg.alive);
}

test('pg.js exec gives a program TALLY_DB; killed by SIGKILL, it takes its server with it', async (srv) => {
  const r = await srv.others.killed;
  assert.strictEqual(r.sig, 'SIGKILL', r.err);
  const j = JSON.parse(r.out);
  assert.strictEqual(j.pg, r.pid);
  assert.match(j.db, /^postgresql:\/\/tally:[0-9a-f]+@127\.0\.0\.1:\d+\/tally$/);
  assert.match(j.sock, /^postgresql:\/\/tally@\/tally\?host=/);
  assert.ok(j.procs.length >= 2, `postmaster and its workers: ${j.procs}`);
  assert.deepStrictEqual(await gone(j.procs), []);
  // Its directory stays (no one was left to remove it) until the next start sweeps it.
  assert.ok(fs.existsSync(j.dir));
  pg.sweep(path.dirname(j.dir));
  assert.ok(!fs.existsSync(j.dir), `${j.dir} not swept`);
  const usage = spawnSync(process.execPath, [PG_JS, 'exec'], { encoding: 'utf8' });
  assert.strictEqual(usage.status, 2);
});

test('an uncaught exception in the test process stops its server too', async (srv) => {
  const r = await srv.others.thrown;
  assert.notStrictEqual(r.code, 0);
  assert.match(r.err, /boom/);
  const { procs, dir } = JSON.parse(r.out);
  assert.deepStrictEqual(procs.filter(pg.alive), []);
  assert.ok(!fs.existsSync(dir), `${dir} left behind`);
});

// ---------------------------------------------------------------- the schema
// Both catalogs read into one shape: per table its columns (name, type,
// not null, default, generated id), unique keys, foreign keys and checks,
// and the named indexes (table, columns, unique, partial condition).
// Expressions are compared with case, spaces, parentheses and PostgreSQL's
// casts ('x'::text) taken out.
const norm = (e) => (e || '').toLowerCase().replace(/::[a-z_]+(\[\])?/g, '').replace(/[()\s]/g, '');

const TALLY_BIN = process.env.TALLY_BIN || path.join(ROOT, 'bin');

// The whole catalog of a SQLite file in one sqlite3 run: tables, columns, foreign keys, indexes.
const SQLITE_CATALOG = `SELECT json_object(
  'tables', (SELECT json_group_array(json_object('name', name, 'sql', sql)) FROM sqlite_schema
    WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'),
  'cols', (SELECT json_group_array(json_object('tbl', tbl, 'name', name, 'type', type, 'nn', nn, 'dflt', dflt, 'pk', pk)) FROM
    (SELECT m.name AS tbl, p.name, p.type, p."notnull" AS nn, p.dflt_value AS dflt, p.pk FROM sqlite_schema m
     JOIN pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY m.name, p.cid)),
  'fks', (SELECT json_group_array(json_object('tbl', tbl, 'id', id, 'ref', ref, 'col', col, 'refcol', refcol)) FROM
    (SELECT m.name AS tbl, f.id, f."table" AS ref, f."from" AS col, f."to" AS refcol FROM sqlite_schema m
     JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table' ORDER BY m.name, f.id, f.seq)),
  'idx', (SELECT json_group_array(json_object('tbl', m.name, 'name', il.name, 'uniq', il."unique", 'origin', il.origin,
      'cols', (SELECT json_group_array(name) FROM (SELECT name FROM pragma_index_info(il.name) ORDER BY seqno)), 'sql', s.sql))
    FROM sqlite_schema m JOIN pragma_index_list(m.name) il LEFT JOIN sqlite_schema s ON s.type = 'index' AND s.name = il.name
    WHERE m.type = 'table'))`;

// JSON that SQLite may hand over as text (a subtype lost through a subquery).
const jsonVal = (v) => (typeof v === 'string' ? JSON.parse(v) : v);

function sqliteCatalog(db) {
  const r = spawnSync('sqlite3', [db, SQLITE_CATALOG], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqlite3: ${r.stderr}`);
  const c = JSON.parse(r.stdout);
  for (const k of Object.keys(c)) c[k] = jsonVal(c[k]);
  for (const i of c.idx) i.cols = jsonVal(i.cols);
  return c;
}

// The CHECK (...) expressions of a CREATE TABLE text, each with its parentheses balanced.
function checksOf(sql) {
  const out = [];
  const re = /\bCHECK\s*\(/gi;
  let m;
  while ((m = re.exec(sql))) {
    let depth = 1;
    let i = m.index + m[0].length;
    const from = i;
    for (; i < sql.length && depth > 0; i++) {
      if (sql[i] === '(') depth++;
      else if (sql[i] === ')') depth--;
    }
    out.push(norm(sql.slice(from, i - 1)));
  }
  return out.sort();
}

function emptyTable() {
  return { columns: [], keys: new Set(), fks: [], checks: [] };
}

function finish(model) {
  for (const t of Object.values(model.tables)) {
    t.keys = [...t.keys].sort();
    t.fks.sort();
    t.checks.sort();
  }
  return model;
}

const SQLITE_TYPES = { INTEGER: 'bigint', TEXT: 'text', BLOB: 'bytea' };

function sqliteModel(db) {
  const model = { tables: {}, indexes: {} };
  const cat = sqliteCatalog(db);
  for (const { name, sql } of cat.tables) {
    const t = (model.tables[name] = emptyTable());
    const cols = cat.cols.filter((c) => c.tbl === name);
    const fks = cat.fks.filter((f) => f.tbl === name);
    const fkCols = new Set(fks.map((f) => f.col));
    const pk = cols.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
    const rowid = !/WITHOUT\s+ROWID/i.test(sql);
    for (const c of cols) {
      // SQLite assigns a rowid alias (INTEGER PRIMARY KEY alone) when the insert gives none,
      // unless it is borrowed from a parent row (a foreign key too): tally gives those.
      const generated = rowid && pk.length === 1 && pk[0] === c.name && c.type === 'INTEGER' && !fkCols.has(c.name);
      t.columns.push({ name: c.name, type: SQLITE_TYPES[c.type] || `? ${c.type}`, notnull: c.nn === 1 || c.pk > 0,
        default: generated ? 'generated' : norm(c.dflt) });
    }
    if (pk.length) t.keys.add(JSON.stringify(pk));
    const byId = new Map();
    for (const f of fks) {
      if (!byId.has(f.id)) byId.set(f.id, { cols: [], ref: f.ref, refcols: [] });
      byId.get(f.id).cols.push(f.col);
      byId.get(f.id).refcols.push(f.refcol);
    }
    for (const f of byId.values()) t.fks.push(`${f.cols}->${f.ref}(${f.refcols})`);
    t.checks = checksOf(sql);
    for (const i of cat.idx.filter((x) => x.tbl === name)) {
      if (i.origin !== 'c') {
        if (i.uniq) t.keys.add(JSON.stringify(i.cols));
        continue;
      }
      const where = /\bWHERE\b([\s\S]*)$/i.exec(i.sql || '');
      model.indexes[i.name] = { table: name, cols: i.cols, unique: i.uniq === 1, where: where ? norm(where[1]) : '' };
    }
  }
  return finish(model);
}

function pgModel(srv, db, schema = 'public') {
  const attnames = (rel, keys) => `(SELECT json_agg(a.attname ORDER BY k.n) FROM unnest(${keys}) WITH ORDINALITY k(att, n)
    JOIN pg_attribute a ON a.attrelid = ${rel} AND a.attnum = k.att)`;
  const agg = (sql) => `(SELECT coalesce(json_agg(r), '[]') FROM (${sql}) r)`;
  const ns = `'${schema}'::regnamespace`;
  const rel = (oid) => `(SELECT relname FROM pg_class WHERE oid = ${oid})`;
  // One psql run: its columns, constraints and indexes.
  const cat = JSON.parse(srv.psql(db, `SELECT json_build_object(
    'cols', ${agg(`SELECT c.relname AS tbl, a.attname AS name, format_type(a.atttypid, NULL) AS type, a.attnotnull AS nn,
      pg_get_expr(d.adbin, d.adrelid) AS dflt, a.attidentity <> '' AS ident FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
      LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE c.relnamespace = ${ns} AND c.relkind = 'r' AND c.relname <> 'schema_migrations'
      AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum`)},
    'cons', ${agg(`SELECT ${rel('c.conrelid')} AS tbl, c.contype AS type, ${attnames('c.conrelid', 'c.conkey')} AS cols,
      ${rel('c.confrelid')} AS ref, ${attnames('c.confrelid', 'c.confkey')} AS refcols, pg_get_constraintdef(c.oid) AS def
      FROM pg_constraint c WHERE c.connamespace = ${ns} AND ${rel('c.conrelid')} <> 'schema_migrations'`)},
    'idx', ${agg(`SELECT t.relname AS tbl, i.relname AS name, x.indisunique AS uniq, ${attnames('x.indrelid', 'x.indkey::int2[]')} AS cols,
      pg_get_expr(x.indpred, x.indrelid) AS pred, EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) AS backs
      FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
      WHERE t.relnamespace = ${ns} AND t.relname <> 'schema_migrations'`)})`));
  const { cols, cons, idx } = cat;
  const model = { tables: {}, indexes: {} };
  for (const c of cols) {
    const t = model.tables[c.tbl] || (model.tables[c.tbl] = emptyTable());
    t.columns.push({ name: c.name, type: c.type, notnull: c.nn, default: c.ident ? 'generated' : norm(c.dflt) });
  }
  for (const c of cons) {
    const t = model.tables[c.tbl];
    if (c.type === 'p' || c.type === 'u') t.keys.add(JSON.stringify(c.cols));
    else if (c.type === 'f') t.fks.push(`${c.cols}->${c.ref}(${c.refcols})`);
    else if (c.type === 'c') t.checks.push(norm(c.def.replace(/^CHECK\s*/i, '')));
    else t.checks.push(`? constraint ${c.type}`);
  }
  for (const i of idx) {
    if (i.backs) continue; // a key's own index: compared as the key
    model.indexes[i.name] = { table: i.tbl, cols: i.cols, unique: i.uniq, where: norm(i.pred) };
  }
  return finish(model);
}

// The files of a migrations folder: [{ version, name, file }] in version order.
function migrationFiles(dir) {
  return fs.readdirSync(dir).filter((f) => /^\d{4}_.*\.sql$/.test(f)).sort()
    .map((f) => ({ version: Number(f.slice(0, 4)), name: f.replace(/\.sql$/, ''), file: path.join(dir, f) }));
}

const SQLITE_MIGRATIONS = migrationFiles(path.join(ROOT, 'migrations'));
const PG_MIGRATIONS = migrationFiles(path.join(ROOT, 'migrations', 'pg'));

// Apply PostgreSQL migration files with psql, all of them in one transaction (-1).
function pgApply(srv, db, files) {
  return srv.psql(db, '', { args: ['-1', ...files.flatMap((m) => ['-f', m.file])] });
}

test('migrations/pg: a file for each SQLite migration, same versions and names, in order', async () => {
  assert.ok(PG_MIGRATIONS.length >= 4, `${PG_MIGRATIONS.length} PostgreSQL migrations`);
  // The SQLite ones may run ahead while their dialect is written; never the other way, never a gap.
  assert.deepStrictEqual(PG_MIGRATIONS.map((m) => m.name), SQLITE_MIGRATIONS.slice(0, PG_MIGRATIONS.length).map((m) => m.name));
  PG_MIGRATIONS.forEach((m, i) => assert.strictEqual(m.version, i + 1));
  if (PG_MIGRATIONS.length < SQLITE_MIGRATIONS.length) {
    console.log(`note: no PostgreSQL dialect yet of ${SQLITE_MIGRATIONS.slice(PG_MIGRATIONS.length).map((m) => m.name).join(', ')}`);
  }
  for (const m of PG_MIGRATIONS) {
    const head = fs.readFileSync(m.file, 'utf8').split('\n')[0];
    assert.match(head, /^-- tally schema, version \d+.*PostgreSQL/, `${m.name} says what it is on its first line`);
  }
});

let stepDb = null; // migrated one version at a time
let allDb = null; // migrated in one transaction

test('each PostgreSQL migration on the previous version gives SQLite\'s tables, columns, keys, checks and indexes', async (srv) => {
  const db = srv.createDb();
  stepDb = db;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tally-pgschema-'));
  try {
    const file = path.join(dir, 'tally.db');
    for (const m of PG_MIGRATIONS) {
      pgApply(srv, db, [m]);
      const r = spawnSync(path.join(TALLY_BIN, 'tally'), ['migrate', '--to', String(m.version)],
        { encoding: 'utf8', env: { PATH: process.env.PATH, TALLY_DB: file, ASAN_OPTIONS: process.env.ASAN_OPTIONS || '' } });
      assert.strictEqual(r.status, 0, `tally migrate --to ${m.version}: ${r.stderr}`);
      const want = sqliteModel(file);
      const got = pgModel(srv, db);
      assert.ok(Object.keys(want.tables).length > 0);
      assert.deepStrictEqual(Object.keys(got.tables).sort(), Object.keys(want.tables).sort(), `tables at version ${m.version}`);
      for (const t of Object.keys(want.tables)) assert.deepStrictEqual(got.tables[t], want.tables[t], `table ${t} at version ${m.version}`);
      assert.deepStrictEqual(got.indexes, want.indexes, `indexes at version ${m.version}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('all PostgreSQL migrations from empty in one transaction: the same schema as one by one', async (srv) => {
  assert.ok(stepDb, 'the one-by-one test ran');
  const all = srv.createDb();
  allDb = all;
  pgApply(srv, all, PG_MIGRATIONS);
  const a = pgModel(srv, all);
  assert.ok(a.tables.grants && a.indexes.grants_expiry);
  assert.deepStrictEqual(a, pgModel(srv, stepDb));
  // The checks hold: an enum's unknown value and a negative remainder are refused.
  srv.psql(all, "INSERT INTO users (id, created_at) VALUES ('u', 1)");
  assert.throws(() => srv.psql(all, "INSERT INTO grants (user_id, source, amount, remaining, created_at) VALUES ('u', 'gift', 1, 1, 1)"),
    /grants_source_check/);
  assert.throws(() => srv.psql(all, "INSERT INTO grants (user_id, source, amount, remaining, created_at) VALUES ('u', 'referral', 1, -1, 1)"),
    /grants_check|check constraint/);
  // (A refused insert has used up its identity value: ids have gaps, as SQLite's do not.)
  assert.match(srv.psql(all, "INSERT INTO grants (user_id, source, amount, remaining, created_at) VALUES ('u', 'referral', 2, 1, 1) RETURNING id"), /^\d+$/);
  assert.throws(() => srv.psql(all, "INSERT INTO links (provider, kind, ext_id, user_id, created_at) VALUES ('p', 'k', 'e', 'nobody', 1)"),
    /foreign key/);
});

// ---------------------------------------------------------------- lib/store/pg.c
const TALLY_TOOLS = process.env.TALLY_TOOLS || path.join(ROOT, 'build', 'release', 'tests');
let unitDb = null;

// The C unit test needs a server: it runs here, on this file's (build.sh's list_suite leaves it out).
// Its "ok NAME" and "FAIL NAME" lines are passed on as this file's, so the runner counts each.
test('test_pg, the unit test of lib/store/pg.c, passes against this server', async (srv) => {
  unitDb = srv.createDb('unit');
  const prog = path.join(TALLY_TOOLS, 'test_pg');
  assert.ok(fs.existsSync(prog), `${prog} is not built`);
  const r = await new Promise((resolve) => {
    const p = spawn(prog, [], { env: { ...process.env, ...srv.env(unitDb) }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (code, sig) => resolve({ code, sig, out, err }));
  });
  const lines = r.out.split('\n').filter((l) => /^(ok|FAIL) /.test(l));
  for (const l of lines) console.log(l);
  const failed = lines.filter((l) => l.startsWith('FAIL '));
  assert.deepStrictEqual(failed, [], r.err.split('\n').slice(-20).join('\n'));
  assert.strictEqual(r.code, 0, `test_pg exited ${r.code} ${r.sig || ''}: ${r.err.split('\n').slice(-20).join('\n')}`);
  assert.ok(lines.length >= 20, `${lines.length} results from test_pg`);
  // Nothing it logged holds the server's password.
  assert.ok(!r.err.includes(srv.password) && !r.out.includes(srv.password));
});

test('pg_migrate (C) makes the schema the files make, and records each version as SQLite does', async (srv) => {
  assert.ok(unitDb && allDb, 'test_pg and the files\' migrations ran');
  // test_pg migrated the schema m_empty of its database from empty.
  assert.deepStrictEqual(pgModel(srv, unitDb, 'm_empty'), pgModel(srv, allDb));
  assert.strictEqual(srv.psql(unitDb, "SELECT string_agg(version || ' ' || name, ',' ORDER BY version) FROM m_empty.schema_migrations"),
    PG_MIGRATIONS.map((m) => `${m.version} ${m.name}`).join(','));
  // The same columns as SQLite's schema_migrations (store.c).
  assert.strictEqual(srv.psql(unitDb, `SELECT string_agg(attname || ' ' || format_type(atttypid, NULL) || ' ' || attnotnull, ',' ORDER BY attnum)
    FROM pg_attribute WHERE attrelid = 'm_empty.schema_migrations'::regclass AND attnum > 0`),
  'version bigint true,name text true,applied_at bigint true');
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
  before: async () => {
    const others = startOthers();
    const srv = await pg.start();
    srv.others = others;
    return srv;
  },
  after: async (srv) => {
    if (srv && pg.alive(srv.pid)) await srv.stop();
  },
});
