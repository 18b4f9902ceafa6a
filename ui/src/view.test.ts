import { describe, expect, it } from "vitest";
import { errorMessage, siteView } from "./view";

const running = {
  running: true,
  url: "http://127.0.0.1:43127/",
  root: "/home/me/site",
  isWelcome: false,
  generation: 2,
};

describe("siteView", () => {
  it("shows a running site with its address and a Stop button", () => {
    const view = siteView(running);
    expect(view.pill).toBe("Running");
    expect(view.url).toBe("http://127.0.0.1:43127/");
    expect(view.toggleLabel).toBe("Stop");
    expect(view.canOpen).toBe(true);
    expect(view.showWelcomeBadge).toBe(false);
  });

  it("offers Start and disables Open when stopped", () => {
    const view = siteView({ ...running, running: false, url: null });
    expect(view.pill).toBe("Stopped");
    expect(view.toggleLabel).toBe("Start");
    expect(view.canOpen).toBe(false);
    expect(view.url).toBe("not serving");
  });

  it("marks the welcome site", () => {
    expect(siteView({ ...running, isWelcome: true }).showWelcomeBadge).toBe(true);
  });
});

describe("errorMessage", () => {
  it("shows the message of a command error", () => {
    expect(errorMessage({ kind: "portInUse", message: "port 8080 is already in use" })).toBe(
      "port 8080 is already in use",
    );
  });
  it("falls back to Error messages and strings", () => {
    expect(errorMessage(new Error("boom"))).toBe("boom");
    expect(errorMessage("plain")).toBe("plain");
  });
});
