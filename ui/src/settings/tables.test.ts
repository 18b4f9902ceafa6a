// @vitest-environment happy-dom
// The settings form's tables in the real index.html: rows typed in the proxy and network tables
// reach apply_settings as rules, and an error the core names lands on the row and cell it names.
import { beforeEach, describe, expect, it } from "vitest";
import page from "../../index.html?raw";
import type { ApplyOutcome, Site, SiteSettings } from "../api/types";
import { SettingsForm } from "./form";

const settings = {
  port: 8080,
  https: false,
  httpsPort: 0,
  headerReadTimeoutMs: 10_000,
  keepAliveIdleTimeoutMs: 5_000,
  proxyConnectTimeoutMs: 5_000,
  proxyFirstByteTimeoutMs: 30_000,
  maxConnections: 256,
  cacheControl: "no-cache",
  customHeaders: [],
  proxy: [],
  network: [{ path: "/videos/**", preset: "slow-4g" }],
  networkConditions: true,
  reloadIgnore: [],
  allowedHosts: [],
  corsOrigins: [],
} as unknown as SiteSettings;

const site = { id: "s1", name: "site", settings, portAutomatic: false, httpsPortAutomatic: true } as unknown as Site;

beforeEach(() => {
  const parsed = new DOMParser().parseFromString(page, "text/html");
  document.body.replaceChildren(...[...parsed.body.children].filter((node) => node.tagName !== "SCRIPT"));
});

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** Types `value` into a row's cell as a person would: the control changes, then fires `input`. */
function type(table: string, row: number, member: string, value: string | boolean): void {
  const rows = byId(`${table}-body`).querySelectorAll("tr[data-row]");
  const control = rows[row].querySelector<HTMLInputElement | HTMLSelectElement>(`[data-member="${member}"]`);
  if (control === null) {
    throw new Error(`no ${member} in row ${row} of ${table}`);
  }
  if (typeof value === "boolean") {
    (control as HTMLInputElement).checked = value;
  } else {
    control.value = value;
  }
  control.dispatchEvent(new Event(control instanceof HTMLSelectElement ? "change" : "input", { bubbles: true }));
}

function submit(): void {
  byId<HTMLFormElement>("settings-form").dispatchEvent(new Event("submit", { cancelable: true }));
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("the proxy and network tables", () => {
  it("draw the applied rules, column headers included", () => {
    const form = new SettingsForm({ apply: () => Promise.reject(new Error("no")), error: () => undefined });
    form.update([site], site);
    const heads = [...byId("network-rules").querySelectorAll("th")].map((th) => th.textContent);
    expect(heads).toEqual(["Path glob", "Preset", "More", "Remove"]);
    expect([...byId("proxy-rules").querySelectorAll("th")].map((th) => th.textContent)).toEqual([
      "Path",
      "Target",
      "Path sent",
      "Replacement",
      "Change origin",
      "Remove",
    ]);
    const row = byId("network-rules-body").querySelector("tr[data-row]");
    expect(row?.querySelector<HTMLInputElement>('[data-member="path"]')?.value).toBe("/videos/**");
    expect(row?.querySelector<HTMLSelectElement>('[data-member="preset"]')?.value).toBe("slow-4g");
    expect(byId("proxy-rules").hidden).toBe(true);
    expect(byId("proxy-rules-empty").hidden).toBe(false);
    expect(byId<HTMLInputElement>("set-network-conditions").checked).toBe(true);
  });

  it("send the rows typed, and mark the row and cell of the rule the core refuses", async () => {
    const sent: SiteSettings[] = [];
    let refuse: object | null = { kind: "invalidConfig", message: "m", field: "network", index: 1, member: "reset-after", reason: "is too big" };
    const form = new SettingsForm({
      apply: (_site, values) => {
        sent.push(values);
        return refuse === null
          ? Promise.resolve({ site: { ...site, settings: values }, generation: 2, changes: [], continuing: [], applied: true } as ApplyOutcome)
          : Promise.reject(refuse);
      },
      error: () => undefined,
    });
    form.update([site], site);
    byId<HTMLButtonElement>("proxy-rules-add").click();
    expect(document.activeElement?.getAttribute("data-member")).toBe("path");
    type("proxy-rules", 0, "path", "/api");
    type("proxy-rules", 0, "target", "http://localhost:3000");
    const replacement = () => byId("proxy-rules-body").querySelector<HTMLInputElement>('[data-member="rewriteTo"]');
    expect(replacement()?.disabled).toBe(true);
    type("proxy-rules", 0, "rewrite", "replace");
    expect(replacement()?.disabled).toBe(false);
    type("proxy-rules", 0, "rewriteTo", "/v2");
    type("proxy-rules", 0, "changeOrigin", false);
    byId<HTMLButtonElement>("network-rules-add").click();
    type("network-rules", 1, "path", "/**");
    type("network-rules", 1, "preset", "slow-3g");
    type("network-rules", 1, "options", "reset-after=99999999999");
    submit();
    expect(sent).toEqual([]); // not a number in range: caught before sending
    expect(byId("network-rules-error").textContent).toMatch(/^Row 2: reset-after=99999999999 is not a whole number/);
    type("network-rules", 1, "options", "reset-after=1000");
    submit();
    await settle();
    expect(sent).toHaveLength(1);
    expect(sent[0].proxy).toEqual([{ path: "/api", target: "http://localhost:3000", rewrite: "/v2", changeOrigin: false }]);
    expect(sent[0].network).toEqual([
      { path: "/videos/**", preset: "slow-4g" },
      { path: "/**", preset: "slow-3g", "reset-after": 1000 },
    ]);
    const rows = byId("network-rules-body").querySelectorAll<HTMLElement>("tr[data-row]");
    expect([...rows].map((row) => row.dataset.error)).toEqual(["false", "true"]);
    const options = rows[1].querySelector('[data-member="options"]');
    expect(options?.getAttribute("aria-invalid")).toBe("true");
    expect(options?.getAttribute("aria-describedby")).toBe("network-rules-error");
    expect(rows[1].querySelector('[data-member="path"]')?.getAttribute("aria-invalid")).toBe("false");
    expect(document.activeElement).toBe(options);
    expect(byId("network-rules-error").textContent).toBe("Network rules, row 2, reset-after: is too big");

    refuse = null;
    type("network-rules", 1, "options", "reset-after=10");
    submit();
    await settle();
    expect(byId("network-rules-error").hidden).toBe(true);
    expect([...byId("network-rules-body").querySelectorAll<HTMLElement>("tr[data-row]")].map((r) => r.dataset.error)).toEqual([
      "false",
      "false",
    ]);
    expect(byId<HTMLButtonElement>("settings-apply").disabled).toBe(true);
  });
});
