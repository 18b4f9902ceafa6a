// End-to-end tests of Wharf in the background (see harness.mjs): closing the window keeps the
// sites serving, the tray's Quit stops them, start at login adds and removes the login item,
// and a launch with --hidden starts in the tray with the sites that were running.
//
// Everything is real input. The close is the WM_DELETE_WINDOW message a window manager's close
// button sends (wm-close.py; no window manager runs under Xvfb). The tray is trayer, an XEmbed
// system tray, started on the test's display before the app: with no StatusNotifier host on
// D-Bus, libayatana-appindicator falls back to an XEmbed icon, which xdotool clicks; the menu
// that opens is the one users see (its picture: artifacts/e2e/tray-menu.png).
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { join, resolve } from "node:path";
import { launchApp, removeTempDirs, tempDir } from "./harness.mjs";

const artifacts = resolve(import.meta.dirname, "../../artifacts/e2e");
/** @type {import("node:child_process").ChildProcess} */
let trayHost;

before(async () => {
  trayHost = spawn("trayer", ["--edge", "top", "--align", "right", "--widthtype", "request", "--height", "32"], {
    stdio: "ignore",
  });
  await until(() => xdotool("search", "--onlyvisible", "--class", "trayer").length > 0, "the tray host on screen");
});

after(() => {
  trayHost?.kill();
  removeTempDirs();
});

const wait = (ms) => new Promise((r) => setTimeout(r, ms));

/** GET `url`: `{ status, body }`, or `{ error }` (e.g. ECONNREFUSED) when nothing answers. */
function get(url) {
  return new Promise((resolveGet) => {
    const req = httpGet(url, { agent: false }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolveGet({ status: res.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on("error", (error) => resolveGet({ error: /** @type {any} */ (error).code ?? String(error) }));
  });
}

/** Waits until `check()` is truthy; returns its value. */
async function until(check, what, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`never happened: ${what}`);
    }
    await wait(100);
  }
}

/** xdotool's output lines ([] when a search matches nothing: it exits 1). */
function xdotool(...args) {
  try {
    return execFileSync("xdotool", args, { encoding: "utf8" }).split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

/** The X ids of the app's visible top-level windows titled "Wharf". */
function visibleWharfWindows() {
  return xdotool("search", "--onlyvisible", "--name", "^Wharf$");
}

/** The visible windows of the app's tray (its icon in the tray host, its open menu), with geometry. */
function trayWindows() {
  return xdotool("search", "--onlyvisible", "--name", "^wharf-desktop$").map((id) => {
    const [x, y, width, height] = xdotool("getwindowgeometry", "--shell", id)
      .filter((line) => /^(X|Y|WIDTH|HEIGHT)=/.test(line))
      .map((line) => Number(line.split("=")[1]));
    return { id, x, y, width, height };
  });
}

/** Clicks the app's icon in the tray host; returns the menu that opens. */
async function openTrayMenu() {
  const icon = await until(
    () => trayWindows().find((w) => w.height <= 40 && w.y < 40 && w.x > 0),
    "the app's icon in the tray",
  );
  xdotool("mousemove", String(icon.x + icon.width / 2), String(icon.y + icon.height / 2), "click", "1");
  return until(() => trayWindows().find((w) => w.height > 40), "the tray menu open");
}

/** Opens the tray menu and clicks Quit Wharf, its last item. */
async function quitFromTray() {
  const menu = await openTrayMenu();
  xdotool("mousemove", String(menu.x + 60), String(menu.y + menu.height - 16), "click", "1");
}

/** Closes the window as a window manager's close button would (see wm-close.py). */
function closeWindow() {
  const windows = visibleWharfWindows();
  assert.ok(windows.length > 0, "the window is on screen");
  for (const window of windows) {
    execFileSync("python3", [resolve(import.meta.dirname, "wm-close.py"), window]);
  }
}

/**
 * Site `id`'s access log (all sessions, all segments), as text: its segments hold each
 * request's target as it was sent, among binary numbers.
 */
function accessLog(dataDir, id) {
  const root = join(dataDir, "access-log", id);
  if (!existsSync(root)) {
    return "";
  }
  return readdirSync(root, { recursive: true })
    .map(String)
    .filter((name) => name.endsWith(".wlog"))
    .map((name) => readFileSync(join(root, name), "latin1"))
    .join("");
}

/** A folder with an index page. */
function siteFolder(text) {
  const dir = tempDir("wharf-e2e-tray-site-");
  writeFileSync(join(dir, "index.html"), `<!doctype html><title>${text}</title><p>${text}`);
  return dir;
}

/**
 * Launches the app with its own home (the login item goes to $HOME/.config/autostart), and
 * config and data folders in it (so a second launch finds the first one's sites).
 */
async function launch(home, args = []) {
  const dirs = { config: join(home, "config"), data: join(home, "data") };
  Object.values(dirs).forEach((dir) => mkdirSync(dir, { recursive: true }));
  const app = await launchApp({
    env: { HOME: home, XDG_CONFIG_HOME: join(home, ".config"), WHARF_CONFIG_DIR: dirs.config, WHARF_DATA_DIR: dirs.data },
    args,
  });
  await app.ready();
  return { app, dirs };
}

/** Ends a run whose app already quit: the WebDriver session is gone with it. */
async function endSession(app) {
  await app.quit().catch(() => {});
}

test("closing the window keeps serving; the tray's Quit stops every site and flushes its log", { timeout: 90_000 }, async () => {
  const home = tempDir("wharf-e2e-tray-home-");
  const { app, dirs } = await launch(home);
  const added = await app.invoke("add_site", { root: siteFolder("still here") });
  assert.ok(added.ok, JSON.stringify(added.error));
  const { id, url } = added.ok;
  assert.equal((await get(`${url}?before-close`)).status, 200);

  closeWindow();
  await until(() => visibleWharfWindows().length === 0, "the window hidden");
  const served = await get(`${url}?after-close`);
  assert.equal(served.status, 200, "the site serves with its window closed");
  assert.match(served.body, /still here/);
  // The first close says so, in the banner the window shows when it comes back.
  const notice = await app.waitForText("#error-text", (t) => t.includes("still serving"), "the close notice");
  assert.match(notice, /Quit Wharf in the tray menu/);
  const saved = JSON.parse(readFileSync(join(dirs.config, "preferences.json"), "utf8"));
  assert.equal(saved.closeNoticeShown, true, "the notice is shown once");

  // Show Wharf: the item above Quit (the separator is skipped), chosen with the keyboard.
  const menu = await openTrayMenu();
  mkdirSync(artifacts, { recursive: true });
  // The top right corner of the screen: the tray host and the open menu (imagemagick's import).
  const [screenWidth] = xdotool("getdisplaygeometry")[0].split(" ").map(Number);
  const left = Math.max(0, menu.x - 40);
  const corner = `${screenWidth - left}x${menu.y + menu.height + 10}+${left}+0`;
  execFileSync("import", ["-window", "root", "-crop", corner, join(artifacts, "tray-menu.png")]);
  console.log(`# screenshot: ${join(artifacts, "tray-menu.png")}`);
  xdotool("key", "Up", "Up", "Return");
  await until(() => visibleWharfWindows().length > 0, "Show Wharf brings the window back");
  await app.screenshot("tray-01-close-notice");

  await quitFromTray();
  await until(async () => (await get(url)).error === "ECONNREFUSED", "the port refused after Quit");
  const log = accessLog(dirs.data, id);
  assert.match(log, /\?before-close/);
  assert.match(log, /\?after-close/, "the requests served while hidden reached the log");
  await endSession(app);
});

test("App settings: start at login adds and removes the login item; closing quits when keep serving is off", { timeout: 90_000 }, async () => {
  const home = tempDir("wharf-e2e-tray-home-");
  const { app, dirs } = await launch(home);
  const entry = join(home, ".config", "autostart", "Wharf.desktop");
  await app.waitFor(`return !document.getElementById("app-start-at-login").disabled;`, "the App settings loaded");
  assert.equal(await app.run(`return document.getElementById("app-keep-serving").checked;`), true, "on by default");
  assert.equal(await app.run(`return document.getElementById("app-start-at-login").checked;`), false, "opt-in");
  assert.ok(!existsSync(entry));

  await app.click("#app-start-at-login");
  await until(() => existsSync(entry), "the autostart entry written");
  const desktop = readFileSync(entry, "utf8");
  assert.match(desktop, /^Exec=.*wharf-desktop.* --hidden$/m, desktop);
  await app.waitFor(`return document.getElementById("app-start-at-login").checked;`, "the switch on");
  await app.screenshot("tray-02-app-settings");
  await app.click("#app-start-at-login");
  await until(() => !existsSync(entry), "the autostart entry removed");

  await app.click("#app-keep-serving");
  await until(
    () => existsSync(join(dirs.config, "preferences.json")) &&
      JSON.parse(readFileSync(join(dirs.config, "preferences.json"), "utf8")).keepServingOnClose === false,
    "keep serving off, saved",
  );
  const url = await app.waitForText("#site-url", (t) => t.startsWith("http://"), "the welcome site's URL");
  assert.equal((await get(url)).status, 200);
  closeWindow();
  await until(async () => (await get(url)).error === "ECONNREFUSED", "closing the window quit the app");
  await endSession(app);
});

test("a launch with --hidden starts in the tray, serving the sites that were running", { timeout: 90_000 }, async () => {
  const home = tempDir("wharf-e2e-tray-home-");
  const first = await launch(home);
  const added = await first.app.invoke("add_site", { root: siteFolder("at login") });
  assert.ok(added.ok, JSON.stringify(added.error));
  await quitFromTray();
  await until(async () => (await get(added.ok.url)).error === "ECONNREFUSED", "the first run quit");
  await endSession(first.app);

  const second = await launch(home, ["--hidden"]);
  await until(async () => (await get(added.ok.url)).status === 200, "the site serving again, on its port");
  assert.deepEqual(visibleWharfWindows(), [], "no window on screen");
  await quitFromTray();
  await until(async () => (await get(added.ok.url)).error === "ECONNREFUSED", "the second run quit");
  await endSession(second.app);
});
