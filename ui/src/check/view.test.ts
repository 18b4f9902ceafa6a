// The Check tab's texts: findings grouped by file in the report's order, and the summary line.
import { describe, expect, it } from "vitest";
import type { CheckReport, Finding } from "../api/types";
import { checkedText, groupByFile, placeText, summaryText } from "./view";

const finding = (file: string, line: number | null, severity: Finding["severity"] = "error"): Finding => ({
  kind: severity === "error" ? "broken_link" : "absolute_path",
  severity,
  file,
  line,
  message: `in ${file}`,
  advice: "fix it",
});

const report = (findings: Finding[], skipped: string[] = []): CheckReport => ({ findings, files_seen: 12, skipped, live: false, live_omitted: 0 });

describe("the check's texts", () => {
  it("groups findings by file, keeping the report's order", () => {
    const findings = [finding(".env", null), finding("index.html", 3), finding("index.html", 9, "warning"), finding("a/b.css", 1)];
    const groups = groupByFile(findings);
    expect(groups.map((g) => g.file)).toEqual([".env", "index.html", "a/b.css"]);
    expect(groups[1].findings.map((f) => f.line)).toEqual([3, 9]);
  });

  it("sums up errors, warnings and files", () => {
    const many = [finding("a.html", 1), finding("a.html", 2), finding("b.html", 1), finding("b.html", 4, "warning")];
    expect(summaryText(report(many))).toBe("3 errors, 1 warning in 2 files");
    expect(summaryText(report([finding("a.html", 1, "warning")]))).toBe("1 warning in 1 file");
    expect(summaryText(report([finding("a.html", 1), finding("a.html", 5)]))).toBe("2 errors in 1 file");
    expect(summaryText(report([]))).toBe("No problems found");
  });

  it("names the place and when it was checked", () => {
    expect(placeText(finding("a", 7))).toBe("line 7");
    expect(placeText(finding("a", null))).toBe("whole file");
    const at = new Date(2026, 11, 4, 9, 5, 3).getTime();
    expect(checkedText(report([]), at)).toBe("Checked at 09:05:03 · 12 files in the folder");
    expect(checkedText(report([], ["big.js"]), at)).toContain("not read (too large): big.js");
  });
});
