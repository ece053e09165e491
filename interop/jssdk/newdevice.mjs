// newdevice.mjs: matrix-js-sdk's MSC4108 (2024) sign-in code playing the NEW
// device that scanned a QR code shown by an existing device (QR mode 0x04,
// "reciprocate"), as a real peer for qrlogin's Go interop tests.
//
// Protocol: JSON lines. stdout carries events only; everything the libraries
// log goes to stderr. The first event is
//   {"event":"ready","js_sdk":"<version>","wasm":"<version>"}
// then the driver writes one request on stdin:
//   {"op":"scan","qr":"<standard base64 of the QR bytes>",
//    "device_id":"<optional; default: 10 random alphanumerics as js-sdk makes>"}
// and the peer runs the whole new-device side the way js-sdk's
// MSC4108SignInWithQR orders it (negotiateProtocols, deviceAuthorizationGrant,
// completeLoginOnNewDevice, shareSecrets), with the homeserver discovery, the
// client registration and a whoami that the app around it would do, reporting
// in this order (a failure jumps straight to "done"):
//   {"event":"qr","intent":1,"server_name":"...","rendezvous_url":"..."}
//   {"event":"check_code","code":"NN"}        the two digits the new device shows
//   {"event":"homeserver","base_url":"...","issuer":"...","device_grant":true}
//   {"event":"protocol_sent","device_id":"...","user_code":"...","verification_uri":"..."}
//                                             m.login.protocol is on the wire; the URI is
//                                             what js-sdk returns to show (_complete if any)
//   {"event":"logged_in","user_id":"...","device_id":"...","refresh_token":true}
//   {"event":"done","ok":true,"stage":"done","device_id":"...","user_id":"...",
//    "secrets":{"fields":[...],"master_key":{"bytes":32,"sha256":"<hex>"},...,
//               "backup":{"algorithm":"...","backup_version":"...","key":{...}}}}
//   {"event":"done","ok":false,"stage":"...","reason":"...","channel_failure":"...","error":"..."}
// Secret values are never written: keys are reported as their decoded
// length and the hex SHA-256 of the decoded bytes.
// The process exits after "done", or when stdin closes.
//
// Network: every request goes to 127.0.0.1 only (redirects included). The
// development homeserver speaks plain HTTP, so a bare server name
// "127.0.0.1:<port>" is looked up by js-sdk's AutoDiscovery at
// https://127.0.0.1:<port>/.well-known/matrix/client, which this peer sends
// as http:// (loopback only).

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import readline from "node:readline";

// Route console output to stderr before any library loads: js-sdk's logger
// writes through console.log/info, and stdout is the protocol.
for (const level of ["log", "info", "debug", "trace", "warn", "error"]) {
  console[level] = (...args) => process.stderr.write(`[${level}] ${args.map(String).join(" ")}\n`);
}

const wasm = await import("@matrix-org/matrix-sdk-crypto-wasm");
const sdk = await import("matrix-js-sdk");
const rz = await import("matrix-js-sdk/lib/rendezvous/index.js");
const oauth = await import("matrix-js-sdk/lib/oauth/index.js");
const { secureRandomString } = await import("matrix-js-sdk/lib/randomstring.js");

function emit(obj) {
  process.stdout.write(JSON.stringify(obj) + "\n");
}

function packageVersion(name) {
  const file = new URL(`./node_modules/${name}/package.json`, import.meta.url);
  return JSON.parse(readFileSync(file, "utf8")).version;
}

// ---- 127.0.0.1-only fetch ------------------------------------------------

const realFetch = globalThis.fetch;
const maxRedirects = 5;

function requestURL(resource) {
  if (resource instanceof Request) return new URL(resource.url);
  return new URL(String(resource));
}

function checkLoopback(u) {
  if (u.hostname !== "127.0.0.1" || (u.protocol !== "http:" && u.protocol !== "https:")) {
    throw new Error(`refusing to fetch ${u.protocol}//${u.host}: this peer talks to 127.0.0.1 only`);
  }
}

// loopbackFetch follows redirects itself so that every hop is checked
// before a request leaves.
async function loopbackFetch(resource, options = {}) {
  let url = requestURL(resource);
  let opts = { ...options, redirect: "manual" };
  for (let hop = 0; ; hop++) {
    checkLoopback(url);
    const res = await realFetch(url, opts);
    process.stderr.write(`[http] ${opts.method || "GET"} ${url.origin}${url.pathname} -> ${res.status}\n`);
    const location = res.headers.get("location");
    if (![301, 302, 303, 307, 308].includes(res.status) || !location || options.redirect === "manual") {
      return res;
    }
    if (hop >= maxRedirects) throw new Error(`too many redirects from ${url}`);
    url = new URL(location, url);
    const method = (opts.method || "GET").toUpperCase();
    if (res.status === 303 || ((res.status === 301 || res.status === 302) && method === "POST")) {
      const { body, ...rest } = opts;
      void body;
      opts = { ...rest, method: "GET" };
    }
  }
}
globalThis.fetch = loopbackFetch;

// discoveryFetch is what js-sdk's AutoDiscovery uses: it builds
// https://<server name>/.well-known/... and the loopback dev server has no TLS.
function discoveryFetch(resource, options) {
  const u = requestURL(resource);
  if (u.protocol === "https:" && u.hostname === "127.0.0.1") u.protocol = "http:";
  return loopbackFetch(u, options);
}
sdk.AutoDiscovery.setFetchFn(discoveryFetch);

// ---- reporting -----------------------------------------------------------

function keyReport(value) {
  if (typeof value !== "string") return null;
  const bytes = Buffer.from(value, "base64");
  const r = { bytes: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") };
  bytes.fill(0);
  return r;
}

function secretsReport(s) {
  const cs = s.cross_signing || {};
  const r = {
    fields: Object.keys(s).sort(),
    master_key: keyReport(cs.master_key),
    self_signing_key: keyReport(cs.self_signing_key),
    user_signing_key: keyReport(cs.user_signing_key),
    backup: null,
  };
  if (s.backup) {
    r.backup = {
      algorithm: String(s.backup.algorithm ?? ""),
      backup_version: String(s.backup.backup_version ?? ""),
      key: keyReport(s.backup.key),
    };
  }
  return r;
}

// ---- the new device ------------------------------------------------------

const clientMetadata = {
  client_name: "qrlogin interop: matrix-js-sdk new device",
  client_uri: "https://qrlogin-interop.example.org/",
  application_type: "native",
  redirect_uris: ["http://127.0.0.1/callback"],
};

async function scan(req) {
  const state = { stage: "qr", channelFailure: undefined };
  const onFailure = (reason) => {
    if (state.channelFailure === undefined) state.channelFailure = reason;
  };
  let qr;
  try {
    qr = wasm.QrCodeData.fromBytes(new Uint8Array(Buffer.from(String(req.qr || ""), "base64")));
  } catch (e) {
    return failed(state, e);
  }
  const serverName = qr.serverName;
  const rendezvousUrl = qr.rendezvousUrl;
  emit({ event: "qr", intent: qr.mode, server_name: serverName ?? null, rendezvous_url: rendezvousUrl ?? null });

  try {
    if (qr.mode !== wasm.QrCodeIntent.Reciprocate || !rendezvousUrl || !serverName) {
      throw new Error("not a 2024 QR code of an existing device (mode 0x04 with a rendezvous URL and a server name)");
    }

    // What a js-sdk new device that scanned does: the rendezvous session on
    // the QR's URL, the channel with the generator's key, and the flow with
    // didScanCode=true and no client (= new device).
    state.stage = "secure_channel";
    const session = new rz.MSC4108RendezvousSession({ url: rendezvousUrl, onFailure, fetchFn: loopbackFetch });
    const channel = new rz.MSC4108SecureChannel(session, qr.publicKey, onFailure);
    const flow = new rz.MSC4108SignInWithQR(channel, true, undefined, onFailure);
    // New device + didScanCode: connect() (LoginInitiate, then LoginOk) and
    // nothing else; the homeserver is ours to take from the QR code.
    await flow.negotiateProtocols();
    emit({ event: "check_code", code: flow.checkCode });

    state.stage = "discovery";
    const config = await sdk.AutoDiscovery.findClientConfig(serverName);
    const hs = config["m.homeserver"];
    if (hs.state !== sdk.AutoDiscovery.SUCCESS || !hs.base_url) {
      throw new Error(`homeserver discovery for ${JSON.stringify(serverName)} failed: ${hs.state} ${hs.error ?? ""}`);
    }
    const baseUrl = hs.base_url;
    const anon = sdk.createClient({ baseUrl, fetchFn: loopbackFetch });
    const metadata = await anon.getAuthMetadata();
    const deviceGrant = metadata.grant_types_supported.includes(oauth.OAuthGrantType.DeviceAuthorization);
    emit({ event: "homeserver", base_url: baseUrl, issuer: metadata.issuer, device_grant: deviceGrant });
    if (!deviceGrant || !metadata.device_authorization_endpoint) {
      throw new Error("the homeserver does not offer the device authorization grant");
    }

    state.stage = "registration";
    const clientId = await oauth.OAuth2.registerClient(metadata, clientMetadata);

    state.stage = "device_authorization";
    const deviceId = req.device_id || secureRandomString(10);
    state.deviceId = deviceId;
    const grant = await flow.deviceAuthorizationGrant({ metadata, clientId, deviceId });
    emit({
      event: "protocol_sent",
      device_id: deviceId,
      user_code: grant.userCode ?? null,
      verification_uri: grant.verificationUri ?? null,
    });

    state.stage = "token";
    const tokens = await flow.completeLoginOnNewDevice({ clientId });
    if (!tokens) throw new Error("no token response");
    const me = await sdk
      .createClient({ baseUrl, accessToken: tokens.access_token, fetchFn: loopbackFetch })
      .whoami();
    state.userId = me.user_id;
    emit({
      event: "logged_in",
      user_id: me.user_id,
      device_id: me.device_id ?? null,
      refresh_token: typeof tokens.refresh_token === "string",
    });
    if (me.device_id && me.device_id !== deviceId) {
      throw new Error(`the access token is for device ${me.device_id}, not ${deviceId}`);
    }

    state.stage = "secrets";
    const { secrets } = await flow.shareSecrets();
    emit({
      event: "done",
      ok: true,
      stage: "done",
      device_id: deviceId,
      user_id: me.user_id,
      secrets: secrets ? secretsReport(secrets) : null,
      channel_failure: state.channelFailure ?? null,
    });
  } catch (e) {
    failed(state, e);
  }
}

function failed(state, e) {
  emit({
    event: "done",
    ok: false,
    stage: state.stage,
    reason: e instanceof rz.RendezvousError ? String(e.code) : null,
    channel_failure: state.channelFailure ?? null,
    device_id: state.deviceId ?? null,
    user_id: state.userId ?? null,
    error: String(e && e.message ? e.message : e),
  });
}

async function main() {
  await wasm.initAsync();
  emit({ event: "ready", js_sdk: packageVersion("matrix-js-sdk"), wasm: packageVersion("@matrix-org/matrix-sdk-crypto-wasm") });
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  lines.on("close", () => process.exit(0));
  for await (const line of lines) {
    if (line.trim() === "") continue;
    let req;
    try {
      req = JSON.parse(line);
    } catch (e) {
      emit({ event: "error", error: `bad request line: ${e.message}` });
      continue;
    }
    if (req.op !== "scan") {
      emit({ event: "error", error: `unknown op ${JSON.stringify(req.op)}` });
      continue;
    }
    await scan(req);
    // Exit once "done" has been flushed (stdout may be asynchronous).
    await new Promise((resolve) => process.stdout.write("", resolve));
    process.exit(0);
  }
}

main().catch((e) => {
  process.stderr.write(`newdevice.mjs: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
