// The window follows the system's dark theme: a second app run with GTK asked for the dark
// variant, as a user's desktop setting would.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launchApp, removeTempDirs } from "./harness.mjs";

/** @type {import("./harness.mjs").App} */
let app;

before(async () => {
  app = await launchApp({ env: { GTK_THEME: "Adwaita:dark" } });
}, { timeout: 60_000 });

after(async () => {
  try {
    await app?.quit();
  } finally {
    removeTempDirs();
  }
}, { timeout: 30_000 });

test("a dark system theme gives a dark window", { timeout: 60_000 }, async () => {
  await app.waitFor(`return document.body.dataset.ready === "true";`, "the window rendered its first state", 20_000);
  assert.equal(await app.run(`return matchMedia("(prefers-color-scheme: dark)").matches;`), true, "WebKit reports the dark scheme");
  const [r, g, b] = await app.run(
    `return getComputedStyle(document.body).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number);`,
  );
  assert.ok(r + g + b < 3 * 80, `a dark background, got rgb(${r}, ${g}, ${b})`);
  await app.screenshot("12-dark");
});
