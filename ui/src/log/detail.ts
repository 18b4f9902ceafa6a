//! The detail pane (#log-detail): every field of the selected record. Every value is set with
//! textContent: targets, user agents and referers are a stranger's bytes.
import type { AccessRecord, Site } from "../api/types";
import { byId, el } from "../dom";
import { formatBytes, formatClock, formatCount, formatDurationUs, visibleText } from "../format";
import { percentDecode } from "./filter";
import { effectWords, ruleName } from "./marks";
import { timelinePhases, timelineWords, waterfall } from "./timeline";
import { explainWhy } from "./why";

const OUTCOMES: Record<AccessRecord["outcome"], string> = {
  completed: "completed",
  client_aborted: "aborted by the client",
  timed_out: "timed out",
  error: "error",
};

/**
 * A rule of `record`, named: with what it says when `site`'s settings are the ones that
 * answered the record (the same generation: every change of settings makes a new one), else
 * by its place in the list. `describe` gets the rule as the settings hold it.
 */
function ruleText<T>(
  record: AccessRecord,
  site: Site | null,
  index: number,
  section: "Proxy" | "Network conditions",
  rules: (site: Site) => readonly T[] | undefined,
  describe: (rule: T) => string,
): string {
  const name = ruleName(index, section);
  if (site === null) {
    return name;
  }
  if (site.generation !== record.generation) {
    return ruleName(index, section, `as of generation ${record.generation}`);
  }
  const rule = rules(site)?.[index];
  return rule === undefined ? name : `${name}: ${describe(rule)}`;
}

/** A network rule as `--network` takes it: `/videos/** preset=slow-3g`. */
function networkRuleText(rule: { path: string }): string {
  const keys = Object.entries(rule)
    .filter(([key, value]) => key !== "path" && value !== null && value !== undefined)
    .map(([key, value]) => `${key}=${String(value)}`);
  return [rule.path, ...keys].join(" ");
}

/** The proxy's and the network rule's rows, for a record they touched. */
function ruleRows(record: AccessRecord, site: Site | null): Array<[string, string]> {
  const rows: Array<[string, string]> = [];
  const proxy = record.proxy;
  if (proxy !== undefined) {
    const rule = ruleText(record, site, proxy.rule, "Proxy", (s) => s.settings.proxy, (p) => `${p.path} → ${p.target}`);
    rows.push(
      ["Proxy rule", rule],
      ["Upstream status", proxy.upstreamStatus === null ? `no answer (Wharf answered ${record.status})` : String(proxy.upstreamStatus)],
      ["Upstream first byte", formatDurationUs(proxy.upstreamTtfbUs)],
    );
  }
  const network = record.network;
  if (network !== undefined) {
    rows.push(
      ["Network rule", ruleText(record, site, network.rule, "Network conditions", (s) => s.settings.network, networkRuleText)],
      ["Network effect", effectWords(network, record.status)],
    );
  }
  return rows;
}

/**
 * The rows of the detail pane, label and value, for `record`. `site`, the watched site, names
 * the proxy and network rules by what they say when its settings answered the record.
 */
export function detailRows(record: AccessRecord, site: Site | null = null): Array<[string, string]> {
  const decoded = percentDecode(record.target);
  const rows: Array<[string, string]> = [
    ["Request", `${record.method} ${record.target} ${record.version}`],
    ["Target", record.target],
  ];
  if (decoded !== record.target) {
    rows.push(["Target, decoded", decoded]);
  }
  // Why first: it answers the question a developer opens the pane with.
  rows.push(...explainWhy(record).map((sentence, i): [string, string] => [i === 0 ? "Why" : "", sentence]));
  // Where the time went: the pane draws this row as a waterfall bar (issue 19).
  const timeline = timelinePhases(record);
  if (timeline !== null) {
    rows.push([TIMELINE_LABEL, timelineWords(timeline).join(", ")]);
  }
  rows.push(
    ["Started", `${formatClock(record.startMs)} (${new Date(record.startMs).toISOString()})`],
    ["Peer", record.peer],
    ["Method", record.method],
    ["HTTP version", record.version],
    ["Status", record.status === 0 ? "0 (no response)" : String(record.status)],
    ["Served", record.served],
    ...ruleRows(record, site),
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

/** The label of the row the pane draws as a waterfall. */
const TIMELINE_LABEL = "Timeline";

export class LogDetail {
  private readonly root = byId("log-detail");
  private shown: AccessRecord | null | undefined = undefined;

  constructor(private readonly onClose: () => void) {}

  render(record: AccessRecord | null, site: Site | null = null): void {
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
    const timeline = timelinePhases(record);
    for (const [label, value] of detailRows(record, site)) {
      if (label === TIMELINE_LABEL && timeline !== null) {
        const cell = el("dd", "detail-timeline");
        cell.append(waterfall(timeline));
        list.append(el("dt", undefined, label), cell);
        continue;
      }
      list.append(el("dt", undefined, label), el("dd", undefined, visibleText(value)));
    }
    this.root.replaceChildren(head, list);
  }
}
