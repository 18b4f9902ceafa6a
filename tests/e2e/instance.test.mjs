// One Wharf at a time (issue 16): a launch with a folder serves it, a second launch hands its
// folders to the running app and exits, the keyboard shortcuts, and the window's size kept
// across launches. The second launches are the real binary started next to the running one,
// as a shell or the file manager's "Open with Wharf" would; scripts/test.sh runs the e2e step
// in its own D-Bus session (dbus-run-session), where the single-instance plugin meets only
// these apps.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Key } from "selenium-webdriver";
import { endApp, launchApp, tempDir } from "./harness.mjs";

/** @type {import("./harness.mjs").App} */
let app;
/** The folder of the first launch's command line. */
const first = siteFolder("first");

/** A folder with an index.html that names it. */
function siteFolder(name) {
  const dir = join(tempDir(`wharf-e2e-${name}-`), name);
  mkdirSync(dir);
  writeFileSync(join(dir, "index.html"), `<!DOCTYPE html><title>${name}</title><h1>site ${name}</h1>`);
  return dir;
}

before(async () => {
  assert.ok(process.env.DBUS_SESSION_BUS_ADDRESS, "run under dbus-run-session (scripts/test.sh)");
  app = await launchApp({ args: [first] });
}, { timeout: 60_000 });

// Not `appPerFile`: a test here ends this app and launches another, which this hook then ends.
after(() => endApp(app), { timeout: 30_000 });

/** Starts `wharf-desktop ARGS` in `cwd` next to the running app (same config folder) and
 * resolves with its exit code and how long it ran. */
function secondLaunch(args, cwd) {
  const started = Date.now();
  const child = spawn(/** @type {string} */ (process.env.WHARF_APP_BIN), args, {
    cwd,
    env: {
      ...process.env,
      XDG_CACHE_HOME: app.dirs.cache,
      WHARF_CONFIG_DIR: app.dirs.config,
      WHARF_DATA_DIR: app.dirs.data,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the second launch did not exit within 20 s:\n${output}`));
    }, 20_000);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, ms: Date.now() - started, output });
    });
  });
}

/** The selected site's folder, as the header shows it. */
const selectedRoot = () => app.text("#site-root");
const siteCount = () => app.run(`return document.querySelectorAll("#site-list [data-site-id]").length;`);

test("a first launch with a folder serves it and selects it", { timeout: 60_000 }, async () => {
  await app.ready();
  await app.waitForText("#site-root", (t) => t === first, "the launched folder selected");
  const url = await app.waitForText("#site-url", (t) => /^http:\/\/127\.0\.0\.1:\d+\/$/.test(t), "its URL");
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /site first/);
  assert.equal(await siteCount(), 2, "the welcome site and the launched one");
});

test("a second launch with a relative path adds the folder to the first app and exits", { timeout: 60_000 }, async () => {
  const second = siteFolder("second");
  const file = join(first, "index.html");
  // Relative to the second launch's own folder, which the running app never was in.
  const launched = await secondLaunch([basename(second), file], dirname(second));
  assert.equal(launched.code, 0, launched.output);
  console.log(`# the second launch exited after ${launched.ms} ms`);
  assert.ok(launched.ms < 10_000, `the second launch exits promptly (${launched.ms} ms)`);

  await app.waitForText("#site-root", (t) => t === second, "the second launch's folder selected");
  assert.equal(await siteCount(), 3);
  const url = await app.waitForText("#site-url", (t) => /^http:\/\/127\.0\.0\.1:\d+\/$/.test(t), "its URL");
  assert.match(await (await fetch(url)).text(), /site second/);
  // A file is no folder to serve: a notice, and the app goes on.
  const notice = await app.waitForText("#error-text", (t) => t.includes("was not added"), "the notice for the file");
  assert.ok(notice.includes(file) && notice.includes("not a folder"), notice);
  await app.screenshot("instance-01-second-launch");
  await app.click("#error-dismiss");

  // The first folder again: its site is selected, not added twice.
  const again = await secondLaunch([first], "/");
  assert.equal(again.code, 0, again.output);
  await app.waitForText("#site-root", (t) => t === first, "the existing site selected");
  assert.equal(await siteCount(), 3);
  assert.equal(JSON.parse(readFileSync(join(app.dirs.config, "sites.json"), "utf8")).sites.length, 3);
});

test("Ctrl+2 selects the second site and Ctrl+L focuses the log filter", { timeout: 60_000 }, async () => {
  const chord = (key) => app.driver.actions().keyDown(Key.CONTROL).sendKeys(key).keyUp(Key.CONTROL).perform();
  const secondName = await app.run(`return document.querySelectorAll("#site-list .site-item-name")[1].textContent;`);
  await app.click("#tab-settings");
  await chord("1");
  await app.waitForText("#site-name", (t) => t === "Welcome", "the first site selected");
  await chord("2");
  await app.waitForText("#site-name", (t) => t === secondName, "the second site selected");

  await chord("l");
  await app.waitFor(`return document.activeElement?.id === "filter-path";`, "the path filter focused");
  assert.equal(await app.run(`return document.getElementById("tab-log").getAttribute("aria-selected");`), "true");
  assert.match(await app.run(`return document.getElementById("filter-path").title;`), /\(Ctrl\+L\)$/);
  assert.match(await app.run(`return document.getElementById("add-folder").title;`), /\(Ctrl\+O\)$/);
  assert.match(
    await app.run(`return document.querySelectorAll("#site-list .site-select")[1].title;`),
    /\nCtrl\+2$/,
  );
});

test("the window's size is kept for the next launch", { timeout: 90_000 }, async () => {
  await app.driver.manage().window().setRect({ width: 1010, height: 690 });
  await app.waitFor(`return innerWidth < 1100;`, "the window resized");
  const resized = await app.driver.manage().window().getRect();
  // Saved half a second after the window stops changing, in the config folder
  // (WHARF_CONFIG_DIR): the test driver ends the app with a signal, so no exit hook runs.
  const saved = join(app.dirs.config, "window-state.json");
  const savedWidth = () => (existsSync(saved) ? JSON.parse(readFileSync(saved, "utf8")).main?.width : undefined);
  for (let i = 0; i < 100 && savedWidth() !== 1010; i++) {
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(savedWidth(), 1010, existsSync(saved) ? readFileSync(saved, "utf8") : "no window-state.json");
  const state = JSON.parse(readFileSync(saved, "utf8")).main;
  await app.quit();
  app = undefined;

  app = await launchApp({ prepare: (dir) => copyFileSync(saved, join(dir, "window-state.json")) });
  await app.ready();
  const restored = await app.driver.manage().window().getRect();
  assert.deepEqual(
    { width: restored.width, height: restored.height },
    { width: resized.width, height: resized.height },
    `saved ${JSON.stringify(state)}`,
  );
});
