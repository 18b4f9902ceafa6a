// @vitest-environment happy-dom
import { describe, expect, it } from "vitest";
import { isMac, keyLabel, listenForShortcuts, markShortcut, shortcutOf, type KeyPress, type Shortcut } from "./shortcuts";

const press = (over: Partial<KeyPress>): KeyPress => ({
  key: "",
  code: "",
  ctrlKey: false,
  metaKey: false,
  altKey: false,
  shiftKey: false,
  ...over,
});

describe("shortcutOf", () => {
  it("reads Ctrl elsewhere and Cmd on macOS", () => {
    expect(shortcutOf(press({ key: "o", code: "KeyO", ctrlKey: true }), false)).toEqual({ action: "addFolder" });
    expect(shortcutOf(press({ key: "o", code: "KeyO", metaKey: true }), false)).toBeNull();
    expect(shortcutOf(press({ key: "o", code: "KeyO", metaKey: true }), true)).toEqual({ action: "addFolder" });
    expect(shortcutOf(press({ key: "o", code: "KeyO", ctrlKey: true }), true)).toBeNull();
    expect(shortcutOf(press({ key: "L", code: "KeyL", ctrlKey: true }), false)).toEqual({ action: "focusFilter" });
  });

  it("selects sites 1 to 9 by the physical digit key, whatever the layout types", () => {
    expect(shortcutOf(press({ key: "2", code: "Digit2", ctrlKey: true }), false)).toEqual({
      action: "selectSite",
      index: 1,
    });
    // AZERTY: the 1 key types "&" without Shift.
    expect(shortcutOf(press({ key: "&", code: "Digit1", ctrlKey: true }), false)).toEqual({
      action: "selectSite",
      index: 0,
    });
    expect(shortcutOf(press({ key: "9", code: "Numpad9", ctrlKey: true }), false)).toEqual({
      action: "selectSite",
      index: 8,
    });
    expect(shortcutOf(press({ key: "3", code: "", ctrlKey: true }), false)).toEqual({ action: "selectSite", index: 2 });
    expect(shortcutOf(press({ key: "0", code: "Digit0", ctrlKey: true }), false)).toBeNull();
  });

  it("leaves other keys and modifiers alone", () => {
    expect(shortcutOf(press({ key: "o", code: "KeyO" }), false)).toBeNull();
    expect(shortcutOf(press({ key: "O", code: "KeyO", ctrlKey: true, shiftKey: true }), false)).toBeNull();
    expect(shortcutOf(press({ key: "l", code: "KeyL", ctrlKey: true, altKey: true }), false)).toBeNull();
    expect(shortcutOf(press({ key: "c", code: "KeyC", ctrlKey: true }), false)).toBeNull();
  });
});

describe("labels", () => {
  it("writes Ctrl+ elsewhere and ⌘ on macOS", () => {
    expect(isMac("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15")).toBe(true);
    expect(isMac("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/605.1.15")).toBe(false);
    expect(keyLabel("o", false)).toBe("Ctrl+O");
    expect(keyLabel("1", true)).toBe("⌘1");
    const button = document.createElement("button");
    markShortcut(button, "o", "Add a folder", false);
    expect(button.title).toBe("Add a folder (Ctrl+O)");
    expect(button.getAttribute("aria-keyshortcuts")).toBe("Control+O");
  });
});

describe("listenForShortcuts", () => {
  it("runs the shortcut and keeps the key from doing anything else", () => {
    const seen: Shortcut[] = [];
    listenForShortcuts(document, (shortcut) => seen.push(shortcut), false);
    const ctrlL = new KeyboardEvent("keydown", { key: "l", code: "KeyL", ctrlKey: true, cancelable: true });
    document.dispatchEvent(ctrlL);
    const plainL = new KeyboardEvent("keydown", { key: "l", code: "KeyL", cancelable: true });
    document.dispatchEvent(plainL);
    expect(seen).toEqual([{ action: "focusFilter" }]);
    expect(ctrlL.defaultPrevented).toBe(true);
    expect(plainL.defaultPrevented).toBe(false);
  });
});
