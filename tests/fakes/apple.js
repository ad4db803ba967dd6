'use strict';
// A fake App Store Server API on 127.0.0.1 for the reconciliation tests,
// answering in Apple's format (app-store-server-library models and their test
// resources: getNotificationHistoryResponse.json,
// getAllSubscriptionStatusesResponse.json, transactionHistoryResponse.json,
// apiTooManyRequestsException.json):
//   POST /inApps/v1/notifications/history[?paginationToken=]
//   GET  /inApps/v1/subscriptions/{transactionId}
//   GET  /inApps/v2/history/{transactionId}[?revision=&sort=]
// Every request must carry the JWT Apple requires (ES256 with the key's
// public half, kid, typ JWT, iss, aud "appstoreconnect-v1", bid, iat, exp at
// most 60 minutes later); anything else is 401 as Apple answers it.
// Controllable: page size, the next N answers failing (429 with Retry-After,
// 500 ...), a delay before answering (timeouts).
const crypto = require('crypto');
const http = require('http');

class FakeApple {
  constructor({ publicKey, keyId, issuerId, bundleId, appAppleId, environment = 'Production', pageSize = 2 }) {
    Object.assign(this, { publicKey, keyId, issuerId, bundleId, appAppleId, environment, pageSize });
    this.notifications = []; // { signedPayload, signedDate, failed }
    this.statuses = {};      // transactionId -> data[] (Apple's shape)
    this.history = {};       // transactionId -> [signedTransaction]
    this.requests = [];      // { method, url, claims, header, body }
    this.failures = [];      // queued { status, body, retryAfter }
    this.delayMs = 0;
    this.tokens = new Map(); // paginationToken -> offset
  }

  start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const answer = () => this.handle(req, Buffer.concat(chunks).toString(), res);
        if (this.delayMs) setTimeout(answer, this.delayMs); else answer();
      });
    });
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => {
      this.url = `http://127.0.0.1:${this.server.address().port}`;
      resolve(this);
    }));
  }

  stop() {
    const done = new Promise((resolve) => this.server.close(resolve));
    this.server.closeAllConnections();
    return done;
  }

  fail(status, { body, retryAfter, times = 1 } = {}) {
    for (let i = 0; i < times; i++) this.failures.push({ status, body, retryAfter });
  }

  // The JWT's checks, as Apple makes them; a reason when it does not pass.
  checkToken(auth) {
    const m = /^Bearer ([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(auth || '');
    if (!m) return { why: 'no bearer token' };
    let header;
    let claims;
    try {
      header = JSON.parse(Buffer.from(m[1], 'base64url'));
      claims = JSON.parse(Buffer.from(m[2], 'base64url'));
    } catch (e) {
      return { why: 'token not JSON' };
    }
    if (header.alg !== 'ES256' || header.kid !== this.keyId || header.typ !== 'JWT') return { why: 'bad header', header, claims };
    const sig = Buffer.from(m[3], 'base64url');
    const ok = sig.length === 64 && crypto.verify('sha256', Buffer.from(`${m[1]}.${m[2]}`),
      { key: this.publicKey, dsaEncoding: 'ieee-p1363' }, sig);
    if (!ok) return { why: 'bad signature', header, claims };
    const now = Math.floor(Date.now() / 1000);
    if (claims.iss !== this.issuerId || claims.aud !== 'appstoreconnect-v1' || claims.bid !== this.bundleId) return { why: 'bad claims', header, claims };
    if (!Number.isInteger(claims.iat) || !Number.isInteger(claims.exp) || claims.exp - claims.iat > 3600 ||
      claims.exp < now || claims.iat > now + 60) return { why: 'bad times', header, claims };
    return { header, claims };
  }

  send(res, status, body, headers = {}) {
    const text = body === undefined ? '' : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  handle(req, body, res) {
    const url = new URL(req.url, this.url);
    const tok = this.checkToken(req.headers.authorization);
    this.requests.push({ method: req.method, url: req.url, header: tok.header, claims: tok.claims, why: tok.why, body });
    if (tok.why) return this.send(res, 401);
    if (this.failures.length) {
      const f = this.failures.shift();
      const h = f.retryAfter !== undefined ? { 'Retry-After': String(f.retryAfter) } : {};
      const b = f.body !== undefined ? f.body
        : f.status === 429 ? { errorCode: 4290000, errorMessage: 'Rate limit exceeded.' }
          : f.status >= 500 ? { errorCode: 5000000, errorMessage: 'An unknown error occurred.' } : undefined;
      if (typeof b === 'string') {
        res.writeHead(f.status, { 'Content-Type': 'application/json', ...h });
        return res.end(b);
      }
      return this.send(res, f.status, b, h);
    }
    let m;
    if (req.method === 'POST' && url.pathname === '/inApps/v1/notifications/history') return this.notificationHistory(url, body, res);
    if (req.method === 'GET' && (m = /^\/inApps\/v1\/subscriptions\/([^/]+)$/.exec(url.pathname))) return this.subscriptionStatuses(decodeURIComponent(m[1]), res);
    if (req.method === 'GET' && (m = /^\/inApps\/v2\/history\/([^/]+)$/.exec(url.pathname))) return this.transactionHistory(decodeURIComponent(m[1]), url, res);
    return this.send(res, 404, { errorCode: 4040000, errorMessage: 'Not found.' });
  }

  notificationHistory(url, body, res) {
    let q;
    try { q = JSON.parse(body); } catch (e) { return this.send(res, 400, { errorCode: 4000000, errorMessage: 'Invalid request.' }); }
    if (!Number.isInteger(q.startDate) || !Number.isInteger(q.endDate)) {
      return this.send(res, 400, { errorCode: 4000028, errorMessage: 'Invalid start date.' });
    }
    const all = this.notifications.filter((n) => n.signedDate >= q.startDate && n.signedDate <= q.endDate && (!q.onlyFailures || n.failed));
    let offset = 0;
    const token = url.searchParams.get('paginationToken');
    if (token !== null) {
      if (!this.tokens.has(token)) return this.send(res, 400, { errorCode: 4000006, errorMessage: 'Invalid pagination token.' });
      offset = this.tokens.get(token);
    }
    const page = all.slice(offset, offset + this.pageSize);
    const hasMore = offset + this.pageSize < all.length;
    const out = {
      hasMore,
      notificationHistory: page.map((n) => ({
        sendAttempts: [{ attemptDate: n.signedDate + 1000, sendAttemptResult: n.failed ? 'NO_RESPONSE' : 'SUCCESS' }],
        signedPayload: n.signedPayload,
      })),
    };
    if (hasMore) {
      out.paginationToken = crypto.randomUUID();
      this.tokens.set(out.paginationToken, offset + this.pageSize);
    }
    return this.send(res, 200, out);
  }

  subscriptionStatuses(id, res) {
    const data = this.statuses[id];
    if (!data) return this.send(res, 404, { errorCode: 4040010, errorMessage: 'Transaction id not found.' });
    return this.send(res, 200, { environment: this.environment, bundleId: this.bundleId, appAppleId: this.appAppleId, data });
  }

  transactionHistory(id, url, res) {
    const all = this.history[id];
    if (!all) return this.send(res, 404, { errorCode: 4040010, errorMessage: 'Transaction id not found.' });
    const rev = url.searchParams.get('revision');
    const offset = rev ? Number(rev.slice(4)) : 0;
    const page = all.slice(offset, offset + this.pageSize);
    const hasMore = offset + this.pageSize < all.length;
    return this.send(res, 200, {
      revision: `rev_${offset + page.length}`, hasMore, bundleId: this.bundleId, appAppleId: this.appAppleId,
      environment: this.environment, signedTransactions: page,
    });
  }
}

module.exports = { FakeApple };
