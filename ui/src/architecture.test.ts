// The UI's rules from STYLE.md, checked on the source: only api/commands.ts calls invoke,
// only api/streams.ts opens Channels, and nothing parses strings as HTML (network text must
// stay text).
import { describe, expect, it } from "vitest";

const sources = import.meta.glob<string>(["./**/*.ts", "!./**/*.test.ts"], {
  query: "?raw",
  import: "default",
  eager: true,
});
const files = Object.entries(sources).map(([path, text]) => ({ path: path.replace(/^\.\//, ""), text }));

describe("architecture", () => {
  it("finds the sources", () => {
    expect(files.map((f) => f.path)).toContain("main.ts");
    expect(files.length).toBeGreaterThan(15);
  });

  it("calls invoke only from api/commands.ts", () => {
    const callers = files.filter((f) => /\binvoke\s*[<(]/.test(f.text) || /@tauri-apps\/plugin-/.test(f.text));
    expect(callers.map((f) => f.path)).toEqual(["api/commands.ts"]);
  });

  it("opens Channels only in api/streams.ts", () => {
    const openers = files.filter((f) => /new\s+Channel\b/.test(f.text));
    expect(openers.map((f) => f.path)).toEqual(["api/streams.ts"]);
  });

  it("never turns strings into markup", () => {
    const risky = /\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser/;
    expect(files.filter((f) => risky.test(f.text)).map((f) => f.path)).toEqual([]);
  });

  it("sets no style attributes from strings (CSP style-src 'self')", () => {
    const inline = /setAttribute\(\s*["']style["']|\.style\.cssText\s*=|createElement\(\s*["']style["']/;
    expect(files.filter((f) => inline.test(f.text)).map((f) => f.path)).toEqual([]);
  });
});
