// Issue 19 in the real window (see harness.mjs): the log's detail pane draws a request's
// timeline as a waterfall bar, with each phase's duration in words, and says whether its
// connection was new or reused. Two requests on one keep-alive connection: the first is on a
// new connection, the second on a reused one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { Agent } from "node:http";
import { join } from "node:path";
import { appPerFile, httpGet, tempDir } from "./harness.mjs";

/** @type {import("./harness.mjs").App} */
let app;

appPerFile({}, (launched) => (app = launched));

test("the detail pane draws a request's timeline, new and reused connections", { timeout: 90_000 }, async () => {
  await app.ready();
  const dir = tempDir("wharf-e2e-timeline-");
  writeFileSync(join(dir, "index.html"), "<!DOCTYPE html><title>Timeline</title><h1>Timeline site</h1>");
  writeFileSync(join(dir, "app.js"), `console.log(${JSON.stringify("x".repeat(20_000))});\n`);
  const url = await app.addSite(dir);

  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  assert.equal((await httpGet(new URL("index.html?first", url), { agent })).status, 200);
  assert.equal((await httpGet(new URL("app.js?second", url), { agent })).status, 200);
  agent.destroy();

  await app.click("#tab-log");
  const first = await app.showDetail("/index.html?first", /new connection/, "the first request's timeline");
  assert.match(first, /Timeline/);
  assert.match(first, /Connection setup \d/);
  assert.match(first, /Waiting for the head \d/);
  assert.match(first, /Resolving the file \d/);
  await app.run(`document.querySelector("#log-detail .waterfall").scrollIntoView({ block: "center" });`);
  await app.screenshot("42-detail-timeline-new-connection");

  const second = await app.showDetail("/app.js?second", /reused connection/, "the second request's timeline");
  for (const phase of ["Waiting for the head", "Resolving the file", "To first byte", "Transfer"]) {
    assert.match(second, new RegExp(`${phase} [\\d.]+ (ms|s)`), phase);
  }
  assert.doesNotMatch(second, /Connection setup|TLS handshake/, "a reused connection has no setup of its own");
  // The bar: one segment per phase, placed from JS (the CSP allows no style attributes in markup).
  const segments = await app.run(
    `return [...document.querySelectorAll("#log-detail .wf-bar .wf-seg")]
       .map((s) => [s.className, s.style.left, s.style.width, s.getBoundingClientRect().width]);`,
  );
  assert.equal(segments.length, 4, JSON.stringify(segments));
  for (const [name, left, width, drawn] of segments) {
    assert.match(left, /%$/, name);
    assert.match(width, /%$/, name);
    assert.ok(drawn > 0, `${name} is drawn`);
  }
  await app.run(`document.querySelector("#log-detail .waterfall").scrollIntoView({ block: "center" });`);
  await app.screenshot("43-detail-timeline-reused-connection");
});
