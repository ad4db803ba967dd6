'use strict';
// The Google Play case of the benchmark (tests/bench/run.sh case_google): write N Pub/Sub
// pushes (the wrapped format, ~0.6 KB) with unique messageIds, each a SUBSCRIPTION_PURCHASED
// of a unique purchase token for one of 5000 accounts, then serve the fake Google
// (tests/fakes/google.js) that tally-google asks: its push keys, its token endpoint, and
// subscriptionsv2.get answering every token with a generated ACTIVE subscription
// (autoSubscription; the account is the token's part before its first '.').
// Writes into DIR: pushes.jsonl (one body a line), auth (one OIDC token, valid an hour, that
// signs every push: tally verifies each against the cached keys), sa.json (the service
// account's key file, 0600), tally.json (tally's config naming the fake), then ready (the
// fake's URL) once it listens. Serves until killed (SIGTERM).
// Usage: node gen-google.js N DIR
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { FakeGoogle } = require('../fakes/google');
const G = require('../lib/google');

const PKG = 'com.example.tally';
const [n, dir] = [Number(process.argv[2] || 1000), process.argv[3]];
if (!dir || !Number.isInteger(n) || n < 1) throw new Error('usage: gen-google.js N DIR');

(async () => {
  const g = await new FakeGoogle({ packageName: PKG }).start();
  g.autoSubscription = true;
  // Nothing of the load is kept: the fake's memory stays flat over the run.
  g.requests = { push() {}, filter() { return []; } };
  const accounts = Array.from({ length: 5000 }, (_, i) => `bench_${i}`);
  const fd = fs.openSync(path.join(dir, 'pushes.jsonl'), 'w');
  const subscription = 'projects/tally-bench/subscriptions/play-rtdn';
  let out = [];
  for (let i = 0; i < n; i++) {
    const token = `${accounts[i % accounts.length]}.AO-J1O${crypto.randomBytes(60).toString('base64url')}`;
    out.push(g.pushBody(G.subNotification(G.SUB.PURCHASED, token), { messageId: String(20000000000 + i), subscription }));
    if (out.length === 1000) { fs.writeSync(fd, out.join('\n') + '\n'); out = []; }
  }
  if (out.length) fs.writeSync(fd, out.join('\n') + '\n');
  fs.closeSync(fd);
  fs.writeFileSync(path.join(dir, 'auth'), g.signPush());
  fs.writeFileSync(path.join(dir, 'sa.json'), g.serviceAccountJson(), { mode: 0o600 });
  fs.writeFileSync(path.join(dir, 'tally.json'), JSON.stringify({
    google: {
      package_name: PKG, push_audience: g.audience, push_service_account: g.pushEmail,
      certs_url: g.certsUrl, api_base: g.apiBase, token_url: g.tokenUrl,
    },
    products: {
      pro_monthly: { kind: 'subscription', entitlements: ['pro'], credits: 1000, match: { google: ['pro_monthly'] } },
    },
  }, null, 2));
  fs.writeFileSync(path.join(dir, 'ready'), `${g.url}\n`);
  process.on('SIGTERM', () => g.close().then(() => process.exit(0)));
})();
