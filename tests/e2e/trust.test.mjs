// "Trust Wharf's certificate authority" in the real window (issue 16): HTTPS on for the
// welcome site, the Trust button in its dialog installs the app's CA in a temporary NSS
// database (the app's WHARF_TEST_NSS_DB, so no test touches the user's browsers), the dialog
// names that database as updated, `certutil -L` lists the CA, and headless Chromium whose
// HOME holds that database loads the https URL with no certificate error; Untrust takes it
// out again, and the same browser then refuses the certificate. Shared on the network, the
// dialog gives a phone the CA's download address, which serves the CA with that fingerprint.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { appPerFile, tempDir } from "./harness.mjs";

/** @type {import("./harness.mjs").App} */
let app;
/** A HOME for Chromium: its NSS database is `.pki/nssdb`, the one the app is told to change. */
const home = tempDir("wharf-e2e-trust-home-");
const nssDb = join(home, ".pki", "nssdb");

appPerFile({ env: { WHARF_TEST_NSS_DB: nssDb } }, (launched) => (app = launched));

/** `certutil -L` of the test database: its certificates' nicknames and trust flags. */
const listed = () => execFileSync("certutil", ["-L", "-d", `sql:${nssDb}`], { encoding: "utf8" });

/** Loads `url` in headless Chromium with the test HOME: its status, or the network error. */
async function load(url) {
  const browser = await chromium.launch({
    executablePath: process.env.WHARF_CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox"],
    env: { ...process.env, HOME: home },
  });
  try {
    const page = await browser.newPage();
    const response = await page.goto(url, { waitUntil: "load", timeout: 15_000 });
    return { status: response?.status() };
  } catch (err) {
    return { error: String(err) };
  } finally {
    await browser.close();
  }
}

test("Trust in the window installs the app's CA in the NSS db, Chromium then loads https; Untrust removes it", { timeout: 120_000 }, async (t) => {
  if (spawnSync("certutil", ["-H"]).error) {
    assert.ok(!process.env.CI, "certutil is missing: scripts/deps.sh installs libnss3-tools");
    t.skip("certutil is missing (install libnss3-tools)");
    return;
  }
  await app.ready();
  assert.equal(await app.run(`return document.querySelector("#trust-row").hidden;`), true, "no trust button without HTTPS");
  await app.click("#tab-settings");
  await app.click("#settings-form [name='https']");
  await app.click("#settings-apply");
  const httpsUrl = await app.waitForText("#site-https-url", (t) => /^https:\/\/127\.0\.0\.1:\d+\/$/.test(t), "an https URL");
  assert.match((await load(httpsUrl)).error ?? "", /ERR_CERT_AUTHORITY_INVALID/, "untrusted before");

  await app.click("#open-trust");
  await app.waitFor(`return document.querySelector("#trust-dialog").open;`, "the trust dialog open");
  await app.waitForText("#trust-state", (t) => t.startsWith("Not trusted yet"), "the CA not trusted yet");
  const caFingerprint = await app.text("#ca-fingerprint");
  assert.match(caFingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.notEqual(caFingerprint, await app.text("#tls-fingerprint"), "the CA's, not the site certificate's");
  assert.equal(await app.run(`return document.querySelector("#phone-ca-off").hidden;`), false, "LAN off: how to get the phone's address");

  await app.click("#trust-ca");
  const line = await app.waitForText("#trust-report", (t) => t.startsWith("Updated"), "the report");
  assert.equal(line, `Updated: NSS (${nssDb})`, "the report names the temporary NSS db as updated");
  await app.waitForText("#trust-state", (t) => t.startsWith("Trusted on this computer"), "the CA trusted");
  assert.match(listed(), /Wharf local certificate authority [0-9A-F]{8}\s+C,,/);
  const trusted = await load(httpsUrl);
  assert.equal(trusted.status, 200, `Chromium loads ${httpsUrl} with no certificate error: ${trusted.error}`);
  await app.screenshot("trust-dialog");

  await app.click("#untrust-ca");
  await app.waitForText("#trust-state", (t) => t.startsWith("Not trusted yet"), "the CA untrusted");
  assert.doesNotMatch(listed(), /Wharf local certificate authority/);
  assert.match((await load(httpsUrl)).error ?? "", /ERR_CERT_AUTHORITY_INVALID/, "refused again after Untrust");
  await app.click("#close-trust");
});

test("shared on the network, the dialog gives the phone the CA's download address, which serves that CA", { timeout: 60_000 }, async () => {
  await app.waitFor(`return !document.querySelector("#trust-dialog").open;`, "the trust dialog closed");
  await app.click("#lan-toggle");
  const lanUrl = (await app.waitForText("#lan-url", (t) => /^http:\/\/[\d.]+:\d+\//.test(t), "a LAN URL")).split(/\s/)[0];
  await app.click("#open-trust");
  const phoneUrl = await app.waitForText("#phone-ca-url", (t) => t !== "", "the phone's download address");
  assert.equal(phoneUrl, new URL("__wharf/ca.crt", lanUrl).toString());
  assert.equal(await app.run(`return document.querySelector("#phone-ca-off").hidden;`), true);

  const response = await fetch(phoneUrl);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), "application/x-x509-ca-cert");
  const der = Buffer.from(await response.arrayBuffer());
  const fingerprint = createHash("sha256").update(der).digest("hex").toUpperCase().match(/../g).join(":");
  assert.equal(fingerprint, await app.text("#ca-fingerprint"), "the fingerprint the phone compares is the downloaded CA's");
  await app.click("#close-trust");
  await app.click("#lan-toggle");
});
