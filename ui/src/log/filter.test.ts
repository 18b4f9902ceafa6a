import { describe, expect, it } from "vitest";
import { proxied, proxyNoAnswer, record, throttledReset } from "./fixtures";
import { compileFilter, isEmptyFilter, NO_FILTER, parsePath, percentDecode, statusMatcher, toExportFilter } from "./filter";

describe("statusMatcher", () => {
  it("matches classes, codes and lists", () => {
    const m = statusMatcher("2xx,304");
    expect([200, 204, 299, 304, 301, 404].map(m)).toEqual([true, true, true, true, false, false]);
  });
  it("matches no response with 0, and only with 0", () => {
    const m = statusMatcher("0");
    expect(m(0)).toBe(true);
    expect(m(200)).toBe(false);
    expect(statusMatcher("5xx")(0)).toBe(false);
  });
  it("lets everything through for all", () => {
    expect(statusMatcher("all")(418)).toBe(true);
  });
});

describe("percentDecode", () => {
  it("decodes UTF-8 escapes and leaves the rest", () => {
    expect(percentDecode("/caf%C3%A9.html")).toBe("/café.html");
    expect(percentDecode("/a%20b/%zz%4")).toBe("/a b/%zz%4");
    expect(percentDecode("/plain")).toBe("/plain");
  });
  it("never throws on invalid UTF-8", () => {
    expect(percentDecode("/%FF%FE")).toBe("/\uFFFD\uFFFD");
  });
});

describe("compileFilter", () => {
  const rows = [
    record({ id: 1, method: "GET", target: "/index.html", status: 200 }),
    record({ id: 2, method: "HEAD", target: "/Caf%C3%A9/Menu.txt", status: 404 }),
    record({ id: 3, method: "POST", target: "/api", status: 0 }),
    record({ id: 4, method: "OPTIONS", target: "/x", status: 204 }),
  ];
  const ids = (f: Parameters<typeof compileFilter>[0]) => {
    const p = compileFilter(f);
    return rows.filter((r) => (p === null ? true : p(r))).map((r) => r.id);
  };

  it("is null without filters", () => {
    expect(compileFilter(NO_FILTER)).toBeNull();
    expect(isEmptyFilter({ status: "", method: "all", path: "  " })).toBe(true);
  });

  it("filters by status class and no response", () => {
    expect(ids({ ...NO_FILTER, status: "4xx" })).toEqual([2]);
    expect(ids({ ...NO_FILTER, status: "0" })).toEqual([3]);
  });

  it("filters by exact method, and 'other' is anything unlisted", () => {
    expect(ids({ ...NO_FILTER, method: "HEAD" })).toEqual([2]);
    expect(ids({ ...NO_FILTER, method: "other" })).toEqual([3]);
  });

  it("matches the path case-insensitively, as received or decoded", () => {
    expect(ids({ ...NO_FILTER, path: "INDEX" })).toEqual([1]);
    expect(ids({ ...NO_FILTER, path: "café/menu" })).toEqual([2]);
    expect(ids({ ...NO_FILTER, path: "%c3%a9" })).toEqual([2]);
  });

  it("narrows with every filter at once", () => {
    expect(ids({ status: "2xx", method: "GET", path: "/" })).toEqual([1]);
    expect(ids({ status: "2xx", method: "HEAD", path: "" })).toEqual([]);
  });
});

describe("toExportFilter", () => {
  it("is empty without filters, so the whole session is exported", () => {
    expect(toExportFilter(NO_FILTER)).toEqual({ filter: {}, unsupported: [] });
  });
  it("carries status, method and path", () => {
    expect(toExportFilter({ status: "4xx", method: "GET", path: " img " })).toEqual({
      filter: { status: "4xx", method: "GET", pathContains: "img" },
      unsupported: [],
    });
  });
  it("says it cannot export 'other' methods", () => {
    const { filter, unsupported } = toExportFilter({ ...NO_FILTER, method: "other" });
    expect(filter).toEqual({});
    expect(unsupported).toHaveLength(1);
  });
});

describe("served: and network: words (issue 18)", () => {
  const rows = [
    record({ id: 1, target: "/api/index.html" }),
    proxied,
    proxyNoAnswer,
    throttledReset,
    record({ id: 5, target: "/slow", network: { rule: 1, effects: 2 } }),
    record({ id: 6, target: "/lucky", network: { rule: 2, effects: 0 } }),
    record({ id: 7, status: 403, served: "blocked" }),
  ];
  const ids = (path: string) => {
    const p = compileFilter({ ...NO_FILTER, path });
    return rows.filter((r) => (p === null ? true : p(r))).map((r) => r.id);
  };

  it("picks rows by what served them", () => {
    expect(ids("served:proxy")).toEqual([11, 12]);
    expect(ids("Served:PROXY,blocked")).toEqual([11, 12, 7]);
    expect(ids("served:nothing")).toEqual([]);
    expect(ids("served:")).toEqual([1, 11, 12, 13, 5, 6, 7]);
  });

  it("picks the rows a network rule shaped or failed, or by effect", () => {
    expect(ids("network:")).toEqual([13, 5]);
    expect(ids("network:reset")).toEqual([13]);
    expect(ids("network:latency,reset")).toEqual([13, 5]);
    expect(ids("network:stall")).toEqual([]);
  });

  it("still matches the path text around the words", () => {
    expect(ids("api served:proxy")).toEqual([11]);
    expect(ids("served:proxy  v2")).toEqual([12]);
    expect(ids("/videos network:")).toEqual([13]);
    expect(parsePath("/a?q=network:x").text).toBe("/a?q=network:x");
  });

  it("tells the export it cannot apply the words, and exports the path text", () => {
    expect(toExportFilter({ ...NO_FILTER, path: "api served:proxy network:reset" })).toEqual({
      filter: { pathContains: "api" },
      unsupported: ["“served:proxy”", "“network:reset”"],
    });
  });
});
