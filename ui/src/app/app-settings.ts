//! The App settings in the sidebar (#app-keep-serving, #app-start-at-login): the app's own
//! switches, not a site's. Each click sends that one change and shows what the app answers
//! (the login item's real state, not the click); on error the switch goes back and the error
//! goes to the caller (the banner). It talks to the app only through the functions it is given.
import type { AppSettings, AppSettingsChange } from "../api/types";
import { byId } from "../dom";

/** What the panel needs: api/commands.ts's `getAppSettings` and `setAppSettings`, and the banner. */
export interface AppSettingsActions {
  get(): Promise<AppSettings>;
  set(change: AppSettingsChange): Promise<AppSettings>;
  error(error: unknown): void;
}

/** The switches, each the field of `AppSettings` it shows. */
const SWITCHES: ReadonlyArray<readonly [id: string, field: keyof AppSettings]> = [
  ["app-keep-serving", "keepServingOnClose"],
  ["app-start-at-login", "startAtLogin"],
];

export class AppSettingsPanel {
  private readonly boxes: Array<readonly [HTMLInputElement, keyof AppSettings]>;
  private shown: AppSettings | null = null;

  constructor(private readonly actions: AppSettingsActions) {
    this.boxes = SWITCHES.map(([id, field]) => [byId<HTMLInputElement>(id), field] as const);
    for (const [box, field] of this.boxes) {
      box.disabled = true;
      box.addEventListener("change", () => void this.change({ [field]: box.checked }));
    }
  }

  /** Reads the settings and enables the switches. */
  async load(): Promise<void> {
    try {
      this.show(await this.actions.get());
    } catch (error) {
      this.actions.error(error);
    }
  }

  private async change(change: AppSettingsChange): Promise<void> {
    this.setBusy(true);
    try {
      this.show(await this.actions.set(change));
    } catch (error) {
      if (this.shown) {
        this.show(this.shown);
      }
      this.actions.error(error);
    } finally {
      this.setBusy(false);
    }
  }

  private show(settings: AppSettings): void {
    this.shown = settings;
    for (const [box, field] of this.boxes) {
      box.checked = settings[field];
      box.disabled = false;
    }
  }

  private setBusy(busy: boolean): void {
    for (const [box] of this.boxes) {
      box.disabled = busy || this.shown === null;
    }
  }
}
