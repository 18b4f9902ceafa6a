//! The window's copy of the app state and which site is selected. State pushes are the
//! authority; a site a command just returned is shown at once (`upsertSite`) and, if the
//! push that contains it has not arrived yet, kept for a few seconds so a push sent just
//! before the command cannot take the new site (and the selection) away. A site a launch
//! opened (`AppState.opened`) is selected once, when its count grows. Pure: no DOM.
import type { AppState, Site, SiteId } from "../api/types";

/** How long a site returned by a command is kept while pushes do not show it yet. */
export const PENDING_MS = 5000;

/** The site to select: `current` if it exists, else the first site, else none. */
export function resolveSelection(current: SiteId | null, sites: readonly Site[]): SiteId | null {
  if (current !== null && sites.some((s) => s.id === current)) {
    return current;
  }
  return sites.length > 0 ? sites[0].id : null;
}

export interface StoreChange {
  /** The selected site is another one (or none). */
  selectionChanged: boolean;
}

export class AppStore {
  private appState: AppState | null = null;
  private selected: SiteId | null = null;
  private openedCount = 0;
  private readonly pending = new Map<SiteId, { site: Site; since: number }>();
  private readonly listeners: Array<(change: StoreChange) => void> = [];

  constructor(private readonly now: () => number = Date.now) {}

  get state(): AppState | null {
    return this.appState;
  }

  get sites(): readonly Site[] {
    return this.appState?.sites ?? [];
  }

  get selectedId(): SiteId | null {
    return this.selected;
  }

  get selectedSite(): Site | null {
    return this.site(this.selected);
  }

  site(id: SiteId | null): Site | null {
    return id === null ? null : (this.sites.find((s) => s.id === id) ?? null);
  }

  onChange(listener: (change: StoreChange) => void): void {
    this.listeners.push(listener);
  }

  /** A state push. */
  setState(state: AppState): void {
    const sites = [...state.sites];
    const now = this.now();
    for (const [id, entry] of this.pending) {
      if (sites.some((s) => s.id === id) || now - entry.since > PENDING_MS) {
        this.pending.delete(id);
      } else {
        sites.push(entry.site);
      }
    }
    this.commit({ ...state, sites });
    if (state.opened !== null && state.opened.count > this.openedCount) {
      this.openedCount = state.opened.count;
      this.select(state.opened.id);
    }
  }

  /** A site a command returned (added, started, applied…): shown before the next push. */
  upsertSite(site: Site): void {
    const state = this.appState ?? { sites: [], recents: [], notices: [], opened: null };
    const known = state.sites.some((s) => s.id === site.id);
    if (!known) {
      this.pending.set(site.id, { site, since: this.now() });
    }
    const sites = known ? state.sites.map((s) => (s.id === site.id ? site : s)) : [...state.sites, site];
    this.commit({ ...state, sites });
  }

  /** A site was removed by a command: gone at once. */
  dropSite(id: SiteId): void {
    this.pending.delete(id);
    if (this.appState !== null) {
      this.commit({ ...this.appState, sites: this.appState.sites.filter((s) => s.id !== id) });
    }
  }

  select(id: SiteId): void {
    const before = this.selected;
    this.selected = resolveSelection(id, this.sites);
    this.emit({ selectionChanged: before !== this.selected });
  }

  private commit(state: AppState): void {
    this.appState = state;
    const before = this.selected;
    this.selected = resolveSelection(this.selected, state.sites);
    this.emit({ selectionChanged: before !== this.selected });
  }

  private emit(change: StoreChange): void {
    for (const listener of this.listeners) {
      listener(change);
    }
  }
}
