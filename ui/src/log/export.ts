//! Export CSV and Export HAR: export_csv or export_har with the log's current filters (the
//! whole session when there are none), which opens the app's save dialog (suggesting
//! `wharf-<site>-<date>.csv` or `.har`) and writes where the user chose; then "Exported 1,234
//! rows to …" (or entries, for a HAR) with a Reveal button for the file.
import type { ExportFilter, ExportSummary, Site } from "../api/types";
import { byId, setText, show } from "../dom";
import { formatCount, plural, visibleText } from "../format";
import { toExportFilter, type LogFilter } from "./filter";

/** What an export writes. */
export type ExportFormat = "csv" | "har";

export interface ExportActions {
  /** Asks where (the app's save dialog) and writes; null when cancelled. */
  exportCsv(site: Site, filter: ExportFilter): Promise<ExportSummary | null>;
  /** The same as HAR 1.2. */
  exportHar(site: Site, filter: ExportFilter): Promise<ExportSummary | null>;
  /** Shows the folder of an export of this app run, by its id. */
  reveal(exportId: number): Promise<void>;
}

/** "Exported 1,234 rows to /x/y.csv" ("1,234 entries" for a HAR), with what the reader should
 * know about missing rows. */
export function exportResultText(
  summary: ExportSummary,
  unsupported: readonly string[] = [],
  format: ExportFormat = "csv",
): string {
  const count = format === "har" ? plural(summary.records, "entry", "entries") : plural(summary.rows, "row", "rows");
  const parts = [`Exported ${count} to ${visibleText(summary.path)}`];
  if (summary.retentionDropped > 0) {
    parts.push(`${formatCount(summary.retentionDropped)} older records were removed by log retention`);
  }
  if (summary.lost > 0) {
    parts.push(`${formatCount(summary.lost)} records were lost before reaching the log`);
  }
  if (summary.unreadableLines > 0) {
    parts.push(`${formatCount(summary.unreadableLines)} unreadable log lines skipped`);
  }
  if (unsupported.length > 0) {
    parts.push(`not applied: ${unsupported.join(", ")}`);
  }
  return parts.join(" · ");
}

export class LogExport {
  private readonly buttons: Record<ExportFormat, HTMLButtonElement> = {
    csv: byId<HTMLButtonElement>("export-csv"),
    har: byId<HTMLButtonElement>("export-har"),
  };
  private readonly result = byId("export-result");
  private readonly revealButton = byId<HTMLButtonElement>("export-reveal");
  private lastExport: number | null = null;

  constructor(
    private readonly actions: ExportActions,
    private readonly site: () => Site | null,
    private readonly filter: () => LogFilter,
  ) {
    this.buttons.csv.addEventListener("click", () => void this.run("csv"));
    this.buttons.har.addEventListener("click", () => void this.run("har"));
    this.revealButton.addEventListener("click", () => {
      if (this.lastExport !== null) {
        void this.actions.reveal(this.lastExport).catch(() => undefined);
      }
    });
  }

  /** Another site is selected: its export result is not this one's. */
  clear(): void {
    this.lastExport = null;
    setText(this.result, "");
    show(this.revealButton, false);
  }

  private async run(format: ExportFormat): Promise<void> {
    const site = this.site();
    if (site === null) {
      return;
    }
    const { filter, unsupported } = toExportFilter(this.filter());
    // One export at a time: both buttons wait for this one.
    this.buttons.csv.disabled = true;
    this.buttons.har.disabled = true;
    try {
      const summary =
        format === "har" ? await this.actions.exportHar(site, filter) : await this.actions.exportCsv(site, filter);
      if (summary === null) {
        return;
      }
      this.lastExport = summary.id;
      setText(this.result, exportResultText(summary, unsupported, format));
      show(this.revealButton, true);
    } catch {
      this.clear();
    } finally {
      this.buttons.csv.disabled = false;
      this.buttons.har.disabled = false;
    }
  }
}
