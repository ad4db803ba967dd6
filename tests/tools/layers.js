#!/usr/bin/env node
'use strict';
// The include graph of lib/, handlers/ and jobs/ against the layering of
// docs (DESIGN.md, "Layout"). Prints one line per finding and exits 1 when
// there is any, 0 when there is none, 2 on a usage error.
//   node tests/tools/layers.js [--root DIR] [--verbose]
//
// It reads every #include "..." (and <sqlite3.h>, <libpq-fe.h>) of lib/**/*.{c,h},
// handlers/*.c and jobs/**/*.{c,h}, and builds two graphs of lib/:
//  - folders: lib/<first part>, where lib/providers/<name>/ and
//    lib/providers/papi.* all count as "providers";
//  - modules: a .c and the .h of the same base name in the same folder; a
//    private header X_int.h belongs to module X. A header belongs to the
//    modules that define what it declares too: when a file includes a header,
//    its module depends on the header's module and on every module whose .c
//    defines a function or variable that header declares. So a private header
//    that declares functions of several .c files, included by all of them,
//    ties them into a circle: that is what the module check is for.
// Findings:
//  - "folder cycle": folders that include each other, directly or around;
//  - "module cycle": modules that depend on each other, directly or around;
//  - "up": a lib/ file including a folder above its own, in the order
//    base < crypto < cfg < store < http < providers < core < serve < job < api < console;
//  - "sqlite": sqlite3.h included outside lib/store/;
//  - "libpq": libpq-fe.h (PostgreSQL's client) included outside lib/store/;
//  - "provider-storage": lib/providers/ including store/ or core/ headers;
//  - "top-storage": handlers/ or jobs/ including store/ headers;
//  - "lib-top": a lib/ file including a file of handlers/ or jobs/;
//  - "missing": a quoted include that names no file of the tree.
const fs = require('fs');
const path = require('path');

// The storage engines' client headers, which only lib/store/ includes, and the name of each finding.
const ENGINES = { 'sqlite3.h': 'sqlite', 'libpq-fe.h': 'libpq' };

const ORDER = ['base', 'crypto', 'cfg', 'store', 'http', 'providers', 'core', 'serve', 'job', 'api', 'console'];

function usage(msg) {
  process.stderr.write(`layers: ${msg}\nusage: node tests/tools/layers.js [--root DIR] [--verbose]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { root: path.resolve(__dirname, '..', '..'), verbose: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--root') {
      if (i + 1 >= argv.length) usage('--root needs a directory');
      o.root = path.resolve(argv[++i]);
    } else if (argv[i] === '--verbose') {
      o.verbose = true;
    } else {
      usage(`unknown argument ${argv[i]}`);
    }
  }
  if (!fs.existsSync(path.join(o.root, 'lib'))) usage(`no lib/ under ${o.root}`);
  return o;
}

// Files of the tree, as paths relative to root with '/' separators.
function walk(root, dir, re, deep, out) {
  let ents;
  try {
    ents = fs.readdirSync(path.join(root, dir), { withFileTypes: true });
  } catch (e) {
    return out;
  }
  for (const d of ents) {
    const rel = `${dir}/${d.name}`;
    if (d.isDirectory()) {
      if (deep) walk(root, rel, re, deep, out);
    } else if (re.test(d.name)) {
      out.push(rel);
    }
  }
  return out;
}

// ---------------------------------------------------------------- C text
// Comments, string and character literals and preprocessor lines blanked,
// so what remains is declarations and code.
function strip(src) {
  let out = '';
  let i = 0;
  const n = src.length;
  let lineStart = true;
  while (i < n) {
    const c = src[i];
    if (c === '/' && src[i + 1] === '*') {
      const e = src.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
      out += ' ';
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") {
      i++;
      while (i < n && src[i] !== c) {
        if (src[i] === '\\') i++;
        i++;
      }
      i++;
      out += c === '"' ? '""' : "' '";
      lineStart = false;
      continue;
    }
    if (lineStart && c === '#') {
      // A directive, with its continuation lines.
      while (i < n && src[i] !== '\n') {
        if (src[i] === '\\' && src[i + 1] === '\n') i++;
        i++;
      }
      continue;
    }
    if (c === '\n') lineStart = true;
    else if (c !== ' ' && c !== '\t') lineStart = false;
    out += c;
    i++;
  }
  return out.replace(/__attribute__\s*\(\(/g, '\u0001');
}

// Drop __attribute__((...)) (marked \u0001 by strip) with its balanced parentheses.
function dropAttributes(s) {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '\u0001') {
      out += s[i];
      continue;
    }
    let depth = 2;
    i++;
    while (i < s.length && depth > 0) {
      if (s[i] === '(') depth++;
      else if (s[i] === ')') depth--;
      i++;
    }
    i--;
  }
  return out;
}

const IDENT = /[A-Za-z_][A-Za-z0-9_]*/g;
const KEYWORDS = new Set(['static', 'extern', 'inline', 'const', 'volatile', 'struct', 'union', 'enum',
  'typedef', 'unsigned', 'signed', 'int', 'char', 'long', 'short', 'void', 'double', 'float', 'register',
  '_Noreturn', 'restrict']);

// The name a top-level declaration or definition gives, or null: the
// identifier before its first '(' for a function, the last identifier before
// '[', '=' or the end for a variable; (*name)(...) is a variable.
function declName(text) {
  const t = text.trim();
  const p = t.indexOf('(');
  if (p >= 0) {
    const after = t.slice(p + 1).trimStart();
    if (after.startsWith('*')) {
      const m = /^\*\s*(?:const\s+)?([A-Za-z_][A-Za-z0-9_]*)/.exec(after);
      return m ? { name: m[1], fn: false } : null;
    }
    const m = /([A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(t.slice(0, p));
    return m && !KEYWORDS.has(m[1]) ? { name: m[1], fn: true } : null;
  }
  let head = t;
  const eq = head.indexOf('=');
  if (eq >= 0) head = head.slice(0, eq);
  const br = head.indexOf('[');
  if (br >= 0) head = head.slice(0, br);
  const ids = head.match(IDENT) || [];
  const last = ids[ids.length - 1];
  return last && !KEYWORDS.has(last) ? { name: last, fn: false } : null;
}

// Top-level statements of stripped C: { text, body } where body tells that a
// brace block followed the text (a definition, or a struct/initializer).
function topLevel(code) {
  const out = [];
  let cur = '';
  let paren = 0;
  let hadBody = false;
  for (let i = 0; i < code.length; i++) {
    const c = code[i];
    if (c === '(') paren++;
    else if (c === ')') paren--;
    if (paren === 0 && c === '{') {
      let depth = 1;
      let j = i + 1;
      while (j < code.length && depth > 0) {
        if (code[j] === '{') depth++;
        else if (code[j] === '}') depth--;
        j++;
      }
      const head = cur.trim();
      const isFn = /\)\s*$/.test(head) && !/=/.test(head) && !/^typedef\b/.test(head);
      if (isFn) {
        out.push({ text: head, body: true });
        cur = '';
      } else {
        cur += ' {} ';
        hadBody = true;
      }
      i = j - 1;
      continue;
    }
    if (paren === 0 && c === ';') {
      if (cur.trim()) out.push({ text: cur.trim(), body: hadBody });
      cur = '';
      hadBody = false;
      continue;
    }
    cur += c;
  }
  return out;
}

// What a header declares (functions and extern variables) and what a .c
// defines with external linkage.
function declarations(code, isHeader) {
  const names = [];
  for (const st of topLevel(code)) {
    const t = st.text;
    if (/^typedef\b/.test(t) || /^static\b/.test(t) || /\bstatic\s+inline\b/.test(t)) continue;
    if (isHeader) {
      if (st.body && !/^extern\b/.test(t)) continue; // struct, enum, union definitions
      const hasParen = t.includes('(');
      if (!hasParen && !/^extern\b/.test(t)) continue; // struct x; and the like
      const d = declName(t.replace(/\{\}/g, ''));
      if (d) names.push(d.name);
    } else {
      if (/^extern\b/.test(t)) continue;
      if (/^(struct|union|enum)\s+[A-Za-z_0-9]*\s*(\{\})?\s*$/.test(t)) continue;
      const hasParen = t.includes('(');
      if (hasParen && !st.body) {
        // A prototype, or a function-pointer variable.
        const d = declName(t);
        if (d && !d.fn) names.push(d.name);
        continue;
      }
      const d = declName(t.replace(/\{\}/g, ''));
      if (d) names.push(d.name);
    }
  }
  return names;
}

// ---------------------------------------------------------------- the tree
function folderOf(rel) {
  const p = rel.split('/');
  if (p[0] !== 'lib' || p.length < 3) return null;
  return p[1];
}

// lib/core/apply_int.h -> core/apply; handlers/api.c -> handlers/api.
function moduleOf(rel) {
  let m = rel.replace(/\.[ch]$/, '');
  if (rel.endsWith('_int.h')) m = m.replace(/_int$/, '');
  return m.startsWith('lib/') ? m.slice(4) : m;
}

function load(root) {
  const files = [
    ...walk(root, 'lib', /\.[ch]$/, true, []),
    ...walk(root, 'handlers', /\.c$/, false, []),
    ...walk(root, 'jobs', /\.[ch]$/, true, []),
  ].sort();
  const exists = new Set(files);
  const info = new Map();
  for (const f of files) {
    const src = fs.readFileSync(path.join(root, f), 'utf8');
    const includes = [];
    const lines = src.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const m = /^\s*#\s*include\s*(["<])([^">]+)[">]/.exec(lines[i]);
      if (!m) continue;
      if (m[1] === '<' && !ENGINES[path.basename(m[2])]) continue;
      includes.push({ name: m[2], line: i + 1, quoted: m[1] === '"', to: resolve(f, m[2], exists) });
    }
    const code = dropAttributes(strip(src));
    info.set(f, { includes, names: declarations(code, f.endsWith('.h')) });
  }
  return { files, info };
}

// Where the compiler finds #include "name": the includer's folder, then -Ilib
// (and the tree's root, so that an include of handlers/ or jobs/ is seen).
function resolve(from, name, exists) {
  const cands = [path.posix.normalize(`${path.posix.dirname(from)}/${name}`), path.posix.normalize(`lib/${name}`),
    path.posix.normalize(name)];
  for (const c of cands) if (exists.has(c)) return c;
  return null;
}

// ---------------------------------------------------------------- graphs
// Strongly connected components with more than one node (Tarjan).
function cycles(nodes, adj) {
  let index = 0;
  const idx = new Map();
  const low = new Map();
  const on = new Set();
  const stack = [];
  const out = [];
  function visit(v) {
    idx.set(v, index);
    low.set(v, index);
    index++;
    stack.push(v);
    on.add(v);
    for (const w of (adj.get(v) || new Map()).keys()) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (on.has(w)) {
        low.set(v, Math.min(low.get(v), idx.get(w)));
      }
    }
    if (low.get(v) === idx.get(v)) {
      const comp = [];
      let w;
      do {
        w = stack.pop();
        on.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  }
  for (const v of [...nodes].sort()) if (!idx.has(v)) visit(v);
  return out.sort((a, b) => (a[0] < b[0] ? -1 : 1));
}

// The shortest way around from the first member of comp back to itself.
function shortestCycle(comp, adj) {
  const inside = new Set(comp);
  const start = comp[0];
  const prev = new Map();
  const queue = [start];
  const seen = new Set([start]);
  while (queue.length) {
    const v = queue.shift();
    for (const w of [...(adj.get(v) || new Map()).keys()].sort()) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const p = [start];
        for (let x = v; x !== start; x = prev.get(x)) p.splice(1, 0, x);
        p.push(start);
        return p;
      }
      if (!seen.has(w)) {
        seen.add(w);
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

function addEdge(adj, a, b, why) {
  if (a === b) return;
  if (!adj.has(a)) adj.set(a, new Map());
  const m = adj.get(a);
  if (!m.has(b)) m.set(b, why);
}

function check(root, verbose) {
  const { files, info } = load(root);
  const findings = [];
  const rank = new Map(ORDER.map((f, i) => [f, i]));

  // Who defines each name (lib/ only: that is where modules live).
  const definer = new Map();
  for (const f of files) {
    if (!f.startsWith('lib/') || !f.endsWith('.c')) continue;
    for (const n of info.get(f).names) if (!definer.has(n)) definer.set(n, moduleOf(f));
  }
  // The modules a header stands for: its own and those of what it declares.
  const owners = new Map();
  for (const f of files) {
    if (!f.endsWith('.h')) continue;
    const own = new Map([[moduleOf(f), null]]);
    for (const n of info.get(f).names) {
      const d = definer.get(n);
      if (d && !own.has(d)) own.set(d, n);
    }
    owners.set(f, own);
  }

  const folderAdj = new Map();
  const moduleAdj = new Map();
  const folders = new Set();
  const modules = new Set();
  for (const f of files) {
    const lib = f.startsWith('lib/');
    const top = f.startsWith('handlers/') || f.startsWith('jobs/');
    const ff = folderOf(f);
    if (lib) {
      folders.add(ff);
      modules.add(moduleOf(f));
    }
    for (const inc of info.get(f).includes) {
      const where = `${f}:${inc.line}`;
      const engine = ENGINES[path.posix.basename(inc.name)];
      if (engine) {
        if (!f.startsWith('lib/store/')) findings.push(`${engine}: ${where} includes ${path.posix.basename(inc.name)} outside lib/store/`);
        continue;
      }
      if (!inc.quoted) continue;
      const to = inc.to;
      if (!to) {
        findings.push(`missing: ${where} includes "${inc.name}", which is no file of lib/, handlers/ or jobs/`);
        continue;
      }
      const tf = folderOf(to);
      if (lib && (to.startsWith('handlers/') || to.startsWith('jobs/'))) {
        findings.push(`lib-top: ${where} includes ${to}: nothing in lib/ includes handlers/ or jobs/`);
        continue;
      }
      if (f.startsWith('lib/providers/') && (tf === 'store' || tf === 'core')) {
        findings.push(`provider-storage: ${where} includes ${inc.name}: lib/providers/ never includes store/ or core/`);
      }
      if (top && tf === 'store') {
        findings.push(`top-storage: ${where} includes ${inc.name}: handlers/ and jobs/ never include store/`);
      }
      if (!lib || !to.startsWith('lib/')) continue;
      if (ff !== tf) {
        addEdge(folderAdj, ff, tf, `${where} includes ${inc.name}`);
        const rf = rank.has(ff) ? rank.get(ff) : -1;
        const rt = rank.has(tf) ? rank.get(tf) : -1;
        if (rf < 0) findings.push(`up: ${f} is in lib/${ff}/, a folder of no layer`);
        else if (rt < 0) findings.push(`up: ${where} includes ${inc.name}, lib/${tf}/ is a folder of no layer`);
        else if (rt > rf) findings.push(`up: ${where} includes ${inc.name}: ${ff} is below ${tf}`);
      }
      const me = moduleOf(f);
      for (const [m, name] of owners.get(to) || new Map([[moduleOf(to), null]])) {
        const why = name ? `${f} includes ${inc.name}, which declares ${name} of ${m}` : `${f} includes ${inc.name}`;
        addEdge(moduleAdj, me, m, why);
      }
    }
  }

  for (const comp of cycles(folders, folderAdj)) {
    const c = shortestCycle(comp, folderAdj);
    findings.push(`folder cycle: ${c.join(' -> ')} (${comp.join(', ')})`);
    if (verbose) for (let i = 0; i + 1 < c.length; i++) findings.push(`  ${folderAdj.get(c[i]).get(c[i + 1])}`);
  }
  for (const comp of cycles(modules, moduleAdj)) {
    const c = shortestCycle(comp, moduleAdj);
    const all = comp.length > c.length - 1 ? `; all ${comp.length} tied: ${comp.join(', ')}` : '';
    findings.push(`module cycle: ${c.join(' -> ')} (${moduleAdj.get(c[0]).get(c[1])}; ${moduleAdj.get(c[c.length - 2]).get(c[c.length - 1])}${all})`);
    if (verbose) {
      const inside = new Set(comp);
      for (const a of comp) for (const [b, why] of moduleAdj.get(a) || []) if (inside.has(b)) findings.push(`  ${a} -> ${b}: ${why}`);
    }
  }
  return findings;
}

if (require.main === module) {
  const o = parseArgs(process.argv.slice(2));
  const findings = check(o.root, o.verbose);
  for (const f of findings) console.log(f);
  process.exit(findings.some((f) => !f.startsWith('  ')) ? 1 : 0);
}

module.exports = { check };
