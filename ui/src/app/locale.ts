//! Must be imported before uPlot. WebKitGTK reports `navigator.language` as the POSIX locale
//! when the system has none (LANG=C gives "C"), which is not a BCP 47 tag: `Intl` throws on
//! it, and uPlot calls `new Intl.NumberFormat(navigator.language)` as its module loads, which
//! would stop the whole window from starting. Such a language is replaced with "en-US".
function usable(tag: string | undefined): boolean {
  try {
    new Intl.NumberFormat(tag);
    return typeof tag === "string" && tag !== "";
  } catch {
    return false;
  }
}

if (typeof navigator !== "undefined" && !usable(navigator.language)) {
  Object.defineProperty(navigator, "language", { get: () => "en-US", configurable: true });
}
