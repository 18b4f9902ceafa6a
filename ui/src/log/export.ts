//! Export CSV: a save dialog with `wharf-<site>-<date>.csv`, then export_csv with the log's
//! current filters (the whole session when there are none), then "Exported 1,234 rows to …"
//! with a Reveal button for the file.
import type { ExportFilter, ExportSummary, Site } from "../api/types";
import { byId, setText, show } from "../dom";
import { csvFileName, formatCount, plural } from "../format";
import { toExportFilter, type LogFilter } from "./filter";

export interface ExportActions {
  /** The save dialog; null when cancelled. */
  pickPath(defaultName: string): Promise<string | null>;
  exportCsv(site: Site, path: string, filter: ExportFilter): Promise<ExportSummary>;
  reveal(path: string): Promise<void>;
}

/** "Exported 1,234 rows to /x/y.csv", with what the reader should know about missing rows. */
export function exportResultText(summary: ExportSummary, unsupported: readonly string[] = []): string {
  const parts = [`Exported ${plural(summary.rows, "row", "rows")} to ${summary.path}`];
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

export class CsvExport {
  private readonly button = byId<HTMLButtonElement>("export-csv");
  private readonly result = byId("export-result");
  private readonly revealButton = byId<HTMLButtonElement>("export-reveal");
  private lastPath: string | null = null;

  constructor(
    private readonly actions: ExportActions,
    private readonly site: () => Site | null,
    private readonly filter: () => LogFilter,
  ) {
    this.button.addEventListener("click", () => void this.run());
    this.revealButton.addEventListener("click", () => {
      if (this.lastPath !== null) {
        void this.actions.reveal(this.lastPath).catch(() => undefined);
      }
    });
  }

  /** Another site is selected: its export result is not this one's. */
  clear(): void {
    this.lastPath = null;
    setText(this.result, "");
    show(this.revealButton, false);
  }

  private async run(): Promise<void> {
    const site = this.site();
    if (site === null) {
      return;
    }
    const { filter, unsupported } = toExportFilter(this.filter());
    const path = await this.actions.pickPath(csvFileName(site.name, Date.now())).catch(() => null);
    if (path === null) {
      return;
    }
    this.button.disabled = true;
    setText(this.result, "Exporting…");
    show(this.revealButton, false);
    try {
      const summary = await this.actions.exportCsv(site, path, filter);
      this.lastPath = summary.path;
      setText(this.result, exportResultText(summary, unsupported));
      show(this.revealButton, true);
    } catch {
      setText(this.result, "");
    } finally {
      this.button.disabled = false;
    }
  }
}
