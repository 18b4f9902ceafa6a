// Issue 18 in the real window (see harness.mjs): a proxy rule typed in the site's Settings sends
// /api to an upstream server this test runs, and the live log shows the proxied request; a
// network rule with the Slow 3G preset slows the site down, the header says "Throttled", and its
// Turn off button makes the site fast again. The tests build on each other in order, as a user's
// session would. Timings are bounds the rule's 2 s latency makes far apart, never exact figures.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { appPerFile, httpGet, tempDir } from "./harness.mjs";

/** @type {import("./harness.mjs").App} */
let app;
/** The upstream: answers every request with what it was asked, as JSON. */
const upstream = createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify({ upstream: true, url: req.url, host: req.headers.host }));
});
const site = { dir: "", url: "" };
let upstreamUrl = "";
/** Slow 3G adds 2,000 ms before the first byte: a request that took less was not slowed. */
const SLOWED_MS = 1_500;

before(async () => {
  await new Promise((resolveListen) => upstream.listen(0, "127.0.0.1", () => resolveListen(undefined)));
  upstreamUrl = `http://127.0.0.1:${/** @type {import("node:net").AddressInfo} */ (upstream.address()).port}`;
});

appPerFile({}, (launched) => (app = launched));

after(() => {
  upstream.closeAllConnections();
  upstream.close();
});

/** Replaces the text of a table cell as a person types it (WebDriver keys, not a script). */
async function typeInto(css, text) {
  const input = await app.$(css);
  await input.clear();
  await input.sendKeys(text);
}

/** Clicks `css` once scrolled to the middle of the view (clear of the form's sticky Apply bar). */
async function press(css) {
  await app.run(`document.querySelector(arguments[0]).scrollIntoView({ block: "center" });`, css);
  await app.click(css);
}

/** Waits for the apply result of generation `n`. */
function applied(n) {
  return app.waitForText("#apply-result", (t) => t.includes(`Generation ${n} applies`), `generation ${n} applied`);
}

/** The log row whose target is `target`, as `{ served, target, total }`, once it is there. */
async function logRow(target) {
  return /** @type {{ served: string, target: string, total: string, outcome: string, network?: string, mark?: string, status: string }} */ (await app.waitFor(
    `const row = [...document.querySelectorAll("#log-table [data-record-id]")]
       .find((r) => r.querySelector(".log-target").textContent === arguments[0]);
     return row ? { served: row.dataset.served, target: row.querySelector(".log-target").textContent,
                    total: row.querySelector(".log-total").textContent, outcome: row.dataset.outcome,
                    network: row.dataset.network, mark: row.querySelector(".log-target").dataset.mark,
                    status: row.querySelector(".log-status").textContent } : null;`,
    `a log row for ${target}`,
    10_000,
    target,
  ));
}

/** "2050 ms" or "12.1 s" (the log's Total column) in milliseconds. */
function totalMs(text) {
  const match = /^([\d.]+) (ms|s)$/.exec(text);
  assert.ok(match, `a duration: ${text}`);
  return Number(match[1]) * (match[2] === "s" ? 1000 : 1);
}

test("a site is added and served at full speed", { timeout: 60_000 }, async () => {
  await app.ready();
  site.dir = tempDir("wharf-e2e-proxy-");
  writeFileSync(join(site.dir, "index.html"), "<!DOCTYPE html><title>Proxy</title><h1>Proxy site</h1>");
  writeFileSync(join(site.dir, "page.txt"), "a small file\n");
  site.url = await app.addSite(site.dir);
  const fast = await httpGet(new URL("page.txt", site.url));
  assert.equal(fast.status, 200);
  assert.ok(fast.ms < SLOWED_MS, `unthrottled: ${fast.ms} ms`);
  assert.equal(await app.run(`return document.querySelector("#throttle").hidden;`), true, "no badge without a rule");
});

test("a proxy rule typed in Settings sends /api to the upstream, and the log shows it", { timeout: 60_000 }, async () => {
  await app.click("#tab-settings");
  await press("#proxy-rules-add");
  const cell = (member) => `#proxy-rules-body tr[data-row] [data-member='${member}']`;
  assert.equal(await app.run(`return document.activeElement.dataset.member;`), "path", "Add focuses the new row's path");
  await typeInto(cell("path"), "/api");
  // A target the core refuses: the error comes back on the row and the cell it names.
  await typeInto(cell("target"), "ftp://127.0.0.1:1");
  await press("#settings-apply");
  const refused = await app.waitForText("#proxy-rules-error", (t) => t.startsWith("Proxy rules, row 1, Target: "), "the row's error");
  assert.equal(await app.run(`return document.querySelector("#proxy-rules-body tr[data-row]").dataset.error;`), "true");
  assert.equal(await app.$(cell("target")).getAttribute("aria-invalid"), "true", refused);
  assert.equal(await app.$(cell("path")).getAttribute("aria-invalid"), "false");
  await app.screenshot("20-proxy-error");

  await typeInto(cell("target"), upstreamUrl);
  assert.equal(await app.run(`return document.querySelector("#proxy-rules-error").hidden;`), true, "an edit clears the error");
  await press("#settings-apply");
  await applied(2);
  await app.waitForText("#apply-changes", (t) => t.includes("Proxy rules"), "the change, named by its label");

  const proxied = await httpGet(new URL("/api/users?page=2", site.url));
  assert.equal(proxied.status, 200);
  assert.deepEqual(JSON.parse(proxied.body), { upstream: true, url: "/api/users?page=2", host: upstreamUrl.slice(7) });
  assert.equal((await httpGet(new URL("page.txt", site.url))).body, "a small file\n", "other paths still serve files");

  await app.click("#tab-log");
  const row = await logRow("/api/users?page=2");
  assert.equal(row.served, "proxy");
  assert.equal(row.target, "/api/users?page=2");
  assert.equal(row.status, "200 proxy", "the status cell says the proxy answered");
  assert.equal(row.network ?? null, null, "no network rule yet");
  await app.run(
    `[...document.querySelectorAll("#log-table [data-record-id]")]
       .find((r) => r.querySelector(".log-target").textContent === "/api/users?page=2").click();`,
  );
  await app.waitForText("#log-detail", (t) => /Served\s*proxy/.test(t), "the detail pane of the proxied request, served by the proxy");
  await app.screenshot("21-proxy-log");
});

test("Slow 3G from the network table slows the site, and the header says Throttled", { timeout: 90_000 }, async () => {
  await app.click("#tab-settings");
  await press("#network-rules-add");
  const cell = (member) => `#network-rules-body tr[data-row] [data-member='${member}']`;
  await typeInto(cell("path"), "/**");
  await app.run(
    `const s = document.querySelector(arguments[0]); s.value = "slow-3g"; s.dispatchEvent(new Event("change", { bubbles: true }));`,
    cell("preset"),
  );
  assert.equal(await app.$("#set-network-conditions").isSelected(), true, "network conditions are on by default");
  await press("#settings-apply");
  await applied(3);
  await app.waitFor(`return !document.querySelector("#throttle").hidden;`, "the Throttled badge");
  assert.equal(await app.text("#throttle-badge"), "Throttled");
  assert.match(await app.$("#throttle-badge").getAttribute("title"), /\/\*\* preset=slow-3g/);
  await app.run(`document.querySelector("#network-rules").scrollIntoView({ block: "center" });`);
  await app.screenshot("22-network-table-and-badge");

  const slow = await httpGet(new URL("page.txt?slow", site.url));
  assert.equal(slow.status, 200);
  assert.equal(slow.body, "a small file\n");
  assert.ok(slow.ms >= SLOWED_MS, `Slow 3G adds 2 s before the first byte; took ${slow.ms} ms`);
  await app.click("#tab-log");
  const row = await logRow("/page.txt?slow");
  assert.ok(totalMs(row.total) >= SLOWED_MS, `the log's Total shows it: ${row.total}`);
  // The row says which rule slowed it, and that it still arrived whole.
  assert.equal(row.mark, "throttled");
  assert.equal(row.network, "throttle latency");
  assert.equal(row.outcome, "completed", "a slowed answer that arrived whole is no abort");
  await app.screenshot("23-throttled-log");
});

test("Turn off in the header turns every rule off in one click, and the rules stay", { timeout: 60_000 }, async () => {
  await press("#throttle-off");
  await app.waitFor(`return document.querySelector("#throttle").hidden;`, "the badge gone");
  const fast = await httpGet(new URL("page.txt?fast", site.url));
  assert.equal(fast.status, 200);
  assert.ok(fast.ms < SLOWED_MS, `fast again: ${fast.ms} ms`);

  await app.click("#tab-settings");
  assert.equal(await app.$("#set-network-conditions").isSelected(), false, "the switch in Settings is off");
  assert.equal(
    await app.run(`return document.querySelector("#network-rules-body [data-member='path']").value;`),
    "/**",
    "the rule stays, for the switch to turn back on",
  );
  assert.equal(await app.run(`return document.querySelector("#settings-dirty").hidden;`), true, "the form is clean");
  // The form's message is the Turn off's apply, not the last Apply's.
  await applied(4);
  await app.waitForText("#apply-changes", (t) => /Apply network conditions: on → off/.test(t), "the change, named by its label");
  await app.screenshot("24-turned-off");
});
