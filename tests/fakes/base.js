'use strict';
// What the direct providers' fakes share: an HTTP server on 127.0.0.1 that reads each request's
// body, records it, and answers through the subclass's route(req, res, body) after an optional
// delay (delayFor(req) ms: timeouts); JSON answers.
const http = require('http');

class FakeServer {
  constructor() {
    this.requests = [];
  }

  start() {
    this.server = http.createServer((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.requests.push(this.record(req, body));
        const answer = () => this.route(req, res, body);
        const d = this.delayFor(req);
        if (d) setTimeout(() => { if (!res.destroyed) answer(); }, d); else answer();
      });
    });
    return new Promise((resolve) => {
      this.server.listen(0, '127.0.0.1', () => {
        this.url = `http://127.0.0.1:${this.server.address().port}`;
        resolve(this);
      });
    });
  }

  close() {
    if (this.server.closeAllConnections) this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }

  send(res, status, doc) {
    const body = JSON.stringify(doc);
    res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }

  // Overridden: what to remember of a request, how long to wait before answering.
  record(req, body) { return { method: req.method, url: req.url, body }; }
  delayFor() { return this.delayMs || 0; }
}

module.exports = { FakeServer };
