// The contract between the window and src-tauri: every type a command takes or returns, and
// every message a Channel carries. Rust serialises these with serde `rename_all = "camelCase"`;
// a change here is a change there.

import type { ConfigDraft, CustomHeaderDraft, Timing, Why } from "./generated/config";

export type SiteId = string;

/** The settings src-tauri does not take from the form: the site's folder, the LAN toggle and the app's certificate folder. */
type SiteOwned = "root" | "host" | "certDir";

/**
 * Every server setting of a site, as the settings form edits it: `ConfigDraft`, generated from
 * server-core's settings table (`generated/config.ts`, see there for each setting), with every
 * field filled in (src-tauri sends the core's defaults), but the three the site owns; plus the
 * app's own switch, `https`. Ports are 0 when automatic (a free port is picked at the first
 * start and kept while it stays free).
 */
export type SiteSettings = { [K in Exclude<keyof ConfigDraft, SiteOwned>]-?: NonNullable<ConfigDraft[K]> } & {
  /** Also serve HTTPS (HTTP/2 or HTTP/1.1 by ALPN) beside HTTP, with a certificate from Wharf's local CA, on `httpsPort`. Off by default. */
  https: boolean;
};

/** One custom header rule (generated: `CustomHeaderDraft`). */
export type CustomHeader = CustomHeaderDraft;

/** Mirrors `wharf_core::access_log::LogStats`. */
export interface LogStats {
  session: string | null;
  folder: string | null;
  logged: number;
  lost: number;
  writeError: string | null;
}

/** One site as the window shows it. */
export interface Site {
  id: SiteId;
  /** The folder's name, or "Welcome" for the built-in welcome site. */
  name: string;
  root: string;
  isWelcome: boolean;
  running: boolean;
  /** `http://127.0.0.1:PORT/` while running. */
  url: string | null;
  /** Shared on the local network (bound to 0.0.0.0). Off by default. */
  lan: boolean;
  /** `http://<address>:PORT/` for each LAN IPv4 address, while running with `lan` on. */
  lanUrls: string[];
  /** While serving HTTPS (running with `settings.https` on); null otherwise. */
  https: SiteHttps | null;
  /** The applied settings: the form's baseline. `port` and `httpsPort` are the ports in use once started. */
  settings: SiteSettings;
  /** Whether the port was left automatic (settings.port 0 when first saved). */
  portAutomatic: boolean;
  /** Whether the HTTPS port was left automatic (settings.httpsPort 0 when saved). */
  httpsPortAutomatic: boolean;
  /** The config generation new connections get. */
  generation: number;
  /** Older generations still finishing transfers: [generation, connections], oldest first. Live. */
  continuing: Array<[number, number]>;
  openConnections: number;
  /** Why the site is not running as asked (e.g. its port is in use), in a sentence. */
  error: string | null;
  accessLog: LogStats | null;
}

/** Where a site serves HTTPS. Every site of the app presents the same certificate. */
export interface SiteHttps {
  /** `https://127.0.0.1:PORT/`. */
  url: string;
  /** `https://<address>:PORT/` for each LAN IPv4 address, with `lan` on. */
  lanUrls: string[];
  /** The site certificate's SHA-256 fingerprint as browsers show it: 32 uppercase hex pairs joined by ":". It changes when the certificate is reissued. */
  fingerprint: string;
  /** The SHA-256 fingerprint of Wharf's local certificate authority, which signs the site's certificate: what a phone compares on the CA certificate it installs (`/__wharf/ca.crt`). Stays the same across reissues. */
  caFingerprint: string;
}

/** Everything the site list needs; pushed on every change. */
export interface AppState {
  sites: Site[];
  /** Folders served before, newest first, at most 10. */
  recents: string[];
  /** Messages for the banner from this app run, oldest first (e.g. a corrupt settings file). */
  notices: string[];
  /** The site a launch last asked for (`wharf-desktop ~/site`, Open with Wharf): selected when `count` grows. */
  opened: Opened | null;
}

/** Mirrors `sites::Opened`: a site opened from outside the window. */
export interface Opened {
  id: SiteId;
  /** Sites opened so far in this app run, this one included. */
  count: number;
}

/** Mirrors `commands::CommandError`: branch on `kind`, show `message`. */
export interface CommandError {
  kind:
    | "invalidConfig"
    | "portInUse"
    | "startFailed"
    | "notRunning"
    | "noSuchSite"
    | "lanOff"
    | "exportFailed"
    | "openFailed"
    | "settingsFailed"
    | "trustFailed"
    | "checkFailed";
  message: string;
  /**
   * The settings field at fault (camelCase, e.g. `keepAliveIdleTimeoutMs`), for an inline error.
   * `httpsPort` for the HTTPS port (also with `portInUse`); `certDir` when HTTPS has no
   * certificate folder (the form shows it beside the HTTPS toggle).
   */
  field?: string;
  /** For a list setting (`customHeaders`, `reloadIgnore`, `allowedHosts`, `corsOrigins`): the item at fault, from 0, in the list sent. */
  index?: number;
  /** With `index`: the item's member at fault (`path`, `name` or `value` of a custom header). */
  member?: string;
  /** With `invalidConfig`: the reason alone, so the window names the field by its label. */
  reason?: string;
}

/** What to do with Wharf's CA in a trust store. Mirrors `trust::TrustAction`. */
export type TrustAction = "trust" | "untrust" | "status";

/** One trust store, as a person would name it. Mirrors `wharf_core::trust::Store`. */
export type TrustStore =
  | { kind: "nss"; browser: string; path: string }
  | { kind: "loginKeychain" }
  | { kind: "currentUserRoot" }
  | { kind: "system"; location: string };

/** What happened to one store. Mirrors `wharf_core::trust::Outcome`. */
export type TrustOutcome =
  | { kind: "updated" }
  | { kind: "unchanged" }
  | { kind: "trusted" }
  | { kind: "notTrusted" }
  | { kind: "failed"; reason: string };

/** What a trust step did, store by store. Mirrors `wharf_core::trust::TrustReport`. */
export interface TrustReport {
  /** The CA's SHA-256 fingerprint (`AB:CD:...`): stays the same across the sites' certificates. */
  caFingerprint: string;
  /** The CA certificate's file in the app's data folder. */
  caCertPath: string;
  /** Each store in the order tried; empty when none was found. */
  stores: Array<{ store: TrustStore; outcome: TrustOutcome }>;
}

/** Mirrors `wharf_core::Change`. */
export interface Change {
  field: string;
  from: string;
  to: string;
}

/** What `apply_settings` did. */
export interface ApplyOutcome {
  site: Site;
  /** The generation new connections get now. */
  generation: number;
  /** Empty when nothing changed. */
  changes: Change[];
  /** [generation, connections] still finishing on older generations at the moment of apply. */
  continuing: Array<[number, number]>;
  /** Whether the site was running (false: saved, applies at the next start). */
  applied: boolean;
}

/** Mirrors `wharf_core::AccessRecord`. Every string is untrusted network text. */
export interface AccessRecord {
  id: number;
  startMs: number;
  peer: string;
  method: string;
  target: string;
  version: string;
  status: number;
  bodyBytes: number;
  completed: boolean;
  ttfbUs: number | null;
  totalUs: number;
  outcome: "completed" | "client_aborted" | "timed_out" | "error";
  userAgent: string | null;
  referer: string | null;
  connection: number;
  generation: number;
  served:
    | "file"
    | "br"
    | "gzip"
    | "range"
    | "not_modified"
    | "listing"
    | "redirect"
    | "fallback"
    | "live_reload"
    | "status"
    /** Refused with 403: a Host the site does not answer to, or a cross-site load. */
    | "blocked"
    /** Forwarded to a proxy rule's target, or answered 502/504 for it (see `proxy`). */
    | "proxy";
  /** For a proxied request: the rule and what its target did. Absent otherwise (and in records from before the proxy). */
  proxy?: ProxyRecord;
  /** The network rule that shaped or failed the request, and how. Absent when no rule matched. */
  network?: NetworkNote;
  /** The decisions that shaped the response (issue 19). Absent in records from before them. */
  why?: Why;
  // `headers` (the request's and response's, for the HAR export) is never sent to the window:
  // the live stream leaves it out so the log's buffer of records stays small.
  /** The request's timeline before its first byte, and whether its connection was new (issue 19). Absent for a head that never finished, and in records from before it. */
  timing?: Timing;
}

/** Mirrors `wharf_core::access::ProxyRecord`: what a proxy rule's target did for one request. */
export interface ProxyRecord {
  /** The rule that matched: its index, from 0, in the `proxy` setting of the record's generation. */
  rule: number;
  /** The target's status; null when it did not answer (the record's status is then 502 or 504). */
  upstreamStatus: number | null;
  /** Microseconds from sending the request to the target to its response head; null without one. */
  upstreamTtfbUs: number | null;
}

/** Mirrors `wharf_core::network::NetworkNote`: which network rule shaped or failed a request. */
export interface NetworkNote {
  /** The rule's index, from 0, in the `network` setting of the record's generation. */
  rule: number;
  /** A bit set of what it did (`NetworkNote::THROTTLE`…): see `NETWORK_EFFECTS` in log/marks.ts. */
  effects: number;
}

/** Mirrors `wharf_core::metrics::Percentiles` (microseconds). */
export interface Percentiles {
  p50Us: number;
  p90Us: number;
  p99Us: number;
  maxUs: number;
  count: number;
}

/** Mirrors `wharf_core::metrics::StatusCounts`. */
export interface StatusCounts {
  informational: number;
  success: number;
  redirection: number;
  clientError: number;
  serverError: number;
  noResponse: number;
  other: number;
}

/** Mirrors `wharf_core::metrics::MetricsSample`: one second of traffic. */
export interface MetricsSample {
  atMs: number;
  intervalMs: number;
  requests: number;
  bytes: number;
  status: StatusCounts;
  activeConnections: number;
  errors: number;
  aborted: number;
  ttfb: Percentiles;
  total: Percentiles;
  /** The first byte's first phase: from the head to the file resolved (issue 19). */
  resolve: Percentiles;
  /** The first byte's second phase: from the file resolved to the first byte (issue 19). */
  respond: Percentiles;
  generation: number;
  generationChanged: boolean;
  generationAppliedAtMs: number | null;
}

/** Mirrors `wharf_core::ConnectionInfo`. */
export interface ConnectionInfo {
  id: number;
  peer: string;
  generation: number;
  state: "reading" | "sending" | "idle";
  requests: number;
  bytesSent: number;
  ageMs: number;
}

/** Mirrors `wharf_core::Admission`. */
export interface Admission {
  open: number;
  limit: number;
  waiting: number | null;
  queueCapacity: number | null;
  turnedAway: number | null;
}

/** Messages of `watch_site`'s channel. */
export type SiteFeed =
  /** First the whole timeline (reset: true, up to 16 minutes), then each new sample. */
  | { type: "metrics"; samples: MetricsSample[]; reset: boolean }
  /**
   * New records: each batch of the core's log writer (every 100 ms while there are any), as it
   * is written, at most 2,000 per batch. `skipped` counts records left out of the live view
   * (thinned at high rates); they are all in the log and CSV.
   */
  | { type: "log"; records: AccessRecord[]; skipped: number }
  /** Every 500 ms while the site runs; an empty list when it is stopped. */
  | { type: "connections"; connections: ConnectionInfo[]; admission: Admission | null };

/**
 * Which requests to export; the same rules as the log table's filters. Every field narrows.
 * `status`: a comma list of codes and classes, e.g. "2xx,304" ("0" is no response).
 * `method`: exact, e.g. "GET". `pathContains`: case-insensitive substring of the target, as
 * received or percent-decoded.
 */
export interface ExportFilter {
  status?: string;
  method?: string;
  pathContains?: string;
}

/** Mirrors `Exported` in `src-tauri/src/export.rs`: `wharf_core::export::ExportSummary`, plus
 * where it was written and the id `revealExport` takes. */
export interface ExportSummary {
  id: number;
  path: string;
  sessionId: string;
  rows: number;
  records: number;
  retentionDropped: number;
  lost: number;
  unreadableLines: number;
}

/** A QR code: `width` × `width` modules, row-major, "1" dark and "0" light. */
export interface QrCode {
  text: string;
  width: number;
  modules: string;
}

/** Mirrors `preferences::AppSettings`: the App settings, not a site's. */
export interface AppSettings {
  /** Closing the window hides it and the sites keep serving; off, closing quits. Default: on. */
  keepServingOnClose: boolean;
  /** Wharf starts at login, hidden in the tray, with the sites that were running. Default: off. */
  startAtLogin: boolean;
}

/** Mirrors `preferences::AppSettingsChange`: what to change; a missing field stays. */
export type AppSettingsChange = Partial<AppSettings>;

/** How bad a finding is. Mirrors `wharf_core::Severity` (serde `lowercase`). */
export type Severity = "error" | "warning";

/** What a finding is about: its stable code. Mirrors `wharf_core::FindingKind::code`. */
export type FindingKind =
  | "broken_link"
  | "case_mismatch"
  | "wrong_mime"
  | "private_file"
  | "local_source_map"
  | "absolute_path"
  | "shared_memory"
  | "uncompressed"
  | "live_not_found";

/** One problem of the site check. Mirrors `wharf_core::Finding` (field names as in Rust). */
export interface Finding {
  kind: FindingKind;
  severity: Severity;
  /** Relative to the site's folder, with `/` separators. */
  file: string;
  /** 1-based; null when the finding is about the whole file. */
  line: number | null;
  message: string;
  advice: string;
}

/**
 * What `check_site` returns. Mirrors `wharf_core::CheckReport`, which serde writes with its
 * Rust field names (as `wharf check --json` prints it): `files_seen`, not camelCase.
 */
export interface CheckReport {
  /** Sorted by file, then line (a finding about the whole file first). */
  findings: Finding[];
  files_seen: number;
  /** Files too large to read: their links are unchecked. */
  skipped: string[];
  /** Whether this app run's access log was read for the 404s pages met (`live_not_found`). */
  live: boolean;
  /** Live 404s (path and page pairs) beyond the first ones listed. */
  live_omitted: number;
}
