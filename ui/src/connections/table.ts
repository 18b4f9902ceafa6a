//! The Connections tab: one row per open connection (kept by id and updated in place, so a
//! focused Close button survives the 500 ms refresh), a Close button per row, and the
//! admission line. Peers are network text: set with textContent.
import type { Admission, ConnectionInfo } from "../api/types";
import { byId, el, setText, show } from "../dom";
import { formatAge, formatBytes, formatCount, visibleText } from "../format";
import { admissionText } from "./view";

export interface ConnectionActions {
  /** close_connection; resolves false when it was already gone. */
  close(connection: number): Promise<boolean>;
}

interface Row {
  tr: HTMLTableRowElement;
  peer: HTMLTableCellElement;
  generation: HTMLTableCellElement;
  state: HTMLTableCellElement;
  requests: HTMLTableCellElement;
  bytes: HTMLTableCellElement;
  age: HTMLTableCellElement;
  close: HTMLButtonElement;
}

export class ConnectionsTable {
  private readonly body = byId<HTMLTableSectionElement>("connections-body");
  private readonly admission = byId("admission");
  private readonly note = byId("connections-note");
  private readonly empty = byId("connections-empty");
  private readonly rows = new Map<number, Row>();
  private currentGeneration = 0;
  private running = false;
  private lastAdmission: Admission | null = null;

  constructor(private readonly actions: ConnectionActions) {
    this.body.addEventListener("click", (event) => {
      const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button.conn-close");
      const id = Number(button?.closest<HTMLElement>("tr")?.dataset.connectionId);
      if (button && Number.isFinite(id)) {
        void this.close(id, button);
      }
    });
  }

  /** The site's state: its current generation (older rows are marked) and whether it runs. */
  setSite(generation: number, running: boolean): void {
    this.currentGeneration = generation;
    this.running = running;
    setText(this.admission, admissionText(this.lastAdmission, running));
  }

  clear(): void {
    this.update([], null);
    setText(this.note, "");
  }

  update(connections: readonly ConnectionInfo[], admission: Admission | null): void {
    this.lastAdmission = admission;
    setText(this.admission, admissionText(admission, this.running));
    const seen = new Set<number>();
    let previous: HTMLTableRowElement | null = null;
    for (const c of connections) {
      seen.add(c.id);
      const row = this.rows.get(c.id) ?? this.create(c.id);
      setText(row.peer, visibleText(c.peer));
      setText(row.generation, String(c.generation));
      setText(row.state, c.state);
      setText(row.requests, formatCount(c.requests));
      setText(row.bytes, formatBytes(c.bytesSent));
      setText(row.age, formatAge(c.ageMs));
      row.tr.dataset.state = c.state;
      row.tr.dataset.old = String(c.generation < this.currentGeneration);
      row.generation.title = c.generation < this.currentGeneration ? "An older generation: finishing its transfer" : "";
      const expected: Element | null = previous === null ? this.body.firstElementChild : previous.nextElementSibling;
      if (expected !== row.tr) {
        this.body.insertBefore(row.tr, expected);
      }
      previous = row.tr;
    }
    for (const [id, row] of this.rows) {
      if (!seen.has(id)) {
        row.tr.remove();
        this.rows.delete(id);
      }
    }
    show(this.empty, connections.length === 0);
  }

  private create(id: number): Row {
    const tr = el("tr");
    tr.dataset.connectionId = String(id);
    const cell = (cls: string) => el("td", cls);
    const row: Row = {
      tr,
      peer: cell("conn-peer"),
      generation: cell("conn-generation num"),
      state: cell("conn-state"),
      requests: cell("conn-requests num"),
      bytes: cell("conn-bytes num"),
      age: cell("conn-age num"),
      close: el("button", "conn-close small", "Close"),
    };
    row.close.type = "button";
    row.close.setAttribute("aria-label", `Close connection ${id}`);
    const actions = el("td", "conn-actions");
    actions.append(row.close);
    tr.append(row.peer, row.generation, row.state, row.requests, row.bytes, row.age, actions);
    this.rows.set(id, row);
    return row;
  }

  private async close(id: number, button: HTMLButtonElement): Promise<void> {
    button.disabled = true;
    try {
      const closed = await this.actions.close(id);
      setText(this.note, closed ? `Closed connection ${id}.` : `Connection ${id} had already closed.`);
    } catch {
      button.disabled = false;
    }
  }
}
