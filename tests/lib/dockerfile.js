'use strict';
// A reader of deploy/docker/Dockerfile for the tests (no Docker engine runs
// where the tests do): its stages, their instructions, and the files of the
// runtime image laid out under a directory, so the image's entrypoint can run
// here on exactly the files the Dockerfile copies into it.
const fs = require('fs');
const path = require('path');
const { ROOT } = require('./harness');

const FILE = path.join(ROOT, 'deploy', 'docker', 'Dockerfile');

// [{ from, as, ins: [{ op, args }] }], continuation lines joined, comments dropped.
function stages() {
  const text = fs.readFileSync(FILE, 'utf8').replace(/\\\n/g, ' ');
  const out = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile: cannot read: ${line}`);
    const [, op, args] = m;
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args.trim());
      out.push({ from: f[1], as: f[2] || null, ins: [] });
    } else {
      if (!out.length) throw new Error('Dockerfile: an instruction before FROM');
      out[out.length - 1].ins.push({ op, args: args.replace(/\s+/g, ' ').trim() });
    }
  }
  return out;
}

// The packages an "apt-get install" of a RUN names.
function aptPackages(stage) {
  const pkgs = [];
  for (const i of stage.ins) {
    if (i.op !== 'RUN') continue;
    const m = /apt-get install ((?:-\S+\s+)*)([^&;]+)/.exec(i.args);
    if (m) pkgs.push(...m[2].trim().split(/\s+/));
  }
  return pkgs;
}

// COPY instructions: { from (stage or null), srcs, dest }.
function copies(stage) {
  return stage.ins.filter((i) => i.op === 'COPY').map((i) => {
    const words = i.args.split(' ');
    let from = null;
    while (words[0].startsWith('--')) {
      const w = words.shift();
      if (w.startsWith('--from=')) from = w.slice(7);
    }
    return { from, srcs: words.slice(0, -1), dest: words[words.length - 1] };
  });
}

module.exports = { FILE, stages, aptPackages, copies };
