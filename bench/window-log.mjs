// The measuring half of bench/window-log.sh: drives the app through the end-to-end harness.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { launchApp, removeTempDirs } from "../tests/e2e/harness.mjs";

const fixture = process.env.WHARF_BENCH_FIXTURE;
const duration = Number(process.env.WHARF_BENCH_DURATION ?? "10");
const app = await launchApp();
try {
  await app.waitFor(`return document.body.dataset.ready === "true";`, "the window ready", 20_000);
  const added = await app.invoke("add_site", { root: fixture });
  if (!added.ok) throw new Error(JSON.stringify(added.error));
  const url = added.ok.url;
  await app.waitFor(`return !!document.querySelector('#site-list [data-site-id="' + arguments[0] + '"]');`, "the site listed", 10_000, added.ok.id);
  await app.click(`#site-list [data-site-id="${added.ok.id}"]`);
  await app.waitForText("#site-url", (t) => t === url, "the fixture site selected");
  await app.click("#tab-log");

  // Frame intervals, measured inside the window by requestAnimationFrame.
  await app.run(`
    window.__frames = [];
    let last = performance.now();
    const tick = (now) => { window.__frames.push(now - last); last = now; if (window.__measuring) requestAnimationFrame(tick); };
    window.__measuring = true;
    requestAnimationFrame(tick);
  `);
  const { stdout } = await promisify(execFile)("wrk", ["-t1", "-c50", `-d${duration}s`, `${url}1k.bin`]);
  await new Promise((r) => setTimeout(r, 500)); // the last batches
  const frames = /** @type {number[]} */ (await app.run(`window.__measuring = false; return window.__frames;`));
  const count = await app.text("#log-count");

  const sorted = frames.slice(1).sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(1);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1];
  console.log(`wrk: ${rps} requests/s for ${duration} s (1 KiB, 50 connections)`);
  console.log(`window: ${count}`);
  console.log(`frames: ${sorted.length}, interval p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${sorted.at(-1)?.toFixed(1)} ms`);
  await app.screenshot("bench-window-log");
} finally {
  await app.quit();
  removeTempDirs();
}
