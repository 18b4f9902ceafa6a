// Live reload in a real browser: the `wharf serve` binary and headless Chromium (Debian's),
// driven by playwright-core. Each test saves files the way an editor does and checks what the
// page does: a reload (a new document: the `window.marker` set before is gone) or a stylesheet
// swap in place (the marker survives and no navigation happens).
//
// Run: `npm run test:browser` (after `cargo build -p wharf-core --bin wharf`). Timings are
// never asserted here; bench/browser-reload.sh measures them.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, test } from "node:test";
import { gzipSync } from "node:zlib";
import {
  BLUE,
  GREEN,
  RED,
  WAIT,
  Wharf,
  countNavigations,
  css,
  freePort,
  html,
  launchBrowser,
  makeSite,
  marker,
  newContext,
  openTab,
  removeTempDirs,
  save,
  saveAtomically,
  seen,
  setMarker,
  streamReady,
  tempDir,
  textColor,
  waitForColor,
} from "./harness.mjs";

/** @type {import("playwright-core").Browser} */
let browser;
/** What the current test started, stopped after it whatever happened. @type {(() => Promise<unknown>)[]} */
let cleanups = [];

before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  removeTempDirs();
});
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  cleanups = [];
});

async function serve(/** @type {string[]} */ args) {
  const wharf = await Wharf.start(args);
  cleanups.push(() => wharf.stop());
  return wharf;
}

async function context(options = {}) {
  const ctx = await newContext(browser, options);
  cleanups.push(() => ctx.close());
  return ctx;
}

/** Saves `file` and waits for the page's next load event (a reload, or a move elsewhere). */
async function saveAndWaitForReload(/** @type {import("playwright-core").Page[]} */ pages, file, text) {
  const loads = pages.map((page) => page.waitForEvent("load", { timeout: WAIT }));
  save(file, text);
  await Promise.all(loads);
}

function shownText(/** @type {import("playwright-core").Page} */ page) {
  return page.textContent("#text");
}

test("an HTML edit reloads the page", async () => {
  const dir = makeSite();
  const wharf = await serve([dir, "--port", "0"]);
  const page = await openTab(await context(), wharf.url);
  assert.equal(await shownText(page), "version 1");
  assert.equal(await page.locator('script[src="/__wharf/reload.js"]').count(), 1);

  for (const version of ["version 2", "version 3"]) {
    await streamReady([page]);
    await setMarker(page);
    await saveAndWaitForReload([page], join(dir, "index.html"), html(version));
    assert.equal(await marker(page), undefined, "a reload starts a new document");
    assert.equal(await shownText(page), version);
  }
});

test("a CSS edit swaps the stylesheet in place, with no reload", async () => {
  const dir = makeSite();
  const wharf = await serve([dir, "--port", "0"]);
  const page = await openTab(await context(), wharf.url);
  assert.equal(await textColor(page), RED);
  await streamReady([page]);
  await setMarker(page, "kept");
  await page.evaluate(() => {
    /** @type {any} */ (window).otherLink = document.querySelector('link[href="other.css"]');
  });
  const counts = countNavigations(page);

  for (const color of [BLUE, GREEN]) {
    save(join(dir, "style.css"), css(color));
    await waitForColor(page, color);
    // The old sheet goes once the new one has loaded: one link per sheet, none left behind.
    await page.waitForFunction(() => document.querySelectorAll('link[rel="stylesheet"]').length === 2, null, {
      polling: 20,
      timeout: WAIT,
    });
  }
  assert.equal(await marker(page), "kept", "the page's state survived: no reload");
  assert.deepEqual(counts, { loads: 0, navigations: 0 }, "no navigation happened");
  const state = await page.evaluate(() => ({
    styleHrefs: [...document.querySelectorAll("link")]
      .map((link) => new URL(link.href))
      .filter((url) => url.pathname === "/style.css")
      .map((url) => url.search),
    otherUntouched: document.querySelector('link[href="other.css"]') === /** @type {any} */ (window).otherLink,
  }));
  assert.equal(state.styleHrefs.length, 1);
  assert.match(state.styleHrefs[0], /^\?wharf=/, "the changed sheet was fetched anew");
  assert.ok(state.otherUntouched, "only the sheet that changed was swapped");
  const events = await seen(page);
  assert.deepEqual(
    events.map((event) => event.kind),
    ["hello", "css", "css"],
  );
  assert.equal(events[1].data, '{"paths":["style.css"]}');
});

test("a folder listing reloads when a file is added to the folder", async () => {
  const dir = makeSite();
  mkdirSync(join(dir, "photos"));
  save(join(dir, "photos", "first.jpg"), "jpg");
  const wharf = await serve([dir, "--port", "0"]);
  const page = await openTab(await context(), `${wharf.url}photos/`);
  assert.equal(await page.locator('a[href="./first.jpg"]').count(), 1);

  await streamReady([page]);
  await setMarker(page);
  await saveAndWaitForReload([page], join(dir, "photos", "second.jpg"), "jpg");
  assert.equal(await marker(page), undefined, "a reload starts a new document");
  await page.locator('a[href="./second.jpg"]').waitFor({ timeout: WAIT });
});

test("two tabs follow at once, over one event stream", async () => {
  const dir = makeSite();
  const wharf = await serve([dir, "--port", "0"]);
  const ctx = await context();
  let streams = 0;
  ctx.on("request", (request) => {
    if (new URL(request.url()).pathname === "/__wharf/reload") streams++;
  });
  const tabs = [await openTab(ctx, wharf.url), await openTab(ctx, wharf.url)];
  await streamReady(tabs);
  assert.equal(streams, 1, "one tab holds the stream; the other hears it over a BroadcastChannel");

  for (const tab of tabs) await setMarker(tab);
  await saveAndWaitForReload(tabs, join(dir, "index.html"), html("version 2"));
  for (const tab of tabs) {
    assert.equal(await marker(tab), undefined);
    assert.equal(await shownText(tab), "version 2");
  }

  await streamReady(tabs);
  for (const tab of tabs) await setMarker(tab, "kept");
  const counts = tabs.map(countNavigations);
  save(join(dir, "style.css"), css(BLUE));
  await Promise.all(tabs.map((tab) => waitForColor(tab, BLUE)));
  for (const tab of tabs) assert.equal(await marker(tab), "kept");
  assert.deepEqual(counts, [
    { loads: 0, navigations: 0 },
    { loads: 0, navigations: 0 },
  ]);
});

test("eight tabs, more than the six connections a browser opens per server, all load and follow", async () => {
  const dir = makeSite();
  const wharf = await serve([dir, "--port", "0"]);
  const ctx = await context();
  let streams = 0;
  ctx.on("request", (request) => {
    if (new URL(request.url()).pathname === "/__wharf/reload") streams++;
  });
  const tabs = [];
  for (let i = 0; i < 8; i++) tabs.push(await openTab(ctx, wharf.url));
  await streamReady(tabs);
  assert.equal(streams, 1);
  await saveAndWaitForReload(tabs, join(dir, "index.html"), html("version 2"));
  for (const tab of tabs) assert.equal(await shownText(tab), "version 2");
});

test("after the server restarts on the same port, the page reconnects and reloads by itself", async () => {
  const dir = makeSite();
  const first = await serve([dir, "--port", "0"]);
  const port = first.port;
  const page = await openTab(await context(), first.url);
  await streamReady([page]);
  await setMarker(page);

  const reloaded = page.waitForEvent("load", { timeout: 2 * WAIT });
  await first.stop();
  // Saved while nothing watches: the page learns of it only by reloading.
  save(join(dir, "index.html"), html("saved while stopped"));
  const second = await serve([dir, "--port", String(port)]);
  assert.equal(second.port, port);
  await reloaded;
  assert.equal(await marker(page), undefined);
  assert.equal(await shownText(page), "saved while stopped");

  // The new server's stream is live too.
  await streamReady([page]);
  await saveAndWaitForReload([page], join(dir, "index.html"), html("after the restart"));
  assert.equal(await shownText(page), "after the restart");
  assert.equal(new URL(page.url()).port, String(port));
});

test("with --config, a new config reloads the page once and a new port moves it there", async () => {
  const root = tempDir();
  const site = join(root, "site");
  mkdirSync(site);
  makeSite(site);
  const config = join(root, "wharf.toml");
  const firstPort = await freePort();
  saveAtomically(config, `root = "site"\nport = ${firstPort}\n`);
  const wharf = await serve(["--config", config]);
  assert.equal(wharf.port, firstPort);
  const page = await openTab(await context(), wharf.url);
  await streamReady([page]);
  await setMarker(page);

  // Same port, new generation: the stream ends, the page reconnects, hears a new server id
  // in the hello and reloads, once.
  const reloaded = page.waitForEvent("load", { timeout: WAIT });
  saveAtomically(config, `root = "site"\nport = ${firstPort}\ncors = true\n`);
  await wharf.waitForLine(/^generation 2 applied: cors off -> on/);
  await reloaded;
  assert.equal(await marker(page), undefined);
  await streamReady([page]);
  const [hello] = await seen(page);
  const server = JSON.parse(hello.data).server;
  assert.match(server, /-2$/, "the page now listens to generation 2");
  const script = await page.evaluate(() => fetch("/__wharf/reload.js").then((r) => r.text()));
  assert.ok(script.includes(`"${server}"`), "the page was served by the server its hello names, so it stays");

  // A new port: the old stream says where the server went, and the page follows.
  await setMarker(page);
  const secondPort = await freePort();
  const moved = page.waitForURL((url) => url.port === String(secondPort), { timeout: WAIT, waitUntil: "load" });
  const from = wharf.lines.length;
  saveAtomically(config, `root = "site"\nport = ${secondPort}\ncors = true\n`);
  await wharf.waitForLine(new RegExp(`^Serving .+ at http://127\\.0\\.0\\.1:${secondPort}/$`), from);
  await moved;
  assert.equal(await marker(page), undefined);
  assert.equal(await shownText(page), "version 1");

  // And it is live on the new port.
  await streamReady([page]);
  await saveAndWaitForReload([page], join(site, "index.html"), html("on the new port"));
  assert.equal(await shownText(page), "on the new port");
  assert.equal(new URL(page.url()).port, String(secondPort));
});

test("edits under node_modules/, .git/ and editors' temporary files do not reload", async () => {
  const dir = makeSite();
  for (const folder of ["node_modules/pkg", ".git"]) mkdirSync(join(dir, folder), { recursive: true });
  save(join(dir, "node_modules/pkg/index.js"), "module.exports = 1;\n");
  const wharf = await serve([dir, "--port", "0"]);
  const page = await openTab(await context(), wharf.url);
  await streamReady([page]);
  await setMarker(page, "kept");
  const counts = countNavigations(page);

  save(join(dir, "node_modules/pkg/index.js"), "module.exports = 2;\n");
  save(join(dir, "node_modules/pkg/new.js"), "module.exports = 3;\n");
  save(join(dir, ".git/index"), "x");
  save(join(dir, "index.html~"), "backup");
  // Proving that nothing happens takes a wait: the debounce sends a batch within 250 ms.
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal(await marker(page), "kept");
  assert.deepEqual(counts, { loads: 0, navigations: 0 });
  assert.deepEqual(
    (await seen(page)).map((event) => event.kind),
    ["hello"],
    "the server sent nothing",
  );

  // The stream was live all along: a real edit reloads.
  await saveAndWaitForReload([page], join(dir, "index.html"), html("version 2"));
  assert.equal(await shownText(page), "version 2");
});

test("a compressed page carries the script and works (gzip, and Chromium's own choice)", async () => {
  const dir = makeSite(tempDir(), { filler: 40 });
  const wharf = await serve([dir, "--port", "0"]);

  /** @type {[string, Record<string, string> | undefined, string[]][]} */
  const cases = [
    ["gzip only", { "accept-encoding": "gzip" }, ["gzip"]],
    ["Chromium's Accept-Encoding", undefined, ["br", "gzip"]],
  ];
  for (const [name, headers, encodings] of cases) {
    save(join(dir, "index.html"), html("version 1", { filler: 40 }));
    save(join(dir, "style.css"), css(RED));
    // A precompressed sibling, newer than the page but without the script: live reload must
    // not send it.
    save(join(dir, "index.html.gz"), gzipSync(html("stale sibling", { filler: 40 })));
    const ctx = await context(headers ? { extraHTTPHeaders: headers } : {});
    const page = await ctx.newPage();
    const response = await page.goto(wharf.url, { waitUntil: "load", timeout: WAIT });
    const encoding = response?.headers()["content-encoding"];
    assert.ok(encodings.includes(encoding ?? "identity"), `${name}: Content-Encoding ${encoding}`);
    assert.equal(await shownText(page), "version 1", `${name}: the page, not the stale sibling`);
    assert.equal(await page.locator('script[src="/__wharf/reload.js"]').count(), 1, name);

    await streamReady([page]);
    await setMarker(page, "kept");
    save(join(dir, "style.css"), css(BLUE));
    await waitForColor(page, BLUE);
    assert.equal(await marker(page), "kept", name);

    const reloadedResponse = page.waitForResponse((r) => r.request().isNavigationRequest(), { timeout: WAIT });
    await saveAndWaitForReload([page], join(dir, "index.html"), html("version 2", { filler: 40 }));
    assert.equal(await marker(page), undefined, name);
    assert.equal(await shownText(page), "version 2", name);
    assert.ok(encodings.includes((await reloadedResponse).headers()["content-encoding"] ?? "identity"), name);
    await ctx.close();
  }
});

test("a stylesheet saved with its source map, as Sass writes it, still swaps in place", async () => {
  const dir = makeSite();
  const wharf = await serve([dir, "--port", "0"]);
  const page = await openTab(await context(), wharf.url);
  await streamReady([page]);
  await setMarker(page, "kept");
  const counts = countNavigations(page);

  save(join(dir, "style.css"), `${css(BLUE)}/*# sourceMappingURL=style.css.map */\n`);
  save(join(dir, "style.css.map"), '{"version":3,"sources":["style.scss"],"mappings":""}\n');
  await waitForColor(page, BLUE);
  assert.equal(await marker(page), "kept");
  assert.deepEqual(counts, { loads: 0, navigations: 0 });
});

test("a sheet @imported by a linked sheet swaps in place; one @imported by a <style> reloads", async () => {
  const dir = tempDir();
  save(
    join(dir, "index.html"),
    `<!doctype html><link rel="icon" href="data:,"><link rel="stylesheet" href="main.css">
<style>@import url("inline.css");</style><p id="text">linked</p><p id="inline">inline</p>\n`,
  );
  save(join(dir, "main.css"), `@import url("theme.css");\n`);
  save(join(dir, "theme.css"), css(RED));
  save(join(dir, "inline.css"), "#inline { color: rgb(255, 0, 0); }\n");
  const wharf = await serve([dir, "--port", "0"]);
  const page = await openTab(await context(), wharf.url);
  await streamReady([page]);
  await setMarker(page, "kept");

  // theme.css is reached through main.css's link: swapping that link fetches it anew.
  save(join(dir, "theme.css"), css(BLUE));
  await waitForColor(page, BLUE);
  assert.equal(await marker(page), "kept");

  // inline.css hangs off a <style> element, which no link swap reaches: only a reload
  // shows the change (before the fix, the page silently kept the old colour).
  await saveAndWaitForReload([page], join(dir, "inline.css"), "#inline { color: rgb(0, 0, 255); }\n");
  assert.equal(await marker(page), undefined);
  assert.equal(
    await page.evaluate(() => getComputedStyle(/** @type {Element} */ (document.getElementById("inline"))).color),
    BLUE,
  );
});
