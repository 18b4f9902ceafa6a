//! The "Trust Wharf's certificate authority" dialog: whether the CA is trusted, Trust and
//! Untrust for this user, the system store as a separate elevated step, the CA's fingerprint,
//! and the phone case (the CA's download address on the network, per-OS steps). Every report
//! comes from the app (`trustCa`, `trustCaSystem`) and is drawn as text only: store paths and
//! the tools' messages never become markup. The dialog is declared once in index.html.
import { errorMessage } from "../api/errors";
import type { Site, TrustAction, TrustOutcome, TrustReport, TrustStore } from "../api/types";
import { byId, el, setText, show } from "../dom";
import { visibleText } from "../format";
import { drawFingerprint } from "./header";
import { fingerprintGroups } from "./view";

export interface TrustActions {
  /** The user's own stores. */
  user(action: TrustAction): Promise<TrustReport>;
  /** The machine's store (elevated: the OS asks for an administrator password). */
  system(action: TrustAction): Promise<TrustReport>;
}

/** A store as a person names it, e.g. `Chromium (/home/me/.pki/nssdb)`. */
export function storeName(store: TrustStore): string {
  switch (store.kind) {
    case "nss":
      return `${store.browser} (${store.path})`;
    case "loginKeychain":
      return "the login keychain";
    case "currentUserRoot":
      return "the current user's Root store";
    case "system":
      return `the system store (${store.location})`;
  }
}

/** The outcome's word, as the report line starts. */
export function outcomeWord(outcome: TrustOutcome): string {
  switch (outcome.kind) {
    case "updated":
      return "Updated";
    case "unchanged":
      return "Unchanged";
    case "trusted":
      return "Trusted";
    case "notTrusted":
      return "Not trusted";
    case "failed":
      return "Failed";
  }
}

/** One line per store: `Updated: NSS (/tmp/db)`, `Failed: ...: why`. */
export function reportLines(report: TrustReport): Array<{ outcome: TrustOutcome["kind"]; text: string }> {
  return report.stores.map(({ store, outcome }) => ({
    outcome: outcome.kind,
    text: visibleText(
      `${outcomeWord(outcome)}: ${storeName(store)}${outcome.kind === "failed" ? ` — ${outcome.reason}` : ""}`,
    ),
  }));
}

/** Whether the user's stores trust the CA, from a status report. */
export function trustState(report: TrustReport): string {
  const stores = report.stores.length;
  const trusted = report.stores.filter((s) => s.outcome.kind === "trusted").length;
  if (stores === 0) {
    return "No trust store found on this computer.";
  }
  if (trusted === stores) {
    return "Trusted on this computer: browsers open the https addresses without a warning.";
  }
  if (trusted === 0) {
    return "Not trusted yet: browsers warn about the https addresses.";
  }
  return `Trusted in ${trusted} of ${stores} stores.`;
}

/** Draws `report` into `list`, one item per store, as text. */
export function renderReport(list: HTMLElement, report: TrustReport): void {
  const lines = reportLines(report);
  const items = lines.map((line) => {
    const item = el("li", "trust-line", line.text);
    item.dataset.outcome = line.outcome;
    return item;
  });
  if (items.length === 0) {
    items.push(el("li", "trust-line", "No trust store found."));
  }
  list.replaceChildren(...items);
}

/** Where a phone downloads the CA: the site's first http network address, while shared. */
export function caDownloadUrl(site: Site): string | null {
  if (!site.lan || !site.running || site.lanUrls.length === 0) {
    return null;
  }
  return new URL("__wharf/ca.crt", site.lanUrls[0]).toString();
}

export class TrustDialog {
  private readonly dialog = byId<HTMLDialogElement>("trust-dialog");
  private readonly fingerprint = byId("ca-fingerprint");
  private readonly state = byId("trust-state");
  private readonly report = byId("trust-report");
  private readonly phoneUrl = byId("phone-ca-url");
  private readonly phoneOff = byId("phone-ca-off");
  private readonly buttons = [
    byId<HTMLButtonElement>("trust-ca"),
    byId<HTMLButtonElement>("untrust-ca"),
    byId<HTMLButtonElement>("trust-ca-system"),
    byId<HTMLButtonElement>("untrust-ca-system"),
  ];

  constructor(private readonly actions: TrustActions) {
    const [trust, untrust, trustSystem, untrustSystem] = this.buttons;
    trust.addEventListener("click", () => void this.step(() => actions.user("trust")));
    untrust.addEventListener("click", () => void this.step(() => actions.user("untrust")));
    trustSystem.addEventListener("click", () => void this.step(() => actions.system("trust")));
    untrustSystem.addEventListener("click", () => void this.step(() => actions.system("untrust")));
    byId("close-trust").addEventListener("click", () => this.dialog.close());
  }

  /** Opens the dialog for `site` and asks the stores whether they trust the CA. */
  open(site: Site): void {
    this.showFingerprint(site.https?.caFingerprint ?? "");
    const url = caDownloadUrl(site);
    setText(this.phoneUrl, url ?? "");
    show(this.phoneUrl, url !== null);
    show(this.phoneOff, url === null);
    this.report.replaceChildren();
    setText(this.state, "Checking…");
    if (!this.dialog.open) {
      this.dialog.showModal();
    }
    void this.actions
      .user("status")
      .then((report) => {
        this.showFingerprint(report.caFingerprint);
        setText(this.state, trustState(report));
      })
      .catch((error: unknown) => setText(this.state, errorMessage(error)));
  }

  /** Runs one step, with the buttons off meanwhile, then shows its report and the new state. */
  private async step(run: () => Promise<TrustReport>): Promise<void> {
    this.buttons.forEach((button) => (button.disabled = true));
    setText(this.state, "Working… (a password prompt may open)");
    try {
      const report = await run();
      renderReport(this.report, report);
      this.showFingerprint(report.caFingerprint);
      const status = await this.actions.user("status");
      setText(this.state, trustState(status));
    } catch (error) {
      setText(this.state, errorMessage(error));
    } finally {
      this.buttons.forEach((button) => (button.disabled = false));
    }
  }

  private showFingerprint(fingerprint: string): void {
    drawFingerprint(this.fingerprint, fingerprintGroups(fingerprint));
  }
}
