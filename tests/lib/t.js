'use strict';
// A test is a named async function; each prints "ok NAME" or "FAIL NAME: why".
// The program exits 1 when any failed (build.sh counts the lines).
const assert = require('assert');

const tests = [];
let only = process.env.TEST_ONLY ? new RegExp(process.env.TEST_ONLY) : null;

function test(name, fn) {
  tests.push({ name, fn });
}

async function run({ before, after } = {}) {
  let failed = 0;
  let ctx;
  try {
    ctx = before ? await before() : undefined;
  } catch (e) {
    console.log(`FAIL setup: ${e.message}`);
    console.log(e.stack);
    process.exit(1);
  }
  for (const t of tests) {
    if (only && !only.test(t.name)) continue;
    try {
      await t.fn(ctx);
      console.log(`ok ${t.name}`);
    } catch (e) {
      failed++;
      console.log(`FAIL ${t.name}: ${String(e.message).split('\n').join(' | ')}`);
      console.log(e.stack);
    }
  }
  try {
    if (after) await after(ctx, failed);
  } catch (e) {
    console.log(`FAIL teardown: ${e.message}`);
    failed++;
  }
  process.exit(failed ? 1 : 0);
}

module.exports = { test, run, assert };
