import { describe, expect, it } from "vitest";
import type { AppState, Site } from "../api/types";
import { AppStore, PENDING_MS, resolveSelection } from "./store";

const site = (id: string, over: Partial<Site> = {}): Site =>
  ({ id, name: id, root: `/srv/${id}`, running: true, ...over }) as Site;
const state = (...sites: Site[]): AppState => ({ sites, recents: [], notices: [], opened: null });

describe("resolveSelection", () => {
  it("keeps a selection that exists, else takes the first site", () => {
    const sites = [site("a"), site("b")];
    expect(resolveSelection("b", sites)).toBe("b");
    expect(resolveSelection("gone", sites)).toBe("a");
    expect(resolveSelection(null, sites)).toBe("a");
    expect(resolveSelection("a", [])).toBeNull();
  });
});

describe("AppStore", () => {
  it("selects the first site of the first push and reports selection changes", () => {
    const store = new AppStore();
    const changes: boolean[] = [];
    store.onChange((c) => changes.push(c.selectionChanged));
    store.setState(state(site("a"), site("b")));
    store.setState(state(site("a"), site("b")));
    store.select("b");
    expect(store.selectedId).toBe("b");
    expect(changes).toEqual([true, false, true]);
  });

  it("selects a site a launch opened once per opening, then leaves the selection to the user", () => {
    const store = new AppStore();
    store.setState(state(site("a"), site("b")));
    const opened = (id: string, count: number): AppState => ({ ...state(site("a"), site("b")), opened: { id, count } });
    store.setState(opened("b", 1));
    expect(store.selectedId).toBe("b");
    store.select("a");
    store.setState(opened("b", 1));
    expect(store.selectedId).toBe("a");
    store.setState(opened("b", 2));
    expect(store.selectedId).toBe("b");
  });

  it("moves the selection when the selected site is removed", () => {
    const store = new AppStore();
    store.setState(state(site("a"), site("b")));
    store.select("b");
    store.dropSite("b");
    expect(store.selectedId).toBe("a");
  });

  it("shows a site a command returned at once, and keeps it over an older push", () => {
    let now = 0;
    const store = new AppStore(() => now);
    store.setState(state(site("a")));
    store.upsertSite(site("new"));
    store.select("new");
    now = 100;
    store.setState(state(site("a"))); // sent before the site was added
    expect(store.selectedId).toBe("new");
    expect(store.sites.map((s) => s.id)).toEqual(["a", "new"]);
    store.setState(state(site("a"), site("new", { name: "from the push" })));
    expect(store.selectedSite?.name).toBe("from the push");
  });

  it("lets a pending site go when pushes never show it", () => {
    let now = 0;
    const store = new AppStore(() => now);
    store.setState(state(site("a")));
    store.upsertSite(site("ghost"));
    now = PENDING_MS + 1;
    store.setState(state(site("a")));
    expect(store.sites.map((s) => s.id)).toEqual(["a"]);
  });

  it("updates a known site in place from a command's answer", () => {
    const store = new AppStore();
    store.setState(state(site("a"), site("b")));
    store.upsertSite(site("b", { running: false }));
    expect(store.site("b")?.running).toBe(false);
    expect(store.sites.map((s) => s.id)).toEqual(["a", "b"]);
  });
});
