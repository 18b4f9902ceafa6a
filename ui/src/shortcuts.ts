//! The window's keyboard shortcuts: Ctrl+O adds a folder, Ctrl+1 to Ctrl+9 select the first
//! nine sites, Ctrl+L focuses the log's path filter (Cmd instead of Ctrl on macOS). Which key
//! means what (`shortcutOf`) and how a shortcut is written (`keyLabel`, for titles and
//! `aria-keyshortcuts`) are pure; `listenForShortcuts` binds them to the document. Digits are
//! read from the physical key (`event.code`), so Ctrl+1 works on layouts where 1 needs Shift
//! (AZERTY); letters from the character, so Ctrl+O is the O the keyboard shows.

/** What a shortcut does. */
export type Shortcut = { action: "addFolder" } | { action: "selectSite"; index: number } | { action: "focusFilter" };

/** The parts of a `KeyboardEvent` a shortcut reads. */
export type KeyPress = Pick<KeyboardEvent, "key" | "code" | "ctrlKey" | "metaKey" | "altKey" | "shiftKey">;

/** Whether the window runs on macOS (Cmd is the shortcuts' modifier there), from a user agent. */
export function isMac(userAgent: string): boolean {
  return /Mac OS X|Macintosh/.test(userAgent);
}

const onMac = (): boolean => isMac(navigator.userAgent);

/** The shortcut `press` is, or null: Ctrl (Cmd on macOS) and the key, without Alt or Shift. */
export function shortcutOf(press: KeyPress, mac: boolean): Shortcut | null {
  const primary = mac ? press.metaKey && !press.ctrlKey : press.ctrlKey && !press.metaKey;
  if (!primary || press.altKey || press.shiftKey) {
    return null;
  }
  // The key's character when the physical key is unknown (code "").
  const digit = /^(?:Digit|Numpad)([1-9])$/.exec(press.code) ?? (press.code === "" ? /^([1-9])$/.exec(press.key) : null);
  if (digit) {
    return { action: "selectSite", index: Number(digit[1]) - 1 };
  }
  switch (press.key.toLowerCase()) {
    case "o":
      return { action: "addFolder" };
    case "l":
      return { action: "focusFilter" };
    default:
      return null;
  }
}

/** How the shortcut with `key` is written: "Ctrl+O", or "⌘O" on macOS. */
export function keyLabel(key: string, mac: boolean = onMac()): string {
  return mac ? `⌘${key.toUpperCase()}` : `Ctrl+${key.toUpperCase()}`;
}

/** `key` as `aria-keyshortcuts` spells it: "Control+O" or "Meta+O". */
export function ariaKeys(key: string, mac: boolean = onMac()): string {
  return `${mac ? "Meta" : "Control"}+${key.toUpperCase()}`;
}

/** Gives `element` the shortcut in its tooltip (after `title`) and its accessible description. */
export function markShortcut(element: HTMLElement, key: string, title: string, mac: boolean = onMac()): void {
  element.title = `${title} (${keyLabel(key, mac)})`;
  element.setAttribute("aria-keyshortcuts", ariaKeys(key, mac));
}

/** Calls `run` with each shortcut pressed in `target`, which then does nothing else with the key. */
export function listenForShortcuts(target: Document, run: (shortcut: Shortcut) => void, mac: boolean = onMac()): void {
  target.addEventListener("keydown", (event) => {
    const shortcut = event.isComposing ? null : shortcutOf(event, mac);
    if (shortcut !== null) {
      event.preventDefault();
      run(shortcut);
    }
  });
}
