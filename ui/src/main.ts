//! Wharf's window: builds the views once, subscribes to the app state and the selected site's
//! feed, and turns clicks into commands. Command errors go to the banner (or, for a settings
//! field, next to it). Components never call Tauri: api/commands.ts and api/streams.ts do.
// First: makes navigator.language usable by Intl before uPlot loads (see app/locale.ts).
import "./app/locale";
import "./style.css";
import * as commands from "./api/commands";
import { subscribeAppState, watchSiteFeed } from "./api/streams";
import type { Site, SiteId } from "./api/types";
import { AppSettingsPanel } from "./app/app-settings";
import { Banner } from "./app/banner";
import { FeedController } from "./app/feed";
import { AppStore } from "./app/store";
import { Tabs } from "./app/tabs";
import { Graphs } from "./charts/graphs";
import { CheckPanel } from "./check/panel";
import { ConnectionsTable } from "./connections/table";
import { byId } from "./dom";
import { visibleText } from "./format";
import { LogBuffer } from "./log/buffer";
import { LogExport } from "./log/export";
import { FilterBar } from "./log/filter-bar";
import { LogTable } from "./log/table";
import { listenForShortcuts, markShortcut } from "./shortcuts";
import { settingsWithSwitch } from "./settings/draft";
import { SettingsForm } from "./settings/form";
import { SiteHeader } from "./sites/header";
import { TrustDialog } from "./sites/trust";
import { Sidebar } from "./sites/sidebar";

const banner = new Banner();
const store = new AppStore();

/** Runs a command; on error shows it in the banner and rethrows. */
async function attempt<T>(action: () => Promise<T>): Promise<T> {
  try {
    return await action();
  } catch (error) {
    banner.error(error);
    throw error;
  }
}

/** Runs a command; on error shows it in the banner and resolves undefined. */
async function run<T>(action: () => Promise<T>): Promise<T | undefined> {
  return attempt(action).catch(() => undefined);
}

const busy = new Set<SiteId>();
async function toggleSite(site: Site): Promise<void> {
  if (busy.has(site.id)) {
    return;
  }
  busy.add(site.id);
  try {
    const updated = await run(() => (site.running ? commands.stopSite(site.id) : commands.startSite(site.id)));
    if (updated) {
      store.upsertSite(updated);
    }
  } finally {
    busy.delete(site.id);
  }
}

async function addRoot(root: string): Promise<boolean> {
  const existing = store.sites.find((s) => s.root === root);
  if (existing) {
    store.select(existing.id);
    return true;
  }
  const site = await run(() => commands.addSite(root));
  if (site) {
    store.upsertSite(site);
    store.select(site.id);
    return true;
  }
  return false;
}

const tabs = new Tabs(byId("tabs"));
const buffer = new LogBuffer();
const table = new LogTable(buffer, () => store.selectedSite);
const filters = new FilterBar((filter) => {
  buffer.setFilter(filter);
  table.filterChanged();
});
const graphs = new Graphs();
const connections = new ConnectionsTable({
  close: (connection) => {
    const id = store.selectedId;
    return id === null ? Promise.resolve(false) : attempt(() => commands.closeConnection(id, connection));
  },
});
const check = new CheckPanel({ check: commands.checkSite });
const exporter = new LogExport(
  {
    exportCsv: (site, filter) => attempt(() => commands.exportCsv(site.id, filter)),
    exportHar: (site, filter) => attempt(() => commands.exportHar(site.id, filter)),
    reveal: (exportId) => attempt(() => commands.revealExport(exportId)),
  },
  () => store.selectedSite,
  () => filters.value,
);
const settings = new SettingsForm({
  apply: async (site, values) => {
    const outcome = await commands.applySettings(site.id, values);
    store.upsertSite(outcome.site);
    return outcome;
  },
  error: (message) => banner.show(message),
});
const trustDialog = new TrustDialog({ user: commands.trustCa, system: commands.trustCaSystem });
const header = new SiteHeader({
  open: (site) => void run(() => commands.openInBrowser(site.id)),
  toggle: (site) => void toggleSite(site),
  remove: (site) =>
    void attempt(() => commands.removeSite(site.id))
      .then(() => store.dropSite(site.id))
      .catch(() => undefined),
  changeRoot: (site) =>
    void run(async () => {
      const root = await commands.pickFolder(`Choose the folder ${visibleText(site.name)} serves`);
      if (root !== null) {
        store.upsertSite(await commands.setSiteRoot(site.id, root));
      }
    }),
  setLan: async (site, enabled) => {
    const updated = await run(() => commands.setLan(site.id, enabled));
    if (updated) {
      store.upsertSite(updated);
    }
  },
  qr: (site) => commands.lanQr(site.id),
  trust: (site) => trustDialog.open(site),
  throttleOff: async (site) => {
    const outcome = await run(() =>
      commands.applySettings(site.id, settingsWithSwitch(site.settings, site, "networkConditions", false)),
    );
    if (outcome) {
      settings.appliedElsewhere(outcome);
      store.upsertSite(outcome.site);
    }
  },
});
const pickFolder = () =>
  void run(() => commands.pickFolder("Choose a folder to serve")).then((root) => {
    if (root) {
      void addRoot(root);
    }
  });
const sidebar = new Sidebar({
  select: (id) => store.select(id),
  toggle: (site) => void toggleSite(site),
  addRoot,
  pickFolder,
});
const feed = new FeedController({
  watch: watchSiteFeed,
  log: (message) => {
    buffer.push(message.records, message.skipped);
    table.invalidate();
    check.noteRecords(message.records);
  },
  charts: (window) => graphs.update(window),
  connections: (message) => connections.update(message.connections, message.admission),
  reset: () => {
    buffer.clear();
    table.reset();
    connections.clear();
    exporter.clear();
  },
  error: (error) => banner.error(error),
});

const filterPath = byId<HTMLInputElement>("filter-path");
markShortcut(byId("add-folder"), "o", "Choose a folder to serve");
markShortcut(filterPath, "l", "Filter the log by path; served:proxy, network: or network:reset pick proxied or shaped requests");
listenForShortcuts(document, (shortcut) => {
  switch (shortcut.action) {
    case "addFolder":
      pickFolder();
      break;
    case "selectSite": {
      const site = store.sites[shortcut.index];
      if (site) {
        store.select(site.id);
      }
      break;
    }
    case "focusFilter":
      tabs.select("log", false);
      filterPath.focus();
      filterPath.select();
      break;
  }
});

tabs.onSelect((tab) => {
  graphs.setVisible(tab === "graphs");
  check.setVisible(tab === "check");
  if (tab === "log") {
    table.invalidate();
  }
});
graphs.setVisible(tabs.selected === "graphs");
window.addEventListener("pagehide", () => graphs.destroy());

store.onChange(({ selectionChanged }) => {
  const site = store.selectedSite;
  sidebar.render(store.sites, store.selectedId, store.state?.recents ?? []);
  header.render(site);
  settings.update(store.sites, site);
  connections.setSite(site?.generation ?? 0, site?.running ?? false);
  check.setSite(site);
  if (selectionChanged) {
    feed.watch(site?.id ?? null);
  }
});

void new AppSettingsPanel({
  get: commands.getAppSettings,
  set: commands.setAppSettings,
  error: (error) => banner.error(error),
}).load();

subscribeAppState((state) => {
  store.setState(state);
  banner.notices(state.notices);
  document.body.dataset.ready = "true";
}).catch((error: unknown) => banner.error(error));
