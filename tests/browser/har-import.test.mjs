// HAR export imported by Chrome DevTools itself (issue 19): the `wharf serve` binary with a
// durable log answers a real page load in headless Chromium, odd headers, a 304, a 404 and a
// HEAD; `wharf export-har` writes the session; then the DevTools front end that ships with the
// browser (`devtools://devtools/bundled/`) parses it with its own HAR code, the code behind
// Network › Import HAR: `HARFormat.HARRoot` (which throws on a missing or mistyped field) and
// `Importer.requestsFromHARLog` (which builds the Network panel's requests).
//
// Run: `npm run test:browser` (after `cargo build -p wharf-cli --bin wharf`).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Wharf, freePort, launchBrowser, makeSite, removeTempDirs, tempDir, wharfBin } from "./harness.mjs";

/** @type {import("playwright-core").Browser} */
let browser;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  removeTempDirs();
});

/** What DevTools made of each entry, read in its own page. */
async function importInDevTools(/** @type {string} */ text) {
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
    }, text);
  } finally {
    await page.close();
  }
}

test("Chrome DevTools imports a session's HAR with every request, header and type", async () => {
  const site = makeSite();
  const logs = tempDir("wharf-har-logs-");
  const wharf = await Wharf.start([site, "--port", String(await freePort()), "--log-dir", logs]);
  const base = wharf.url;
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
  const text = readFileSync(file, "utf8");
  const entries = JSON.parse(text).log.entries;

  const { refused, requests } = await importInDevTools(text);
  assert.match(refused, /NaN/, "DevTools refuses an entry without timings.wait");
  assert.equal(requests.length, entries.length);
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
