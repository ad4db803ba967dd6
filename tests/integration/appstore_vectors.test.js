'use strict';
// Apple's own published test vectors (tests/vectors/apple/, from Apple's
// app-store-server-library-node): tally must accept and refuse exactly what
// Apple's library accepts and refuses. Chains go through the verifier
// directly (tests/tools/x5c_check.c, built with the tests); Apple's signed
// mock notifications go through nginx to tally-appstore.
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { test, run, assert } = require('../lib/t');
const { Env, ROOT } = require('../lib/harness');

const DIR = path.join(ROOT, 'tests', 'vectors', 'apple');
const V = JSON.parse(fs.readFileSync(path.join(DIR, 'chains.json'), 'utf8'));
const TOOLS = process.env.TALLY_TOOLS || path.join(ROOT, 'build', 'release', 'tests');
const read = (name) => fs.readFileSync(path.join(DIR, name), 'utf8').trim();

function check(root, leaf, inter, at) {
  return execFileSync(path.join(TOOLS, 'x5c_check'), [root, leaf, inter, String(at)], { encoding: 'utf8' }).trim();
}
function checkJws(bundle, file) {
  return execFileSync(path.join(TOOLS, 'x5c_check'), ['jws', path.join(DIR, 'testCA.der'), bundle, path.join(DIR, file), String(Date.now())], { encoding: 'utf8' }).trim();
}

// "Chain Verification Checks" of Apple's jws_verification.test.ts, one by one.
test('Apple: a valid chain verifies and yields the leaf\'s public key', () => {
  const out = check(V.ROOT_CA_BASE64_ENCODED, V.LEAF_CERT_BASE64_ENCODED, V.INTERMEDIATE_CA_BASE64_ENCODED, V.EFFECTIVE_DATE);
  assert.strictEqual(out, `ok ${V.LEAF_CERT_PUBLIC_KEY_BASE64_ENCODED}`);
});

test('Apple: an intermediate with an invalid OID fails (VERIFICATION_FAILURE)', () => {
  const out = check(V.ROOT_CA_BASE64_ENCODED, V.LEAF_CERT_FOR_INTERMEDIATE_CA_INVALID_OID_BASE64_ENCODED, V.INTERMEDIATE_CA_INVALID_OID_BASE64_ENCODED, V.EFFECTIVE_DATE);
  assert.match(out, /^fail VERIFICATION_FAILURE /);
});

test('Apple: a leaf with an invalid OID fails (VERIFICATION_FAILURE)', () => {
  const out = check(V.ROOT_CA_BASE64_ENCODED, V.LEAF_CERT_INVALID_OID_BASE64_ENCODED, V.INTERMEDIATE_CA_BASE64_ENCODED, V.EFFECTIVE_DATE);
  assert.match(out, /^fail VERIFICATION_FAILURE /);
});

test('Apple: an expired chain fails (INVALID_CERTIFICATE)', () => {
  const out = check(V.ROOT_CA_BASE64_ENCODED, V.LEAF_CERT_BASE64_ENCODED, V.INTERMEDIATE_CA_BASE64_ENCODED, V.EXPIRED_DATE);
  assert.match(out, /^fail INVALID_CERTIFICATE /);
});

test('Apple: a real Apple chain verifies to the shipped Apple Root CA - G3 and to Apple\'s copy of it', () => {
  assert.match(check('-', V.REAL_APPLE_SIGNING_CERTIFICATE_BASE64_ENCODED, V.REAL_APPLE_INTERMEDIATE_BASE64_ENCODED, V.EFFECTIVE_DATE), /^ok /);
  assert.match(check(V.REAL_APPLE_ROOT_BASE64_ENCODED, V.REAL_APPLE_SIGNING_CERTIFICATE_BASE64_ENCODED, V.REAL_APPLE_INTERMEDIATE_BASE64_ENCODED, V.EFFECTIVE_DATE), /^ok /);
  // The shipped root is byte for byte the one in Apple's tests.
  const shipped = fs.readFileSync(path.join(ROOT, 'certs', 'AppleRootCA-G3.der')).toString('base64');
  assert.strictEqual(shipped, V.REAL_APPLE_ROOT_BASE64_ENCODED);
});

test('Apple: the test chain against the real Apple root fails (mismatched root)', () => {
  assert.match(check(V.REAL_APPLE_ROOT_BASE64_ENCODED, V.LEAF_CERT_BASE64_ENCODED, V.INTERMEDIATE_CA_BASE64_ENCODED, V.EFFECTIVE_DATE), /^fail VERIFICATION_FAILURE /);
  assert.match(check('-', V.LEAF_CERT_BASE64_ENCODED, V.INTERMEDIATE_CA_BASE64_ENCODED, V.EFFECTIVE_DATE), /^fail VERIFICATION_FAILURE /);
});

test('Apple: an invalid root certificate fails', () => {
  assert.match(check(Buffer.from('abc').toString('base64'), V.LEAF_CERT_BASE64_ENCODED, V.INTERMEDIATE_CA_BASE64_ENCODED, V.EFFECTIVE_DATE), /^fail /);
});

// "Decoding checks": Apple's signed transaction and renewal info.
test('Apple: the signed transaction and renewal info verify; a transaction for another bundle fails', () => {
  const tx = checkJws('com.example', 'transactionInfo');
  assert.match(tx, /^ok /);
  assert.strictEqual(JSON.parse(tx.slice(3)).environment, 'Sandbox');
  assert.match(checkJws('com.example', 'renewalInfo'), /^ok .*"environment":"Sandbox"/);
  assert.match(checkJws('com.example.x', 'transactionInfo'), /^fail .*another app/);
});

// Apple's signed notifications through nginx, with tally configured as Apple's tests configure their verifier.
async function appleEnv(sandbox) {
  return Env.start({
    config: { apple: { bundle_id: 'com.example', app_apple_id: 1234, sandbox, roots: [path.join(DIR, 'testCA.der')] }, products: {} },
    handlers: ['appstore'],
  });
}
const postJws = (env, jws) => env.request('POST', '/webhooks/appstore', JSON.stringify({ signedPayload: jws }), { 'Content-Type': 'application/json' });

test('Apple: its TEST notification verifies and is stored; a wrong bundle id is 403; a missing x5c is 401; malformed JWTs are 400', async () => {
  const env = await appleEnv(true);
  try {
    const ok = await postJws(env, read('testNotification'));
    assert.strictEqual(ok.status, 200, ok.text);
    assert.strictEqual(ok.json.event_id, '9ad56bd2-0bc6-42e0-af24-fd996d87a1e6');
    assert.strictEqual(ok.json.state, 'ignored');
    const wrong = await postJws(env, read('wrongBundleId'));
    assert.strictEqual(wrong.status, 403, wrong.text);
    const nox5c = await postJws(env, read('missingX5CHeaderClaim'));
    assert.strictEqual(nox5c.status, 401, nox5c.text);
    for (const jws of ['a.b.c.d', 'a.b.c']) {
      const r = await postJws(env, jws);
      assert.strictEqual(r.status, 400, `${jws}: ${r.text}`);
    }
    assert.strictEqual(env.counts().inbox, 1);
  } finally {
    await env.stop();
  }
});

test('Apple: its Sandbox notification on a production-only tally is acknowledged and ignored, never applied', async () => {
  // Apple's library raises INVALID_ENVIRONMENT; tally answers 200 so Apple stops retrying and keeps the record.
  const env = await appleEnv(false);
  try {
    const r = await postJws(env, read('testNotification'));
    assert.strictEqual(r.status, 200, r.text);
    assert.strictEqual(r.json.state, 'ignored');
    assert.match(r.json.reason, /not enabled/);
    assert.strictEqual(env.sql('SELECT live FROM inbox')[0].live, 0);
  } finally {
    await env.stop();
  }
});

run();
