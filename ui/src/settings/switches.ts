//! The settings form's on/off switches, one table entry each: where the row goes, its label, the
//! sentence beside its checkbox, and its help or warning text. A new boolean setting of
//! server-core's table is a `tsc` error until it has its entry here, and that entry is all the UI
//! needs: `draft.ts` takes the switches' names from it, `switch-rows.ts` draws their rows. Data
//! only, no DOM.
import type { SiteSettings } from "../api/types";

/**
 * The on/off settings: every boolean of `SiteSettings` (generated from server-core's settings
 * table, plus the app's `https`). A boolean that needs a control of its own would be excluded
 * here and written in index.html.
 */
export type SwitchName = {
  [K in keyof SiteSettings]: SiteSettings[K] extends boolean ? K : never;
}[keyof SiteSettings];

/** A fieldset of the settings form, by its `data-section` in index.html. */
export type Section = "connection" | "https" | "files" | "development" | "proxy" | "network" | "access";

/** One switch's row. */
export interface SwitchSpec {
  readonly section: Section;
  /**
   * The field (written in index.html) the row goes before; without one, the row ends its
   * section. Rows with the same place keep this table's order.
   */
  readonly before?: Exclude<keyof SiteSettings, SwitchName>;
  /** The label in the field's left column. */
  readonly label: string;
  /** The sentence beside the checkbox: what "on" does. */
  readonly sentence: string;
  /** Shown under the control, and read with it (`aria-describedby`). */
  readonly help?: string;
  /** Shown while the switch is on: what turning it on exposes. */
  readonly warn?: string;
  /** Names the ids `set-<slug>` and `<slug>-help`; default: the name in kebab case. */
  readonly slug?: string;
}

/** Every switch, in each section's order. */
export const SWITCHES: Readonly<Record<SwitchName, SwitchSpec>> = {
  keepAlive: {
    section: "connection",
    before: "headerReadTimeoutMs",
    label: "Keep-alive",
    sentence: "Reuse connections between requests",
  },
  https: {
    section: "https",
    before: "httpsPort",
    label: "HTTPS",
    sentence: "Also serve HTTPS, on a second port",
    help: "Every site presents a certificate issued by Wharf's own certificate authority (CA), made on this computer and kept in its data folder. Browsers warn until you trust that CA: use “Trust Wharf's certificate authority…” under the site's address, which also shows how to trust it on a phone (compare the CA's SHA-256 fingerprint there).",
  },
  directoryListing: {
    section: "files",
    before: "cacheControl",
    label: "Directory listing",
    sentence: "List folders that have no index.html",
    slug: "listing",
  },
  showDotfiles: {
    section: "files",
    before: "cacheControl",
    label: "Dotfiles",
    sentence: "Serve files whose names start with a dot",
    warn: "Files such as .env and .git/config become readable by anyone who can open the site.",
    slug: "dotfiles",
  },
  followSymlinks: {
    section: "files",
    before: "cacheControl",
    label: "Symbolic links",
    sentence: "Follow symbolic links",
    warn: "A link can point outside the folder: the files it reaches become readable too.",
    slug: "symlinks",
  },
  compression: {
    section: "files",
    label: "Compression",
    sentence: "Send gzip or Brotli when the browser accepts it",
  },
  byteRanges: {
    section: "files",
    label: "Byte ranges",
    sentence: "Send the part of a file asked for (seeking, resumed downloads)",
  },
  liveReload: {
    section: "development",
    before: "reloadIgnore",
    label: "Live reload",
    sentence: "Reload open pages when a file changes",
    help: "A stylesheet change is swapped in without reloading the page.",
  },
  spaFallback: {
    section: "development",
    label: "SPA fallback",
    sentence: "Answer unknown page addresses with index.html",
    help: "For single-page apps: opening /settings/profile gets the root index.html. Missing files such as /app.js still get 404.",
  },
  cleanUrls: {
    section: "development",
    label: "Clean URLs",
    sentence: "Serve /about from about.html",
  },
  dropHtmlExtension: {
    section: "development",
    label: ".html in addresses",
    sentence: "Drop .html from addresses",
    help: "Redirects /about.html to /about. Needs clean URLs.",
    slug: "drop-html",
  },
  whyHeader: {
    section: "development",
    label: "Wharf-Why header",
    sentence: "Say why in a Wharf-Why header on each answer",
    help: "For the browser's devtools, e.g. Wharf-Why: route=spa-fallback body=br-compressed. The log's detail pane says the same in words, for every request, whether this is on or not.",
  },
  networkConditions: {
    section: "network",
    before: "network",
    label: "Apply network conditions",
    sentence: "Slow down or fail the paths the rules below match",
    help: "Off, the rules are kept but none applies: the site answers at full speed. While on with a rule, the site's header shows “Throttled” with a button that turns this off.",
  },
  cors: {
    section: "access",
    before: "corsOrigins",
    label: "CORS",
    sentence: "Let pages on allowed origins fetch these files",
    help: "Pages on localhost, 127.0.0.1 and [::1] (any port) and the origins below may read the files; Access-Control-Allow-Origin names the page's origin, never *. Pages of other sites that load the files with a script or image tag are refused unless CORS is on and their origin is allowed.",
  },
  crossOriginIsolation: {
    section: "access",
    before: "customHeaders",
    label: "Cross-origin isolation",
    sentence: "Isolate pages from other origins",
    help: "SharedArrayBuffer needs it (e.g. for WebAssembly threads). Sends Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp; files from other origins then need CORS or Cross-Origin-Resource-Policy.",
    slug: "isolation",
  },
};

/** The switches' names, in the table's order. */
export const SWITCH_NAMES = Object.keys(SWITCHES) as SwitchName[];

/** The part of the switch's ids: `set-<slug>` for the checkbox, `<slug>-help` for its help. */
export function switchSlug(name: SwitchName): string {
  return SWITCHES[name].slug ?? name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
