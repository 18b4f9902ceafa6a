//! The sidebar: the site list (name, URL, running dot, start/stop per site), adding a folder
//! (native dialog, typed path, recent folders) and the drop hint. Items are kept by site id
//! and updated in place, so a state push (after every connection opened or closed) never steals
//! keyboard focus.
import type { Site, SiteId } from "../api/types";
import { byId, el, setText, show } from "../dom";
import { visibleText } from "../format";
import { ariaKeys, keyLabel } from "../shortcuts";

export interface SidebarActions {
  select(id: SiteId): void;
  toggle(site: Site): void;
  /** Adds the folder as a site (or selects the site that already serves it). */
  addRoot(root: string): Promise<boolean>;
  pickFolder(): void;
}

interface Item {
  li: HTMLLIElement;
  select: HTMLButtonElement;
  dot: HTMLSpanElement;
  name: HTMLSpanElement;
  url: HTMLSpanElement;
  power: HTMLButtonElement;
  site: Site;
}

export class Sidebar {
  private readonly list = byId<HTMLUListElement>("site-list");
  private readonly recentList = byId<HTMLUListElement>("recent-list");
  private readonly recentEmpty = byId("recent-empty");
  private readonly pathInput = byId<HTMLInputElement>("add-path");
  private readonly items = new Map<SiteId, Item>();
  private recentsKey = "";

  constructor(private readonly actions: SidebarActions) {
    byId<HTMLButtonElement>("add-folder").addEventListener("click", () => actions.pickFolder());
    byId<HTMLFormElement>("add-path-form").addEventListener("submit", (event) => {
      event.preventDefault();
      const root = this.pathInput.value.trim();
      if (root !== "") {
        void actions.addRoot(root).then((added) => {
          if (added) {
            this.pathInput.value = "";
          }
        });
      }
    });
    this.recentList.addEventListener("click", (event) => {
      const button = (event.target as HTMLElement).closest<HTMLButtonElement>("button[data-recent]");
      if (button?.dataset.recent) {
        void actions.addRoot(button.dataset.recent);
      }
    });
  }

  render(sites: readonly Site[], selected: SiteId | null, recents: readonly string[]): void {
    const seen = new Set<SiteId>();
    let previous: Element | null = null;
    for (const [index, site] of sites.entries()) {
      seen.add(site.id);
      const item = this.items.get(site.id) ?? this.create(site);
      item.site = site;
      this.update(item, site.id === selected, index);
      // Move only when out of place: moving a focused node would blur it.
      const expected: Element | null = previous === null ? this.list.firstElementChild : previous.nextElementSibling;
      if (expected !== item.li) {
        this.list.insertBefore(item.li, expected);
      }
      previous = item.li;
    }
    for (const [id, item] of this.items) {
      if (!seen.has(id)) {
        item.li.remove();
        this.items.delete(id);
      }
    }
    this.renderRecents(recents, sites);
  }

  private create(site: Site): Item {
    const li = el("li", "site-item");
    li.dataset.siteId = site.id;
    const select = el("button", "site-select");
    select.type = "button";
    const dot = el("span", "dot");
    dot.setAttribute("aria-hidden", "true");
    const text = el("span", "site-text");
    const name = el("span", "site-item-name");
    const url = el("span", "site-item-url");
    text.append(name, url);
    select.append(dot, text);
    const power = el("button", "site-power small");
    power.type = "button";
    li.append(select, power);
    const item: Item = { li, select, dot, name, url, power, site };
    li.addEventListener("click", (event) => {
      if (!(event.target as HTMLElement).closest(".site-power")) {
        this.actions.select(item.site.id);
      }
    });
    power.addEventListener("click", () => this.actions.toggle(item.site));
    this.items.set(site.id, item);
    return item;
  }

  /** `index`: the site's place in the list, whose Ctrl+1 to Ctrl+9 shortcut its title names. */
  private update(item: Item, selected: boolean, index: number): void {
    const { site } = item;
    item.li.setAttribute("aria-selected", String(selected));
    item.select.setAttribute("aria-current", selected ? "true" : "false");
    item.dot.dataset.running = String(site.running);
    setText(item.name, visibleText(site.name));
    setText(item.url, site.running && site.url ? site.url : site.error ? "Stopped · error" : "Stopped");
    item.url.dataset.error = String(site.error !== null);
    const key = index < 9 ? String(index + 1) : null;
    const shortcut = key === null ? "" : `\n${keyLabel(key)}`;
    item.select.title = visibleText(site.error ? `${site.root}\n${site.error}` : site.root) + shortcut;
    if (key === null) {
      item.select.removeAttribute("aria-keyshortcuts");
    } else {
      item.select.setAttribute("aria-keyshortcuts", ariaKeys(key));
    }
    // A symbol keeps the URL readable in a narrow sidebar; the label says it in words.
    setText(item.power, site.running ? "■" : "▶");
    item.power.setAttribute("aria-label", `${site.running ? "Stop" : "Start"} ${visibleText(site.name)}`);
    item.power.title = site.running ? "Stop" : "Start";
    item.power.dataset.running = String(site.running);
  }

  private renderRecents(recents: readonly string[], sites: readonly Site[]): void {
    const open = new Set(sites.map((s) => s.root));
    const key = JSON.stringify([recents, [...open].filter((r) => recents.includes(r))]);
    if (key === this.recentsKey) {
      return;
    }
    this.recentsKey = key;
    const focused = document.activeElement instanceof HTMLElement ? document.activeElement.dataset.recent : undefined;
    this.recentList.replaceChildren(
      ...recents.map((root) => {
        const li = el("li");
        const button = el("button", "recent");
        button.type = "button";
        button.dataset.recent = root;
        button.title = visibleText(root);
        button.append(el("span", "recent-name", visibleText(baseName(root))), el("span", "recent-path", button.title));
        if (open.has(root)) {
          button.append(el("span", "recent-open", "open"));
        }
        li.append(button);
        return li;
      }),
    );
    if (focused !== undefined) {
      [...this.recentList.querySelectorAll<HTMLButtonElement>("button[data-recent]")]
        .find((b) => b.dataset.recent === focused)
        ?.focus();
    }
    show(this.recentEmpty, recents.length === 0);
  }
}

/** The last segment of a path, for either separator. */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]+/).filter((p) => p !== "");
  return parts.length > 0 ? parts[parts.length - 1] : path;
}

