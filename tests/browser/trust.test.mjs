// Trusted HTTPS in a real browser (issue 16): `wharf trust --nss-db` installs Wharf's local CA
// in a temporary NSS database, the one Chromium on Linux reads (`$HOME/.pki/nssdb`, so the
// browser runs with a temporary HOME), and headless Chromium then loads the https URL of
// `wharf serve --https-port` with no certificate error. The same browser without the CA (an
// empty HOME, or after `wharf untrust`) refuses the certificate, so the test can fail.
//
// Run: `npm run test:browser` (after `cargo build -p wharf-cli`; needs certutil from
// libnss3-tools, which scripts/deps.sh installs).
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, afterEach, test } from "node:test";
import { chromium } from "playwright-core";
import { WAIT, Wharf, freePort, removeTempDirs, save, tempDir, wharfBin } from "./harness.mjs";

/** @type {(() => Promise<unknown>)[]} */
let cleanups = [];

after(() => removeTempDirs());
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  cleanups = [];
});

/** `wharf ARGS`, its status and output. */
function wharf(/** @type {string[]} */ args) {
  const run = spawnSync(wharfBin(), args, { encoding: "utf8" });
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

/** `certutil -L` of the database in `db`: its certificates' nicknames and trust flags. */
function listed(db) {
  return execFileSync("certutil", ["-L", "-d", `sql:${db}`], { encoding: "utf8" });
}

/** Headless Chromium whose NSS database is `home`'s. */
async function browserWithHome(home) {
  const browser = await chromium.launch({
    executablePath: process.env.WHARF_CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox"],
    env: { ...process.env, HOME: home },
  });
  cleanups.push(() => browser.close());
  return browser;
}

/** Loads `url` in a new page of `browser`: its status, or the network error. */
async function load(browser, url) {
  const page = await browser.newPage();
  try {
    const response = await page.goto(url, { waitUntil: "load", timeout: WAIT });
    return { status: response?.status(), text: await page.textContent("body") };
  } catch (err) {
    return { error: String(err) };
  } finally {
    await page.close();
  }
}

test("after wharf trust, Chromium loads the https URL without a certificate error; after untrust it refuses it", async (t) => {
  if (spawnSync("certutil", ["-H"]).error) {
    assert.ok(!process.env.CI, "certutil is missing: scripts/deps.sh installs libnss3-tools");
    t.skip("certutil is missing (install libnss3-tools)");
    return;
  }
  const home = tempDir("wharf-trust-home-");
  const certs = join(tempDir("wharf-trust-data-"), "certs");
  const db = join(home, ".pki/nssdb");
  const site = tempDir();
  save(join(site, "index.html"), "<!doctype html><title>trusted</title><p>served over trusted https</p>");

  const trusted = wharf(["trust", "--cert-dir", certs, "--nss-db", db]);
  assert.equal(trusted.status, 0, trusted.out);
  assert.match(trusted.out, /^Wharf's certificate authority: ([0-9A-F]{2}:){31}[0-9A-F]{2} /m);
  assert.match(trusted.out, new RegExp(`^updated: NSS \\(${db.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\)$`, "m"));
  assert.match(listed(db), /Wharf local certificate authority [0-9A-F]{8}\s+C,,/);

  const httpsPort = await freePort();
  const server = await Wharf.start([site, "--port", String(await freePort()), "--https-port", String(httpsPort), "--cert-dir", certs]);
  cleanups.push(() => server.stop());
  await server.waitForLine(/^Serving .+ at https:\/\//);

  const browser = await browserWithHome(home);
  for (const host of ["localhost", "127.0.0.1"]) {
    const loaded = await load(browser, `https://${host}:${httpsPort}/`);
    assert.equal(loaded.error, undefined, `https://${host} loads with no certificate error`);
    assert.equal(loaded.status, 200);
    assert.match(loaded.text ?? "", /served over trusted https/);
  }

  // The control: the same browser with an empty NSS database refuses the certificate.
  const stranger = await browserWithHome(tempDir("wharf-trust-empty-"));
  const refused = await load(stranger, `https://localhost:${httpsPort}/`);
  assert.match(refused.error ?? "", /ERR_CERT_AUTHORITY_INVALID/);

  const untrusted = wharf(["untrust", "--cert-dir", certs, "--nss-db", db]);
  assert.equal(untrusted.status, 0, untrusted.out);
  assert.match(untrusted.out, /^updated: NSS /m);
  assert.doesNotMatch(listed(db), /Wharf local certificate authority/);
  const afterUntrust = await browserWithHome(home);
  const refusedAgain = await load(afterUntrust, `https://localhost:${httpsPort}/`);
  assert.match(refusedAgain.error ?? "", /ERR_CERT_AUTHORITY_INVALID/);
});
