//! The Settings tab: binds the controls of #settings-form to one `SettingsDraft` per site
//! (switching sites keeps unapplied edits), Apply/Discard, inline errors and the apply
//! result, whose count of continuing transfers follows the site's state live.
import type { ApplyOutcome, Site, SiteId, SiteSettings } from "../api/types";
import { byId, el, setText, show } from "../dom";
import { FIELDS, SettingsDraft, type FieldName, type FormValues } from "./draft";
import { applyResultMessage } from "./generation";

export interface SettingsActions {
  /** Runs apply_settings; rejects with the command's error. */
  apply(site: Site, settings: SiteSettings): Promise<ApplyOutcome>;
  /** An error that belongs to no field: for the banner. */
  error(message: string): void;
}

const PRESETS = ["no-cache", "no-store", "max-age=3600"];

export class SettingsForm {
  private readonly form = byId<HTMLFormElement>("settings-form");
  private readonly applyButton = byId<HTMLButtonElement>("settings-apply");
  private readonly discardButton = byId<HTMLButtonElement>("settings-discard");
  private readonly dirtyNote = byId("settings-dirty");
  private readonly result = byId("apply-result");
  private readonly changes = byId<HTMLUListElement>("apply-changes");
  private readonly preset = byId<HTMLSelectElement>("cache-preset");
  private readonly drafts = new Map<SiteId, SettingsDraft>();
  private readonly outcomes = new Map<SiteId, ApplyOutcome>();
  private readonly applying = new Set<SiteId>();
  private site: Site | null = null;

  constructor(private readonly actions: SettingsActions) {
    const edit = (event: Event) => {
      const target = event.target;
      if (!(target instanceof HTMLInputElement) || !FIELDS.includes(target.name as FieldName)) {
        return;
      }
      const draft = this.draft();
      if (draft === null) {
        return;
      }
      const field = target.name as FieldName;
      draft.edit(field, target.type === "checkbox" ? target.checked : target.value);
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
      this.drafts.get(site.id)?.rebase(site.settings, site.portAutomatic);
    }
    for (const id of [...this.drafts.keys()]) {
      if (!sites.some((s) => s.id === id)) {
        this.drafts.delete(id);
        this.outcomes.delete(id);
      }
    }
    this.site = selected;
    if (selected !== null && !this.drafts.has(selected.id)) {
      this.drafts.set(selected.id, new SettingsDraft(selected.settings, selected.portAutomatic));
    }
    this.render();
  }

  private draft(): SettingsDraft | null {
    return this.site === null ? null : (this.drafts.get(this.site.id) ?? null);
  }

  private control(field: FieldName): HTMLInputElement | null {
    const node = this.form.elements.namedItem(field);
    return node instanceof HTMLInputElement ? node : null;
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
      draft.applied(outcome.site.settings, outcome.site.portAutomatic);
      this.outcomes.set(site.id, outcome);
    } catch (error) {
      const failure = draft.failed(error);
      if (!failure.inline) {
        this.actions.error(failure.message);
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
      if (control === null) {
        continue;
      }
      const value = values[field as keyof FormValues];
      if (typeof value === "boolean") {
        if (control.checked !== value) {
          control.checked = value;
        }
      } else if (control.value !== value) {
        control.value = value;
      }
      const box = this.form.querySelector<HTMLElement>(`.field[data-field="${field}"]`);
      if (box) {
        box.dataset.dirty = String(draft.isDirty(field) || (field === "port" && draft.isDirty("portAutomatic")));
      }
      const error = this.form.querySelector<HTMLElement>(`[data-error-for="${field}"]`);
      if (error) {
        const message = draft.error(field) ?? "";
        setText(error, message);
        show(error, message !== "");
        control.setAttribute("aria-invalid", String(message !== ""));
      }
    }
    const port = this.control("port");
    if (port) {
      port.disabled = values.portAutomatic;
    }
    this.preset.value = PRESETS.includes(values.cacheControl.trim()) ? values.cacheControl.trim() : "custom";
    for (const warn of this.form.querySelectorAll<HTMLElement>("[data-warn-for]")) {
      show(warn, values[warn.dataset.warnFor as keyof FormValues] === true);
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
        ...(outcome?.changes ?? []).map((c) => el("li", undefined, `${c.field}: ${c.from} → ${c.to}`)),
      );
    }
  }
}
