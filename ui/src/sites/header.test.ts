// @vitest-environment happy-dom
// The site header of the real index.html: the Throttled badge shows while network rules apply,
// lists them in its tooltip, and its Turn off button asks for network conditions off.
import { beforeEach, describe, expect, it } from "vitest";
import page from "../../index.html?raw";
import type { Site, SiteSettings } from "../api/types";
import { SiteHeader } from "./header";

beforeEach(() => {
  const parsed = new DOMParser().parseFromString(page, "text/html");
  document.body.replaceChildren(...[...parsed.body.children].filter((node) => node.tagName !== "SCRIPT"));
});

const site = (settings: Partial<SiteSettings>): Site =>
  ({
    id: "s1",
    name: "site",
    root: "/srv/site",
    isWelcome: false,
    running: true,
    url: "http://127.0.0.1:43127/",
    lan: false,
    lanUrls: [],
    https: null,
    error: null,
    settings: { networkConditions: true, network: [], ...settings },
  }) as unknown as Site;

describe("the Throttled badge", () => {
  it("shows while a network rule applies, and Turn off asks for network conditions off", async () => {
    const turnedOff: Site[] = [];
    const never = () => {
      throw new Error("not here");
    };
    const header = new SiteHeader({
      open: never,
      toggle: never,
      remove: never,
      changeRoot: never,
      setLan: never,
      qr: never,
      trust: never,
      throttleOff: (s) => {
        turnedOff.push(s);
        return Promise.resolve();
      },
    });
    const badge = document.getElementById("throttle") as HTMLElement;
    header.render(site({}));
    expect(badge.hidden).toBe(true);
    const throttled = site({ network: [{ path: "/videos/**", preset: "slow-3g" }] });
    header.render(throttled);
    expect(badge.hidden).toBe(false);
    expect(document.getElementById("throttle-badge")?.textContent).toBe("Throttled");
    expect(document.getElementById("throttle-badge")?.title).toContain("/videos/** preset=slow-3g");
    (document.getElementById("throttle-off") as HTMLButtonElement).click();
    expect(turnedOff).toEqual([throttled]);
    header.render(site({ networkConditions: false, network: [{ path: "/videos/**", preset: "slow-3g" }] }));
    expect(badge.hidden).toBe(true);
  });
});
