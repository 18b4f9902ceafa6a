import { describe, expect, it } from "vitest";
import { record } from "./fixtures";
import { compileFilter, isEmptyFilter, NO_FILTER, percentDecode, statusMatcher, toExportFilter } from "./filter";

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
