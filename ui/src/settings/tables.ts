//! Draws the settings form's tables of rows (custom headers, proxy rules, network rules; the rows
//! themselves are `rows.ts`'s) from one spec each: the column headers, one input, checkbox or
//! select per cell, a Remove button per row. Rows are keyed, so a row keeps its controls (and
//! focus) while others are added or removed. The row and cell an error names are marked.
//! Binding edits to the draft is `form.ts`'s; this module only draws and finds.
import { byId, el, show } from "../dom";
import { ROW_MEMBERS, type AnyRow, type RowMember, type TableName, type TableRows } from "./rows";
import type { RowFault } from "./draft";

/** One column of a table. */
export interface CellSpec<T extends TableName> {
  /** The column header, and the cell's name for screen readers and error messages. */
  readonly label: string;
  /** The column header is for screen readers only (the cell reads with the one before it). */
  readonly labelHidden?: boolean;
  /** Why the column is there, as the header's tooltip. */
  readonly title?: string;
  readonly placeholder?: string;
  /** A select's options, `[value, text]`; without them a text input, unless `checkbox`. */
  readonly options?: readonly (readonly [string, string])[];
  readonly checkbox?: boolean;
  /** Whether the cell is disabled for this row (e.g. the rewrite's text while the path is kept). */
  readonly disabled?: (row: TableRows[T]) => boolean;
}

/** A table setting's controls: `#ID` (the table), `#ID-body`, `#ID-empty`, `#ID-add`, `#ID-error`. */
export interface TableSpec<T extends TableName> {
  readonly id: string;
  /** A row as the Remove button's label says it: "header row", "proxy rule". */
  readonly rowName: string;
  readonly cells: { readonly [M in RowMember<T>]: CellSpec<T> };
}

export const TABLE_SPECS: { readonly [T in TableName]: TableSpec<T> } = {
  customHeaders: {
    id: "custom-headers",
    rowName: "header row",
    cells: {
      path: { label: "Path glob", placeholder: "/assets/**" },
      name: { label: "Header name", placeholder: "Cache-Control" },
      value: { label: "Header value", placeholder: "max-age=31536000" },
    },
  },
  proxy: {
    id: "proxy-rules",
    rowName: "proxy rule",
    cells: {
      path: { label: "Path", title: "A prefix such as /api (also matches /api/users), or a regular expression starting with ^", placeholder: "/api" },
      target: { label: "Target", title: "The server that answers, e.g. your API's dev server", placeholder: "http://localhost:3000" },
      rewrite: {
        label: "Path sent",
        title: "What the target is asked for: the path as it came, without the matched prefix, or with the prefix replaced",
        options: [
          ["keep", "As it came"],
          ["strip", "Strip prefix"],
          ["replace", "Replace with"],
        ],
      },
      rewriteTo: { label: "Replacement", labelHidden: true, placeholder: "e.g. /v2", disabled: (row) => row.rewrite !== "replace" },
      changeOrigin: { label: "Change origin", title: "Send the target's host as Host (most dev servers want it), or keep the browser's", checkbox: true },
    },
  },
  network: {
    id: "network-rules",
    rowName: "network rule",
    cells: {
      path: { label: "Path glob", placeholder: "/**" },
      preset: {
        label: "Preset",
        title: "Chrome DevTools' numbers: Slow 3G 50 kB/s and 2 s latency; Slow 4G 180 kB/s and 562.5 ms; Fast 4G 1 MB/s and 165 ms; Offline resets the connection",
        options: [
          ["", "None"],
          ["slow-3g", "Slow 3G"],
          ["slow-4g", "Slow 4G"],
          ["fast-4g", "Fast 4G"],
          ["offline", "Offline"],
        ],
      },
      options: { label: "More", title: "KEY=VALUE words, as the CLI's --network takes them", placeholder: "e.g. latency=300 status=503 p=0.1" },
    },
  },
};

/** The label of `table`'s cell `member` (a server-core member name is mapped to its cell first). */
export function cellLabel(table: TableName, member: string): string | null {
  const cells = TABLE_SPECS[table].cells as Readonly<Record<string, CellSpec<TableName>>>;
  return cells[member]?.label ?? null;
}

type CellControl = HTMLInputElement | HTMLSelectElement;

function option(value: string, text: string): HTMLOptionElement {
  const node = el("option", undefined, text);
  node.value = value;
  return node;
}

/** A cell's spec as the drawing code reads it, whatever its table. */
type LooseCell = Omit<CellSpec<TableName>, "disabled"> & { readonly disabled?: (row: AnyRow) => boolean };

/** One table setting's controls in the form. */
export class RuleTable {
  readonly table: HTMLTableElement;
  readonly body: HTMLTableSectionElement;
  readonly addButton: HTMLButtonElement;
  private readonly empty: HTMLElement;
  private readonly errorId: string;
  private readonly members: readonly string[];
  private readonly spec: { readonly rowName: string; readonly cells: Readonly<Record<string, LooseCell>> };

  constructor(readonly name: TableName) {
    const spec = TABLE_SPECS[name];
    this.spec = spec as unknown as RuleTable["spec"];
    this.table = byId<HTMLTableElement>(spec.id);
    this.body = byId<HTMLTableSectionElement>(`${spec.id}-body`);
    this.empty = byId(`${spec.id}-empty`);
    this.addButton = byId<HTMLButtonElement>(`${spec.id}-add`);
    this.errorId = byId(`${spec.id}-error`).id;
    this.members = ROW_MEMBERS[name];
    this.table.dataset.table = name;
    const head = el("tr");
    for (const member of this.members) {
      const cell = this.cellSpec(member);
      const th = el("th");
      th.scope = "col";
      th.append(cell.labelHidden ? el("span", "visually-hidden", cell.label) : cell.label);
      if (cell.title !== undefined) {
        th.title = cell.title;
      }
      head.append(th);
    }
    const th = el("th");
    th.scope = "col";
    th.append(el("span", "visually-hidden", "Remove"));
    head.append(th);
    this.table.createTHead().replaceChildren(head);
  }

  private cellSpec(member: string): LooseCell {
    return this.spec.cells[member];
  }

  /** The control of `member` in row `key`, if drawn. */
  cell(key: number, member: string): CellControl | null {
    return this.body.querySelector<CellControl>(`[data-row][data-key="${key}"] [data-member="${CSS.escape(member)}"]`);
  }

  /** Draws `rows`, keeping the controls of rows already drawn; marks `fault`'s row and cell. */
  render(rows: readonly AnyRow[], fault: RowFault | null): void {
    const existing = new Map<number, HTMLTableRowElement>();
    for (const tr of this.body.querySelectorAll<HTMLTableRowElement>("[data-row]")) {
      existing.set(Number(tr.dataset.key), tr);
    }
    rows.forEach((row, index) => {
      const tr = existing.get(row.key) ?? this.row(row.key);
      existing.delete(row.key);
      // Only moved when out of place: moving a node would take focus from its control.
      if (this.body.children[index] !== tr) {
        this.body.insertBefore(tr, this.body.children[index] ?? null);
      }
      const faulty = fault !== null && fault.key === row.key;
      tr.dataset.error = String(faulty);
      for (const member of this.members) {
        const control = tr.querySelector<CellControl>(`[data-member="${member}"]`);
        if (control === null) {
          continue;
        }
        const spec = this.cellSpec(member);
        const value = (row as unknown as Record<string, string | boolean>)[member];
        if (control instanceof HTMLInputElement && control.type === "checkbox") {
          control.checked = value === true;
        } else if (typeof value === "string" && control.value !== value) {
          if (control instanceof HTMLSelectElement && ![...control.options].some((o) => o.value === value)) {
            // A value written elsewhere (the TOML file) that the list lacks is shown as it is.
            control.append(option(value, value));
          }
          control.value = value;
        }
        control.disabled = spec.disabled?.(row) ?? false;
        control.setAttribute("aria-label", `${spec.label}, row ${index + 1}`);
        const invalid = faulty && (fault.member === null || fault.member === member);
        control.setAttribute("aria-invalid", String(invalid));
        if (invalid) {
          control.setAttribute("aria-describedby", this.errorId);
        } else {
          control.removeAttribute("aria-describedby");
        }
      }
      tr.querySelector(".row-remove")?.setAttribute("aria-label", `Remove ${this.spec.rowName} ${index + 1}`);
    });
    for (const tr of existing.values()) {
      tr.remove();
    }
    show(this.table, rows.length > 0);
    show(this.empty, rows.length === 0);
  }

  private row(key: number): HTMLTableRowElement {
    const tr = el("tr");
    tr.dataset.row = "";
    tr.dataset.key = String(key);
    for (const member of this.members) {
      const spec = this.cellSpec(member);
      let control: CellControl;
      if (spec.options !== undefined) {
        control = el("select");
        control.append(...spec.options.map(([value, text]) => option(value, text)));
      } else {
        control = el("input");
        control.type = spec.checkbox ? "checkbox" : "text";
        if (!spec.checkbox) {
          control.autocomplete = "off";
          control.spellcheck = false;
          control.placeholder = spec.placeholder ?? "";
        }
      }
      control.dataset.member = member;
      const td = el("td", `cell-${spec.checkbox ? "check" : spec.options ? "select" : "text"} cell-${member}`);
      td.append(control);
      tr.append(td);
    }
    const remove = el("button", "row-remove small", "Remove");
    remove.type = "button";
    const td = el("td", "row-actions");
    td.append(remove);
    tr.append(td);
    return tr;
  }
}
