'use strict';
// A fake RevenueCat REST API v1 on 127.0.0.1 for the sync tests, answering
// GET /v1/subscribers/{app_user_id} in RevenueCat's response format (RevenueCat/docs
// openapi-spec/api-v1.yaml, schema Subscriber and its example), with the secret key
// checked as "Authorization: Bearer <key>". Like RevenueCat it creates a customer it does
// not know (201). Controllable: a status for a user (404 ...), the next N answers failing
// (429 with Retry-After ...), a delay before answering (timeouts).
const http = require('http');

// RevenueCat's dates: ISO 8601 UTC, whole seconds ("2019-07-26T17:40:10Z").
const iso = (ms) => (ms ? new Date(ms).toISOString().replace('.000Z', 'Z') : null);

// One subscriptions.<product_id> entry.
function subscription(o) {
  return {
    auto_resume_date: iso(o.autoResume),
    billing_issues_detected_at: iso(o.billingIssue),
    display_name: o.displayName || 'Pro Monthly',
    expires_date: iso(o.expires),
    grace_period_expires_date: iso(o.grace),
    is_sandbox: !!o.sandbox,
    original_purchase_date: iso(o.originalPurchased || o.purchased),
    ownership_type: 'PURCHASED',
    period_type: o.periodType || 'normal',
    price: { amount: o.price !== undefined ? o.price : 9.99, currency: o.currency || 'USD' },
    purchase_date: iso(o.purchased),
    refunded_at: iso(o.refunded),
    store: o.store || 'app_store',
    store_transaction_id: o.txn,
    unsubscribe_detected_at: iso(o.unsubscribe),
  };
}

// One element of non_subscriptions.<product_id>[].
function purchase(o) {
  return {
    display_name: o.displayName || '500 credits',
    id: o.id || Math.random().toString(16).slice(2, 12),
    is_sandbox: !!o.sandbox,
    price: { amount: o.price !== undefined ? o.price : 4.99, currency: o.currency || 'USD' },
    purchase_date: iso(o.purchased),
    store: o.store || 'app_store',
    store_transaction_id: o.txn,
  };
}

// subscriber: { original: '...', subs: {product: subscription(...)}, purchases: {product: [purchase(...)]},
//               entitlements: {id: {expires, product, purchased}} }
function subscriberDoc(s, now) {
  const ents = {};
  for (const [id, e] of Object.entries(s.entitlements || {})) {
    ents[id] = {
      expires_date: iso(e.expires), grace_period_expires_date: iso(e.grace),
      product_identifier: e.product, purchase_date: iso(e.purchased || now),
    };
  }
  return {
    request_date: iso(now),
    request_date_ms: now,
    subscriber: {
      entitlements: ents,
      first_seen: iso(s.firstSeen || now - 86400000),
      last_seen: iso(now),
      management_url: 'https://apps.apple.com/account/subscriptions',
      non_subscriptions: s.purchases || {},
      original_app_user_id: s.original,
      original_application_version: '1.0',
      original_purchase_date: iso(s.firstSeen || now - 86400000),
      other_purchases: {},
      subscriptions: s.subs || {},
      subscriber_attributes: { $email: { value: 'firstlast@example.com', updated_at_ms: 1662955084635 } },
    },
  };
}

class FakeRevenueCat {
  constructor({ apiKey }) {
    this.apiKey = apiKey;
    this.subscribers = new Map();
    this.statuses = new Map(); // user -> {status, body}
    this.failures = []; // {user, status, retryAfter, times}
    this.delays = new Map(); // user -> ms
    this.requests = [];
    this.now = null; // fixed request_date_ms, else Date.now()
  }

  start() {
    this.server = http.createServer((req, res) => this.handle(req, res));
    return new Promise((resolve) => {
      this.server.listen(0, '127.0.0.1', () => {
        this.port = this.server.address().port;
        this.url = `http://127.0.0.1:${this.port}`;
        resolve(this);
      });
    });
  }

  set(user, s) { this.subscribers.set(user, s); }
  status(user, status, body) { this.statuses.set(user, { status, body }); }
  failNext(user, status, { retryAfter, times = 1 } = {}) { this.failures.push({ user, status, retryAfter, times }); }
  delay(user, ms) { this.delays.set(user, ms); }
  reset() {
    this.statuses.clear(); this.failures = []; this.delays.clear(); this.requests = [];
  }

  send(res, status, doc, headers = {}) {
    const body = JSON.stringify(doc);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers });
    res.end(body);
  }

  handle(req, res) {
    const m = /^\/v1\/subscribers\/([^/?]+)$/.exec(req.url);
    const user = m ? decodeURIComponent(m[1]) : null;
    this.requests.push({ method: req.method, url: req.url, user, authorization: req.headers.authorization, platform: req.headers['x-platform'] });
    if (req.method !== 'GET' || !m) return this.send(res, 404, { code: 7000, message: 'Not found' });
    if (req.headers.authorization !== `Bearer ${this.apiKey}`) {
      return this.send(res, 401, { code: 7225, message: 'Invalid API Key.' });
    }
    const answer = () => {
      const f = this.failures.find((x) => x.user === user && x.times > 0);
      if (f) {
        f.times--;
        const h = f.retryAfter !== undefined ? { 'Retry-After': String(f.retryAfter) } : {};
        return this.send(res, f.status, { code: 7520, message: f.status === 429 ? 'Rate limit exceeded' : 'Error' }, h);
      }
      const st = this.statuses.get(user);
      if (st) return this.send(res, st.status, st.body || { code: 7259, message: 'Subscriber not found' });
      const now = this.now || Date.now();
      if (!this.subscribers.has(user)) return this.send(res, 201, subscriberDoc({ original: user }, now));
      return this.send(res, 200, subscriberDoc(this.subscribers.get(user), now));
    };
    const d = this.delays.get(user);
    if (d) setTimeout(() => { if (!res.destroyed) answer(); }, d); else answer();
    return undefined;
  }

  close() {
    if (this.server.closeAllConnections) this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

module.exports = { FakeRevenueCat, subscription, purchase, iso };
