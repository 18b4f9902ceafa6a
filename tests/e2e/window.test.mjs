// End-to-end tests of the real desktop window (see harness.mjs). The tests share one app run
// and build on each other in order, as a user's session would: the welcome site, then a site
// added by path, its log, settings, connections, graphs and export.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { copyFileSync, existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer, get as httpGet, request as httpRequest } from "node:http";
import { get as httpsGet } from "node:https";
import { createServer as createTcpServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { appPerFile, tempDir } from "./harness.mjs";

/** @type {import("./harness.mjs").App} */
let app;
/** The site added by path, shared by the tests below. */
const site = { dir: "", url: "", id: "", requests: 0, bigSha256: "" };
const BIG_BYTES = 48 * 1024 * 1024;
/** The file the app's save dialog answers with: WebDriver cannot click a native dialog, so the
 * harness (not the window) names it at launch through the app's test-only variable. */
const exportPath = join(tempDir("wharf-e2e-export-"), "log.csv");

appPerFile(
  {
    // A settings file from a crashed editor: the app must back it up, say so and start anyway.
    prepare: (configDir) => writeFileSync(join(configDir, "sites.json"), '{"version":1,"sites":[{"id":'),
    env: { WHARF_TEST_EXPORT_PATH: exportPath },
  },
  (launched) => (app = launched),
);

/** GET (or another method) through node:http, counting it as one request to the site. */
function request(url, { method = "GET", headers = {} } = {}) {
  site.requests += 1;
  return new Promise((resolveResponse, reject) => {
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolveResponse({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

const visibleTargets = () =>
  app.run(`return [...document.querySelectorAll("#log-table [data-record-id] .log-target")].map((e) => e.textContent);`);

test("first launch serves the welcome site, and a corrupt settings file is backed up and reported", { timeout: 60_000 }, async () => {
  await app.ready();
  const url = await app.waitForText("#site-url", (t) => /^http:\/\/127\.0\.0\.1:\d+\/$/.test(t), "a loopback URL");
  assert.equal(await app.text("#site-state"), "Running");
  assert.equal(await app.run(`return document.querySelectorAll("#site-list [data-site-id]").length;`), 1);

  const welcome = await fetch(url);
  assert.equal(welcome.status, 200);
  assert.match(await welcome.text(), /Welcome to Wharf/);

  const banner = await app.waitForText("#error-text", (t) => /settings file/i.test(t), "the corrupt-settings notice");
  const backups = readdirSync(app.dirs.config).filter((name) => name.startsWith("sites.json.corrupt-"));
  assert.equal(backups.length, 1, `one backup in ${readdirSync(app.dirs.config)}`);
  assert.ok(banner.includes(backups[0]), `the notice names the backup: ${banner}`);
  assert.equal(readFileSync(join(app.dirs.config, backups[0]), "utf8"), '{"version":1,"sites":[{"id":');
  await app.screenshot("01-welcome");
  await app.click("#error-dismiss");
});

test("a site added by path is served, and its requests appear in the live log", { timeout: 60_000 }, async () => {
  site.dir = tempDir("wharf-e2e-site-");
  writeFileSync(join(site.dir, "index.html"), "<!DOCTYPE html><title>E2E</title><h1>E2E site</h1>");
  writeFileSync(join(site.dir, "hello.txt"), "hello from the e2e folder\n");
  const big = randomBytes(BIG_BYTES);
  writeFileSync(join(site.dir, "big.bin"), big);
  site.bigSha256 = createHash("sha256").update(big).digest("hex");

  await app.$("#add-path").sendKeys(site.dir);
  await app.click("#add-path-submit");
  await app.waitFor(`return document.querySelectorAll("#site-list [data-site-id]").length === 2;`, "a second site in the list");
  await app.waitForText("#site-root", (t) => t === site.dir, "the new site selected");
  site.url = await app.waitForText("#site-url", (t) => /^http:\/\/127\.0\.0\.1:\d+\/$/.test(t), "its URL");
  site.id = await app.run(`return document.querySelector("#site-list [aria-selected='true']").dataset.siteId;`);
  await app.click("#tab-graphs");
  await app.waitFor(`return !document.querySelector("#graphs-empty").hidden;`, "'No requests yet' above the empty graphs");

  assert.match((await request(site.url)).body.toString(), /E2E site/);
  assert.equal((await request(new URL("hello.txt", site.url))).body.toString(), "hello from the e2e folder\n");
  assert.equal((await request(new URL("missing.txt", site.url))).status, 404);
  assert.equal((await request(new URL("hello.txt", site.url), { method: "HEAD" })).status, 200);

  await app.click("#tab-log");
  await app.waitFor(
    `const targets = [...document.querySelectorAll("#log-table [data-record-id] .log-target")].map((e) => e.textContent);
     return targets.includes("/hello.txt") && targets.includes("/missing.txt") && targets.includes("/");`,
    "rows for /, /hello.txt and /missing.txt",
  );
  const statuses = await app.run(
    `return [...document.querySelectorAll("#log-table [data-record-id] .log-status")].map((e) => e.textContent);`,
  );
  assert.ok(statuses.includes("404") && statuses.includes("200"), `statuses: ${statuses}`);

  // Filter to client errors: only the 404 stays.
  await app.run(`const s = document.querySelector("#filter-status"); s.value = "4xx"; s.dispatchEvent(new Event("change", { bubbles: true }));`);
  await app.waitFor(
    `const t = [...document.querySelectorAll("#log-table [data-record-id] .log-target")].map((e) => e.textContent);
     return t.length === 1 && t[0] === "/missing.txt";`,
    "only /missing.txt under the 4xx filter",
  );
  await app.run(`const s = document.querySelector("#filter-status"); s.value = "all"; s.dispatchEvent(new Event("change", { bubbles: true }));`);
  await app.waitFor(`return document.querySelectorAll("#log-table [data-record-id]").length >= 4;`, "all rows back");
  await app.screenshot("02-log");
});

test("hostile strings from the network are shown as text and never run", { timeout: 60_000 }, async () => {
  const markup = `<img src=x onerror="window.__xss=1">`;
  const response = await request(new URL(`/${encodeURIComponent(markup)}`, site.url), {
    headers: { "User-Agent": `<img src=x onerror="window.__xss=2">`, Referer: `javascript:window.__xss=3` },
  });
  assert.equal(response.status, 404);

  const row = await app.waitFor(
    `const rows = [...document.querySelectorAll("#log-table [data-record-id]")];
     const row = rows.find((r) => r.querySelector(".log-target").textContent.includes("img"));
     return row ? row.dataset.recordId : null;`,
    "a row for the hostile request",
  );
  await app.click(`#log-table [data-record-id="${row}"]`);
  const detail = await app.waitForText("#log-detail", (t) => t.includes("window.__xss=2"), "the user agent in the detail pane");
  assert.ok(detail.includes(`<img src=x onerror="window.__xss=2">`), detail);
  assert.ok(detail.includes(markup) || detail.includes(encodeURIComponent(markup)), detail);
  await new Promise((r) => setTimeout(r, 500)); // give an injected image time to fail and fire
  assert.equal(await app.run(`return window.__xss ?? null;`), null, "no payload ran");
  assert.equal(await app.run(`return document.querySelectorAll("#log-table img, #log-detail img").length;`), 0);
  await app.screenshot("03-hostile");

  // A bidi override in a path is shown as <U+202E>, so the name reads in the order of its
  // characters ("invoice<U+202E>txt.exe", not "invoiceexe.txt").
  const spoof = "invoice\u202Etxt.exe";
  assert.equal((await request(new URL(`/${encodeURIComponent(spoof)}`, site.url))).status, 404);
  const spoofRow = await app.waitFor(
    `const row = [...document.querySelectorAll("#log-table [data-record-id]")]
       .find((r) => r.querySelector(".log-target").textContent.includes("invoice"));
     return row ? row.dataset.recordId : null;`,
    "a row for the bidi path",
  );
  await app.click(`#log-table [data-record-id="${spoofRow}"]`);
  const decoded = await app.waitForText("#log-detail", (t) => t.includes("invoice<U+202E>txt.exe"), "the override shown");
  assert.ok(!decoded.includes("\u202E"), "no raw override in the detail pane");

  // A page whose name was rebound to this computer (DNS rebinding) is refused, and its request
  // is marked as blocked in the live log.
  const rebound = await request(new URL("/rebound.txt", site.url), { headers: { Host: "evil.example" } });
  assert.equal(rebound.status, 403);
  assert.ok(rebound.body.toString().includes("evil.example"), "the 403 page names the host");
  const status = await app.waitFor(
    `const row = [...document.querySelectorAll("#log-table [data-record-id]")]
       .find((r) => r.querySelector(".log-target").textContent.includes("rebound.txt"));
     return row ? row.querySelector(".log-status").textContent : null;`,
    "a row for the rebound request",
  );
  assert.equal(status, "403 blocked");
  await app.screenshot("03-blocked");
});

test("keep-alive off applies as a new generation; a bad value is refused inline", { timeout: 60_000 }, async () => {
  await app.click("#tab-settings");
  const keepAlive = await app.$("#settings-form [name='keepAlive']");
  assert.equal(await keepAlive.isSelected(), true, "keep-alive is on by default");
  await keepAlive.click();
  await app.waitFor(`return !document.querySelector("#settings-dirty").hidden;`, "the draft marked dirty");
  await app.click("#settings-apply");
  await app.waitForText("#apply-result", (t) => /Generation 2 applies to new connections/.test(t), "generation 2");
  await app.waitForText("#apply-changes", (t) => t === "Keep-alive: on → off", "the change, named by its label");
  const closing = await request(new URL("hello.txt", site.url), { headers: { Connection: "keep-alive" } });
  assert.equal(closing.headers.connection, "close", "generation 2 has keep-alive off");

  // A value server-core refuses: the field says why and the server keeps generation 2.
  await app.run(
    `const f = document.querySelector("#settings-form [name='maxConnections']");
     f.value = "0"; f.dispatchEvent(new Event("input", { bubbles: true })); f.dispatchEvent(new Event("change", { bubbles: true }));`,
  );
  await app.click("#settings-apply");
  // Named by the label the form shows, with the bounds written as people read numbers.
  await app.waitForText(
    "[data-error-for='maxConnections']",
    (t) => t === "Max connections: 0 is out of range; use 1 to 1,000,000",
    "an inline error naming Max connections",
  );
  await app.screenshot("04-settings-error");
  const sites = await app.invoke("apply_settings", { id: "no-such-site", settings: {} });
  assert.ok(sites.error, "a made-up site id is refused");
  await app.click("#settings-discard");
  await app.waitFor(`return document.querySelector("#settings-dirty").hidden;`, "a clean form after Discard");
  assert.equal((await request(new URL("hello.txt", site.url))).status, 200, "still serving");
});

test("a slow download continues on its generation across an apply, byte for byte", { timeout: 90_000 }, async () => {
  // A client that reads the first chunk and then stops reading: the transfer stays in flight.
  site.requests += 1;
  const hash = createHash("sha256");
  let received = 0;
  /** @type {any} */
  let response;
  const done = new Promise((resolveDone, reject) => {
    const req = httpGet(new URL("big.bin", site.url), { agent: false }, (res) => {
      response = res;
      res.on("data", (chunk) => {
        hash.update(chunk);
        received += chunk.length;
      });
      res.once("data", () => res.pause());
      res.on("end", resolveDone);
      res.on("error", reject);
    });
    req.on("error", reject);
  });

  await app.click("#tab-connections");
  const oldGeneration = await app.waitFor(
    `const row = [...document.querySelectorAll("#connections-table tr[data-connection-id]")]
       .find((r) => r.querySelector(".conn-state").textContent.toLowerCase().includes("sending"));
     return row ? row.querySelector(".conn-generation").textContent : null;`,
    "the download's connection, sending",
  );
  assert.equal(String(oldGeneration).trim(), "2");
  await app.screenshot("05-connections");

  await app.click("#tab-settings");
  await app.$("#settings-form [name='keepAlive']").click();
  await app.click("#settings-apply");
  await app.waitForText(
    "#apply-result",
    (t) => /Generation 3 applies to new connections/.test(t) && /1 transfer continues on generation 2/.test(t),
    "generation 3 with one transfer continuing on 2",
  );
  await app.screenshot("06-apply-continuing");
  assert.ok(received < BIG_BYTES, "the download was still in flight at the apply");

  response.resume();
  await done;
  assert.equal(received, BIG_BYTES);
  assert.equal(hash.digest("hex"), site.bigSha256, "the download arrived byte for byte");
  await app.waitForText("#apply-result", (t) => /finished/.test(t), "the continuing count falling to none", 15_000);
});

test("a port in use is explained and the site keeps serving", { timeout: 60_000 }, async () => {
  const squatter = createTcpServer();
  await new Promise((ready) => squatter.listen(0, "127.0.0.1", () => ready(undefined)));
  const address = squatter.address();
  const taken = typeof address === "object" && address ? address.port : 0;
  try {
    await app.click("#tab-settings");
    const auto = await app.$("#port-automatic");
    if (await auto.isSelected()) {
      await auto.click();
    }
    await app.run(
      `const f = document.querySelector("#settings-form [name='port']");
       f.value = arguments[0]; f.dispatchEvent(new Event("input", { bubbles: true })); f.dispatchEvent(new Event("change", { bubbles: true }));`,
      String(taken),
    );
    await app.click("#settings-apply");
    const message = await app.waitForText("[data-error-for='port']", (t) => /in use/.test(t), "port in use, inline");
    assert.match(message, new RegExp(String(taken)));
    assert.equal((await request(new URL("hello.txt", site.url))).status, 200, "the old port still serves");
    await app.click("#settings-discard");
  } finally {
    squatter.close();
  }
});

test("the graphs draw requests per second and latency", { timeout: 60_000 }, async () => {
  for (let i = 0; i < 20; i += 1) {
    await request(new URL("hello.txt", site.url));
  }
  await app.click("#tab-graphs");
  for (const chart of ["#chart-rps", "#chart-ttfb", "#chart-phases", "#chart-total"]) {
    await app.waitFor(
      `const c = document.querySelector(arguments[0] + " canvas"); return !!c && c.width > 100 && c.height > 50;`,
      `${chart} drawn`,
      10_000,
      chart,
    );
  }
  // Samples close once a second; wait for one that holds the burst.
  await new Promise((r) => setTimeout(r, 2500));
  await app.waitFor(`return document.querySelector("#graphs-empty").hidden;`, "'No requests yet' gone once requests are counted");
  // The site started well under 15 minutes ago: the charts span its own time, not an empty quarter hour.
  const seconds = Number(await app.run(`return document.querySelector("#panel-graphs").dataset.seconds;`));
  assert.ok(seconds >= 30 && seconds < 600, `the charts span the site's own time: ${seconds} s`);
  await app.screenshot("07-graphs");
});

test("the Close button on a connection cuts that transfer only", { timeout: 60_000 }, async () => {
  site.requests += 1;
  /** @type {any} */
  let response;
  let received = 0;
  const cut = new Promise((resolveCut) => {
    const req = httpGet(new URL("big.bin", site.url), { agent: false }, (res) => {
      response = res;
      res.on("data", (chunk) => (received += chunk.length));
      res.once("data", () => res.pause());
      // `complete` is false when the body ended before its Content-Length.
      res.on("close", () => resolveCut(res.complete));
      res.on("error", () => undefined);
    });
    req.on("error", () => resolveCut(false));
  });
  await app.click("#tab-connections");
  const id = await app.waitFor(
    `const row = [...document.querySelectorAll("#connections-table tr[data-connection-id]")]
       .find((r) => r.querySelector(".conn-state").textContent.toLowerCase().includes("sending"));
     return row ? row.dataset.connectionId : null;`,
    "the download's connection, sending",
  );
  await app.click(`#connections-table tr[data-connection-id="${id}"] button.conn-close`);
  response.resume(); // read on, so the client sees where the body stops
  assert.equal(await cut, false, "the transfer was cut, not finished");
  assert.ok(received < BIG_BYTES, `cut short: ${received} of ${BIG_BYTES} bytes`);
  await app.waitFor(
    `return !document.querySelector('#connections-table tr[data-connection-id="' + arguments[0] + '"]');`,
    "the closed connection leaving the table",
    10_000,
    id,
  );
  assert.equal((await request(new URL("hello.txt", site.url))).status, 200, "the site serves on");
});

test("sharing on the LAN shows a LAN URL that serves, and a QR code; turning it off stops it", { timeout: 60_000 }, async () => {
  await app.click("#lan-toggle");
  const lanUrl = await app.waitForText("#lan-url", (t) => /^http:\/\/\d+\.\d+\.\d+\.\d+:\d+\/$/.test(t), "a LAN URL");
  assert.equal(new URL(lanUrl).port, new URL(site.url).port, "the same port on the LAN");
  assert.equal((await request(new URL("hello.txt", lanUrl))).status, 200, "served on the LAN address");
  assert.equal((await request(new URL("hello.txt", site.url))).status, 200, "and still on loopback");
  const dark = Number(await app.waitFor(
    `const c = document.querySelector("#lan-qr");
     if (!c || c.width < 21) return 0;
     const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
     let dark = 0;
     for (let i = 0; i < px.length; i += 4) if (px[i] < 100 && px[i + 3] > 0) dark += 1;
     return dark / (px.length / 4);`,
    "a QR code drawn",
  ));
  assert.ok(dark > 0.2 && dark < 0.7, `a QR code is roughly half dark modules, got ${dark}`);
  await app.screenshot("08-lan");

  await app.click("#lan-toggle");
  await app.waitFor(`return document.querySelector("#lan-url").textContent === "" || document.querySelector("#lan-details").hidden;`, "the LAN URL gone");
  await assert.rejects(request(new URL("hello.txt", lanUrl)), "nothing listens on the LAN address");
  site.requests -= 1; // the refused connection never reached the server
  assert.equal((await request(new URL("hello.txt", site.url))).status, 200, "loopback serves on");
});

test("HTTPS beside HTTP: the window shows the https URL and the fingerprint the server presents", { timeout: 60_000 }, async () => {
  await app.click("#tab-settings");
  await app.click("#settings-form [name='https']");
  await app.click("#settings-apply");
  const httpsUrl = await app.waitForText("#site-https-url", (t) => /^https:\/\/127\.0\.0\.1:\d+\/$/.test(t), "an https URL");
  const shown = await app.waitForText("#tls-fingerprint", (t) => /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/.test(t), "a SHA-256 fingerprint");

  // The only authority trusted is Wharf's local CA, in the app's data folder.
  const ca = readFileSync(join(app.dirs.data, "certs", "ca.pem"));
  site.requests += 1;
  const { status, body, fingerprint, protocol } = await new Promise((resolveGet, reject) => {
    const req = httpsGet(new URL("hello.txt", httpsUrl), { ca, agent: false }, (res) => {
      const chunks = [];
      const peer = /** @type {import("node:tls").TLSSocket} */ (res.socket);
      const fingerprint = peer.getPeerCertificate().fingerprint256;
      const protocol = peer.alpnProtocol;
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolveGet({ status: res.statusCode, body: Buffer.concat(chunks).toString(), fingerprint, protocol }));
    });
    req.on("error", reject);
  });
  assert.equal(status, 200);
  assert.equal(body, "hello from the e2e folder\n");
  assert.equal(fingerprint, shown, "the window shows the fingerprint of the certificate served");
  console.log(`# https: ${httpsUrl} over ${protocol || "http/1.1"}, fingerprint ${shown}`);
  assert.equal((await request(new URL("hello.txt", site.url))).status, 200, "HTTP serves on beside it");
  await app.screenshot("09-https");
});

test("export writes every request of the session to CSV and to HAR, only where the save dialog said", { timeout: 60_000 }, async () => {
  // The Export button: the app opens its own save dialog (answered by exportPath) and writes there.
  await app.click("#tab-log");
  await app.click("#export-csv");
  const shown = await app.waitForText("#export-result", (t) => t.startsWith("Exported "), "the export's result");
  assert.ok(shown.includes(exportPath), `the result names the file: ${shown}`);
  assert.equal(await app.run(`return document.querySelector("#export-reveal").hidden;`), false, "Reveal offered");
  const lines = readFileSync(exportPath, "utf8").trimEnd().split("\r\n");
  assert.ok(shown.startsWith(`Exported ${lines.length - 1} rows`), shown);
  assert.ok(lines.some((l) => l.includes("/hello.txt")));
  const hostile = lines.find((l) => l.includes("window.__xss=2"));
  assert.ok(hostile, "the hostile request is exported");
  assert.ok(!/(^|,)[=+\-@]/.test(hostile), `no cell starts a formula: ${hostile}`);

  // Export HAR…: the same dialog (its stand-in answers with HAR's extension), every request with
  // the headers the server saw and sent, the hostile one as text.
  await app.click("#export-har");
  const harPath = exportPath.replace(/\.csv$/, ".har");
  const harShown = await app.waitForText("#export-result", (t) => t.includes(harPath), "the HAR export's result");
  const har = JSON.parse(readFileSync(harPath, "utf8"));
  assert.equal(har.log.version, "1.2");
  assert.ok(harShown.startsWith(`Exported ${har.log.entries.length} entries`), harShown);
  assert.equal(har.log.entries.length, site.requests, "one entry per request made");
  const hello = har.log.entries.find((/** @type {any} */ e) => e.request.url.endsWith("/hello.txt"));
  assert.ok(hello, "the hello.txt request is in the HAR");
  assert.ok(
    hello.request.headers.some((/** @type {any} */ h) => h.name === "host"),
    `the request's headers are kept: ${JSON.stringify(hello.request.headers)}`,
  );
  assert.ok(hello.response.headers.some((/** @type {any} */ h) => h.name === "etag"), "and the response's");
  const userAgents = har.log.entries.flatMap((/** @type {any} */ e) =>
    e.request.headers.filter((/** @type {any} */ h) => h.name === "user-agent").map((/** @type {any} */ h) => h.value),
  );
  assert.ok(userAgents.includes(`<img src=x onerror="window.__xss=2">`), "the hostile user agent, byte for byte");

  // The window says what to export, never where: a path it sends is ignored.
  const planted = join(dirname(exportPath), "planted.csv");
  const exported = await app.invoke("export_csv", { id: site.id, path: planted, filter: {} });
  assert.ok(exported.ok, `export failed: ${JSON.stringify(exported.error)}`);
  assert.equal(exported.ok.path, exportPath);
  assert.equal(existsSync(planted), false, "nothing written where the window asked");
  assert.equal(exported.ok.records, site.requests, "one row per request made");
  assert.equal(readFileSync(exportPath, "utf8").trimEnd().split("\r\n").length - 1, exported.ok.rows);

  const errorsOnly = await app.invoke("export_csv", { id: site.id, filter: { status: "4xx" } });
  assert.ok(errorsOnly.ok, JSON.stringify(errorsOnly.error));
  assert.equal(errorsOnly.ok.records, 4, "the 404s (/missing.txt, the hostile path, the bidi one) and the blocked 403");

  // Reveal shows only what the app wrote, by export id; an id it never gave out is refused.
  const unknown = await app.invoke("reveal_export", { id: errorsOnly.ok.id + 1 });
  assert.equal(unknown.error?.kind, "openFailed", JSON.stringify(unknown));
  assert.match(unknown.error?.message ?? "", /was not written by Wharf/);
  const byPath = await app.invoke("reveal_export", { path: "/etc" });
  assert.ok(byPath.error, "a path is not an export id");

  // The whole session in the live log, for the README's picture.
  await app.click("#tab-log");
  await app.waitFor(`return document.querySelectorAll("#log-table [data-record-id]").length >= 12;`, "the session's rows");
  await app.screenshot("10-log-session");
});

test("Stop and Start from the window's button keep the address", { timeout: 60_000 }, async () => {
  const toggle = await app.$("#toggle-site");
  assert.equal(await toggle.getText(), "Stop");
  await toggle.click();
  await app.waitForText("#site-state", (t) => t === "Stopped", "Stopped");
  await assert.rejects(fetch(site.url), "nothing listens after Stop");
  await app.screenshot("11-stopped");
  await toggle.click();
  await app.waitForText("#site-state", (t) => t === "Running", "Running");
  assert.equal(await app.text("#site-url"), site.url, "Start comes back on the same address");
  assert.equal((await request(new URL("hello.txt", site.url))).status, 200);
});

/**
 * A pass-through HTTP proxy in front of Wharf that records each request's Range header and the
 * status and Content-Range of the answer, so the test sees what the media stack really did.
 */
async function recordingProxy(target) {
  /** @type {{ range: string | undefined, status: number | undefined, contentRange: string | undefined }[]} */
  const seen = [];
  const upstream = new URL(target);
  const server = createHttpServer((req, res) => {
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        seen.push({ range: req.headers.range, status: answer.statusCode, contentRange: answer.headers["content-range"] });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise((ready) => server.listen(0, "127.0.0.1", () => ready(undefined)));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/`, seen, close: () => server.close() };
}

test("a video served by Wharf loads and seeks in the WebKit window", { timeout: 90_000 }, async () => {
  const dir = tempDir("wharf-e2e-video-");
  copyFileSync(resolve(import.meta.dirname, "../fixtures/media/clip.webm"), join(dir, "clip.webm"));
  writeFileSync(
    join(dir, "video.html"),
    '<!DOCTYPE html><title>video</title><video src="clip.webm" preload="auto" muted width="320"></video>',
  );
  const added = await app.invoke("add_site", { root: dir });
  assert.ok(added.ok, `add_site failed: ${JSON.stringify(added.error)}`);
  const proxy = await recordingProxy(added.ok.url);
  try {
    // Leaves the app's own page: this is the last test of the session.
    await app.driver.get(new URL("video.html", proxy.url).href);
    const result = await app.driver.executeAsyncScript(`
      const done = arguments[arguments.length - 1];
      const video = document.querySelector("video");
      const report = (extra) => done(Object.assign({
        readyState: video.readyState,
        currentTime: video.currentTime,
        duration: video.duration,
        seekableEnd: video.seekable.length ? video.seekable.end(0) : -1,
        mediaError: video.error ? video.error.code : null,
      }, extra));
      const timer = setTimeout(() => report({ failed: "no seeked event within 20 s" }), 20000);
      video.addEventListener("error", () => { clearTimeout(timer); report({ failed: "media error" }); });
      const seek = () => {
        video.addEventListener("seeked", () => { clearTimeout(timer); report({}); }, { once: true });
        video.currentTime = 2.5;
      };
      if (video.readyState >= 1) seek(); else video.addEventListener("loadedmetadata", seek, { once: true });
    `);
    const media = proxy.seen.filter((r) => r.range !== undefined);
    console.log(`# video: ${JSON.stringify(result)}; requests: ${JSON.stringify(proxy.seen)}`);
    assert.equal(result.failed, undefined, JSON.stringify(result));
    assert.ok(result.seekableEnd >= 4, `seekable only to ${result.seekableEnd}`);
    assert.ok(Math.abs(result.currentTime - 2.5) < 0.5, `landed at ${result.currentTime}`);
    // On loopback WebKitGTK fetches a small clip whole and seeks in its buffer; whenever its
    // media stack does ask for a range, Wharf must answer 206. (Safari's probe sequence is
    // tested at the protocol level in server-core/tests/rfc9110.rs.)
    for (const r of media) {
      assert.equal(r.status, 206, `Range ${r.range} got ${r.status}`);
      assert.match(r.contentRange ?? "", /^bytes \d+-\d+\/39417$/);
    }
  } finally {
    proxy.close();
  }
});
