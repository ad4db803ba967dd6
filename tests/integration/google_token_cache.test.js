'use strict';
// The cache of verified push tokens in tally-google, through nginx on a real SQLite file
// against the fake Google: one push subscription's token, sent with each of its pushes,
// keeps being accepted while it lives and is refused (401, nothing stored, nothing fetched)
// once it has expired although it verified before; a token differing from a held one by a
// byte of its signature is refused; a token refused for its claims stays refused.
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { test, run, assert } = require('../lib/t');
const { Env } = require('../lib/harness');
const { FakeGoogle } = require('../fakes/google');
const G = require('../lib/google');

const PKG = 'com.example.tally';

const mid = () => String(10000000000 + crypto.randomInt(1e9));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function push(ctx, token, messageId = mid()) {
  const body = ctx.g.pushBody(G.testNotification(), { messageId });
  return ctx.env.request('POST', '/webhooks/google', body, { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` });
}

const stored = (ctx, id) => ctx.env.sql(`SELECT count(*) AS n FROM inbox WHERE provider = 'google' AND event_id = '${id}'`)[0].n;

test('a held token is refused once it has expired, as it would be unheld', async (ctx) => {
  const now = Math.floor(Date.now() / 1000);
  const token = ctx.g.signPush({ iat: now, exp: now + 3 });
  for (let i = 0; i < 3; i++) {
    const r = await push(ctx, token);
    assert.strictEqual(r.status, 200, r.text);
  }
  // Past exp (a second more for the clock's granularity): refused though verified before.
  await sleep(Math.max(0, (now + 4) * 1000 - Date.now()));
  const id = mid();
  const r = await push(ctx, token, id);
  assert.strictEqual(r.status, 401, r.text);
  assert.match(r.text, /expired/);
  assert.strictEqual(stored(ctx, id), 0);
});

test('a token one byte of signature away from a held one is refused', async (ctx) => {
  const token = ctx.g.signPush();
  assert.strictEqual((await push(ctx, token)).status, 200);
  const dot = token.lastIndexOf('.');
  for (const at of [dot + 1, dot + 1 + Math.floor((token.length - dot - 1) / 2)]) {
    const forged = token.slice(0, at) + (token[at] === 'A' ? 'B' : 'A') + token.slice(at + 1);
    const id = mid();
    const r = await push(ctx, forged, id);
    assert.strictEqual(r.status, 401, r.text);
    assert.strictEqual(stored(ctx, id), 0);
  }
  // The held token still serves.
  assert.strictEqual((await push(ctx, token)).status, 200);
});

test('a token refused for its claims is refused every time', async (ctx) => {
  const tokens = [
    ctx.g.signPush({ aud: 'https://elsewhere.example.com/push' }),
    ctx.g.signPush({ email: 'someone@example.com' }),
    ctx.g.signPush({ email_verified: false }),
    ctx.g.signPush({}, { key: ctx.g.strangerKey() }),
  ];
  for (const t of tokens) {
    for (let i = 0; i < 2; i++) {
      const id = mid();
      const r = await push(ctx, t, id);
      assert.strictEqual(r.status, 401, r.text);
      assert.strictEqual(stored(ctx, id), 0);
    }
  }
});

run({
  before: async () => {
    const g = await new FakeGoogle({ packageName: PKG }).start();
    const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'tally-google-'));
    const sa = path.join(dir, 'sa.json');
    fs.writeFileSync(sa, g.serviceAccountJson(), { mode: 0o600 });
    const env = await Env.start({
      config: { google: { package_name: PKG, push_audience: g.audience, push_service_account: g.pushEmail, certs_url: g.certsUrl, api_base: g.apiBase, token_url: g.tokenUrl } },
      handlers: ['google'],
      env: { GOOGLE_SERVICE_ACCOUNT_FILE: sa },
    });
    return { g, env, dir };
  },
  after: async (ctx, failed) => {
    await ctx.env.stop(failed > 0);
    await ctx.g.close();
    fs.rmSync(ctx.dir, { recursive: true, force: true });
  },
});
