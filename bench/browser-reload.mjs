// The measuring half of bench/browser-reload.sh: live reload in headless Chromium, timed from
// the file write to what the user sees.
//
// - HTML: from just before `index.html` is written to the reloaded page's `load` event.
// - CSS: from just before `style.css` is written to the new sheet's `load` event, when the new
//   colour is in effect (checked there with getComputedStyle) and the page was not reloaded.
//
// Both clocks are Node's: the page reports each moment through a Playwright binding, so each
// sample also carries the binding's delivery (well under a millisecond), an upper bound. Each
// sample is split into the server's part (write -> the event reaching the page; mostly the
// watcher's 30 ms debounce) and the browser's (event -> reload done or style applied).
// Iterations alternate HTML and CSS and start once the page's stream has said hello.
//
// Env: WHARF_BIN (the release build, from the .sh). Usage: node bench/browser-reload.mjs
// [--iterations 50] [--target-ms 100]
import assert from "node:assert/strict";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import {
  Wharf,
  css,
  html,
  launchBrowser,
  makeSite,
  marker,
  newContext,
  openTab,
  removeTempDirs,
  save,
  setMarker,
  streamReady,
} from "../tests/browser/harness.mjs";

const { values } = parseArgs({
  options: {
    iterations: { type: "string", default: "50" },
    "target-ms": { type: "string", default: "100" },
    warmup: { type: "string", default: "3" },
  },
});
const iterations = Number(values.iterations);
const target = Number(values["target-ms"]);
const warmup = Number(values.warmup);

/** @type {{ what: string, detail: string, at: number }[]} */
const marks = [];
/** @type {Set<() => void>} */
const listeners = new Set();

/** The first mark after `since` that `what` and `detail` match, as it arrives. */
function nextMark(since, what, detail = undefined, timeout = 10_000) {
  return new Promise((resolve, reject) => {
    const check = () => {
      const mark = marks.find((m) => m.at >= since && m.what === what && (detail === undefined || m.detail === detail));
      if (!mark) return;
      listeners.delete(check);
      clearTimeout(timer);
      resolve(mark);
    };
    const timer = setTimeout(() => {
      listeners.delete(check);
      reject(new Error(`no ${what} ${detail ?? ""} within ${timeout} ms`));
    }, timeout);
    listeners.add(check);
    check();
  });
}

/** Runs in every document: reports the stream's events, the page's load, and each new sheet. */
function instrument() {
  const report = /** @type {any} */ (window).__benchMark;
  const Native = window.EventSource;
  window.EventSource = class extends Native {
    constructor(/** @type {string | URL} */ url, /** @type {EventSourceInit} */ init) {
      super(url, init);
      for (const kind of ["css", "reload"]) this.addEventListener(kind, () => report("event", kind));
    }
  };
  addEventListener("load", () => report("load", document.getElementById("text")?.textContent ?? ""));
  // A link's load event does not bubble; capture sees it before the page's own handler
  // removes the old sheet. The new sheet is in effect at this point.
  document.addEventListener(
    "load",
    (event) => {
      if (event.target instanceof HTMLLinkElement) {
        report("sheet", getComputedStyle(/** @type {Element} */ (document.getElementById("text"))).color);
      }
    },
    true,
  );
}

const dir = makeSite();
const wharf = await Wharf.start([dir, "--port", "0"]);
const browser = await launchBrowser();
try {
  const context = await newContext(browser);
  await context.exposeBinding("__benchMark", (_source, what, detail) => {
    marks.push({ what, detail, at: performance.now() });
    listeners.forEach((check) => check());
  });
  await context.addInitScript(instrument);
  const page = await openTab(context, wharf.url);

  /** @type {Record<"html" | "css", { total: number, server: number }[]>} */
  const samples = { html: [], css: [] };
  const colors = ["rgb(0, 0, 255)", "rgb(0, 128, 0)"];
  for (let i = 0; i < warmup + iterations; i++) {
    const measured = i >= warmup;

    await streamReady([page]);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the last batch has long gone
    const text = `version ${i}`;
    let start = performance.now();
    save(join(dir, "index.html"), html(text));
    const htmlEvent = nextMark(start, "event", "reload");
    const loaded = await nextMark(start, "load", text);
    const htmlServer = (await htmlEvent).at - start;
    if (measured) samples.html.push({ total: loaded.at - start, server: htmlServer });

    await streamReady([page]);
    await setMarker(page, "kept");
    await new Promise((resolve) => setTimeout(resolve, 50));
    const color = colors[i % 2];
    start = performance.now();
    save(join(dir, "style.css"), css(color));
    const cssEvent = nextMark(start, "event", "css");
    const applied = await nextMark(start, "sheet", color);
    const cssServer = (await cssEvent).at - start;
    assert.equal(await marker(page), "kept", "a CSS save must not reload the page");
    if (measured) samples.css.push({ total: applied.at - start, server: cssServer });
  }

  // For scale: the browser's own reload of the same page, with no save and no server event.
  /** @type {number[]} */
  const plainReloads = [];
  for (let i = 0; i < warmup + iterations; i++) {
    await streamReady([page]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const start = performance.now();
    await page.evaluate(() => {
      /** @type {any} */ (window).__benchMark("reloading", "");
      location.reload();
    });
    const asked = await nextMark(start, "reloading");
    const loaded = await nextMark(start, "load");
    if (i >= warmup) plainReloads.push(loaded.at - asked.at);
  }

  const stats = (/** @type {number[]} */ values) => {
    const sorted = [...values].sort((a, b) => a - b);
    // Nearest rank: of 50 samples, p99 is the largest.
    const at = (q) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
    return { p50: at(0.5), p99: at(0.99), min: sorted[0], max: sorted.at(-1) ?? 0 };
  };
  const ms = (/** @type {number} */ v) => `${v.toFixed(1)} ms`;
  console.log(
    `wharf ${wharf.url} (${process.env.WHARF_BIN ?? "debug build"}), Chromium ${browser.version()}, ` +
      `${iterations} saves of each kind after ${warmup} warm-up rounds`,
  );
  let met = true;
  for (const [kind, label] of /** @type {const} */ ([
    ["html", "HTML save -> reloaded page's load event"],
    ["css", "CSS save -> new style applied, no reload"],
  ])) {
    const total = stats(samples[kind].map((s) => s.total));
    const server = stats(samples[kind].map((s) => s.server));
    const browserPart = stats(samples[kind].map((s) => s.total - s.server));
    console.log(`${label}: median ${ms(total.p50)}, p99 ${ms(total.p99)} (min ${ms(total.min)}, max ${ms(total.max)})`);
    console.log(`    of which write -> event in the page: median ${ms(server.p50)}; event -> done: median ${ms(browserPart.p50)}`);
    met &&= total.p99 <= target;
  }
  const plain = stats(plainReloads);
  console.log(
    `for scale, Chromium's own location.reload() of the page: median ${ms(plain.p50)}, p99 ${ms(plain.p99)}`,
  );
  console.log(`target: p99 <= ${target} ms: ${met ? "met" : "NOT met"}`);
  process.exitCode = met ? 0 : 1;
} finally {
  await browser.close();
  await wharf.stop();
  removeTempDirs();
}
