'use strict';
// The include graph against the layering (DESIGN.md, Layout; the checker is
// tests/tools/layers.js). The real tree must have no finding; and on a copy of
// lib/, handlers/ and jobs/, each rule broken on purpose must be found, named,
// and fail the run, while an include that follows the rules is no finding.
const fs = require('fs');
const os = require('os');
const path = require('path');
const { spawnSync } = require('child_process');
const { test, run, assert } = require('../lib/t');

const ROOT = path.resolve(__dirname, '..', '..');
const LAYERS = path.join(ROOT, 'tests', 'tools', 'layers.js');
const TREES = ['lib', 'handlers', 'jobs'];

function layers(args) {
  const r = spawnSync(process.execPath, [LAYERS, ...args], { encoding: 'utf8' });
  const lines = r.stdout.split('\n').filter((l) => l !== '');
  return { status: r.status, lines, stderr: r.stderr };
}

// A copy of the C sources of lib/, handlers/ and jobs/ (nothing built).
function copyTree() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tally-layers-'));
  for (const t of TREES) {
    fs.cpSync(path.join(ROOT, t), path.join(dir, t), {
      recursive: true,
      filter: (src) => fs.statSync(src).isDirectory() || /\.[ch]$/.test(src),
    });
  }
  return dir;
}

function write(dir, rel, text) {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), text);
}

// Add an include line after the first #include of rel (or at the top).
function addInclude(dir, rel, line) {
  const p = path.join(dir, rel);
  const src = fs.readFileSync(p, 'utf8');
  const m = /^#include .*\n/m.exec(src);
  const at = m ? m.index + m[0].length : 0;
  fs.writeFileSync(p, src.slice(0, at) + line + '\n' + src.slice(at));
}

let baseline = null;

// Findings of the copy after change(dir), less those the unchanged copy has.
function newFindings(change) {
  const dir = copyTree();
  try {
    if (baseline === null) baseline = new Set(layers(['--root', dir]).lines);
    change(dir);
    const r = layers(['--root', dir]);
    return { status: r.status, lines: r.lines.filter((l) => !baseline.has(l)), stderr: r.stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function expectFinding(r, re) {
  assert.strictEqual(r.status, 1, `exit ${r.status}, findings: ${r.lines.join(' | ')} ${r.stderr}`);
  assert.ok(r.lines.some((l) => re.test(l)), `no finding like ${re} among: ${r.lines.join(' | ') || '(none new)'}`);
}

test('the real tree: no cycle, no include up the layers, no storage where it must not be', async () => {
  const r = layers([]);
  assert.strictEqual(r.status, 0, `exit ${r.status}: ${r.lines.join(' | ')} ${r.stderr}`);
  assert.deepStrictEqual(r.lines, []);
});

test('an unchanged copy gives what the real tree gives (the copy is faithful)', async () => {
  const dir = copyTree();
  try {
    assert.deepStrictEqual(layers(['--root', dir]).lines, layers([]).lines);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a downward include of a new module is no finding', async () => {
  const r = newFindings((dir) => {
    write(dir, 'lib/core/zz_fresh.h', '#include "core/ledger.h"\nint zz_fresh(void);\n');
    write(dir, 'lib/core/zz_fresh.c', '#include "base/text.h"\n#include "core/zz_fresh.h"\nint\nzz_fresh(void)\n{\n\treturn 0;\n}\n');
  });
  assert.deepStrictEqual(r.lines, []);
});

test('two modules including each other: a module cycle naming both', async () => {
  const r = newFindings((dir) => {
    write(dir, 'lib/core/zz_one.h', 'int zz_one(void);\n');
    write(dir, 'lib/core/zz_two.h', 'int zz_two(void);\n');
    write(dir, 'lib/core/zz_one.c', '#include "core/zz_one.h"\n#include "core/zz_two.h"\nint\nzz_one(void)\n{\n\treturn zz_two();\n}\n');
    write(dir, 'lib/core/zz_two.c', '#include "core/zz_one.h"\n#include "core/zz_two.h"\nint\nzz_two(void)\n{\n\treturn 1;\n}\n');
  });
  expectFinding(r, /^module cycle: core\/zz_one -> core\/zz_two -> core\/zz_one /);
});

test('a private header declaring the functions of two files that both include it: a module cycle', async () => {
  const r = newFindings((dir) => {
    // zz_main.c calls zz_part() of zz_part.c, and zz_part.c calls zz_help() of
    // zz_main.c, both through zz_main_int.h (which belongs to zz_main).
    write(dir, 'lib/job/zz_main_int.h', 'int zz_help(void);\nint zz_part(void);\n');
    write(dir, 'lib/job/zz_main.c', '#include "job/zz_main_int.h"\nint\nzz_help(void)\n{\n\treturn 1;\n}\nint\nzz_go(void)\n{\n\treturn zz_part();\n}\n');
    write(dir, 'lib/job/zz_part.c', '#include "job/zz_main_int.h"\nint\nzz_part(void)\n{\n\treturn zz_help();\n}\n');
  });
  expectFinding(r, /^module cycle: job\/zz_main -> job\/zz_part -> job\/zz_main .*declares zz_part of job\/zz_part/);
});

test('base including core: an include up the layers', async () => {
  const r = newFindings((dir) => addInclude(dir, 'lib/base/text.c', '#include "core/apply.h"'));
  expectFinding(r, /^up: lib\/base\/text\.c:\d+ includes core\/apply\.h: base is below core$/);
});

test('crypto including cfg while cfg includes crypto: a folder cycle', async () => {
  const r = newFindings((dir) => addInclude(dir, 'lib/crypto/crypto.c', '#include "cfg/cfg.h"'));
  expectFinding(r, /^folder cycle: cfg -> crypto -> cfg /);
  expectFinding(r, /^up: lib\/crypto\/crypto\.c:\d+ includes cfg\/cfg\.h: crypto is below cfg$/);
});

test('sqlite3.h included in core: refused outside lib/store/', async () => {
  const r = newFindings((dir) => addInclude(dir, 'lib/core/ledger.c', '#include <sqlite3.h>'));
  expectFinding(r, /^sqlite: lib\/core\/ledger\.c:\d+ includes sqlite3\.h outside lib\/store\/$/);
});

test('libpq-fe.h included in serve or a handler: refused outside lib/store/, allowed in it', async () => {
  const r = newFindings((dir) => {
    addInclude(dir, 'lib/serve/writer.c', '#include <libpq-fe.h>');
    addInclude(dir, 'handlers/stripe.c', '#include <postgresql/libpq-fe.h>');
    addInclude(dir, 'lib/store/store_jobs.c', '#include <libpq-fe.h>');
  });
  expectFinding(r, /^libpq: lib\/serve\/writer\.c:\d+ includes libpq-fe\.h outside lib\/store\/$/);
  expectFinding(r, /^libpq: handlers\/stripe\.c:\d+ includes libpq-fe\.h outside lib\/store\/$/);
  assert.ok(!r.lines.some((l) => l.includes('store_jobs')), r.lines.join(' | '));
});

test('a provider including store/: refused', async () => {
  const r = newFindings((dir) => addInclude(dir, 'lib/providers/stripe/stripe.c', '#include "store/store.h"'));
  expectFinding(r, /^provider-storage: lib\/providers\/stripe\/stripe\.c:\d+ includes store\/store\.h/);
});

test('a provider header including core/: refused, and up the layers', async () => {
  const r = newFindings((dir) => addInclude(dir, 'lib/providers/papi.h', '#include "core/provider.h"'));
  expectFinding(r, /^provider-storage: lib\/providers\/papi\.h:\d+ includes core\/provider\.h/);
  expectFinding(r, /^up: lib\/providers\/papi\.h:\d+ includes core\/provider\.h: providers is below core$/);
});

test('a handler including store/: refused', async () => {
  const r = newFindings((dir) => addInclude(dir, 'handlers/stripe.c', '#include "store/store.h"'));
  expectFinding(r, /^top-storage: handlers\/stripe\.c:\d+ includes store\/store\.h/);
});

test('a job and the CLI including store/: refused', async () => {
  const r = newFindings((dir) => {
    addInclude(dir, 'jobs/retry.c', '#include "store/store_jobs.h"');
    addInclude(dir, 'jobs/tally/cmd_user.c', '#include "store/store_access.h"');
  });
  expectFinding(r, /^top-storage: jobs\/retry\.c:\d+ includes store\/store_jobs\.h/);
  expectFinding(r, /^top-storage: jobs\/tally\/cmd_user\.c:\d+ includes store\/store_access\.h/);
});

test('lib including a file of handlers/ or jobs/: refused', async () => {
  const r = newFindings((dir) => {
    addInclude(dir, 'lib/serve/handler.c', '#include "../../handlers/api.c"');
    addInclude(dir, 'lib/api/api.c', '#include "../../jobs/tally/cli.h"');
  });
  expectFinding(r, /^lib-top: lib\/serve\/handler\.c:\d+ includes handlers\/api\.c/);
  expectFinding(r, /^lib-top: lib\/api\/api\.c:\d+ includes jobs\/tally\/cli\.h/);
});

test('an include that names no file: refused', async () => {
  const r = newFindings((dir) => addInclude(dir, 'lib/core/sub.c', '#include "core/no_such_file.h"'));
  expectFinding(r, /^missing: lib\/core\/sub\.c:\d+ includes "core\/no_such_file\.h"/);
});

test('a folder of no layer: refused', async () => {
  const r = newFindings((dir) => write(dir, 'lib/misc/zz_misc.c', '#include "base/text.h"\n'));
  expectFinding(r, /^up: lib\/misc\/zz_misc\.c is in lib\/misc\/, a folder of no layer$/);
});

test('--root on a directory without lib/: a usage error (exit 2)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tally-layers-empty-'));
  try {
    const r = layers(['--root', dir]);
    assert.strictEqual(r.status, 2, `exit ${r.status}`);
    assert.match(r.stderr, /no lib\//);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

run();
