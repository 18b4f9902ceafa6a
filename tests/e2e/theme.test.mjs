// The window follows the system's dark theme: a second app run with GTK asked for the dark
// variant, as a user's desktop setting would.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appPerFile } from "./harness.mjs";

/** @type {import("./harness.mjs").App} */
let app;

appPerFile({ env: { GTK_THEME: "Adwaita:dark" } }, (launched) => (app = launched));

test("a dark system theme gives a dark window", { timeout: 60_000 }, async () => {
  await app.ready();
  assert.equal(await app.run(`return matchMedia("(prefers-color-scheme: dark)").matches;`), true, "WebKit reports the dark scheme");
  const [r, g, b] = await app.run(
    `return getComputedStyle(document.body).backgroundColor.match(/\\d+/g).slice(0, 3).map(Number);`,
  );
  assert.ok(r + g + b < 3 * 80, `a dark background, got rgb(${r}, ${g}, ${b})`);
  await app.screenshot("12-dark");
});
