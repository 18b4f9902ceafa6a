//! The tab strip (role=tablist): click or arrow keys (Left/Right, Home/End) move between
//! tabs with a roving tabindex; the selected tab's panel is shown, the others hidden.
export type TabName = "log" | "graphs" | "connections" | "check" | "settings";

const TABS: readonly TabName[] = ["log", "graphs", "connections", "check", "settings"];

export class Tabs {
  private current: TabName = "log";
  private readonly listeners: Array<(tab: TabName) => void> = [];

  constructor(private readonly list: HTMLElement) {
    list.addEventListener("click", (event) => {
      const tab = (event.target as HTMLElement).closest<HTMLElement>("[role=tab]");
      if (tab) {
        this.select(nameOf(tab), false);
      }
    });
    list.addEventListener("keydown", (event) => {
      const i = TABS.indexOf(this.current);
      const next: Record<string, number> = {
        ArrowRight: (i + 1) % TABS.length,
        ArrowLeft: (i + TABS.length - 1) % TABS.length,
        Home: 0,
        End: TABS.length - 1,
      };
      if (event.key in next) {
        event.preventDefault();
        this.select(TABS[next[event.key]], true);
      }
    });
    this.render(false);
  }

  get selected(): TabName {
    return this.current;
  }

  onSelect(listener: (tab: TabName) => void): void {
    this.listeners.push(listener);
  }

  select(tab: TabName, focus: boolean): void {
    const changed = tab !== this.current;
    this.current = tab;
    this.render(focus);
    if (changed) {
      this.listeners.forEach((l) => l(tab));
    }
  }

  private render(focus: boolean): void {
    for (const name of TABS) {
      const tab = this.list.querySelector<HTMLElement>(`#tab-${name}`);
      const panel = document.getElementById(`panel-${name}`);
      const on = name === this.current;
      tab?.setAttribute("aria-selected", String(on));
      tab?.setAttribute("tabindex", on ? "0" : "-1");
      if (on && focus) {
        tab?.focus();
      }
      if (panel) {
        panel.hidden = !on;
      }
    }
  }
}

function nameOf(tab: HTMLElement): TabName {
  const name = tab.id.replace(/^tab-/, "") as TabName;
  return TABS.includes(name) ? name : "log";
}
