//! What the site header and the site list show for a site. Pure: no DOM, no Tauri.
import type { Site } from "../api/types";

export interface SiteView {
  state: "Running" | "Stopped";
  url: string;
  toggleLabel: "Start" | "Stop";
  canOpen: boolean;
  canCopy: boolean;
  lanUrl: string;
  showQr: boolean;
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
  };
}
