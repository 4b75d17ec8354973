#!/usr/bin/env node
// twinnet interop client: drives twinnetd through msgpack5rpc, an
// independent msgpack-RPC implementation from the Node ecosystem.
//
//   node tests/interop/node_client.js PORT [CALLS_JSON]
//
// Steps, all on one TCP connection to 127.0.0.1:PORT:
//   1. notifications a real client sends and the server must ignore:
//      nvim_set_client_info (as pynvim and node-client do on connect) and a
//      "cancel" for a msgid that was never sent;
//   2. every call of calls.json, all sent at once (pipelined) and matched by
//      msgpack5rpc's own msgid bookkeeping;
//   3. metrics.subscribe, then node.upsert of a test node with a Chinese
//      name; waits for the "event" notification of that epoch.
// Prints one JSON document on stdout: library versions, each call's
// {error, result}, the order replies arrived in, the write's reply and the
// event notifications seen. Exits 2 (with a JSON "fatal") on a timeout or a
// lost connection, so the Python test fails loudly.

'use strict';

const fs = require('fs');
const net = require('net');
const path = require('path');
const Session = require('msgpack5rpc');

const TIMEOUT_MS = Number(process.env.TN_INTEROP_TIMEOUT_MS || 15000);

function fatal(msg, extra) {
  process.stdout.write(JSON.stringify(Object.assign({ fatal: msg }, extra || {})) + '\n');
  process.exit(2);
}

function pkgVersion(name) {
  const p = path.join(__dirname, 'node_modules', name, 'package.json');
  return JSON.parse(fs.readFileSync(p, 'utf8')).version;
}

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0 || port > 65535) {
  fatal('usage: node_client.js PORT [CALLS_JSON]');
}
const callsFile = process.argv[3] || path.join(__dirname, 'calls.json');
const calls = JSON.parse(fs.readFileSync(callsFile, 'utf8')).calls;

const out = {
  client: 'msgpack5rpc',
  versions: {
    node: process.versions.node,
    msgpack5rpc: pkgVersion('msgpack5rpc'),
    msgpack5: pkgVersion('msgpack5'),
  },
  results: {},
  arrival: [],
  max_in_flight: 0,
  write: null,
  events: [],
};

const timer = setTimeout(() => fatal('timed out after ' + TIMEOUT_MS + ' ms', { partial: out }),
  TIMEOUT_MS);

const sock = net.connect({ host: '127.0.0.1', port: port });
sock.setNoDelay(true);
sock.on('error', (e) => fatal('socket error: ' + e.message, { partial: out }));

const session = new Session();
let done = false;
session.on('detach', () => {
  if (!done) fatal('server closed the connection', { partial: out });
});
const eventWaiters = [];
session.on('notification', (method, args) => {
  if (method !== 'event') return;
  out.events.push(args);
  for (const w of eventWaiters.splice(0)) w();
});

// A promise around msgpack5rpc's callback API.
function call(method, params) {
  return new Promise((resolve) => {
    session.request(method, params, (err, res) => resolve({ error: err, result: res }));
  });
}

function waitEvent(epoch) {
  const seen = () => out.events.some((a) => Array.isArray(a) && a[0] && a[0].epoch === epoch);
  return new Promise((resolve) => {
    const check = () => (seen() ? resolve() : eventWaiters.push(check));
    check();
  });
}

async function main() {
  // 1. Notifications the server must swallow without a reply.
  session.notify('nvim_set_client_info',
    ['twinnet-interop-node', { major: 1, minor: 0 }, 'remote', {}, { website: 'none' }]);
  session.notify('cancel', [{ msgid: 4000000000 }]);

  // 2. Everything in flight at once.
  let inFlight = 0;
  const pending = calls.map((c) => {
    inFlight += 1;
    out.max_in_flight = Math.max(out.max_in_flight, inFlight);
    return call(c.method, c.params).then((r) => {
      inFlight -= 1;
      out.arrival.push(c.name);
      out.results[c.name] = r;
    });
  });
  await Promise.all(pending);

  // 3. A change through this client, and the event it causes.
  const sub = await call('metrics.subscribe', []);
  out.subscribe = sub;
  const node = {
    id: 'CN-430199',
    kind: 'city',
    name: 'Interop Node',
    name_zh: '互通测试',
    country: 'CN',
    parent: 'CN-430000',
  };
  out.write = await call('node.upsert', [{ node: node }]);
  out.written_node = node;
  if (out.write.error === null && out.write.result && typeof out.write.result.epoch === 'number') {
    await waitEvent(out.write.result.epoch);
  }
  out.after_write = await call('node.get', [{ id: node.id }]);
}

sock.on('connect', () => {
  session.attach(sock, sock);
  main().then(() => {
    done = true;
    clearTimeout(timer);
    process.stdout.write(JSON.stringify(out) + '\n', () => {
      sock.end();
      process.exit(0);
    });
  }, (e) => fatal('exception: ' + (e && e.stack ? e.stack : e), { partial: out }));
});
