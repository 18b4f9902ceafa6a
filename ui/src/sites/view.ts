//! What the site header and the site list show for a site. Pure: no DOM, no Tauri.
import type { Site, SiteSettings } from "../api/types";
import { networkRuleText } from "../settings/rows";

export interface SiteView {
  state: "Running" | "Stopped";
  url: string;
  toggleLabel: "Start" | "Stop";
  canOpen: boolean;
  canCopy: boolean;
  lanUrl: string;
  showQr: boolean;
  /** `https://127.0.0.1:PORT/` while serving HTTPS, else null. */
  httpsUrl: string | null;
  /** The HTTPS addresses on the network, while serving HTTPS shared; "" otherwise. */
  lanHttpsUrl: string;
  /** The certificate's fingerprint in groups of four pairs (see `fingerprintGroups`). */
  fingerprint: string[];
}

/**
 * `AB:CD:...` in groups of `pairs` hex pairs, each but the last keeping its trailing ":",
 * so the groups read apart, wrap between each other, and copy back as the very same text.
 */
export function fingerprintGroups(fingerprint: string, pairs = 4): string[] {
  const all = fingerprint.split(":").filter((pair) => pair !== "");
  const groups: string[] = [];
  for (let i = 0; i < all.length; i += pairs) {
    const last = i + pairs >= all.length;
    groups.push(all.slice(i, i + pairs).join(":") + (last ? "" : ":"));
  }
  return groups;
}

export function siteView(site: Site): SiteView {
  const serving = site.running && site.url !== null;
  return {
    state: site.running ? "Running" : "Stopped",
    url: serving ? (site.url as string) : "Not running",
    toggleLabel: site.running ? "Stop" : "Start",
    canOpen: serving,
    canCopy: serving,
    lanUrl: !site.lan
      ? ""
      : !site.running
        ? "Shared on the network once the site runs."
        : site.lanUrls.length > 0
          ? site.lanUrls.join("  ·  ")
          : "No network address found (is this computer on a network?)",
    showQr: site.lan && site.running && site.lanUrls.length > 0,
    httpsUrl: site.running && site.https !== null ? site.https.url : null,
    lanHttpsUrl: site.lan && site.running && site.https !== null ? site.https.lanUrls.join("  ·  ") : "",
    fingerprint: site.running && site.https !== null ? fingerprintGroups(site.https.fingerprint) : [],
  };
}

/**
 * The network rules slowing or failing the site, as the CLI writes them (`/videos/**
 * preset=slow-3g`): all of them while network conditions are on, none while they are off.
 * The header shows "Throttled" while there is one, so nobody forgets a throttle.
 */
export function throttleRules(settings: SiteSettings): string[] {
  return settings.networkConditions ? settings.network.map(networkRuleText) : [];
}
