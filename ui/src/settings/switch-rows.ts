//! Draws the settings form's switch rows from `SWITCHES` (switches.ts) into index.html's
//! fieldsets, once, before `SettingsForm` binds the controls: the same markup as every field of
//! the form (`.field[data-field]`, label, control, help, error paragraph), so binding, dirty marks
//! and errors treat them like the fields written in index.html. Text goes in as text (`el`).
import { el } from "../dom";
import { SWITCH_NAMES, SWITCHES, switchSlug, type SwitchName } from "./switches";

/**
 * One switch's row, the markup every field has: `.field[data-field]`, the label, the
 * checkbox (`id`, `name`) in a `label.check`, then help or warning, then the error paragraph.
 */
export function switchRow(name: SwitchName): HTMLDivElement {
  const spec = SWITCHES[name];
  const row = el("div", "field");
  row.dataset.field = name;
  const control = el("div", "control");
  const check = el("label", "check");
  const input = el("input");
  input.type = "checkbox";
  input.id = `set-${switchSlug(name)}`;
  input.name = name;
  check.append(input, " ", el("span", undefined, spec.sentence));
  control.append(check);
  row.append(el("span", "label-text", spec.label), control);
  if (spec.help !== undefined) {
    const help = el("p", "field-help", spec.help);
    help.id = `${switchSlug(name)}-help`;
    input.setAttribute("aria-describedby", help.id);
    row.append(help);
  }
  if (spec.warn !== undefined) {
    const warn = el("p", "warn", spec.warn);
    warn.dataset.warnFor = name;
    warn.hidden = true;
    row.append(warn);
  }
  const error = el("p", "field-error");
  error.dataset.errorFor = name;
  error.hidden = true;
  row.append(error);
  return row;
}

/**
 * Draws every switch's row into `form`, in its section (`fieldset[data-section]`) before the
 * field it names or at the section's end. Throws if index.html lacks a section or a field named
 * as a place, as `byId` does for a missing id.
 */
export function renderSwitches(form: HTMLElement): void {
  for (const name of SWITCH_NAMES) {
    const { section, before } = SWITCHES[name];
    const fieldset = form.querySelector<HTMLFieldSetElement>(`fieldset[data-section="${section}"]`);
    if (fieldset === null) {
      throw new Error(`missing fieldset[data-section="${section}"] in index.html`);
    }
    const anchor = before === undefined ? null : fieldset.querySelector(`:scope > .field[data-field="${before}"]`);
    if (before !== undefined && anchor === null) {
      throw new Error(`missing .field[data-field="${before}"] in the ${section} section of index.html`);
    }
    fieldset.insertBefore(switchRow(name), anchor);
  }
}
