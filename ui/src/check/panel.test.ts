// @vitest-environment happy-dom
// The Check tab in the real index.html: it checks when shown and when the site's served
// settings change, shows only the latest answer, and puts the site's text in as text.
import { beforeEach, describe, expect, it, vi } from "vitest";
import page from "../../index.html?raw";
import type { AccessRecord, CheckReport, Site, SiteId } from "../api/types";
import { CheckPanel, LIVE_RECHECK_MS } from "./panel";

beforeEach(() => {
  const parsed = new DOMParser().parseFromString(page, "text/html");
  document.body.replaceChildren(...[...parsed.body.children].filter((node) => node.tagName !== "SCRIPT"));
});

const site = (id: string, cleanUrls = false, generation = 1): Site =>
  ({
    id,
    name: id,
    root: `/srv/${id}`,
    generation,
    settings: { cleanUrls, spaFallback: false, crossOriginIsolation: false },
  }) as unknown as Site;

const HOSTILE = '<img src=x onerror="window.pwned=1"><b>bold</b>';

const report: CheckReport = {
  findings: [
    { kind: "private_file", severity: "error", file: ".env", line: null, message: "a .env file", advice: "delete it" },
    { kind: "broken_link", severity: "error", file: "index.html", line: 4, message: HOSTILE, advice: "fix </p><script>x</script>" },
    { kind: "absolute_path", severity: "warning", file: "index.html", line: 9, message: "/assets/x.js", advice: "use a relative path" },
  ],
  files_seen: 5,
  skipped: [],
  live: false,
  live_omitted: 0,
};

/** A check_site stand-in that records its calls and answers when told. */
function fakeCheck() {
  const calls: Array<{ id: SiteId; basePath: string | null; answer: (r: CheckReport) => void; fail: (e: unknown) => void }> = [];
  const actions = {
    check: (id: SiteId, basePath: string | null) =>
      new Promise<CheckReport>((answer, fail) => {
        calls.push({ id, basePath, answer, fail });
      }),
  };
  return { calls, actions };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));
const text = (id: string) => document.getElementById(id)?.textContent ?? "";

describe("the Check tab", () => {
  it("lists findings by file with severity, line, message and advice, as text", async () => {
    const { calls, actions } = fakeCheck();
    const panel = new CheckPanel(actions, () => new Date(2026, 11, 4, 11, 30, 0).getTime());
    panel.setSite(site("s1"));
    expect(calls).toHaveLength(0);
    panel.setVisible(true);
    expect(calls.map((c) => c.id)).toEqual(["s1"]);
    calls[0].answer(report);
    await settle();

    expect(text("check-summary")).toBe("2 errors, 1 warning in 2 files");
    expect(text("check-when")).toBe("Checked at 11:30:00 · 5 files in the folder");
    const files = [...document.querySelectorAll<HTMLElement>("#check-findings .check-file")];
    expect(files.map((f) => f.querySelector(".check-path")?.textContent)).toEqual([".env", "index.html"]);
    const items = [...files[1].querySelectorAll(".check-item")].map((item) =>
      [".check-severity", ".check-line", ".check-message", ".check-advice"].map((c) => item.querySelector(c)?.textContent),
    );
    expect(items).toEqual([
      ["error", "line 4", HOSTILE, "fix </p><script>x</script>"],
      ["warning", "line 9", "/assets/x.js", "use a relative path"],
    ]);
    expect(files[0].querySelector(".check-line")?.textContent).toBe("whole file");
    // The hostile text stayed text: no element came of it.
    const list = document.getElementById("check-findings")!;
    expect(list.querySelector("img, b, script")).toBeNull();
    expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
  });

  it("checks again when shown and when a served setting changes, not on other updates", async () => {
    const { calls, actions } = fakeCheck();
    const panel = new CheckPanel(actions);
    panel.setVisible(true);
    panel.setSite(site("s1"));
    expect(calls).toHaveLength(1);
    panel.setSite(site("s1"));
    expect(calls).toHaveLength(1);
    panel.setSite(site("s1", true, 2));
    expect(calls).toHaveLength(2);
    panel.setVisible(false);
    panel.setSite(site("s1", false, 3));
    expect(calls).toHaveLength(2);
    panel.setVisible(true);
    expect(calls).toHaveLength(3);
    calls[2].answer(report);
    await settle();
    (document.getElementById("check-base-path") as HTMLInputElement).value = " /repo/ ";
    document.getElementById("check-now")!.click();
    expect(calls.map((c) => c.basePath)).toEqual([null, null, null, "/repo/"]);
  });

  it("shows only the latest answer, and an error as its message", async () => {
    const { calls, actions } = fakeCheck();
    const panel = new CheckPanel(actions);
    panel.setVisible(true);
    panel.setSite(site("s1"));
    panel.setSite(site("s2"));
    calls[1].answer({ findings: [], files_seen: 1, skipped: [], live: true, live_omitted: 0 });
    calls[0].answer(report);
    await settle();
    expect(text("check-summary")).toBe("No problems found");
    expect(document.querySelectorAll(".check-file")).toHaveLength(0);

    document.getElementById("check-now")!.click();
    calls[2].fail({ kind: "checkFailed", message: "cannot check the site: base path `repo` must start with `/`, e.g. /repo/" });
    await settle();
    expect(text("check-summary")).toBe("cannot check the site: base path `repo` must start with `/`, e.g. /repo/");
  });

  it("checks again soon after a page meets a 404 while shown, once for a burst, and marks live findings", async () => {
    vi.useFakeTimers();
    try {
      const { calls, actions } = fakeCheck();
      const panel = new CheckPanel(actions, () => new Date(2026, 11, 4, 11, 30, 0).getTime());
      const miss = { status: 404, referer: "http://127.0.0.1:8080/" } as AccessRecord;
      const plain = { status: 404, referer: null } as AccessRecord;
      panel.setSite(site("s1"));
      panel.noteRecords([miss]);
      vi.advanceTimersByTime(LIVE_RECHECK_MS);
      expect(calls).toHaveLength(0);
      panel.setVisible(true);
      expect(calls).toHaveLength(1);
      panel.noteRecords([plain, { ...miss, status: 200 }]);
      vi.advanceTimersByTime(LIVE_RECHECK_MS);
      expect(calls).toHaveLength(1);
      panel.noteRecords([miss]);
      panel.noteRecords([miss, miss]);
      vi.advanceTimersByTime(LIVE_RECHECK_MS - 1);
      expect(calls).toHaveLength(1);
      vi.advanceTimersByTime(1);
      expect(calls).toHaveLength(2);
      calls[1].answer({
        findings: [
          {
            kind: "live_not_found",
            severity: "error",
            file: "index.html",
            line: null,
            message: "`/img/x.png` got 404 when http://127.0.0.1:8080/ asked for it (once, last at 2026-12-04T11:29:59.000Z)",
            advice: "Fix the link",
          },
        ],
        files_seen: 3,
        skipped: [],
        live: true,
        live_omitted: 2,
      });
      await vi.runAllTimersAsync();
      expect(text("check-when")).toBe(
        "Checked at 11:30:00 · 3 files in the folder · with the 404s pages met this session (2 more were not listed)",
      );
      expect(document.querySelector("#check-findings .check-line")?.textContent).toBe("seen live");
    } finally {
      vi.useRealTimers();
    }
  });
});
