// peer.js: the real vodozemac (inside @matrix-org/matrix-sdk-crypto-wasm)
// as a scriptable peer for qrlogin's Go interop tests.
//
// Protocol: one JSON request per line on stdin, one JSON response per line
// on stdout, in order. Every request has "id" and "op"; every response
// echoes "id" and has "ok" (true, plus the op's fields) or "ok": false and
// "error". Keys, messages and QR bytes are base64 as the wasm API takes them
// (keys unpadded standard base64, QR bytes standard base64).
//
// Ops:
//   version                                   -> {package}
//   ecies_new                                 -> {handle, public_key}
//   establish_outbound {handle, peer_key, plaintext}
//                                             -> {channel, message, check_code}
//   establish_inbound  {handle, message}      -> {channel, plaintext, check_code}
//   encrypt {channel, plaintext}              -> {message}
//   decrypt {channel, message}                -> {plaintext}
//   qr_parse {b64}                            -> {kind, intent, public_key, rendezvous_url,
//                                                 server_name, base_url, rendezvous_id, b64}
//   qr_make_msc4108 {public_key, rendezvous_url, server_name?}  -> {b64}
//   qr_make_msc4388 {public_key, rendezvous_id, base_url, intent} -> {b64}
//
// check_code = {bytes: [b0, b1], digits: to_digit() as two characters
// (2024, leading zero allowed), no_leading_zero: toDigitNoLeadingZero()}.
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const readline = require("node:readline");
const wasm = require("@matrix-org/matrix-sdk-crypto-wasm");

const unestablished = new Map(); // handle -> Ecies
const channels = new Map(); // handle -> EstablishedEcies
let nextHandle = 1;

function handle(prefix) {
  return `${prefix}${nextHandle++}`;
}

function need(map, key, what) {
  const v = map.get(key);
  if (v === undefined) throw new Error(`unknown ${what} handle ${JSON.stringify(key)}`);
  return v;
}

function checkCode(channel) {
  const code = channel.check_code();
  const n = code.to_digit();
  return {
    bytes: Array.from(code.as_bytes()),
    digits: String(n).padStart(2, "0"),
    no_leading_zero: code.toDigitNoLeadingZero(),
  };
}

function describeQR(q) {
  const data = q.intentData;
  const v4108 = data.msc4108;
  const v4388 = data.msc4388;
  return {
    kind: v4108 ? "msc4108" : v4388 ? "msc4388" : "unknown",
    intent: q.mode,
    public_key: q.publicKey.toBase64(),
    rendezvous_url: v4108 ? v4108.rendezvousUrl : null,
    server_name: v4108 && v4108.serverName !== undefined ? v4108.serverName : null,
    base_url: v4388 ? v4388.baseUrl : null,
    rendezvous_id: v4388 ? v4388.rendezvousId : null,
    b64: Buffer.from(q.toBytes()).toString("base64"),
  };
}

const ops = {
  version() {
    // The package's "exports" hide package.json from require().
    const file = path.join(__dirname, "node_modules", "@matrix-org", "matrix-sdk-crypto-wasm", "package.json");
    return { package: JSON.parse(fs.readFileSync(file, "utf8")).version };
  },
  ecies_new() {
    const e = new wasm.Ecies();
    const h = handle("e");
    unestablished.set(h, e);
    return { handle: h, public_key: e.public_key().toBase64() };
  },
  establish_outbound(req) {
    const e = need(unestablished, req.handle, "ECIES");
    unestablished.delete(req.handle);
    const res = e.establish_outbound_channel(new wasm.Curve25519PublicKey(req.peer_key), req.plaintext);
    const h = handle("c");
    channels.set(h, res.channel);
    return { channel: h, message: res.initial_message, check_code: checkCode(res.channel) };
  },
  establish_inbound(req) {
    const e = need(unestablished, req.handle, "ECIES");
    unestablished.delete(req.handle);
    const res = e.establish_inbound_channel(req.message);
    const h = handle("c");
    channels.set(h, res.channel);
    return { channel: h, plaintext: res.message, check_code: checkCode(res.channel) };
  },
  encrypt(req) {
    return { message: need(channels, req.channel, "channel").encrypt(req.plaintext) };
  },
  decrypt(req) {
    return { plaintext: need(channels, req.channel, "channel").decrypt(req.message) };
  },
  qr_parse(req) {
    return describeQR(wasm.QrCodeData.fromBytes(Buffer.from(req.b64, "base64")));
  },
  qr_make_msc4108(req) {
    const key = new wasm.Curve25519PublicKey(req.public_key);
    const q = new wasm.QrCodeData(key, req.rendezvous_url, req.server_name || undefined);
    return { b64: Buffer.from(q.toBytes()).toString("base64") };
  },
  qr_make_msc4388(req) {
    const key = new wasm.Curve25519PublicKey(req.public_key);
    const q = wasm.QrCodeData.newMsc4388(key, req.rendezvous_id, req.base_url, req.intent);
    return { b64: Buffer.from(q.toBytes()).toString("base64") };
  },
};

function reply(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

async function main() {
  await wasm.initAsync();
  reply({ id: 0, ok: true, ready: true });
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.trim() === "") continue;
    let req;
    try {
      req = JSON.parse(line);
    } catch (e) {
      reply({ id: null, ok: false, error: `bad request line: ${e.message}` });
      continue;
    }
    const op = Object.prototype.hasOwnProperty.call(ops, req.op) ? ops[req.op] : undefined;
    if (!op) {
      reply({ id: req.id, ok: false, error: `unknown op ${JSON.stringify(req.op)}` });
      continue;
    }
    try {
      reply({ id: req.id, ok: true, ...op(req) });
    } catch (e) {
      reply({ id: req.id, ok: false, error: String(e && e.message ? e.message : e) });
    }
  }
}

main().catch((e) => {
  process.stderr.write(`peer.js: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
