// The browser tests' harness: the real `wharf serve` binary as a child process, headless
// Chromium from Debian driven by playwright-core, and waits on what actually happens (a
// line on stdout, a load event, what the page's event stream said) rather than on sleeps.
//
// Env: WHARF_BIN, the `wharf` binary (default `$CARGO_TARGET_DIR/debug/wharf`);
// WHARF_CHROMIUM, the browser (default `/usr/bin/chromium`).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { chromium } from "playwright-core";
import { tempDir as scratchDir } from "../support/scratch.mjs";

/** How long any single wait may take before the test fails. Generous: the machine is shared. */
export const WAIT = 10_000;

export function wharfBin() {
  const target = process.env.CARGO_TARGET_DIR ?? join(homedir(), ".cache/wharf/target");
  const bin = process.env.WHARF_BIN ?? join(target, "debug/wharf");
  assert.ok(existsSync(bin), `${bin} is missing: build it with \`cargo build -p wharf-core --bin wharf\``);
  return bin;
}

/** Launches the browser; `args` are extra command-line switches (e.g. `--host-resolver-rules=...`). */
export function launchBrowser(/** @type {string[]} */ args = []) {
  return chromium.launch({
    executablePath: process.env.WHARF_CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", ...args],
  });
}

export { freePort, removeTempDirs } from "../support/scratch.mjs";

/** A fresh folder, removed by `removeTempDirs`. */
export function tempDir(prefix = "wharf-browser-") {
  return scratchDir(prefix);
}

/** Writes in place, as most editors' plain save does. */
export function save(path, text) {
  writeFileSync(path, text);
}

/** Writes beside and renames over, as careful editors (and config tools) do. */
export function saveAtomically(path, text) {
  writeFileSync(`${path}.saving`, text);
  renameSync(`${path}.saving`, path);
}

/** A page that links `style.css` and `other.css`; `filler` pads it (compression needs ≥ 512 bytes). */
export function html(text, { filler = 0 } = {}) {
  const pad = filler ? `<p>${"padding so the page is compressed. ".repeat(filler)}</p>` : "";
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${text}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="style.css">
<link rel="stylesheet" href="other.css">
</head><body><p id="text">${text}</p>${pad}</body></html>
`;
}

export const RED = "rgb(255, 0, 0)";
export const BLUE = "rgb(0, 0, 255)";
export const GREEN = "rgb(0, 128, 0)";

export function css(color) {
  return `#text { color: ${color}; }\n`;
}

/** A site: index.html, style.css (red text) and other.css. */
export function makeSite(dir = tempDir(), { filler = 0 } = {}) {
  save(join(dir, "index.html"), html("version 1", { filler }));
  save(join(dir, "style.css"), css(RED));
  save(join(dir, "other.css"), "body { margin: 3px; }\n");
  return dir;
}

/** One `wharf serve` process. */
export class Wharf {
  /** @type {import("node:child_process").ChildProcess} */
  proc;
  /** Lines printed on stdout so far. @type {string[]} */
  lines = [];
  stderr = "";
  /** @type {Set<() => void>} */
  #watchers = new Set();
  /** @type {Promise<number | null>} */
  exited;

  /** Starts `wharf serve ARGS` and waits for its first line. */
  static async start(/** @type {string[]} */ args) {
    const wharf = new Wharf(args);
    const first = await wharf.waitForLine(/^Serving (.+) at (http:\/\/\S+)$/);
    wharf.url = first[2];
    return wharf;
  }

  constructor(/** @type {string[]} */ args) {
    this.args = args;
    this.proc = spawn(wharfBin(), ["serve", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    this.url = "";
    this.proc.stderr?.on("data", (chunk) => (this.stderr += chunk));
    createInterface({ input: /** @type {import("node:stream").Readable} */ (this.proc.stdout) }).on(
      "line",
      (line) => {
        this.lines.push(line);
        this.#watchers.forEach((notify) => notify());
      },
    );
    this.exited = new Promise((resolve) => this.proc.on("exit", (code) => resolve(code)));
    this.exited.then(() => this.#watchers.forEach((notify) => notify()));
  }

  get port() {
    return Number(new URL(this.url).port);
  }

  /** The first line from index `from` on that matches `pattern`, as its match. */
  waitForLine(/** @type {RegExp} */ pattern, from = 0, timeout = WAIT) {
    return new Promise((resolve, reject) => {
      let exited = false;
      this.exited.then(() => (exited = true));
      const check = () => {
        for (const line of this.lines.slice(from)) {
          const match = line.match(pattern);
          if (match) return done(() => resolve(match));
        }
        if (exited || this.proc.exitCode !== null) {
          done(() => reject(new Error(`wharf exited before printing ${pattern}:\n${this.report()}`)));
        }
      };
      const timer = setTimeout(
        () => done(() => reject(new Error(`no line ${pattern} within ${timeout} ms:\n${this.report()}`))),
        timeout,
      );
      const done = (/** @type {() => void} */ settle) => {
        clearTimeout(timer);
        this.#watchers.delete(check);
        settle();
      };
      this.#watchers.add(check);
      check();
    });
  }

  report() {
    return `stdout:\n${this.lines.join("\n")}\nstderr:\n${this.stderr}`;
  }

  /** SIGTERM, then waits for the exit (SIGKILL after 10 s). */
  async stop() {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    this.proc.kill("SIGTERM");
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * Runs in every document before its own scripts: records every event the live-reload stream
 * delivers to this document in `window.__wharfSeen`. It only listens (a subclass that adds
 * listeners); the page's own script and its behaviour are untouched.
 */
function observeStreams() {
  /** @type {{ kind: string, data: string }[]} */
  const seen = [];
  Object.defineProperty(window, "__wharfSeen", { value: seen });
  const Native = window.EventSource;
  window.EventSource = class extends Native {
    constructor(/** @type {string | URL} */ url, /** @type {EventSourceInit} */ init) {
      super(url, init);
      for (const kind of ["hello", "css", "reload", "moved"]) {
        this.addEventListener(kind, (event) => seen.push({ kind, data: /** @type {MessageEvent} */ (event).data }));
      }
    }
  };
}

/** A browser context whose pages record their stream's events. */
export async function newContext(/** @type {import("playwright-core").Browser} */ browser, options = {}) {
  const context = await browser.newContext(options);
  await context.addInitScript(observeStreams);
  return context;
}

/** The stream events the page's current document has received. */
export async function seen(/** @type {import("playwright-core").Page} */ page) {
  /** @type {{ kind: string, data: string }[]} */
  const events = await page.evaluate(() => /** @type {any} */ (window).__wharfSeen ?? []);
  return events;
}

/** Polls `condition` until it holds; fails after `timeout`. */
export async function waitUntil(/** @type {() => Promise<boolean>} */ condition, what, timeout = WAIT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    if (await condition().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Waits until the current document of one of `pages` (one per site holds the stream) has
 * heard the stream's `hello`: the server then has the stream subscribed to changes, so the
 * next save is seen.
 */
export function streamReady(/** @type {import("playwright-core").Page[]} */ pages, timeout = WAIT) {
  return waitUntil(
    async () => {
      for (const page of pages) {
        const events = await seen(page).catch(() => []);
        if (events.some((event) => event.kind === "hello")) return true;
      }
      return false;
    },
    "a page's live-reload stream to say hello",
    timeout,
  );
}

/** Opens `url` in a new tab of `context` and waits for its load event. */
export async function openTab(/** @type {import("playwright-core").BrowserContext} */ context, url) {
  const page = await context.newPage();
  const response = await page.goto(url, { waitUntil: "load", timeout: WAIT });
  assert.equal(response?.status(), 200);
  return page;
}

/** The computed colour of `#text`. */
export function textColor(/** @type {import("playwright-core").Page} */ page) {
  return page.evaluate(() => getComputedStyle(/** @type {Element} */ (document.getElementById("text"))).color);
}

/** Waits until `#text` is `color`, checked every 20 ms (works in background tabs too). */
export function waitForColor(/** @type {import("playwright-core").Page} */ page, color, timeout = WAIT) {
  return page.waitForFunction(
    (want) => getComputedStyle(/** @type {Element} */ (document.getElementById("text"))).color === want,
    color,
    { polling: 20, timeout },
  );
}

/** Sets `window.marker`; a reload loses it, a stylesheet swap keeps it. */
export function setMarker(/** @type {import("playwright-core").Page} */ page, value = "set before") {
  return page.evaluate((v) => {
    /** @type {any} */ (window).marker = v;
  }, value);
}

export function marker(/** @type {import("playwright-core").Page} */ page) {
  return page.evaluate(() => /** @type {any} */ (window).marker);
}

/** Counts the page's load events and main-frame navigations from now on. */
export function countNavigations(/** @type {import("playwright-core").Page} */ page) {
  const counts = { loads: 0, navigations: 0 };
  page.on("load", () => counts.loads++);
  page.on("framenavigated", (frame) => {
    if (frame === page.mainFrame()) counts.navigations++;
  });
  return counts;
}
