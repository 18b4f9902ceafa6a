// End-to-end test of the real desktop window: the built app, driven through tauri-driver and
// WebKitWebDriver (W3C WebDriver, via selenium-webdriver), under the X server that
// scripts/test.sh provides (Xvfb). Nothing is mocked: the window, its commands and the HTTP
// server are the ones a user runs.
//
// Env: WHARF_APP_BIN, the debug binary to launch (scripts/test.sh sets it).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { createServer as createHttpServer, request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { Builder, By, until } from "selenium-webdriver";

const appBin = process.env.WHARF_APP_BIN;
const artifacts = resolve(import.meta.dirname, "../../artifacts/e2e");

/** @type {import("node:child_process").ChildProcess | undefined} */
let tauriDriver;
/** @type {import("selenium-webdriver").WebDriver} */
let driver;
let driverLog = "";

/** A port that was free a moment ago. */
function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** Resolves once something accepts connections on 127.0.0.1:port. */
async function waitForPort(port, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      await fetch(`http://127.0.0.1:${port}/status`);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`tauri-driver did not listen on ${port} within ${timeoutMs} ms:\n${driverLog}`);
}

async function screenshot(name) {
  mkdirSync(artifacts, { recursive: true });
  // Let the window paint what the DOM already says before capturing it.
  await driver.executeAsyncScript(
    "const done = arguments[0]; requestAnimationFrame(() => requestAnimationFrame(() => done()));",
  );
  const png = await driver.takeScreenshot();
  const path = join(artifacts, `${name}.png`);
  writeFileSync(path, png, "base64");
  return path;
}

/** Calls a Rust command from inside the window, as the UI's own code does. */
async function invokeCommand(command, args) {
  const result = await driver.executeAsyncScript(
    `const [command, args, done] = arguments;
     window.__TAURI_INTERNALS__.invoke(command, args)
       .then((ok) => done({ ok }), (error) => done({ error }));`,
    command,
    args,
  );
  return /** @type {{ ok?: any, error?: { kind: string, message: string } }} */ (result);
}

async function textOf(id) {
  return driver.findElement(By.id(id)).getText();
}

async function waitForText(id, predicate, what) {
  const element = await driver.findElement(By.id(id));
  await driver.wait(async () => predicate(await element.getText()), 10_000, `#${id} never showed ${what}`);
  return element.getText();
}

before(async () => {
  assert.ok(appBin, "WHARF_APP_BIN must name the built app (run through `npm test`)");
  const port = await freePort();
  const nativePort = await freePort();
  // The app inherits tauri-driver's environment, not this process's WebDriver capabilities.
  const cache = mkdtempSync(join(tmpdir(), "wharf-e2e-cache-"));
  tauriDriver = spawn("tauri-driver", ["--port", String(port), "--native-port", String(nativePort)], {
    // (WEBKIT_DISABLE_COMPOSITING_MODE would make WebKitWebDriver screenshots hang.)
    env: { ...process.env, XDG_CACHE_HOME: cache },
    stdio: ["ignore", "pipe", "pipe"],
  });
  tauriDriver.stdout?.on("data", (d) => (driverLog += d));
  tauriDriver.stderr?.on("data", (d) => (driverLog += d));
  await waitForPort(port, 15_000);
  driver = await new Builder()
    .usingServer(`http://127.0.0.1:${port}/`)
    .withCapabilities({ browserName: "wry", "tauri:options": { application: appBin } })
    .build();
}, { timeout: 60_000 });

after(async () => {
  try {
    await driver?.quit();
  } finally {
    tauriDriver?.kill();
  }
}, { timeout: 30_000 });

test("the window serves the welcome site, then a chosen folder on the same port", { timeout: 90_000 }, async () => {
  const launched = Date.now();
  await driver.wait(until.elementLocated(By.css("body[data-ready='true']")), 15_000);
  const url = await waitForText("site-url", (t) => /^http:\/\/127\.0\.0\.1:\d+\/$/.test(t), "a loopback URL");
  console.log(`# window showed ${url} ${Date.now() - launched} ms after the session started`);
  assert.equal(await textOf("status-pill"), "Running");
  assert.ok(await driver.findElement(By.id("welcome-badge")).isDisplayed(), "welcome badge shown");

  const welcome = await fetch(url);
  assert.equal(welcome.status, 200);
  assert.match(welcome.headers.get("content-type") ?? "", /^text\/html/);
  assert.match(await welcome.text(), /Welcome to Wharf/);
  console.log(`# screenshot: ${await screenshot("01-welcome")}`);

  // Choose a folder through the command, with a plain path: no native dialog.
  const site = mkdtempSync(join(tmpdir(), "wharf-e2e-site-"));
  writeFileSync(join(site, "index.html"), "<!DOCTYPE html><title>E2E</title><h1>E2E site</h1>");
  writeFileSync(join(site, "hello.txt"), "hello from the e2e folder\n");
  const applied = await invokeCommand("set_root", { path: site });
  assert.ok(applied.ok, `set_root failed: ${JSON.stringify(applied.error)}`);
  assert.equal(applied.ok.url, url, "same port after choosing a folder");

  const file = await fetch(new URL("hello.txt", url));
  assert.equal(file.status, 200);
  assert.equal(await file.text(), "hello from the e2e folder\n");
  assert.match(await (await fetch(url)).text(), /E2E site/);

  // The window follows the change by itself: Rust pushes the new status over a Channel.
  await waitForText("site-root", (t) => t.includes("wharf-e2e-site-"), "the chosen folder");
  assert.equal(await driver.findElement(By.id("welcome-badge")).isDisplayed(), false);
  console.log(`# screenshot: ${await screenshot("02-folder")}`);

  // A folder that does not exist is refused with a message that names the field.
  const refused = await invokeCommand("set_root", { path: join(site, "missing") });
  assert.equal(refused.error?.kind, "invalidConfig");
  assert.match(refused.error?.message ?? "", /^root: /);
  assert.equal(await (await fetch(new URL("hello.txt", url))).status, 200, "still serving");
});

test("Stop and Start from the window's button", { timeout: 90_000 }, async () => {
  const url = await textOf("site-url");
  const toggle = await driver.findElement(By.id("toggle-server"));
  assert.equal(await toggle.getText(), "Stop");
  await toggle.click();
  await waitForText("status-pill", (t) => t === "Stopped", "Stopped");
  await assert.rejects(fetch(url), "nothing listens after Stop");
  console.log(`# screenshot: ${await screenshot("03-stopped")}`);

  await toggle.click();
  await waitForText("status-pill", (t) => t === "Running", "Running");
  assert.equal(await textOf("site-url"), url, "Start comes back on the same address");
  assert.equal((await fetch(new URL("hello.txt", url))).status, 200);
});

/**
 * A pass-through HTTP proxy in front of Wharf that records each request's Range header and the
 * status and Content-Range of the answer, so the test sees what the media stack really did.
 */
async function recordingProxy(target) {
  /** @type {{ range: string | undefined, status: number | undefined, contentRange: string | undefined }[]} */
  const seen = [];
  const upstream = new URL(target);
  const server = createHttpServer((req, res) => {
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        seen.push({ range: req.headers.range, status: answer.statusCode, contentRange: answer.headers["content-range"] });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  await new Promise((ready) => server.listen(0, "127.0.0.1", () => ready(undefined)));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/`, seen, close: () => server.close() };
}

test("a video served by Wharf loads and seeks in the WebKit window", { timeout: 90_000 }, async () => {
  const site = mkdtempSync(join(tmpdir(), "wharf-e2e-video-"));
  copyFileSync(resolve(import.meta.dirname, "../fixtures/media/clip.webm"), join(site, "clip.webm"));
  writeFileSync(
    join(site, "video.html"),
    '<!DOCTYPE html><title>video</title><video src="clip.webm" preload="auto" muted width="320"></video>',
  );
  const applied = await invokeCommand("set_root", { path: site });
  assert.ok(applied.ok, `set_root failed: ${JSON.stringify(applied.error)}`);
  const proxy = await recordingProxy(applied.ok.url);
  try {
    // Leaves the app's own page: this is the last test of the session.
    await driver.get(new URL("video.html", proxy.url).href);
    const result = await driver.executeAsyncScript(`
      const done = arguments[arguments.length - 1];
      const video = document.querySelector("video");
      const report = (extra) => done(Object.assign({
        readyState: video.readyState,
        currentTime: video.currentTime,
        duration: video.duration,
        seekableEnd: video.seekable.length ? video.seekable.end(0) : -1,
        mediaError: video.error ? video.error.code : null,
      }, extra));
      const timer = setTimeout(() => report({ failed: "no seeked event within 20 s" }), 20000);
      video.addEventListener("error", () => { clearTimeout(timer); report({ failed: "media error" }); });
      const seek = () => {
        video.addEventListener("seeked", () => { clearTimeout(timer); report({}); }, { once: true });
        video.currentTime = 2.5;
      };
      if (video.readyState >= 1) seek(); else video.addEventListener("loadedmetadata", seek, { once: true });
    `);
    const media = proxy.seen.filter((r) => r.range !== undefined);
    console.log(`# video: ${JSON.stringify(result)}; requests: ${JSON.stringify(proxy.seen)}`);
    assert.equal(result.failed, undefined, JSON.stringify(result));
    assert.ok(result.seekableEnd >= 4, `seekable only to ${result.seekableEnd}`);
    assert.ok(Math.abs(result.currentTime - 2.5) < 0.5, `landed at ${result.currentTime}`);
    // On loopback WebKitGTK fetches a small clip whole and seeks in its buffer; whenever its
    // media stack does ask for a range, Wharf must answer 206. (Safari's probe sequence is
    // tested at the protocol level in server-core/tests/rfc9110.rs.)
    for (const r of media) {
      assert.equal(r.status, 206, `Range ${r.range} got ${r.status}`);
      assert.match(r.contentRange ?? "", /^bytes \d+-\d+\/39417$/);
    }
    console.log(`# screenshot: ${await screenshot("04-video")}`);
  } finally {
    proxy.close();
  }
});
