// @vitest-environment happy-dom
// The switch rows drawn into the real index.html: the markup every field has (the ids the e2e
// tests and the form's binding read), one row per entry of `SWITCHES`, each section in its order.
import { beforeEach, describe, expect, it } from "vitest";
import page from "../../index.html?raw";
import { SettingsForm } from "./form";
import { renderSwitches } from "./switch-rows";
import { SWITCH_NAMES } from "./switches";

function form(): HTMLFormElement {
  return document.getElementById("settings-form") as HTMLFormElement;
}

function fieldsOf(section: string): (string | undefined)[] {
  const rows = form().querySelectorAll<HTMLElement>(`fieldset[data-section="${section}"] > .field`);
  return [...rows].map((row) => row.dataset.field);
}

beforeEach(() => {
  const parsed = new DOMParser().parseFromString(page, "text/html");
  document.body.replaceChildren(...[...parsed.body.children].filter((node) => node.tagName !== "SCRIPT"));
});

describe("switch rows", () => {
  it("draw a switch as index.html wrote it", () => {
    renderSwitches(form());
    const row = form().querySelector('.field[data-field="byteRanges"]');
    expect(row?.outerHTML).toBe(
      '<div class="field" data-field="byteRanges"><span class="label-text">Byte ranges</span>' +
        '<div class="control"><label class="check"><input type="checkbox" id="set-byte-ranges" name="byteRanges"> ' +
        "<span>Send the part of a file asked for (seeking, resumed downloads)</span></label></div>" +
        '<p class="field-error" data-error-for="byteRanges" hidden=""></p></div>',
    );
  });

  it("link help text to its checkbox and keep the warning of a risky switch", () => {
    renderSwitches(form());
    const dropHtml = document.getElementById("set-drop-html");
    expect(dropHtml?.getAttribute("name")).toBe("dropHtmlExtension");
    expect(dropHtml?.getAttribute("aria-describedby")).toBe("drop-html-help");
    expect(document.getElementById("drop-html-help")?.textContent).toBe(
      "Redirects /about.html to /about. Needs clean URLs.",
    );
    const dotfiles = form().querySelector('.field[data-field="showDotfiles"]');
    expect(dotfiles?.querySelector("#set-dotfiles")).not.toBeNull();
    const warn = dotfiles?.querySelector<HTMLElement>('p.warn[data-warn-for="showDotfiles"]');
    expect(warn?.hidden).toBe(true);
    expect(warn?.nextElementSibling?.getAttribute("data-error-for")).toBe("showDotfiles");
  });

  it("give every switch of the table one row, checkbox and error paragraph", () => {
    renderSwitches(form());
    for (const name of SWITCH_NAMES) {
      expect(form().querySelectorAll(`.field[data-field="${name}"]`), name).toHaveLength(1);
      const boxes = form().querySelectorAll<HTMLInputElement>(`input[name="${name}"]`);
      expect(boxes, name).toHaveLength(1);
      expect(boxes[0].type, name).toBe("checkbox");
      expect(boxes[0].id, name).toMatch(/^set-/);
      expect(form().querySelectorAll(`.field-error[data-error-for="${name}"]`), name).toHaveLength(1);
    }
    const ids = [...document.querySelectorAll("[id]")].map((node) => node.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const node of form().querySelectorAll("[aria-describedby]")) {
      expect(document.getElementById(node.getAttribute("aria-describedby") ?? ""), node.id).not.toBeNull();
    }
  });

  it("keep each section's order", () => {
    renderSwitches(form());
    expect(fieldsOf("connection")).toEqual([
      "port",
      "keepAlive",
      "headerReadTimeoutMs",
      "keepAliveIdleTimeoutMs",
      "maxConnections",
    ]);
    expect(fieldsOf("https")).toEqual(["https", "httpsPort"]);
    expect(fieldsOf("files")).toEqual([
      "directoryListing",
      "showDotfiles",
      "followSymlinks",
      "cacheControl",
      "compression",
      "byteRanges",
    ]);
    expect(fieldsOf("development")).toEqual(["liveReload", "reloadIgnore", "spaFallback", "cleanUrls", "dropHtmlExtension", "whyHeader"]);
    expect(fieldsOf("proxy")).toEqual(["proxy", "proxyConnectTimeoutMs", "proxyFirstByteTimeoutMs"]);
    expect(fieldsOf("network")).toEqual(["networkConditions", "network"]);
    expect(fieldsOf("access")).toEqual(["allowedHosts", "cors", "corsOrigins", "crossOriginIsolation", "customHeaders"]);
  });

  it("are drawn by the settings form", () => {
    expect(form().elements.namedItem("keepAlive")).toBeNull();
    new SettingsForm({ apply: () => Promise.reject(new Error("not here")), error: () => undefined });
    expect(form().elements.namedItem("keepAlive")).toBeInstanceOf(HTMLInputElement);
  });
});
