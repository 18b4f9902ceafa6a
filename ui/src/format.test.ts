import { describe, expect, it } from "vitest";
import {
  formatAge,
  formatBytes,
  formatClock,
  formatCount,
  formatDurationUs,
  msToSecondsText,
  plural,
  visibleText,
} from "./format";

describe("formatCount and plural", () => {
  it("groups thousands with commas", () => {
    expect(formatCount(0)).toBe("0");
    expect(formatCount(1234)).toBe("1,234");
    expect(formatCount(1234567)).toBe("1,234,567");
  });
  it("says one request and many requests", () => {
    expect(plural(1, "request", "requests")).toBe("1 request");
    expect(plural(0, "request", "requests")).toBe("0 requests");
    expect(plural(2500, "row", "rows")).toBe("2,500 rows");
  });
});

describe("formatBytes", () => {
  it("shows bytes below 1 kB as whole bytes", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
  });
  it("uses decimal units with three significant digits", () => {
    expect(formatBytes(1000)).toBe("1 kB");
    expect(formatBytes(1536)).toBe("1.54 kB");
    expect(formatBytes(12_345)).toBe("12.3 kB");
    expect(formatBytes(123_456)).toBe("123 kB");
    expect(formatBytes(48 * 1024 * 1024)).toBe("50.3 MB");
    expect(formatBytes(3_200_000_000)).toBe("3.2 GB");
  });
  it("rounds up into the next unit instead of showing 1000", () => {
    expect(formatBytes(999_999)).toBe("1 MB");
  });
  it("refuses nonsense", () => {
    expect(formatBytes(-1)).toBe("—");
    expect(formatBytes(Number.NaN)).toBe("—");
  });
});

describe("formatDurationUs", () => {
  it("shows microseconds as milliseconds", () => {
    expect(formatDurationUs(420)).toBe("0.42 ms");
    expect(formatDurationUs(1_000)).toBe("1 ms");
    expect(formatDurationUs(12_345)).toBe("12.3 ms");
    expect(formatDurationUs(250_400)).toBe("250 ms");
    expect(formatDurationUs(9_999_000)).toBe("9999 ms");
  });
  it("switches to seconds from 10 s", () => {
    expect(formatDurationUs(12_500_000)).toBe("12.5 s");
  });
  it("shows a missing time as a dash", () => {
    expect(formatDurationUs(null)).toBe("—");
  });
});

describe("formatAge", () => {
  it("reads like a person would say it", () => {
    expect(formatAge(850)).toBe("850 ms");
    expect(formatAge(42_000)).toBe("42 s");
    expect(formatAge(185_000)).toBe("3 min 5 s");
    expect(formatAge(2 * 3600_000 + 4 * 60_000)).toBe("2 h 4 min");
  });
});

describe("formatClock", () => {
  const at = new Date(2025, 10, 21, 9, 5, 7, 42).getTime(); // local time

  it("formats the local clock", () => {
    expect(formatClock(at)).toBe("09:05:07.042");
  });
});

describe("msToSecondsText", () => {
  it("shows milliseconds as seconds without trailing zeros", () => {
    expect(msToSecondsText(5000)).toBe("5");
    expect(msToSecondsText(1500)).toBe("1.5");
    expect(msToSecondsText(250)).toBe("0.25");
  });
});

describe("visibleText", () => {
  it("shows every bidirectional control as its code point", () => {
    expect(visibleText("invoice\u202Etxt.exe")).toBe("invoice<U+202E>txt.exe");
    const all = "\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\u200E\u200F\u061C";
    expect(visibleText(`a${all}b`)).toBe(
      "a<U+202A><U+202B><U+202C><U+202D><U+202E><U+2066><U+2067><U+2068><U+2069><U+200E><U+200F><U+061C>b",
    );
  });
  it("leaves other text alone, right-to-left letters included", () => {
    for (const text of ["/café/naïve.txt", "שלום.html", "مرحبا", "Mozilla/5.0 (X11)", "", "<U+202E>"]) {
      expect(visibleText(text)).toBe(text);
    }
  });
});
