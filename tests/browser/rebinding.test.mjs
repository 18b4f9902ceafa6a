// DNS rebinding and cross-site loads in a real browser (issue 13, points 3 and 4): Chromium's
// resolver maps `evil.example` to 127.0.0.1, as a rebinding attacker's DNS would, and a page
// on that name tries to read the folder Wharf serves: by opening Wharf under its own name,
// and by loading Wharf's files from its own page on another port (`<script src>`, a
// `no-cors` fetch). Wharf must answer 403 to both, and the same page served from localhost
// must still work.
//
// Run: `npm run test:browser` (after `cargo build -p wharf-core --bin wharf`).
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { join } from "node:path";
import { after, afterEach, before, test } from "node:test";
import { WAIT, Wharf, freePort, launchBrowser, removeTempDirs, save, tempDir } from "./harness.mjs";

const SECRET = "WHARF-SECRET-REBIND-1d2e";

/** @type {import("playwright-core").Browser} */
let browser;
/** @type {(() => Promise<unknown>)[]} */
let cleanups = [];

before(async () => {
  browser = await launchBrowser(["--host-resolver-rules=MAP evil.example 127.0.0.1"]);
});
after(async () => {
  await browser?.close();
  removeTempDirs();
});
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  cleanups = [];
});

/** `wharf serve` on a folder holding a page, a script and a text file with the secret. */
async function serveSecret() {
  const dir = tempDir();
  save(join(dir, "index.html"), `<!doctype html><title>home</title><p>${SECRET}</p>`);
  save(join(dir, "secret.js"), `window.secret = "${SECRET}";\n`);
  save(join(dir, "secret.txt"), `${SECRET}\n`);
  const wharf = await Wharf.start([dir, "--port", String(await freePort()), "--access-log", "json"]);
  cleanups.push(() => wharf.stop());
  return wharf;
}

/** Another web server (the attacker's, or the user's own dev server) serving `html` at `/`. */
async function pageServer(/** @type {string} */ html) {
  const server = createServer((_request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    response.end(html);
  });
  const port = await freePort();
  await new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(undefined)));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return port;
}

async function newPage() {
  const context = await browser.newContext();
  cleanups.push(() => context.close());
  return context.newPage();
}

/** A page that loads `base`/secret.js as a script and fetches `base`/secret.txt in no-cors mode. */
function loaderPage(/** @type {string} */ base) {
  return `<!doctype html><title>loader</title>
<script>
  window.result = new Promise((resolve) => {
    const script = document.createElement("script");
    script.src = "${base}/secret.js";
    script.onload = () => resolve("loaded");
    script.onerror = () => resolve("error");
    document.head.append(script);
  });
  window.fetched = fetch("${base}/secret.txt", { mode: "no-cors" }).then((r) => r.type, (e) => "failed: " + e);
</script>`;
}

/**
 * Opens `url` (a page that loads Wharf's secret.js and secret.txt), waits until Wharf has
 * logged both requests as `served` (`blocked` for a 403 refusal), and returns what the page got.
 */
async function load(/** @type {Wharf} */ wharf, /** @type {string} */ url, /** @type {string} */ served) {
  const from = wharf.lines.length;
  const page = await newPage();
  await page.goto(url, { waitUntil: "load", timeout: WAIT });
  // Wharf's own access log says what it answered: Chromium hides a refused script's status
  // behind Opaque Response Blocking.
  for (const name of ["js", "txt"]) {
    await wharf.waitForLine(new RegExp(`"target":"/secret\\.${name}".*"served":"${served}"`), from);
  }
  const script = await page.evaluate(() => /** @type {any} */ (window).result);
  const secret = await page.evaluate(() => /** @type {any} */ (window).secret ?? null);
  const fetched = await page.evaluate(() => /** @type {any} */ (window).fetched);
  return { script, secret, fetched };
}

test("a rebound name gets the 403 page, and so does every fetch its page makes", async () => {
  const wharf = await serveSecret();
  const page = await newPage();
  const response = await page.goto(`http://evil.example:${wharf.port}/`, { timeout: WAIT });
  assert.equal(response?.status(), 403);
  const text = (await page.textContent("body")) ?? "";
  assert.ok(!text.includes(SECRET), text);
  assert.match(text, /"evil\.example"/);
  assert.match(text, /--allowed-host evil\.example/);
  assert.match(text, /"Allowed hosts"/);
  // The page now runs on the rebound origin: same-origin reads are what rebinding is after.
  const reads = await page.evaluate(async () =>
    Promise.all(
      ["/secret.txt", "/__wharf/reload.js"].map(async (path) => {
        const r = await fetch(path);
        return [r.status, await r.text()];
      }),
    ),
  );
  for (const [status, body] of reads) {
    assert.equal(status, 403);
    assert.ok(!String(body).includes(SECRET));
  }
});

test("a page of another site cannot load Wharf's files; the same page from localhost can", async () => {
  const wharf = await serveSecret();
  const evil = await pageServer(loaderPage(`http://127.0.0.1:${wharf.port}`));
  const attacked = await load(wharf, `http://evil.example:${evil}/`, "blocked");
  assert.equal(attacked.script, "error");
  assert.equal(attacked.secret, null);

  // The user's own dev server on localhost, another port: same-site, so it works.
  const own = await pageServer(loaderPage(`http://localhost:${wharf.port}`));
  const trusted = await load(wharf, `http://localhost:${own}/`, "file");
  assert.equal(trusted.script, "loaded");
  assert.equal(trusted.secret, SECRET);
  assert.equal(trusted.fetched, "opaque");
});
