// Issue 19 in the real window (see harness.mjs): the log's detail pane says in words why a
// response is what it is. A conditional request gets 304 and the pane names the ETag that
// matched; with the SPA fallback on, a page navigation to a route with no file gets the root
// index.html and the pane says the fallback answered.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { appPerFile, httpGet, tempDir } from "./harness.mjs";

/** @type {import("./harness.mjs").App} */
let app;
const site = { dir: "", url: "" };

appPerFile({}, (launched) => (app = launched));

test("a 304 is explained by the ETag that matched", { timeout: 60_000 }, async () => {
  await app.ready();
  site.dir = tempDir("wharf-e2e-why-");
  writeFileSync(join(site.dir, "index.html"), "<!DOCTYPE html><title>Why</title><h1>Why site</h1>");
  writeFileSync(join(site.dir, "page.txt"), "a small file\n");
  site.url = await app.addSite(site.dir);

  const first = await httpGet(new URL("page.txt", site.url));
  assert.equal(first.status, 200);
  const etag = String(first.headers.etag);
  const again = await httpGet(new URL("page.txt?again", site.url), { headers: { "If-None-Match": etag } });
  assert.equal(again.status, 304);

  await app.click("#tab-log");
  const text = await app.showDetail("/page.txt?again", /If-None-Match matched the file's ETag/, "the 304 explained");
  assert.match(text, /Why\s*The file at this path answered\./);
  await app.screenshot("40-why-304");
});

test("a SPA fallback is explained as the fallback answering a navigation", { timeout: 60_000 }, async () => {
  await app.click("#tab-settings");
  await app.run(`document.querySelector("#set-spa-fallback").scrollIntoView({ block: "center" });`);
  await app.click("#set-spa-fallback");
  await app.run(`document.querySelector("#settings-apply").scrollIntoView({ block: "center" });`);
  await app.click("#settings-apply");
  await app.waitForText("#apply-result", (t) => t.includes("Generation 2 applies"), "generation 2 applied");

  const route = await httpGet(new URL("app/settings", site.url), { headers: { Accept: "text/html" } });
  assert.equal(route.status, 200);
  await app.click("#tab-log");
  await app.showDetail("/app/settings", /the SPA fallback answered with the root index\.html/, "the fallback explained");
  await app.screenshot("41-why-spa-fallback");
});
