// HAR export imported by the browsers' own DevTools code (issue 19): the `wharf serve` binary
// with a durable log answers a real page load in headless Chromium, odd headers, a 304, a 404
// and a HEAD; `wharf export-har` writes the session; then
// - the DevTools front end that ships with Chromium (`devtools://devtools/bundled/`) parses it
//   with its own HAR code, the code behind Network › Import HAR: `HARFormat.HARRoot` (which
//   throws on a missing or mistyped field) and `Importer.requestsFromHARLog` (which builds the
//   Network panel's requests);
// - Firefox's network monitor, as Debian's firefox-esr ships it, imports it with its own
//   `HarImporter` into its own requests reducer (see firefox-devtools.mjs).
//
// Run: `npm run test:browser` (after `cargo build -p wharf-cli --bin wharf`; Firefox's part
// needs WHARF_FIREFOX_DEVTOOLS, which `npm test` sets on Linux).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { importInFirefox } from "./firefox-devtools.mjs";
import { Wharf, freePort, launchBrowser, makeSite, removeTempDirs, tempDir, wharfBin } from "./harness.mjs";

/** @type {import("playwright-core").Browser} */
let browser;

/** The session's URL, and its HAR as `wharf export-har` wrote it. */
let base = "";
let text = "";

// One session, recorded and exported once, for both importers.
before(async () => {
  browser = await launchBrowser();
  const site = makeSite();
  const logs = tempDir("wharf-har-logs-");
  const wharf = await Wharf.start([site, "--port", String(await freePort()), "--log-dir", logs]);
  base = wharf.url;
  try {
    // A page load: the document and its two stylesheets.
    const page = await browser.newPage();
    await page.goto(base);
    await page.close();
    const odd = await fetch(`${base}index.html?q=a+b&euro=%E2%82%AC`, {
      headers: { "X-Quoted": 'say "hi" \\ back', "X-Script": "</script><b>=1+1" },
    });
    assert.equal(odd.status, 200);
    const etag = (await fetch(`${base}style.css`)).headers.get("etag");
    assert.ok(etag);
    const notModified = await fetch(`${base}style.css?again`, { headers: { "If-None-Match": etag } });
    assert.equal(notModified.status, 304);
    assert.equal((await fetch(`${base}missing.js`)).status, 404);
    assert.equal((await fetch(`${base}index.html`, { method: "HEAD" })).status, 200);
  } finally {
    await wharf.stop();
  }
  const file = join(tempDir("wharf-har-out-"), "session.har");
  execFileSync(wharfBin(), ["export-har", "--log-dir", logs, "-o", file], { stdio: "pipe" });
  text = readFileSync(file, "utf8");
});

after(async () => {
  await browser?.close();
  removeTempDirs();
});

/** What Chrome DevTools made of each entry, read in its own page. */
async function importInChrome(/** @type {string} */ har) {
  const page = await browser.newPage();
  try {
    await page.goto("devtools://devtools/bundled/devtools_app.html");
    return await page.evaluate(async (json) => {
      // A path relative to the DevTools page: its own HAR module.
      const modulePath = "./models/har/har.js";
      /** @type {any} */
      const har = await import(modulePath);
      const root = new har.HARFormat.HARRoot(JSON.parse(json));
      const requests = har.Importer.Importer.requestsFromHARLog(root.log);
      // The same log with one field DevTools requires removed must be refused: the check can fail.
      const broken = JSON.parse(json);
      delete broken.log.entries[0].timings.wait;
      let refused = "";
      try {
        new har.HARFormat.HARRoot(broken);
      } catch (error) {
        refused = String(error);
      }
      return {
        refused,
        requests: requests.map((/** @type {any} */ request) => ({
          url: request.url(),
          method: request.requestMethod,
          status: request.statusCode,
          statusText: request.statusText,
          mimeType: request.mimeType,
          resourceType: request.resourceType().name(),
          connectionId: request.connectionId,
          remoteAddress: request.remoteAddress(),
          requestHeaders: request.requestHeaders(),
          responseHeaders: request.responseHeaders,
          protocol: request.protocol,
        })),
      };
    }, har);
  } finally {
    await page.close();
  }
}

test("Chrome DevTools imports a session's HAR with every request, header and type", async () => {
  const { refused, requests } = await importInChrome(text);
  assert.match(refused, /NaN/, "DevTools refuses an entry without timings.wait");
  assert.equal(requests.length, JSON.parse(text).log.entries.length);
  assert.ok(requests.length >= 8, `${requests.length} requests`);
  const find = (/** @type {string} */ method, /** @type {string} */ path) => {
    const found = requests.find((request) => request.method === method && request.url === `${base}${path}`);
    assert.ok(found, `${method} ${path} in ${requests.map((request) => request.url).join(", ")}`);
    return found;
  };
  const header = (/** @type {{ name: string, value: string }[]} */ headers, /** @type {string} */ name) =>
    headers.find((line) => line.name === name)?.value;

  const documentRequest = find("GET", "");
  assert.equal(documentRequest.status, 200);
  assert.equal(documentRequest.resourceType, "document");
  assert.match(documentRequest.mimeType, /^text\/html/);
  assert.equal(documentRequest.protocol, "http/1.1");
  assert.ok(/^\d+$/.test(documentRequest.connectionId), documentRequest.connectionId);
  assert.equal(documentRequest.remoteAddress, `127.0.0.1:${new URL(base).port}`);
  assert.match(header(documentRequest.requestHeaders, "user-agent") ?? "", /Chrome/);
  assert.ok(header(documentRequest.responseHeaders, "etag"));

  assert.equal(find("GET", "style.css").resourceType, "stylesheet");
  const oddRequest = find("GET", "index.html?q=a+b&euro=%E2%82%AC");
  assert.equal(header(oddRequest.requestHeaders, "x-quoted"), 'say "hi" \\ back');
  assert.equal(header(oddRequest.requestHeaders, "x-script"), "</script><b>=1+1");
  const notModified = find("GET", "style.css?again");
  assert.equal(notModified.status, 304);
  assert.equal(notModified.statusText, "Not Modified");
  const missing = find("GET", "missing.js");
  assert.equal(missing.status, 404);
  assert.equal(missing.statusText, "Not Found");
  assert.equal(find("HEAD", "index.html").status, 200);
});

test("Firefox's network monitor imports the same HAR with every request, header and timing", (t) => {
  const devtools = process.env.WHARF_FIREFOX_DEVTOOLS;
  if (!devtools) {
    // Linux always has it (`npm test` extracts it); elsewhere it is optional.
    assert.notEqual(process.platform, "linux", "WHARF_FIREFOX_DEVTOOLS is not set (scripts/deps.sh)");
    t.skip("no WHARF_FIREFOX_DEVTOOLS (Firefox's DevTools modules)");
    return;
  }
  const entries = JSON.parse(text).log.entries;
  const { requests } = importInFirefox(devtools, text);
  assert.equal(requests.length, entries.length);
  const port = new URL(base).port;
  requests.forEach((/** @type {any} */ request, /** @type {number} */ i) => {
    const entry = entries[i];
    const what = `${entry.request.method} ${entry.request.url}`;
    assert.equal(request.url, entry.request.url, what);
    assert.equal(request.method, entry.request.method, what);
    assert.equal(request.status, entry.response.status, what);
    assert.equal(request.statusText, entry.response.statusText, what);
    assert.equal(request.httpVersion, "HTTP/1.1", what);
    assert.equal(request.remoteAddress, "127.0.0.1", what);
    assert.equal(String(request.remotePort), port, what);
    assert.equal(request.startedMs, Date.parse(entry.startedDateTime), what);
    assert.ok(Number.isFinite(request.startedMs), what);
    // Firefox adds up the timings it knows (not -1): they make up the entry's time.
    assert.ok(Math.abs(request.totalTime - entry.time) < 0.002, `${what}: ${request.totalTime} against ${entry.time}`);
    assert.deepEqual(request.eventTimings.timings, entry.timings, what);
    assert.deepEqual(request.requestHeaders.headers, entry.request.headers, what);
    assert.deepEqual(request.responseHeaders.headers, entry.response.headers, what);
    assert.equal(request.contentSize, entry.response.content.size, what);
    assert.equal(request.mimeType, entry.response.content.mimeType, what);
  });
  const find = (/** @type {string} */ method, /** @type {string} */ path) =>
    requests.find((/** @type {any} */ request) => request.method === method && request.url === `${base}${path}`);
  assert.equal(find("GET", "style.css?again")?.status, 304);
  assert.equal(find("GET", "missing.js")?.status, 404);
  assert.equal(find("HEAD", "index.html")?.status, 200);
  const odd = find("GET", "index.html?q=a+b&euro=%E2%82%AC");
  const header = (/** @type {string} */ name) =>
    odd?.requestHeaders.headers.find((/** @type {any} */ line) => line.name === name)?.value;
  assert.equal(header("x-quoted"), 'say "hi" \\ back');
  assert.equal(header("x-script"), "</script><b>=1+1");
  assert.equal(odd?.urlDetails.host, `127.0.0.1:${port}`);
  assert.equal(odd?.urlDetails.isLocal, true);
  // The same log without a field Firefox's importer reads is refused: the check can fail.
  const broken = JSON.parse(text);
  delete broken.log.entries[0].cache;
  assert.throws(() => importInFirefox(devtools, JSON.stringify(broken)), TypeError);
});
