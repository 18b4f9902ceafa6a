// Wires the window's controls to the commands. Every string from outside (paths, URLs) is
// set with textContent, never innerHTML, so it can only ever be text.
import "./style.css";
import {
  openInBrowser,
  pickFolder,
  setRoot,
  startServer,
  stopServer,
  type ServerStatus,
} from "./api/commands";
import { watchStatus } from "./api/streams";
import { errorMessage, siteView } from "./view";

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) {
    throw new Error(`missing #${id} in index.html`);
  }
  return element as T;
}

const ui = {
  pill: byId("status-pill"),
  url: byId("site-url"),
  root: byId("site-root"),
  welcome: byId("welcome-badge"),
  open: byId<HTMLButtonElement>("open-browser"),
  choose: byId<HTMLButtonElement>("choose-folder"),
  toggle: byId<HTMLButtonElement>("toggle-server"),
  banner: byId("error-banner"),
  bannerText: byId("error-text"),
  dismiss: byId<HTMLButtonElement>("error-dismiss"),
};

let current: ServerStatus | null = null;

function render(status: ServerStatus): void {
  current = status;
  const view = siteView(status);
  ui.pill.textContent = view.pill;
  ui.pill.dataset.tone = view.pillTone;
  ui.url.textContent = view.url;
  ui.root.textContent = view.root;
  ui.root.title = view.root;
  ui.welcome.hidden = !view.showWelcomeBadge;
  ui.toggle.textContent = view.toggleLabel;
  ui.open.disabled = !view.canOpen;
  document.body.dataset.ready = "true";
}

function showError(error: unknown): void {
  ui.bannerText.textContent = errorMessage(error);
  ui.banner.hidden = false;
}

/** Runs a command with the controls disabled, then renders its result or its error. */
async function run(action: () => Promise<ServerStatus | void>): Promise<void> {
  const buttons = [ui.open, ui.choose, ui.toggle];
  buttons.forEach((b) => (b.disabled = true));
  try {
    const status = await action();
    if (status) {
      ui.banner.hidden = true;
      render(status);
    }
  } catch (error) {
    showError(error);
  } finally {
    ui.choose.disabled = false;
    ui.toggle.disabled = false;
    ui.open.disabled = !(current && siteView(current).canOpen);
  }
}

ui.open.addEventListener("click", () => run(openInBrowser));
ui.toggle.addEventListener("click", () => run(() => (current?.running ? stopServer() : startServer())));
ui.choose.addEventListener("click", () =>
  run(async () => {
    const folder = await pickFolder();
    return folder === null ? undefined : setRoot(folder);
  }),
);
ui.dismiss.addEventListener("click", () => (ui.banner.hidden = true));

watchStatus(render).catch(showError);
