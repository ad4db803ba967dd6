'use strict';
// A fake of Stripe's REST API for reconciliation on 127.0.0.1 (PROVIDERS.md 2.5, Stripe's
// object shapes): GET /v1/events (newest first; created[gt], types[], limit, starting_after,
// has_more; only the last 30 days) and GET /v1/subscriptions/{id}, the secret key as a
// Bearer token (401 in Stripe's error shape otherwise). Controllable: the next answers
// failing (status, Retry-After), an answer after the first page failing, a delay.
const { FakeServer } = require('./base');

const THIRTY_DAYS = 30 * 86400;

class FakeStripeSync extends FakeServer {
  constructor({ key, pageSize = 100 }) {
    super();
    this.key = key;
    this.pageSize = pageSize;
    this.events = [];        // event objects, any order (listed newest first)
    this.subscriptions = {}; // id -> subscription object
    this.failures = [];      // { status, retryAfter, after } after: fail only once this many requests passed
  }

  record(req) {
    const url = new URL(req.url, 'http://x');
    return { method: req.method, path: url.pathname, query: url.searchParams, auth: req.headers.authorization };
  }

  fail(status, o = {}) { this.failures.push({ status, ...o }); }

  send(res, status, body, headers = {}) {
    res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  route(req, res) {
    const url = new URL(req.url, 'http://x');
    if (req.headers.authorization !== `Bearer ${this.key}`) {
      return this.send(res, 401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided: sk_test_****' } });
    }
    const f = this.failures[0];
    if (f && (f.after || 0) <= 0) {
      this.failures.shift();
      const h = f.retryAfter !== undefined ? { 'Retry-After': String(f.retryAfter) } : {};
      return this.send(res, f.status, { error: { type: f.status >= 500 ? 'api_error' : 'rate_limit_error', message: `failure ${f.status} injected` } }, h);
    }
    if (f) f.after--;
    if (req.method === 'GET' && url.pathname === '/v1/events') return this.list(url.searchParams, res);
    const m = /^\/v1\/subscriptions\/([^/]+)$/.exec(url.pathname);
    if (req.method === 'GET' && m) {
      const s = this.subscriptions[decodeURIComponent(m[1])];
      if (!s) return this.send(res, 404, { error: { type: 'invalid_request_error', code: 'resource_missing', message: `No such subscription: '${m[1]}'` } });
      return this.send(res, 200, s);
    }
    return this.send(res, 404, { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${url.pathname})` } });
  }

  list(q, res) {
    const now = Math.floor(Date.now() / 1000);
    const gt = q.has('created[gt]') ? Number(q.get('created[gt]')) : 0;
    const types = q.getAll('types[]');
    const limit = Math.min(Number(q.get('limit') || 10), 100);
    if (types.length > 20) return this.send(res, 400, { error: { type: 'invalid_request_error', message: 'types: at most 20' } });
    let all = this.events.filter((e) => e.created > gt && e.created > now - THIRTY_DAYS && (!types.length || types.includes(e.type)));
    all = all.sort((a, b) => b.created - a.created || (a.id < b.id ? 1 : -1));
    let start = 0;
    if (q.has('starting_after')) {
      start = all.findIndex((e) => e.id === q.get('starting_after')) + 1;
      if (start === 0) return this.send(res, 400, { error: { type: 'invalid_request_error', message: 'No such event' } });
    }
    const size = Math.min(limit, this.pageSize);
    const data = all.slice(start, start + size);
    return this.send(res, 200, { object: 'list', url: '/v1/events', has_more: start + size < all.length, data });
  }
}

module.exports = { FakeStripeSync };
