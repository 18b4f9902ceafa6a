//! Texts of the Check tab: the summary line, the findings grouped by file, a finding's place.
//! Pure: no DOM.
import type { AccessRecord, CheckReport, Finding } from "../api/types";
import { formatClock, plural } from "../format";

/** The findings of one file, in the report's order (by line, whole-file findings first). */
export interface FileFindings {
  file: string;
  findings: Finding[];
}

/** Groups findings by file, files in order of first appearance (the report sorts by file). */
export function groupByFile(findings: readonly Finding[]): FileFindings[] {
  const groups = new Map<string, Finding[]>();
  for (const finding of findings) {
    const group = groups.get(finding.file);
    if (group) {
      group.push(finding);
    } else {
      groups.set(finding.file, [finding]);
    }
  }
  return [...groups].map(([file, group]) => ({ file, findings: group }));
}

/** "3 errors, 1 warning in 2 files", "1 warning in 1 file", or "No problems found". */
export function summaryText(report: CheckReport): string {
  if (report.findings.length === 0) {
    return "No problems found";
  }
  const errors = report.findings.filter((f) => f.severity === "error").length;
  const warnings = report.findings.length - errors;
  const counts = [];
  if (errors > 0) {
    counts.push(plural(errors, "error", "errors"));
  }
  if (warnings > 0) {
    counts.push(plural(warnings, "warning", "warnings"));
  }
  const files = groupByFile(report.findings).length;
  return `${counts.join(", ")} in ${plural(files, "file", "files")}`;
}

/**
 * "Checked at 14:03:07 · 12 files in the folder · with this session's requests", and the
 * live 404s left out and the files too large to read, if any.
 */
export function checkedText(report: CheckReport, atMs: number): string {
  const time = formatClock(atMs).replace(/\.\d+$/, "");
  let text = `Checked at ${time} · ${plural(report.files_seen, "file", "files")} in the folder`;
  if (report.live) {
    text += " · with the 404s pages met this session";
  }
  if (report.live_omitted > 0) {
    text += ` (${plural(report.live_omitted, "more was", "more were")} not listed)`;
  }
  if (report.skipped.length > 0) {
    text += ` · not read (too large): ${report.skipped.join(", ")}`;
  }
  return text;
}

/** "line 12", "seen live" for a 404 from the access log, or "whole file" for a finding about the file itself. */
export function placeText(finding: Finding): string {
  if (finding.kind === "live_not_found") {
    return "seen live";
  }
  return finding.line === null ? "whole file" : `line ${finding.line}`;
}

/** Whether a record is a 404 a page asked for, which a live check would report. */
export function isLive404(record: Pick<AccessRecord, "status" | "referer">): boolean {
  return record.status === 404 && record.referer !== null && record.referer !== undefined;
}
