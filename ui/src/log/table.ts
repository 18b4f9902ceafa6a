//! The live log table (#log-table), virtualised: fixed-height rows, absolutely positioned, and
//! only the rows in view exist in the DOM (a small pool reused as you scroll). Rendering
//! happens at most once per animation frame, however many batches arrive. Following keeps
//! the newest row in view; scrolling up pauses (rows then stay still even as old records are
//! evicted), and the Follow box, the Resume button or scrolling to the end resumes.
import type { AccessRecord, Site } from "../api/types";
import { byId, el, setText, show } from "../dom";
import { formatBytes, formatClock, formatCount, formatDurationUs, plural, visibleText } from "../format";
import type { LogBuffer } from "./buffer";
import { LogDetail } from "./detail";
import { networkMark, proxyTitle } from "./marks";

/** Pixels per row; the CSS grid of `.log-row` uses the same height. */
export const ROW_HEIGHT = 24;

const CELLS = ["log-time", "log-method", "log-target", "log-status", "log-bytes", "log-ttfb", "log-total", "log-generation"];

/** A row of the pool: drawn again, in place, for each record that scrolls into it. */
export interface Row {
  node: HTMLDivElement;
  cells: HTMLSpanElement[];
  record: AccessRecord | null;
}

/**
 * The status cell of a record: the code, marked when Wharf refused the request before looking
 * anything up (a Host the site does not answer to, or a cross-site load), or when a proxy
 * rule's target answered it (or did not: then Wharf's 502 or 504).
 */
export function statusCell(r: AccessRecord): { text: string; title: string } {
  if (r.served === "blocked") {
    return { text: `${r.status} blocked`, title: "Blocked: a host name this site does not answer to, or a page of another site loading it" };
  }
  if (r.served === "proxy") {
    return { text: `${r.status} proxy`, title: proxyTitle(r) };
  }
  return { text: String(r.status), title: r.status === 0 ? "No response" : "" };
}

/** What #log-count says. */
export function countText(buffer: LogBuffer): string {
  const parts = [plural(buffer.requests, "request", "requests")];
  if (buffer.skipped > 0) {
    parts.push(`${formatCount(buffer.skipped)} skipped`);
  }
  if (buffer.filtered) {
    parts.push(`${formatCount(buffer.length)} match`);
  }
  if (buffer.evicted > 0) {
    parts.push(`latest ${formatCount(buffer.size)} kept`);
  }
  return parts.join(" · ");
}

export class LogTable {
  private readonly viewport = byId<HTMLDivElement>("log-viewport");
  private readonly spacer = byId<HTMLDivElement>("log-spacer");
  private readonly empty = byId("log-empty");
  private readonly count = byId("log-count");
  private readonly follow = byId<HTMLInputElement>("log-follow");
  private readonly resume = byId<HTMLButtonElement>("log-resume");
  private readonly detail = new LogDetail(() => {
    this.select(null);
    this.viewport.focus();
  });
  private readonly rows: Row[] = [];
  private following = true;
  private selected: AccessRecord | null = null;
  private frame = 0;
  /** The scrollTop this code set last, to tell its own scroll events from the user's. */
  private setTop = -1;
  private droppedSeen = 0;
  private spacerHeight = -1;

  /** `site`: the watched site, whose settings name the rules in the detail pane. */
  constructor(
    private readonly buffer: LogBuffer,
    private readonly site: () => Site | null = () => null,
  ) {
    this.viewport.addEventListener("scroll", () => this.onScroll(), { passive: true });
    this.viewport.addEventListener("click", (event) => {
      const node = (event.target as HTMLElement).closest<HTMLElement>("[data-record-id]");
      const row = this.rows.find((r) => r.node === node);
      if (row?.record) {
        this.select(row.record);
      }
    });
    this.viewport.addEventListener("keydown", (event) => this.onKey(event));
    // Scrolling up is a wish to read: pause at once, before the next batch scrolls down again.
    this.viewport.addEventListener(
      "wheel",
      (event) => {
        if (event.deltaY < 0 && this.following) {
          this.setFollowing(false);
        }
      },
      { passive: true },
    );
    this.follow.addEventListener("change", () => this.setFollowing(this.follow.checked));
    this.resume.addEventListener("click", () => this.setFollowing(true));
    new ResizeObserver(() => this.invalidate()).observe(this.viewport);
  }

  /** New records, a filter change, a resize…: redraw at the next frame (once). */
  invalidate(): void {
    if (this.frame === 0) {
      this.frame = requestAnimationFrame(() => {
        this.frame = 0;
        this.render();
      });
    }
  }

  /** Another site is watched: start over, following. */
  reset(): void {
    this.selected = null;
    this.droppedSeen = this.buffer.dropped;
    this.setFollowing(true);
  }

  /** The filter changed: the view is another list, so the scroll position starts over. */
  filterChanged(): void {
    this.droppedSeen = this.buffer.dropped;
    if (this.following) {
      this.invalidate();
    } else {
      this.viewport.scrollTop = 0;
      this.invalidate();
    }
  }

  private setFollowing(on: boolean): void {
    this.following = on;
    this.follow.checked = on;
    show(this.resume, !on);
    this.invalidate();
  }

  private select(record: AccessRecord | null): void {
    this.selected = record;
    this.invalidate();
  }

  private atBottom(): boolean {
    const v = this.viewport;
    return v.scrollTop + v.clientHeight >= v.scrollHeight - ROW_HEIGHT / 2;
  }

  private onScroll(): void {
    const top = this.viewport.scrollTop;
    if (Math.abs(top - this.setTop) > 1) {
      // The user scrolled: up pauses, all the way down resumes.
      if (this.following && top < this.setTop && !this.atBottom()) {
        this.setFollowing(false);
      } else if (!this.following && this.atBottom() && this.buffer.length > 0) {
        this.setFollowing(true);
      }
      this.setTop = -1;
    }
    this.invalidate();
  }

  private onKey(event: KeyboardEvent): void {
    const length = this.buffer.length;
    if (length === 0) {
      return;
    }
    const page = Math.max(1, Math.floor(this.viewport.clientHeight / ROW_HEIGHT) - 1);
    const current = this.selected === null ? -1 : this.buffer.indexOfId(this.selected.id);
    const from = current === -1 ? length : current;
    const moves: Record<string, number> = {
      ArrowDown: from + 1,
      ArrowUp: from - 1,
      PageDown: from + page,
      PageUp: from - page,
      Home: 0,
      End: length - 1,
    };
    if (!(event.key in moves)) {
      if (event.key === "Escape") {
        this.select(null);
      }
      return;
    }
    event.preventDefault();
    const index = Math.min(length - 1, Math.max(0, moves[event.key]));
    this.select(this.buffer.at(index) ?? null);
    if (index === length - 1 && (event.key === "End" || event.key === "ArrowDown")) {
      this.setFollowing(true);
      return;
    }
    this.setFollowing(false);
    const v = this.viewport;
    const y = index * ROW_HEIGHT;
    if (y < v.scrollTop) {
      v.scrollTop = this.setTop = y;
    } else if (y + ROW_HEIGHT > v.scrollTop + v.clientHeight) {
      v.scrollTop = this.setTop = y + ROW_HEIGHT - v.clientHeight;
    }
  }

  private render(): void {
    const buffer = this.buffer;
    const length = buffer.length;
    setText(this.count, countText(buffer));
    const noRequests = buffer.requests === 0;
    setText(
      this.empty,
      noRequests ? "No requests yet. Open the site to see requests here." : "No requests match the filters.",
    );
    show(this.empty, length === 0);
    this.detail.render(this.selected, this.site());

    const v = this.viewport;
    if (v.clientHeight === 0) {
      return; // The tab is hidden: draw when it is shown again.
    }
    const height = length * ROW_HEIGHT;
    if (height !== this.spacerHeight) {
      this.spacerHeight = height;
      this.spacer.style.height = `${height}px`;
    }
    const dropped = buffer.dropped - this.droppedSeen;
    this.droppedSeen = buffer.dropped;
    if (this.following && this.setTop >= 0 && v.scrollTop < this.setTop - 1 && !this.atBottom()) {
      // The user scrolled up since the last frame (its scroll event may come after this
      // frame in WebKit): pause instead of snapping back.
      this.following = false;
      this.follow.checked = false;
      show(this.resume, true);
      this.setTop = -1;
    }
    if (this.following) {
      const bottom = Math.max(0, height - v.clientHeight);
      if (v.scrollTop !== bottom) {
        v.scrollTop = bottom;
      }
      this.setTop = v.scrollTop;
    } else if (dropped > 0 && v.scrollTop > 0) {
      // Paused: old rows left the front, so move up by as many to keep the same rows in view.
      v.scrollTop = Math.max(0, v.scrollTop - dropped * ROW_HEIGHT);
      this.setTop = v.scrollTop;
    }

    const first = Math.max(0, Math.floor(v.scrollTop / ROW_HEIGHT));
    const wanted = Math.max(0, Math.min(length - first, Math.ceil(v.clientHeight / ROW_HEIGHT) + 1));
    while (this.rows.length < wanted) {
      const row = createRow();
      this.viewport.append(row.node);
      this.rows.push(row);
    }
    while (this.rows.length > wanted) {
      (this.rows.pop() as Row).node.remove();
    }
    for (let i = 0; i < wanted; i += 1) {
      const record = buffer.at(first + i) as AccessRecord;
      const row = this.rows[i];
      row.node.style.transform = `translateY(${(first + i) * ROW_HEIGHT}px)`;
      if (row.record !== record) {
        fillRow(row, record);
      }
      const isSelected = this.selected !== null && record.id === this.selected.id;
      if (row.node.getAttribute("aria-selected") !== String(isSelected)) {
        row.node.setAttribute("aria-selected", String(isSelected));
      }
    }
  }
}

/** A new, empty row of the pool (not yet in the table). */
export function createRow(): Row {
  const node = el("div", "log-row log-grid");
  node.setAttribute("role", "row");
  node.style.height = `${ROW_HEIGHT}px`;
  const cells = CELLS.map((name) => {
    const cell = el("span", name);
    cell.setAttribute("role", "cell");
    return cell;
  });
  node.append(...cells);
  return { node, cells, record: null };
}

/**
 * Draws `r` in `row`, over whatever record it showed before. Untrusted strings (method,
 * target) go in as text, never as markup. A network rule's mark leads the target cell (its
 * `data-mark`, drawn by CSS, so the cell's text stays the target), its words end the cell's
 * title, and the row's `data-network` lists its effects (absent when no rule shaped the
 * request).
 */
export function fillRow(row: Row, r: AccessRecord): void {
  row.record = r;
  row.node.dataset.recordId = String(r.id);
  row.node.dataset.statusClass = r.status === 0 ? "none" : `${Math.floor(r.status / 100)}xx`;
  row.node.dataset.outcome = r.outcome;
  row.node.dataset.served = r.served;
  const [time, method, target, status, bytes, ttfb, total, generation] = row.cells;
  time.textContent = formatClock(r.startMs);
  method.textContent = visibleText(r.method);
  target.textContent = visibleText(r.target);
  const mark = networkMark(r);
  if (mark === null) {
    delete row.node.dataset.network;
    delete target.dataset.mark;
    target.title = target.textContent;
  } else {
    row.node.dataset.network = mark.effects;
    target.dataset.mark = mark.text;
    target.title = `${target.textContent}\n${mark.title}`;
  }
  const shown = statusCell(r);
  status.textContent = shown.text;
  status.title = shown.title;
  bytes.textContent = formatBytes(r.bodyBytes);
  ttfb.textContent = formatDurationUs(r.ttfbUs);
  total.textContent = formatDurationUs(r.totalUs);
  generation.textContent = String(r.generation);
}
