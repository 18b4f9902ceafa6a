//! The only module that calls `invoke`: one typed wrapper per Rust command (same name in
//! camelCase). The native dialogs are opened by the app (`pickFolder`, and `exportCsv`'s and `exportHar`'s save
//! dialog), so the window needs no dialog permission and never names a file to write.
//! Components import these and never talk to Tauri themselves. Errors reject as
//! `CommandError` (see `errors.ts`).
import { invoke, type Channel } from "@tauri-apps/api/core";
import type {
  AppSettings,
  AppSettingsChange,
  AppState,
  ApplyOutcome,
  CheckReport,
  ExportFilter,
  ExportSummary,
  QrCode,
  Site,
  SiteFeed,
  SiteId,
  SiteSettings,
  TrustAction,
  TrustReport,
} from "./types";

export const subscribeState = (channel: Channel<AppState>) => invoke<void>("subscribe_state", { channel });
export const addSite = (root: string) => invoke<Site>("add_site", { root });
export const removeSite = (id: SiteId) => invoke<void>("remove_site", { id });
export const startSite = (id: SiteId) => invoke<Site>("start_site", { id });
export const stopSite = (id: SiteId) => invoke<Site>("stop_site", { id });
export const setSiteRoot = (id: SiteId, root: string) => invoke<Site>("set_site_root", { id, root });
export const applySettings = (id: SiteId, settings: SiteSettings) =>
  invoke<ApplyOutcome>("apply_settings", { id, settings });
export const setLan = (id: SiteId, enabled: boolean) => invoke<Site>("set_lan", { id, enabled });
export const lanQr = (id: SiteId) => invoke<QrCode>("lan_qr", { id });
export const openInBrowser = (id: SiteId) => invoke<void>("open_in_browser", { id });
export const watchSite = (id: SiteId, channel: Channel<SiteFeed>) => invoke<void>("watch_site", { id, channel });
export const closeConnection = (id: SiteId, connection: number) =>
  invoke<boolean>("close_connection", { id, connection });
/** Opens the app's save dialog and writes the CSV where the user chose; null when cancelled. */
export const exportCsv = (id: SiteId, filter: ExportFilter) =>
  invoke<ExportSummary | null>("export_csv", { id, filter });
/** The same as HAR 1.2, for a browser's DevTools (Network panel, Import HAR). */
export const exportHar = (id: SiteId, filter: ExportFilter) =>
  invoke<ExportSummary | null>("export_har", { id, filter });
export const revealExport = (exportId: number) => invoke<void>("reveal_export", { id: exportId });

/** Wharf's CA (the app's own) in the user's trust stores: the window says what, never where. */
export const trustCa = (action: TrustAction) => invoke<TrustReport>("trust_ca", { action });
/** The same in the machine's store, for all users: the OS asks for an administrator password. */
export const trustCaSystem = (action: TrustAction) => invoke<TrustReport>("trust_ca_system", { action });

/** The site check of a site's folder, with its settings; `basePath` is where it will be deployed (null: the root). */
export const checkSite = (id: SiteId, basePath: string | null) =>
  invoke<CheckReport>("check_site", { id, basePath });

/** The native folder picker, opened by the app; null when the user cancels. */
export const pickFolder = (title: string) => invoke<string | null>("pick_folder", { title });

/** The App settings (keep serving on close, start at login). */
export const getAppSettings = () => invoke<AppSettings>("get_app_settings");
export const setAppSettings = (change: AppSettingsChange) => invoke<AppSettings>("set_app_settings", { change });
