//! The error banner (#error-banner): command errors and the app's notices (e.g. a corrupt
//! settings file), as text. Dismiss hides what is shown; a notice is shown once per run.
import { errorMessage } from "../api/errors";
import { byId, el } from "../dom";
import { visibleText } from "../format";

const KEEP = 4;

export class Banner {
  private readonly root = byId("error-banner");
  private readonly text = byId("error-text");
  private messages: string[] = [];
  private noticesSeen = 0;

  constructor() {
    byId<HTMLButtonElement>("error-dismiss").addEventListener("click", () => this.dismiss());
  }

  /** Shows a message (the newest last; older ones beyond a few are dropped). */
  show(message: string): void {
    this.messages = [...this.messages.filter((m) => m !== message), message].slice(-KEEP);
    this.render();
  }

  /** Shows whatever was thrown, as a sentence. */
  error(error: unknown): void {
    this.show(errorMessage(error));
  }

  /** The app's notices so far (oldest first); only new ones are shown. */
  notices(notices: readonly string[]): void {
    if (notices.length < this.noticesSeen) {
      this.noticesSeen = 0;
    }
    for (const notice of notices.slice(this.noticesSeen)) {
      this.show(notice);
    }
    this.noticesSeen = notices.length;
  }

  dismiss(): void {
    this.messages = [];
    this.render();
  }

  private render(): void {
    this.text.replaceChildren(...this.messages.map((m) => el("span", "banner-line", visibleText(m))));
    this.root.hidden = this.messages.length === 0;
  }
}
