// The end-to-end harness: launches the built app through tauri-driver and WebKitWebDriver (W3C
// WebDriver, via selenium-webdriver), under the X server that scripts/test.sh provides (Xvfb),
// with its own config and data folders. Nothing is mocked: the window, its commands and the
// HTTP servers are the ones a user runs.
//
// Env: WHARF_APP_BIN, the debug binary to launch (scripts/test.sh sets it).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join, resolve } from "node:path";
import { after, before } from "node:test";
import { Builder, By } from "selenium-webdriver";
import { freePort, removeTempDirs, tempDir } from "../support/scratch.mjs";

const artifacts = resolve(import.meta.dirname, "../../artifacts/e2e");

export { removeTempDirs, tempDir };

/**
 * One app run. `prepare(configDir)` may write files into the app's config folder before it
 * starts (e.g. a corrupt settings file).
 * `env` adds to the app's environment; `args` are the app's command-line arguments.
 * @param {{ prepare?: (configDir: string) => void, env?: Record<string, string>, args?: string[] }} [options]
 */
export async function launchApp({ prepare, env = {}, args = [] } = {}) {
  const appBin = process.env.WHARF_APP_BIN;
  assert.ok(appBin, "WHARF_APP_BIN must name the built app (run through `npm test`)");
  const home = tempDir("wharf-e2e-app-");
  const dirs = { config: join(home, "config"), data: join(home, "data"), cache: join(home, "cache") };
  Object.values(dirs).forEach((dir) => mkdirSync(dir, { recursive: true }));
  prepare?.(dirs.config);

  const port = await freePort();
  const nativePort = await freePort();
  let log = "";
  // The app inherits tauri-driver's environment, not the WebDriver client's capabilities.
  const tauriDriver = spawn("tauri-driver", ["--port", String(port), "--native-port", String(nativePort)], {
    // (WEBKIT_DISABLE_COMPOSITING_MODE would make WebKitWebDriver screenshots hang.)
    env: {
      ...process.env,
      XDG_CACHE_HOME: dirs.cache,
      WHARF_CONFIG_DIR: dirs.config,
      WHARF_DATA_DIR: dirs.data,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group, with WebKitWebDriver and the app under it: `stopGroup` ends all
    // three, so no process outlives its test (a leftover holds the single-instance name and
    // keeps the test file's process, and so the whole run, from ending).
    detached: true,
  });
  // What tauri-driver, WebKitWebDriver, the app and WebKit's processes print: the last 64 KiB,
  // shown when the session fails to start or ends badly (a web process crash says why here).
  const keep = (/** @type {Buffer} */ d) => (log = (log + d).slice(-65_536));
  tauriDriver.stdout?.on("data", keep);
  tauriDriver.stderr?.on("data", keep);

  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await fetch(`http://127.0.0.1:${port}/status`);
      break;
    } catch {
      if (Date.now() > deadline) {
        await stopGroup(tauriDriver);
        throw new Error(`tauri-driver did not listen on ${port}:\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  let driver;
  try {
    driver = await bounded(
      new Builder()
        .usingServer(`http://127.0.0.1:${port}/`)
        .withCapabilities({ browserName: "wry", "tauri:options": { application: appBin, args } })
        .build(),
      30_000,
      "the WebDriver session (the app's window)",
    );
  } catch (error) {
    await stopGroup(tauriDriver);
    throw new Error(`${error.message}\ntauri-driver said:\n${log}`);
  }
  return new App(driver, tauriDriver, dirs, () => log);
}

/**
 * One app for the whole test file: launched (with `options`, as `launchApp` takes them) before
 * its first test and handed to `use`, ended after its last test, with the file's temp folders.
 * @param {Parameters<typeof launchApp>[0]} options
 * @param {(app: App) => void} use
 */
export function appPerFile(options, use) {
  /** @type {App | undefined} */
  let app;
  before(async () => use((app = await launchApp(options))), { timeout: 60_000 });
  after(() => endApp(app), { timeout: 30_000 });
}

/** Ends `app` (if it started), then removes the run's temp folders: a test file's last step. */
export async function endApp(/** @type {App | undefined} */ app) {
  try {
    await app?.quit();
  } finally {
    removeTempDirs();
  }
}

/** `promise`, or an error naming `what` once `ms` have passed. */
function bounded(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Whether any process of `child`'s process group is alive. */
function groupAlive(child) {
  try {
    process.kill(-(/** @type {number} */ (child.pid)), 0);
    return true;
  } catch {
    return false;
  }
}

/** Ends tauri-driver's whole process group (tauri-driver, WebKitWebDriver, the app): TERM,
 * then KILL for what is left after 5 s, and waits until none of it is alive. */
async function stopGroup(child) {
  const signal = (name) => {
    try {
      process.kill(-(/** @type {number} */ (child.pid)), name);
    } catch {
      // The group is gone already.
    }
  };
  signal("SIGTERM");
  for (let waited = 0; groupAlive(child); waited += 50) {
    if (waited === 5_000) {
      signal("SIGKILL");
    }
    if (waited > 15_000) {
      throw new Error(`tauri-driver's process group ${child.pid} outlived SIGKILL`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.stdout?.destroy();
  child.stderr?.destroy();
}

/**
 * GET `url` from a site as a client outside the window would, with `headers`, on a new
 * connection unless an `agent` is given: its status, headers, body (text) and how long it took
 * in milliseconds, once the body has been read.
 * @param {string | URL} url
 * @param {{ headers?: Record<string, string>, agent?: import("node:http").Agent | false }} [options]
 * @returns {Promise<{ status: number, headers: import("node:http").IncomingHttpHeaders, body: string, ms: number }>}
 */
export function httpGet(url, { headers = {}, agent = false } = {}) {
  const started = performance.now();
  return new Promise((resolveResponse, reject) => {
    const req = httpRequest(url, { agent, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () =>
        resolveResponse({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
          ms: performance.now() - started,
        }),
      );
      res.on("error", reject);
    });
    req.setTimeout(20_000, () => req.destroy(new Error(`no answer from ${url} in 20 s`)));
    req.on("error", reject);
    req.end();
  });
}

/** The running app: its window (through WebDriver) and its folders. */
export class App {
  constructor(driver, tauriDriver, dirs, output) {
    /** @type {import("selenium-webdriver").WebDriver} */
    this.driver = driver;
    this.tauriDriver = tauriDriver;
    this.dirs = dirs;
    /** @type {() => string} What the run's processes printed last. */
    this.output = output;
  }

  /** Ends the session, then every process of the run, and returns once none is left. A session
   * that cannot end (the web process crashed or hung) fails with what the processes printed. */
  async quit() {
    try {
      await bounded(this.driver.quit(), 15_000, "the WebDriver session's end");
    } catch (error) {
      throw new Error(`${error.message}\ntauri-driver and the app said (last 64 KiB):\n${this.output()}`);
    } finally {
      await stopGroup(this.tauriDriver);
    }
  }

  /** Returns once the window has rendered its first state. */
  async ready() {
    await this.waitFor(`return document.body.dataset.ready === "true";`, "the window rendered its first state", 20_000);
  }

  /** Saves a screenshot of the window to artifacts/e2e/NAME.png and returns its path. */
  async screenshot(name) {
    mkdirSync(artifacts, { recursive: true });
    // Let the window paint what the DOM already says before capturing it.
    await this.driver.executeAsyncScript(
      "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));",
    );
    const path = join(artifacts, `${name}.png`);
    writeFileSync(path, await this.driver.takeScreenshot(), "base64");
    console.log(`# screenshot: ${path}`);
    return path;
  }

  /** Selects the log row of `target` and returns the detail pane's text once it matches `what`. */
  async showDetail(target, what, label) {
    const row = `[...document.querySelectorAll("#log-table [data-record-id]")]
      .find((r) => r.querySelector(".log-target").textContent === arguments[0])`;
    await this.waitFor(`return !!${row};`, `a log row for ${target}`, 10_000, target);
    await this.run(`${row}.click();`, target);
    return this.waitForText("#log-detail", (t) => what.test(t), label);
  }

  /** Calls a Rust command from inside the window, as the UI's own code does. */
  async invoke(command, args) {
    const result = await this.driver.executeAsyncScript(
      `const [command, args, done] = arguments;
       window.__TAURI_INTERNALS__.invoke(command, args)
         .then((ok) => done({ ok }), (error) => done({ error }));`,
      command,
      args,
    );
    return /** @type {{ ok?: any, error?: { kind: string, message: string, field?: string } }} */ (result);
  }

  /** Runs `script` in the window and returns its value. */
  run(script, ...args) {
    return this.driver.executeScript(script, ...args);
  }

  $(css) {
    return this.driver.findElement(By.css(css));
  }

  async text(css) {
    return this.run("const e = document.querySelector(arguments[0]); return e ? e.textContent : null;", css);
  }

  async click(css) {
    await this.$(css).click();
  }

  /** Waits until `predicate(textContent)` holds for the element `css`; returns the text. */
  /**
   * Adds the folder `dir` as a site by typing its path, as a person does, and waits until it
   * is selected and serving: returns its URL (`http://127.0.0.1:PORT/`).
   */
  async addSite(dir) {
    await this.$("#add-path").sendKeys(dir);
    await this.click("#add-path-submit");
    await this.waitForText("#site-root", (t) => t === dir, "the new site selected");
    return this.waitForText("#site-url", (t) => /^http:\/\/127\.0\.0\.1:\d+\/$/.test(t), "its URL");
  }

  async waitForText(css, predicate, what, timeoutMs = 10_000) {
    let last = null;
    try {
      await this.driver.wait(async () => predicate((last = await this.text(css)) ?? ""), timeoutMs);
    } catch {
      throw new Error(`${css} never showed ${what}; last text: ${JSON.stringify(last)}`);
    }
    return last ?? "";
  }

  /** Waits until `script` (run in the window) returns a truthy value, and returns it. */
  async waitFor(script, what, timeoutMs = 10_000, ...args) {
    let value;
    try {
      await this.driver.wait(async () => (value = await this.run(script, ...args)), timeoutMs);
    } catch {
      throw new Error(`never happened: ${what}; last value: ${JSON.stringify(value)}`);
    }
    return value;
  }
}
