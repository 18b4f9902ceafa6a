//! The Settings tab: draws the switch rows (`switch-rows.ts`), then binds the controls of
//! #settings-form to one `SettingsDraft` per site (switching sites keeps unapplied edits),
//! Apply/Discard, inline errors and the apply result, whose count of continuing transfers
//! follows the site's state live. The tables (custom headers, proxy rules, network rules) are
//! drawn by `tables.ts` from the draft's rows.
import { errorField } from "../api/errors";
import type { ApplyOutcome, Site, SiteId, SiteSettings } from "../api/types";
import { byId, el, setText, show } from "../dom";
import { FIELDS, SettingsDraft, type FieldName } from "./draft";
import { applyResultMessage } from "./generation";
import { isTableName, TABLES, type TableName } from "./rows";
import { renderSwitches } from "./switch-rows";
import { cellLabel, RuleTable } from "./tables";

export interface SettingsActions {
  /** Runs apply_settings; rejects with the command's error. */
  apply(site: Site, settings: SiteSettings): Promise<ApplyOutcome>;
  /** An error that belongs to no field: for the banner. */
  error(message: string): void;
}

const PRESETS = ["no-cache", "no-store", "max-age=3600"];

type Control = HTMLInputElement | HTMLTextAreaElement;

export class SettingsForm {
  private readonly form = byId<HTMLFormElement>("settings-form");
  private readonly applyButton = byId<HTMLButtonElement>("settings-apply");
  private readonly discardButton = byId<HTMLButtonElement>("settings-discard");
  private readonly dirtyNote = byId("settings-dirty");
  private readonly result = byId("apply-result");
  private readonly changes = byId<HTMLUListElement>("apply-changes");
  private readonly preset = byId<HTMLSelectElement>("cache-preset");
  private readonly tables = Object.fromEntries(TABLES.map((name) => [name, new RuleTable(name)])) as Record<
    TableName,
    RuleTable
  >;
  private readonly drafts = new Map<SiteId, SettingsDraft>();
  private readonly outcomes = new Map<SiteId, ApplyOutcome>();
  private readonly applying = new Set<SiteId>();
  private site: Site | null = null;

  constructor(private readonly actions: SettingsActions) {
    renderSwitches(this.form);
    const edit = (event: Event) => {
      const target = event.target;
      const draft = this.draft();
      if (
        draft === null ||
        !(target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement)
      ) {
        return;
      }
      const row = target.closest<HTMLElement>("[data-row]");
      const table = row?.closest<HTMLElement>("table[data-table]")?.dataset.table ?? "";
      const member = target.dataset.member;
      const checkbox = target instanceof HTMLInputElement && target.type === "checkbox";
      if (row && isTableName(table) && member !== undefined) {
        (draft.editRow as (t: TableName, k: number, m: string, v: string | boolean) => void)(
          table,
          Number(row.dataset.key),
          member,
          checkbox ? target.checked : target.value,
        );
      } else if (target instanceof HTMLSelectElement) {
        return;
      } else if (FIELDS.includes(target.name as FieldName)) {
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
    for (const name of TABLES) {
      const table = this.tables[name];
      table.addButton.addEventListener("click", () => {
        const draft = this.draft();
        if (draft === null) {
          return;
        }
        const key = draft.addRow(name);
        this.render();
        table.cell(key, "path")?.focus();
      });
      table.body.addEventListener("click", (event) => {
        const button = event.target instanceof Element ? event.target.closest(".row-remove") : null;
        const row = button?.closest<HTMLElement>("[data-row]");
        const draft = this.draft();
        if (!row || draft === null) {
          return;
        }
        // Keyboard users keep their place: focus the next row's remove button, else Add.
        const next = row.nextElementSibling ?? row.previousElementSibling;
        draft.removeRow(name, Number(row.dataset.key));
        this.render();
        (next?.querySelector<HTMLButtonElement>(".row-remove") ?? table.addButton).focus();
      });
    }
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.apply();
    });
    this.discardButton.addEventListener("click", () => {
      this.draft()?.discard();
      this.render();
    });
  }

  /**
   * An apply made outside the form (the header's Turn off): its result replaces the last
   * Apply's message, so the form never names a generation that is no longer the newest.
   */
  appliedElsewhere(outcome: ApplyOutcome): void {
    this.outcomes.set(outcome.site.id, outcome);
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

  /** Focuses the cell (or the row's first cell) of the first table row an error marks. */
  private focusRowError(draft: SettingsDraft): boolean {
    for (const name of TABLES) {
      const fault = draft.rowError(name);
      if (fault !== null) {
        this.tables[name].cell(fault.key, fault.member ?? "path")?.focus();
        return true;
      }
    }
    return false;
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
      if (!this.focusRowError(draft)) {
        this.control(Object.keys(prepared.errors)[0] as FieldName)?.focus();
      }
      return;
    }
    this.applying.add(site.id);
    this.render();
    try {
      const outcome = await this.actions.apply(site, prepared.settings);
      draft.applied(outcome.site.settings, outcome.site.portAutomatic, outcome.site.httpsPortAutomatic);
      this.outcomes.set(site.id, outcome);
    } catch (error) {
      const field = errorField(error) ?? "";
      const failure = draft.failed(
        error,
        (f) => this.label(f),
        // The core's member names, as the table's column headers say them (`rate` stays `rate`).
        (member) => (isTableName(field) ? cellLabel(field, member) : null),
      );
      if (!failure.inline) {
        this.actions.error(failure.message);
      }
      if (this.draft() === draft) {
        this.render();
        this.focusRowError(draft);
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
    for (const name of TABLES) {
      this.tables[name].render(values[name], draft.rowError(name));
    }
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
