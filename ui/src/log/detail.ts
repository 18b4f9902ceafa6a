//! The detail pane (#log-detail): every field of the selected record. Every value is set with
//! textContent: targets, user agents and referers are a stranger's bytes.
import type { AccessRecord } from "../api/types";
import { byId, el } from "../dom";
import { formatBytes, formatClock, formatCount, formatDurationUs, visibleText } from "../format";
import { percentDecode } from "./filter";

const OUTCOMES: Record<AccessRecord["outcome"], string> = {
  completed: "completed",
  client_aborted: "aborted by the client",
  timed_out: "timed out",
  error: "error",
};

/** The rows of the detail pane, label and value, for `record`. */
export function detailRows(record: AccessRecord): Array<[string, string]> {
  const decoded = percentDecode(record.target);
  const rows: Array<[string, string]> = [
    ["Request", `${record.method} ${record.target} ${record.version}`],
    ["Target", record.target],
  ];
  if (decoded !== record.target) {
    rows.push(["Target, decoded", decoded]);
  }
  rows.push(
    ["Started", `${formatClock(record.startMs)} (${new Date(record.startMs).toISOString()})`],
    ["Peer", record.peer],
    ["Method", record.method],
    ["HTTP version", record.version],
    ["Status", record.status === 0 ? "0 (no response)" : String(record.status)],
    ["Served", record.served],
    ["Outcome", OUTCOMES[record.outcome] ?? String(record.outcome)],
    ["Completed", record.completed ? "yes" : "no"],
    ["Body bytes", `${formatBytes(record.bodyBytes)} (${formatCount(record.bodyBytes)} B)`],
    ["Time to first byte", formatDurationUs(record.ttfbUs)],
    ["Total duration", formatDurationUs(record.totalUs)],
    ["User agent", record.userAgent ?? "—"],
    ["Referer", record.referer ?? "—"],
    ["Connection", `#${record.connection}`],
    ["Generation", String(record.generation)],
    ["Record", `#${record.id}`],
  );
  return rows;
}

export class LogDetail {
  private readonly root = byId("log-detail");
  private shown: AccessRecord | null | undefined = undefined;

  constructor(private readonly onClose: () => void) {}

  render(record: AccessRecord | null): void {
    if (record === this.shown) {
      return;
    }
    this.shown = record;
    this.root.dataset.empty = String(record === null);
    if (record === null) {
      this.root.replaceChildren(el("p", "hint", "Select a request to see every field."));
      return;
    }
    const head = el("div", "detail-head");
    const close = el("button", "ghost detail-close", "×");
    close.type = "button";
    close.setAttribute("aria-label", "Close the details");
    close.addEventListener("click", () => this.onClose());
    head.append(el("span", "detail-title", `Request #${record.id}`), close);
    const list = el("dl", "detail-list");
    for (const [label, value] of detailRows(record)) {
      list.append(el("dt", undefined, label), el("dd", undefined, visibleText(value)));
    }
    this.root.replaceChildren(head, list);
  }
}
