'use strict';
// The benchmark's reference receiver: a Stripe webhook endpoint written the
// way most teams write one. fastify, the stripe package's constructEvent over
// the raw body, better-sqlite3, one transaction per event on tally's own
// schema (migrations/), writing the same rows tally writes for a pack
// purchase: inbox row and body, the user, payment and its keys, the grant and
// its ledger entry, three audit rows, the inbox outcome.
// Usage: node server.js PORT DBPATH SECRET [full|normal]
const fs = require('fs');
const path = require('path');
const Fastify = require('fastify');
const Database = require('better-sqlite3');
const Stripe = require('stripe');

const [port, dbPath, secret, sync = 'full'] = process.argv.slice(2);
const stripe = new Stripe('sk_test_peer_only');
const db = new Database(dbPath);
db.pragma('journal_mode = WAL');
db.pragma(`synchronous = ${sync === 'normal' ? 'NORMAL' : 'FULL'}`);
db.pragma('foreign_keys = ON');
const migrations = path.join(__dirname, '..', '..', '..', 'migrations');
if (db.pragma('user_version', { simple: true }) === 0) {
  for (const f of fs.readdirSync(migrations).filter((x) => x.endsWith('.sql')).sort()) {
    db.exec(fs.readFileSync(path.join(migrations, f), 'utf8'));
  }
  db.pragma('user_version = 1');
}

const q = {
  inbox: db.prepare(`INSERT INTO inbox (provider, event_id, type, live, event_at, received_at, updated_at, state, reason, attempts)
    VALUES ('stripe', ?, ?, ?, ?, ?, ?, 'failed', 'processing', 1) ON CONFLICT (provider, event_id) DO NOTHING`),
  body: db.prepare('INSERT INTO inbox_bodies (inbox_id, body) VALUES (?, ?)'),
  user: db.prepare('INSERT INTO users (id, created_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING'),
  audit: db.prepare('INSERT INTO audit (at, actor, user_id, action, object, detail, reason, inbox_id) VALUES (?, ?, ?, ?, ?, ?, \'\', ?)'),
  payKey: db.prepare("SELECT payment_id FROM payment_keys WHERE provider = 'stripe' AND key = ?"),
  pay: db.prepare(`INSERT INTO payments (provider, user_id, product_id, kind, amount, currency, live, state, inbox_id, created_at)
    VALUES ('stripe', ?, ?, 'one_off', ?, ?, ?, 'paid', ?, ?)`),
  key: db.prepare("INSERT INTO payment_keys (provider, key, payment_id) VALUES ('stripe', ?, ?)"),
  grant: db.prepare(`INSERT INTO grants (user_id, source, payment_id, product_id, amount, remaining, expires_at, created_at)
    VALUES (?, 'pack', ?, ?, ?, ?, 0, ?)`),
  ledger: db.prepare("INSERT INTO ledger (user_id, grant_id, amount, kind, reason, actor, inbox_id, created_at) VALUES (?, ?, ?, 'grant', '', ?, ?, ?)"),
  done: db.prepare("UPDATE inbox SET state = 'applied', reason = '', user_id = ?, updated_at = ? WHERE id = ?"),
};

const apply = db.transaction((evt, raw) => {
  const now = Date.now();
  const r = q.inbox.run(evt.id, evt.type, evt.livemode ? 1 : 0, evt.created * 1000, now, now);
  if (r.changes === 0) return 'duplicate';
  const inboxId = r.lastInsertRowid;
  q.body.run(inboxId, raw);
  const s = evt.data.object;
  const user = s.client_reference_id;
  const actor = `stripe:${evt.id}`;
  if (q.user.run(user, now).changes) q.audit.run(now, actor, user, 'user.create', user, '', inboxId);
  const keys = [s.payment_intent, s.id].filter(Boolean);
  if (keys.some((k) => q.payKey.get(k))) return 'applied';
  const p = q.pay.run(user, 'credits_500', s.amount_total, s.currency, evt.livemode ? 1 : 0, inboxId, now);
  for (const k of keys) q.key.run(k, p.lastInsertRowid);
  q.audit.run(now, actor, user, 'payment.received', `payment:${p.lastInsertRowid}`, 'one_off', inboxId);
  const g = q.grant.run(user, p.lastInsertRowid, 'credits_500', 500, 500, now);
  q.ledger.run(user, g.lastInsertRowid, 500, actor, inboxId, now);
  q.audit.run(now, actor, user, 'credits.grant', `grant:${g.lastInsertRowid}`, '+500', inboxId);
  q.done.run(user, now, inboxId);
  return 'applied';
});

const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 });
app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => done(null, body));
app.post('/webhooks/stripe', (req, reply) => {
  let evt;
  try {
    evt = stripe.webhooks.constructEvent(req.body, req.headers['stripe-signature'], secret, 86400);
  } catch (e) {
    return reply.code(400).send({ error: e.message });
  }
  const state = apply(evt, req.body);
  return reply.send({ ok: true, state });
});
app.listen({ port: Number(port), host: '127.0.0.1' });
