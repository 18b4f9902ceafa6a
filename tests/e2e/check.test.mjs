// Issue 19's site check in the real window (see harness.mjs): a site whose folder has a `.env`,
// an image linked with the wrong case and a broken link; its Check tab lists each finding under
// its file, with its line, severity and advice. Once the page is fixed, Check now drops the
// broken link and keeps the rest, and turning Clean URLs on in Settings resolves a link the check
// reported; a 404 a page meets is listed live under that page, and leaves once the file exists.
// The tests build on each other in order, as a user's session would.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { appPerFile, httpGet, tempDir } from "./harness.mjs";

/** @type {import("./harness.mjs").App} */
let app;
let dir = "";
let url = "";

appPerFile({}, (launched) => (app = launched));

/** The page, line by line: the image is on line 4, the link (when there) on line 5. */
const page = (link) =>
  ["<!DOCTYPE html>", "<title>Check</title>", "<h1>Check me</h1>", '<img src="Logo.png" alt="logo">', link].join("\n");

/** The findings as the tab shows them: `[file, kind, severity, place, message, advice]`. */
function findings() {
  return /** @type {Promise<string[][]>} */ (app.run(
    `return [...document.querySelectorAll("#check-findings .check-file")].flatMap((file) =>
       [...file.querySelectorAll(".check-item")].map((item) => [
         file.querySelector(".check-path").textContent, item.dataset.kind,
         item.querySelector(".check-severity").textContent, item.querySelector(".check-line").textContent,
         item.querySelector(".check-message").textContent, item.querySelector(".check-advice").textContent]));`,
  ));
}

test("the Check tab lists the folder's problems with their files and lines", { timeout: 60_000 }, async () => {
  await app.ready();
  dir = tempDir("wharf-e2e-check-");
  writeFileSync(join(dir, "index.html"), page('<a href="missing.html">Gone</a>'));
  writeFileSync(join(dir, "logo.png"), "not really a png");
  writeFileSync(join(dir, ".env"), "API_TOKEN=secret\n");
  url = await app.addSite(dir);

  await app.click("#tab-check");
  const summary = await app.waitForText("#check-summary", (t) => t.endsWith("in 2 files"), "the summary");
  assert.equal(summary, "3 errors in 2 files");
  assert.match(
    await app.text("#check-when"),
    /^Checked at \d\d:\d\d:\d\d · 3 files in the folder · with the 404s pages met this session$/,
  );
  const listed = await findings();
  assert.deepEqual(
    listed.map(([file, kind, severity, place]) => [file, kind, severity, place]),
    [
      [".env", "private_file", "error", "whole file"],
      ["index.html", "case_mismatch", "error", "line 4"],
      ["index.html", "broken_link", "error", "line 5"],
    ],
  );
  for (const [file, , , , message, advice] of listed) {
    assert.ok(message.length > 0 && advice.length > 0, `${file}: a message and advice`);
  }
  assert.ok(listed[1][4].includes("Logo.png"), listed[1][4]);
  assert.ok(listed[2][4].includes("missing.html"), listed[2][4]);
  await app.screenshot("30-check");
});

test("a fixed link is gone after Check now, and the rest stays", { timeout: 60_000 }, async () => {
  writeFileSync(join(dir, "index.html"), page('<a href="logo.png">The logo</a>'));
  await app.click("#check-now");
  const summary = await app.waitForText("#check-summary", (t) => t.endsWith("in 2 files") && t !== "3 errors in 2 files", "the new summary");
  assert.equal(summary, "2 errors in 2 files");
  const kinds = (await findings()).map(([file, kind]) => `${file} ${kind}`);
  assert.deepEqual(kinds, [".env private_file", "index.html case_mismatch"]);
});

test("the check follows the site's settings: with Clean URLs on, /about finds about.html", { timeout: 60_000 }, async () => {
  writeFileSync(join(dir, "about.html"), "<!DOCTYPE html><title>About</title>");
  writeFileSync(join(dir, "index.html"), page('<a href="about">About</a>'));
  await app.click("#check-now");
  await app.waitForText("#check-summary", (t) => t === "3 errors in 2 files", "the link to /about reported");
  assert.deepEqual((await findings()).at(-1)?.slice(0, 4), ["index.html", "broken_link", "error", "line 5"]);

  await app.click("#tab-settings");
  await app.run(`document.querySelector("#settings-form [name='cleanUrls']").scrollIntoView({ block: "center" });`);
  await app.click("#settings-form [name='cleanUrls']");
  await app.click("#settings-apply");
  await app.waitForText("#apply-result", (t) => /Generation 2 applies/.test(t), "generation 2");
  await app.click("#tab-check");
  await app.waitForText("#check-summary", (t) => t === "2 errors in 2 files", "the link to /about resolved");
  const kinds = (await findings()).map(([file, kind]) => `${file} ${kind}`);
  assert.deepEqual(kinds, [".env private_file", "index.html case_mismatch"]);
});

test("a 404 a page meets while the tab is shown is listed live, under the page that asked", { timeout: 60_000 }, async () => {
  // As a script of index.html would ask: the static check cannot see a URL a script builds.
  assert.equal((await httpGet(new URL("data/items.json?page=2", url), { headers: { Referer: url } })).status, 404);
  assert.equal((await httpGet(new URL("no-referer.png", url), { headers: { Referer: "" } })).status, 404);
  const summary = await app.waitForText("#check-summary", (t) => t === "3 errors in 2 files", "the live 404 listed");
  assert.equal(summary, "3 errors in 2 files");
  const live = (await findings()).filter(([, kind]) => kind === "live_not_found");
  assert.equal(live.length, 1, JSON.stringify(live));
  const [file, , severity, place, message, advice] = live[0];
  assert.deepEqual([file, severity, place], ["index.html", "error", "seen live"]);
  assert.ok(message.startsWith(`\`/data/items.json\` got 404 when ${url} asked for it (once, last at `), message);
  assert.ok(advice.includes("script"), advice);
  await app.screenshot("31-check-live");

  // Once the file exists, the next check drops it.
  mkdirSync(join(dir, "data"));
  writeFileSync(join(dir, "data", "items.json"), "[]");
  await app.click("#check-now");
  await app.waitForText("#check-summary", (t) => t === "2 errors in 2 files", "the live 404 gone once the file exists");
});
