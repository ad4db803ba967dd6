'use strict';
// A fake Stripe API on 127.0.0.1 for checkout: POST /v1/checkout/sessions and
// POST /v1/billing_portal/sessions, form-encoded as Stripe takes them, the
// secret key as a Bearer token (401 with Stripe's error shape otherwise),
// answering with Stripe's object shapes. Controllable: the next answers
// failing (status, body), a delay.
const http = require('http');
const crypto = require('crypto');

class FakeStripe {
  constructor({ key }) {
    this.key = key;
    this.requests = [];
    this.failures = [];
    this.delayMs = 0;
  }

  start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const go = () => this.handle(req, Buffer.concat(chunks).toString(), res);
        if (this.delayMs) setTimeout(go, this.delayMs); else go();
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

  send(res, status, body) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Request-Id': `req_${crypto.randomBytes(6).toString('hex')}` });
    res.end(text);
  }

  handle(req, body, res) {
    const form = Object.fromEntries(new URLSearchParams(body));
    this.requests.push({ method: req.method, path: req.url, form, auth: req.headers.authorization });
    if (req.headers.authorization !== `Bearer ${this.key}`) {
      return this.send(res, 401, { error: { type: 'invalid_request_error', message: 'Invalid API Key provided' } });
    }
    if (this.failures.length) {
      const f = this.failures.shift();
      return this.send(res, f.status, f.body !== undefined ? f.body
        : { error: { type: f.status >= 500 ? 'api_error' : 'invalid_request_error', message: f.message || 'failure injected' } });
    }
    const id = crypto.randomBytes(12).toString('hex');
    if (req.method === 'POST' && req.url === '/v1/checkout/sessions') {
      return this.send(res, 200, {
        id: `cs_test_${id}`, object: 'checkout.session', mode: form.mode, client_reference_id: form.client_reference_id,
        url: `https://checkout.stripe.com/c/pay/cs_test_${id}`, status: 'open', livemode: false,
      });
    }
    if (req.method === 'POST' && req.url === '/v1/billing_portal/sessions') {
      return this.send(res, 200, {
        id: `bps_${id}`, object: 'billing_portal.session', customer: form.customer, return_url: form.return_url,
        url: `https://billing.stripe.com/p/session/test_${id}`, livemode: false,
      });
    }
    return this.send(res, 404, { error: { type: 'invalid_request_error', message: `Unrecognized request URL (${req.method}: ${req.url})` } });
  }
}

module.exports = { FakeStripe };
