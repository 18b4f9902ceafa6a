//! The selected site's header: name, state, URL (Copy, Open in browser), with HTTPS on its
//! https URL (Copy) and the certificate's fingerprint, folder, the site's error, Start/Stop,
//! Remove, and sharing on the local network with its warning, LAN URLs and QR code (of the
//! http address: a phone opens it without a certificate warning), and the button that opens
//! the trust dialog (`trust.ts`) while serving HTTPS; and, while network rules slow or fail
//! the site, a "Throttled" badge (its tooltip lists the rules) with a button that turns them
//! all off. The controls are created once in index.html and only updated here.
import { errorMessage } from "../api/errors";
import type { QrCode, Site } from "../api/types";
import { byId, el, setText, show } from "../dom";
import { visibleText } from "../format";
import { clearQr, drawQr } from "./qr";
import { siteView, throttleRules } from "./view";

export interface HeaderActions {
  open(site: Site): void;
  toggle(site: Site): void;
  remove(site: Site): void;
  changeRoot(site: Site): void;
  setLan(site: Site, enabled: boolean): Promise<void>;
  qr(site: Site): Promise<QrCode>;
  /** Opens the trust dialog (`trust.ts`) for the site's CA. */
  trust(site: Site): void;
  /** Applies `networkConditions: false` (the rules stay); resolves once applied or refused. */
  throttleOff(site: Site): Promise<void>;
}

/** A fingerprint's groups (`fingerprintGroups`) in `node`: one span per group, with a line
 * break allowed between groups; rebuilt only on change. */
export function drawFingerprint(node: HTMLElement, groups: string[]): void {
  const text = groups.join("");
  if (node.dataset.value === text) {
    return;
  }
  node.dataset.value = text;
  const nodes: Node[] = [];
  groups.forEach((group, i) => {
    if (i > 0) {
      nodes.push(el("wbr"));
    }
    nodes.push(el("span", "fingerprint-group", group));
  });
  node.replaceChildren(...nodes);
}

export class SiteHeader {
  private readonly root = byId("site-header");
  private readonly noSite = byId("no-site");
  private readonly name = byId("site-name");
  private readonly state = byId("site-state");
  private readonly welcome = byId("welcome-badge");
  private readonly url = byId("site-url");
  private readonly folder = byId("site-root");
  private readonly error = byId("site-error");
  private readonly copyNote = byId("copy-note");
  private readonly openButton = byId<HTMLButtonElement>("open-browser");
  private readonly copyButton = byId<HTMLButtonElement>("copy-url");
  private readonly toggleButton = byId<HTMLButtonElement>("toggle-site");
  private readonly removeButton = byId<HTMLButtonElement>("remove-site");
  private readonly changeRootButton = byId<HTMLButtonElement>("change-root");
  private readonly lanToggle = byId<HTMLInputElement>("lan-toggle");
  private readonly lanDetails = byId("lan-details");
  private readonly lanUrl = byId("lan-url");
  private readonly qrCanvas = byId<HTMLCanvasElement>("lan-qr");
  private readonly httpsRow = byId("https-row");
  private readonly httpsUrl = byId("site-https-url");
  private readonly copyHttpsButton = byId<HTMLButtonElement>("copy-https-url");
  private readonly tlsRow = byId("tls-row");
  private readonly fingerprint = byId("tls-fingerprint");
  private readonly lanHttpsUrl = byId("lan-https-url");
  private readonly trustRow = byId("trust-row");
  private readonly throttle = byId("throttle");
  private readonly throttleBadge = byId("throttle-badge");
  private readonly throttleOff = byId<HTMLButtonElement>("throttle-off");
  private site: Site | null = null;
  /** What the QR canvas shows (site id + URL), so it is fetched once per address. */
  private qrKey = "";
  private noteTimer = 0;

  constructor(private readonly actions: HeaderActions) {
    const withSite = (f: (site: Site) => void) => () => {
      if (this.site) {
        f(this.site);
      }
    };
    this.openButton.addEventListener("click", withSite((s) => actions.open(s)));
    this.toggleButton.addEventListener("click", withSite((s) => actions.toggle(s)));
    this.removeButton.addEventListener("click", withSite((s) => actions.remove(s)));
    this.changeRootButton.addEventListener("click", withSite((s) => actions.changeRoot(s)));
    byId("open-trust").addEventListener("click", withSite((s) => actions.trust(s)));
    this.throttleOff.addEventListener("click", withSite((s) => {
      this.throttleOff.disabled = true;
      void actions.throttleOff(s).finally(() => {
        this.throttleOff.disabled = false;
      });
    }));
    this.copyButton.addEventListener("click", () => void this.copy(this.site?.running ? this.site.url : null, this.url));
    this.copyHttpsButton.addEventListener(
      "click",
      () => void this.copy(this.site?.running ? (this.site.https?.url ?? null) : null, this.httpsUrl),
    );
    this.lanToggle.addEventListener("change", withSite((s) => {
      const wanted = this.lanToggle.checked;
      this.lanToggle.disabled = true;
      void actions.setLan(s, wanted).finally(() => {
        this.lanToggle.disabled = false;
        // Whatever happened, show what the site says.
        if (this.site) {
          this.lanToggle.checked = this.site.lan;
        }
      });
    }));
  }

  render(site: Site | null): void {
    this.site = site;
    show(this.root, site !== null);
    show(this.noSite, site === null);
    if (site === null) {
      return;
    }
    const view = siteView(site);
    setText(this.name, visibleText(site.name));
    setText(this.state, view.state);
    this.state.dataset.running = String(site.running);
    show(this.welcome, site.isWelcome);
    this.renderThrottle(site);
    setText(this.url, view.url);
    this.url.dataset.serving = String(view.canOpen);
    setText(this.folder, visibleText(site.root));
    this.folder.title = visibleText(site.root);
    setText(this.error, visibleText(site.error ?? ""));
    show(this.error, site.error !== null && site.error !== "");
    this.openButton.disabled = !view.canOpen;
    this.copyButton.disabled = !view.canCopy;
    setText(this.toggleButton, view.toggleLabel);
    this.changeRootButton.hidden = site.isWelcome;
    if (!this.lanToggle.disabled) {
      this.lanToggle.checked = site.lan;
    }
    setText(this.httpsUrl, view.httpsUrl ?? "");
    show(this.httpsRow, view.httpsUrl !== null);
    this.renderFingerprint(view.fingerprint);
    show(this.trustRow, view.httpsUrl !== null);
    setText(this.lanUrl, view.lanUrl);
    setText(this.lanHttpsUrl, view.lanHttpsUrl);
    show(this.lanHttpsUrl, view.lanHttpsUrl !== "");
    show(this.lanDetails, site.lan);
    this.renderQr(site, view.showQr);
  }

  private renderThrottle(site: Site): void {
    const rules = throttleRules(site.settings);
    show(this.throttle, rules.length > 0);
    this.throttleBadge.title = `Network conditions slow or fail these paths:\n${rules.map(visibleText).join("\n")}`;
  }

  private renderFingerprint(groups: string[]): void {
    show(this.tlsRow, groups.length > 0);
    drawFingerprint(this.fingerprint, groups);
  }

  private renderQr(site: Site, visible: boolean): void {
    show(this.qrCanvas, visible);
    const key = visible ? `${site.id} ${site.lanUrls[0]}` : "";
    if (key === this.qrKey) {
      return;
    }
    this.qrKey = key;
    clearQr(this.qrCanvas);
    if (!visible) {
      return;
    }
    this.actions
      .qr(site)
      .then((qr) => {
        if (this.qrKey === key) {
          drawQr(this.qrCanvas, qr, 112);
          this.qrCanvas.setAttribute("aria-label", `QR code of ${qr.text}`);
        }
      })
      .catch((error: unknown) => {
        if (this.qrKey === key) {
          // Not worth the banner: the URL is shown as text beside it.
          this.qrKey = "";
          this.qrCanvas.hidden = true;
          this.qrCanvas.setAttribute("aria-label", errorMessage(error));
        }
      });
  }

  /** Copies `url`; where the clipboard is refused, selects `node` for Ctrl+C instead. */
  private async copy(url: string | null, node: HTMLElement): Promise<void> {
    if (!url) {
      return;
    }
    try {
      if (!navigator.clipboard) {
        throw new Error("no clipboard");
      }
      await navigator.clipboard.writeText(url);
      this.note("Copied");
    } catch {
      const range = document.createRange();
      range.selectNodeContents(node);
      const selection = window.getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
      this.note("Selected: press Ctrl+C (⌘C) to copy");
    }
  }

  private note(text: string): void {
    setText(this.copyNote, text);
    window.clearTimeout(this.noteTimer);
    this.noteTimer = window.setTimeout(() => setText(this.copyNote, ""), 2500);
  }
}
