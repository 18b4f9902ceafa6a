//! The Settings tab: draws the switch rows (`switch-rows.ts`), then binds the controls of
//! #settings-form to one `SettingsDraft` per site (switching sites keeps unapplied edits),
//! Apply/Discard, inline errors and the apply result, whose count of continuing transfers
//! follows the site's state live. The custom
//! headers table is drawn from the draft's rows, keyed so a row keeps its inputs (and focus)
//! while others are added or removed.
import type { ApplyOutcome, Site, SiteId, SiteSettings } from "../api/types";
import { byId, el, setText, show } from "../dom";
import {
  FIELDS,
  HEADER_MEMBERS,
  SettingsDraft,
  type FieldName,
  type HeaderFault,
  type HeaderMember,
  type HeaderRow,
} from "./draft";
import { applyResultMessage } from "./generation";
import { renderSwitches } from "./switch-rows";

export interface SettingsActions {
  /** Runs apply_settings; rejects with the command's error. */
  apply(site: Site, settings: SiteSettings): Promise<ApplyOutcome>;
  /** An error that belongs to no field: for the banner. */
  error(message: string): void;
}

const PRESETS = ["no-cache", "no-store", "max-age=3600"];

/** The header cells' labels, for screen readers (the table's column headers say the same). */
const MEMBER_LABELS: Record<HeaderMember, string> = { path: "Path glob", name: "Header name", value: "Header value" };
const MEMBER_PLACEHOLDERS: Record<HeaderMember, string> = {
  path: "/assets/**",
  name: "Cache-Control",
  value: "max-age=31536000",
};

type Control = HTMLInputElement | HTMLTextAreaElement;

function memberOf(input: Element): HeaderMember | null {
  return HEADER_MEMBERS.find((m) => input.classList.contains(`header-${m}`)) ?? null;
}

export class SettingsForm {
  private readonly form = byId<HTMLFormElement>("settings-form");
  private readonly applyButton = byId<HTMLButtonElement>("settings-apply");
  private readonly discardButton = byId<HTMLButtonElement>("settings-discard");
  private readonly dirtyNote = byId("settings-dirty");
  private readonly result = byId("apply-result");
  private readonly changes = byId<HTMLUListElement>("apply-changes");
  private readonly preset = byId<HTMLSelectElement>("cache-preset");
  private readonly headerTable = byId<HTMLTableElement>("custom-headers");
  private readonly headerRows = byId<HTMLTableSectionElement>("custom-headers-body");
  private readonly headersEmpty = byId("custom-headers-empty");
  private readonly addHeaderButton = byId<HTMLButtonElement>("custom-header-add");
  private readonly drafts = new Map<SiteId, SettingsDraft>();
  private readonly outcomes = new Map<SiteId, ApplyOutcome>();
  private readonly applying = new Set<SiteId>();
  private site: Site | null = null;

  constructor(private readonly actions: SettingsActions) {
    renderSwitches(this.form);
    const edit = (event: Event) => {
      const target = event.target;
      const draft = this.draft();
      if (draft === null || !(target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement)) {
        return;
      }
      const row = target.closest<HTMLElement>("[data-header-row]");
      const member = memberOf(target);
      if (row !== null && member !== null) {
        draft.editHeader(Number(row.dataset.key), member, target.value);
      } else if (FIELDS.includes(target.name as FieldName)) {
        const checkbox = target instanceof HTMLInputElement && target.type === "checkbox";
        draft.edit(target.name as FieldName, checkbox ? target.checked : target.value);
      } else {
        return;
      }
      this.render();
    };
    this.form.addEventListener("input", edit);
    this.form.addEventListener("change", edit);
    this.preset.addEventListener("change", () => {
      const draft = this.draft();
      if (draft !== null && this.preset.value !== "custom") {
        draft.set("cacheControl", this.preset.value);
        this.render();
      } else {
        this.control("cacheControl")?.focus();
      }
    });
    this.addHeaderButton.addEventListener("click", () => {
      const draft = this.draft();
      if (draft === null) {
        return;
      }
      const key = draft.addHeader();
      this.render();
      this.headerCell(key, "path")?.focus();
    });
    this.headerRows.addEventListener("click", (event) => {
      const button = event.target instanceof Element ? event.target.closest(".header-remove") : null;
      const row = button?.closest<HTMLElement>("[data-header-row]");
      const draft = this.draft();
      if (!row || draft === null) {
        return;
      }
      // Keyboard users keep their place: focus the next row's remove button, else Add.
      const next = row.nextElementSibling ?? row.previousElementSibling;
      draft.removeHeader(Number(row.dataset.key));
      this.render();
      (next?.querySelector<HTMLButtonElement>(".header-remove") ?? this.addHeaderButton).focus();
    });
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.apply();
    });
    this.discardButton.addEventListener("click", () => {
      this.draft()?.discard();
      this.render();
    });
  }

  /** A state push (or a site a command returned): rebase every draft, show the selected one. */
  update(sites: readonly Site[], selected: Site | null): void {
    for (const site of sites) {
      this.drafts.get(site.id)?.rebase(site.settings, site.portAutomatic, site.httpsPortAutomatic);
    }
    for (const id of [...this.drafts.keys()]) {
      if (!sites.some((s) => s.id === id)) {
        this.drafts.delete(id);
        this.outcomes.delete(id);
      }
    }
    this.site = selected;
    if (selected !== null && !this.drafts.has(selected.id)) {
      this.drafts.set(
        selected.id,
        new SettingsDraft(selected.settings, selected.portAutomatic, selected.httpsPortAutomatic),
      );
    }
    this.render();
  }

  private draft(): SettingsDraft | null {
    return this.site === null ? null : (this.drafts.get(this.site.id) ?? null);
  }

  private control(field: FieldName): Control | null {
    const node = this.form.elements.namedItem(field);
    return node instanceof HTMLInputElement || node instanceof HTMLTextAreaElement ? node : null;
  }

  /**
   * The label the form shows for `field` (its row's label, without a unit in brackets:
   * "Header read timeout"), so messages name fields as the user sees them.
   */
  private label(field: string): string | null {
    const row = this.form.querySelector(`.field[data-field="${CSS.escape(field)}"]`);
    const label = row?.querySelector(":scope > label, :scope > .label-text");
    const text = label?.textContent?.replace(/\s*\([^)]*\)\s*$/, "").trim();
    return text ? text : null;
  }

  private headerCell(key: number, member: HeaderMember): HTMLInputElement | null {
    return this.headerRows.querySelector<HTMLInputElement>(`[data-header-row][data-key="${key}"] .header-${member}`);
  }

  private async apply(): Promise<void> {
    const site = this.site;
    const draft = this.draft();
    if (site === null || draft === null || this.applying.has(site.id)) {
      return;
    }
    const prepared = draft.prepare();
    if (!prepared.ok) {
      this.render();
      this.control(Object.keys(prepared.errors)[0] as FieldName)?.focus();
      return;
    }
    this.applying.add(site.id);
    this.render();
    try {
      const outcome = await this.actions.apply(site, prepared.settings);
      draft.applied(outcome.site.settings, outcome.site.portAutomatic, outcome.site.httpsPortAutomatic);
      this.outcomes.set(site.id, outcome);
    } catch (error) {
      const failure = draft.failed(error, (field) => this.label(field), (member) => MEMBER_LABELS[member as HeaderMember] ?? null);
      if (!failure.inline) {
        this.actions.error(failure.message);
      }
      const fault = draft.headerError();
      if (fault !== null && this.draft() === draft) {
        this.render();
        this.headerCell(fault.key, fault.member ?? "path")?.focus();
      }
    } finally {
      this.applying.delete(site.id);
      this.render();
    }
  }

  private render(): void {
    const draft = this.draft();
    const site = this.site;
    if (draft === null || site === null) {
      return;
    }
    const values = draft.values;
    for (const field of FIELDS) {
      const control = this.control(field);
      const value = values[field];
      if (control instanceof HTMLInputElement && typeof value === "boolean") {
        if (control.checked !== value) {
          control.checked = value;
        }
      } else if (control !== null && typeof value === "string" && control.value !== value) {
        control.value = value;
      }
      const box = this.form.querySelector<HTMLElement>(`.field[data-field="${field}"]`);
      if (box) {
        box.dataset.dirty = String(
          draft.isDirty(field) ||
            (field === "port" && draft.isDirty("portAutomatic")) ||
            (field === "httpsPort" && draft.isDirty("httpsPortAutomatic")),
        );
      }
      const error = this.form.querySelector<HTMLElement>(`[data-error-for="${field}"]`);
      if (error) {
        const message = draft.error(field) ?? "";
        setText(error, message);
        show(error, message !== "");
        control?.setAttribute("aria-invalid", String(message !== ""));
      }
    }
    const port = this.control("port");
    if (port) {
      port.disabled = values.portAutomatic;
    }
    const httpsPort = this.control("httpsPort");
    if (httpsPort) {
      httpsPort.disabled = values.httpsPortAutomatic;
    }
    const dropHtml = this.control("dropHtmlExtension");
    if (dropHtml) {
      // server-core refuses it without clean URLs.
      dropHtml.disabled = !values.cleanUrls;
    }
    this.renderHeaders(values.customHeaders, draft.headerError());
    this.preset.value = PRESETS.includes(values.cacheControl.trim()) ? values.cacheControl.trim() : "custom";
    for (const warn of this.form.querySelectorAll<HTMLElement>("[data-warn-for]")) {
      show(warn, values[warn.dataset.warnFor as FieldName] === true);
    }
    const dirty = draft.isDirty();
    const busy = this.applying.has(site.id);
    show(this.dirtyNote, dirty);
    this.applyButton.disabled = !dirty || busy;
    this.discardButton.disabled = !dirty || busy;
    setText(this.applyButton, busy ? "Applying…" : "Apply");
    this.renderOutcome(site);
  }

  /** Keyed update of the header rows: existing rows keep their inputs, caret and focus. */
  private renderHeaders(rows: readonly HeaderRow[], fault: HeaderFault | null): void {
    const existing = new Map<number, HTMLTableRowElement>();
    for (const tr of this.headerRows.querySelectorAll<HTMLTableRowElement>("[data-header-row]")) {
      existing.set(Number(tr.dataset.key), tr);
    }
    rows.forEach((row, index) => {
      const tr = existing.get(row.key) ?? this.headerRow(row.key);
      existing.delete(row.key);
      // Only moved when out of place: moving a node would take focus from its input.
      if (this.headerRows.children[index] !== tr) {
        this.headerRows.insertBefore(tr, this.headerRows.children[index] ?? null);
      }
      const faulty = fault !== null && fault.key === row.key;
      tr.dataset.error = String(faulty);
      for (const member of HEADER_MEMBERS) {
        const input = tr.querySelector<HTMLInputElement>(`.header-${member}`);
        if (input === null) {
          continue;
        }
        if (input.value !== row[member]) {
          input.value = row[member];
        }
        input.setAttribute("aria-label", `${MEMBER_LABELS[member]}, row ${index + 1}`);
        const invalid = faulty && (fault.member === null || fault.member === member);
        input.setAttribute("aria-invalid", String(invalid));
        if (invalid) {
          input.setAttribute("aria-describedby", "custom-headers-error");
        } else {
          input.removeAttribute("aria-describedby");
        }
      }
      tr.querySelector(".header-remove")?.setAttribute("aria-label", `Remove header row ${index + 1}`);
    });
    for (const tr of existing.values()) {
      tr.remove();
    }
    show(this.headerTable, rows.length > 0);
    show(this.headersEmpty, rows.length === 0);
  }

  private headerRow(key: number): HTMLTableRowElement {
    const tr = el("tr");
    tr.dataset.headerRow = "";
    tr.dataset.key = String(key);
    for (const member of HEADER_MEMBERS) {
      const input = el("input", `header-${member}`);
      input.type = "text";
      input.autocomplete = "off";
      input.spellcheck = false;
      input.placeholder = MEMBER_PLACEHOLDERS[member];
      const td = el("td");
      td.append(input);
      tr.append(td);
    }
    const remove = el("button", "header-remove small", "Remove");
    remove.type = "button";
    const td = el("td", "header-actions");
    td.append(remove);
    tr.append(td);
    return tr;
  }

  private renderOutcome(site: Site): void {
    const outcome = this.outcomes.get(site.id);
    setText(this.result, outcome ? applyResultMessage(outcome, site) : "");
    const key = outcome ? `${site.id}:${outcome.generation}:${outcome.changes.length}` : "";
    if (this.changes.dataset.key !== key) {
      this.changes.dataset.key = key;
      this.changes.replaceChildren(
        ...(outcome?.changes ?? []).map((c) => el("li", undefined, `${this.label(c.field) ?? c.field}: ${c.from} → ${c.to}`)),
      );
    }
  }
}
