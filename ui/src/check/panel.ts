//! The Check tab: the site check of the selected site's folder (`check_site`), run by
//! "Check now", when the tab is shown, when the site's folder or served settings change while
//! it is shown, and when a page meets a 404 while it is shown (the core reads those from the
//! site's access log, so the live stream's thinning loses none); a summary line, when it last
//! ran, and the findings grouped by file, each with its severity, line (or "seen live"),
//! message and advice. Every text comes from the site's files or its visitors, so it goes in
//! with textContent (through `visibleText`), never as markup.
import type { AccessRecord, CheckReport, Site, SiteId } from "../api/types";
import { errorMessage } from "../api/errors";
import { byId, el, setText } from "../dom";
import { visibleText } from "../format";
import { checkedText, groupByFile, isLive404, placeText, summaryText } from "./view";

/** How long after a live 404 the check runs again: a page's burst of misses makes one check. */
export const LIVE_RECHECK_MS = 1000;

export interface CheckActions {
  /** check_site; rejects with a CommandError. */
  check(id: SiteId, basePath: string | null): Promise<CheckReport>;
}

/** What a check depends on: the site, its folder, and the settings the check reads. */
function keyOf(site: Site): string {
  const s = site.settings;
  return JSON.stringify([site.id, site.root, site.generation, s.cleanUrls, s.spaFallback, s.crossOriginIsolation]);
}

export class CheckPanel {
  private readonly button = byId<HTMLButtonElement>("check-now");
  private readonly basePath = byId<HTMLInputElement>("check-base-path");
  private readonly summary = byId("check-summary");
  private readonly checked = byId("check-when");
  private readonly list = byId("check-findings");
  private site: Site | null = null;
  private key: string | null = null;
  private visible = false;
  /** Numbers each check, so only the answer to the latest one is shown. */
  private asked = 0;
  /** A check due after a live 404, if one is waiting. */
  private recheck: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly actions: CheckActions,
    private readonly now: () => number = Date.now,
  ) {
    this.button.addEventListener("click", () => void this.checkNow());
    this.basePath.addEventListener("change", () => void this.checkNow());
    this.clear();
  }

  /** The selected site. Another site clears the results; a changed folder or served setting re-checks if shown. */
  setSite(site: Site | null): void {
    const key = site === null ? null : keyOf(site);
    const otherSite = site?.id !== this.site?.id;
    this.site = site;
    this.button.disabled = site === null;
    if (key === this.key) {
      return;
    }
    this.key = key;
    if (otherSite) {
      this.clear();
    }
    if (this.visible) {
      void this.checkNow();
    }
  }

  /** Shown (the tab was selected) or hidden. Showing it checks again: files may have changed. */
  setVisible(visible: boolean): void {
    const shown = visible && !this.visible;
    this.visible = visible;
    if (shown) {
      void this.checkNow();
    }
  }

  /** New records of the selected site: a 404 a page asked for checks again soon, while the tab is shown. */
  noteRecords(records: readonly AccessRecord[]): void {
    if (!this.visible || this.site === null || this.recheck !== null || !records.some(isLive404)) {
      return;
    }
    this.recheck = setTimeout(() => {
      this.recheck = null;
      if (this.visible) {
        void this.checkNow();
      }
    }, LIVE_RECHECK_MS);
  }

  /** Runs the check of the selected site and shows its answer, unless a newer check was asked meanwhile. */
  async checkNow(): Promise<void> {
    const site = this.site;
    if (site === null) {
      return;
    }
    const asked = ++this.asked;
    this.button.disabled = true;
    setText(this.checked, "Checking…");
    const base = this.basePath.value.trim();
    try {
      const report = await this.actions.check(site.id, base === "" ? null : base);
      if (asked === this.asked) {
        this.render(report);
      }
    } catch (error) {
      if (asked === this.asked) {
        this.clear();
        setText(this.summary, visibleText(errorMessage(error)));
      }
    } finally {
      if (asked === this.asked) {
        this.button.disabled = this.site === null;
      }
    }
  }

  private clear(): void {
    setText(this.summary, "Not checked yet");
    setText(this.checked, "");
    this.list.replaceChildren();
    delete this.summary.dataset.severity;
  }

  private render(report: CheckReport): void {
    setText(this.summary, summaryText(report));
    const worst = report.findings.some((f) => f.severity === "error")
      ? "error"
      : report.findings.length > 0
        ? "warning"
        : "none";
    this.summary.dataset.severity = worst;
    setText(this.checked, visibleText(checkedText(report, this.now())));
    const groups = groupByFile(report.findings).map(({ file, findings }) => {
      const section = el("section", "check-file");
      section.dataset.file = file;
      const items = el("ul", "check-items");
      for (const finding of findings) {
        const item = el("li", "check-item");
        item.dataset.severity = finding.severity;
        item.dataset.kind = finding.kind;
        const head = el("p", "check-head");
        head.append(
          el("span", "check-severity", finding.severity),
          el("span", "check-line", placeText(finding)),
          el("span", "check-message", visibleText(finding.message)),
        );
        item.append(head, el("p", "check-advice", visibleText(finding.advice)));
        items.append(item);
      }
      section.append(el("h3", "check-path", visibleText(file)), items);
      return section;
    });
    this.list.replaceChildren(...groups);
  }
}
