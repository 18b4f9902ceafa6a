// @vitest-environment happy-dom
// The App settings panel in the real index.html: it shows what the app answers, sends one
// change per click, and puts a switch back when the change fails.
import { beforeEach, describe, expect, it } from "vitest";
import page from "../../index.html?raw";
import type { AppSettings, AppSettingsChange } from "../api/types";
import { AppSettingsPanel } from "./app-settings";

function box(id: string): HTMLInputElement {
  return document.getElementById(id) as HTMLInputElement;
}

function click(input: HTMLInputElement): void {
  input.checked = !input.checked;
  input.dispatchEvent(new Event("change"));
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** An app that answers like the Rust commands, except that the login item may be refused. */
function fakeApp(refuseLogin = false) {
  let settings: AppSettings = { keepServingOnClose: true, startAtLogin: false };
  const sent: AppSettingsChange[] = [];
  const errors: unknown[] = [];
  return {
    sent,
    errors,
    actions: {
      get: async () => settings,
      set: async (change: AppSettingsChange) => {
        sent.push(change);
        if (refuseLogin && change.startAtLogin !== undefined) {
          throw { kind: "settingsFailed", message: "Wharf could not add itself to the login items: denied" };
        }
        settings = { ...settings, ...change };
        return settings;
      },
      error: (error: unknown) => void errors.push(error),
    },
  };
}

beforeEach(() => {
  const parsed = new DOMParser().parseFromString(page, "text/html");
  document.body.replaceChildren(...[...parsed.body.children].filter((node) => node.tagName !== "SCRIPT"));
});

describe("App settings", () => {
  it("are off limits until loaded, then show the app's values", async () => {
    const app = fakeApp();
    const panel = new AppSettingsPanel(app.actions);
    expect(box("app-keep-serving").disabled).toBe(true);
    await panel.load();
    expect(box("app-keep-serving").checked).toBe(true);
    expect(box("app-start-at-login").checked).toBe(false);
    expect(box("app-start-at-login").disabled).toBe(false);
  });

  it("send one change per click, named by its field", async () => {
    const app = fakeApp();
    await new AppSettingsPanel(app.actions).load();
    click(box("app-start-at-login"));
    await settle();
    click(box("app-keep-serving"));
    await settle();
    expect(app.sent).toEqual([{ startAtLogin: true }, { keepServingOnClose: false }]);
    expect(box("app-start-at-login").checked).toBe(true);
    expect(box("app-keep-serving").checked).toBe(false);
    expect(app.errors).toEqual([]);
  });

  it("put the switch back and report when the app refuses", async () => {
    const app = fakeApp(true);
    await new AppSettingsPanel(app.actions).load();
    click(box("app-start-at-login"));
    expect(box("app-start-at-login").disabled).toBe(true);
    await settle();
    expect(box("app-start-at-login").checked).toBe(false);
    expect(box("app-start-at-login").disabled).toBe(false);
    expect(app.errors).toHaveLength(1);
  });
});
