import { describe, expect, it } from "vitest";
import { LogBuffer } from "./buffer";
import { NO_FILTER } from "./filter";
import { record, records } from "./fixtures";
import { countText } from "./table";

const ids = (b: LogBuffer) => b.toArray().map((r) => r.id);

describe("LogBuffer", () => {
  it("keeps arrival order, oldest first", () => {
    const b = new LogBuffer(10);
    b.push(records(3));
    b.push(records(2, 4));
    expect(ids(b)).toEqual([1, 2, 3, 4, 5]);
    expect(b.at(0)?.id).toBe(1);
    expect(b.at(4)?.id).toBe(5);
    expect(b.at(5)).toBeUndefined();
    expect(b.at(-1)).toBeUndefined();
  });

  it("is capped: the oldest records leave first", () => {
    const b = new LogBuffer(5);
    b.push(records(7));
    expect(b.size).toBe(5);
    expect(ids(b)).toEqual([3, 4, 5, 6, 7]);
    expect(b.received).toBe(7);
    expect(b.evicted).toBe(2);
    b.push(records(12, 8)); // one batch larger than the buffer
    expect(ids(b)).toEqual([15, 16, 17, 18, 19]);
    expect(b.size).toBe(5);
  });

  it("counts records the stream skipped, apart from those received", () => {
    const b = new LogBuffer(100);
    b.push(records(2000), 150);
    b.push([], 50);
    expect(b.skipped).toBe(200);
    expect(b.received).toBe(2000);
    expect(b.requests).toBe(2200);
  });

  it("filters what is held, and extends the view as records arrive", () => {
    const b = new LogBuffer(100);
    b.push(records(9));
    b.setFilter({ ...NO_FILTER, status: "4xx" });
    expect(ids(b)).toEqual([3, 6, 9]);
    b.push(records(3, 10));
    expect(ids(b)).toEqual([3, 6, 9, 12]);
    expect(b.length).toBe(4);
    expect(b.filtered).toBe(true);
    b.setFilter(NO_FILTER);
    expect(b.length).toBe(12);
  });

  it("drops filtered rows as their records are evicted, and counts them", () => {
    const b = new LogBuffer(6);
    b.setFilter({ ...NO_FILTER, status: "4xx" });
    b.push(records(6)); // 3 and 6 match
    expect(ids(b)).toEqual([3, 6]);
    const before = b.dropped;
    b.push(records(3, 7)); // evicts 1, 2, 3: row 3 leaves the view
    expect(ids(b)).toEqual([6, 9]);
    expect(b.dropped - before).toBe(1);
  });

  it("survives many evictions with a filter (compaction keeps order)", () => {
    const b = new LogBuffer(1000);
    b.setFilter({ ...NO_FILTER, path: "missing" });
    for (let i = 0; i < 30; i += 1) {
      b.push(records(2000, 1 + i * 2000));
    }
    // The last 1,000 records are 59,001..60,000; the view is their 404s, in order.
    const expected = Array.from({ length: 1000 }, (_, i) => 59_001 + i).filter((id) => id % 3 === 0);
    expect(ids(b)).toEqual(expected);
  });

  it("keeps up with 50,000 records per second in 2,000-record batches", () => {
    const b = new LogBuffer();
    b.setFilter({ ...NO_FILTER, status: "2xx" });
    const batch = records(2000);
    const started = performance.now();
    for (let i = 0; i < 100; i += 1) {
      b.push(batch); // 200,000 records: twice the cap
    }
    const elapsed = performance.now() - started;
    expect(b.size).toBe(100_000);
    expect(elapsed).toBeLessThan(1000);
  });

  it("finds a record by id and clears", () => {
    const b = new LogBuffer(10);
    b.push([record({ id: 41 }), record({ id: 42 })]);
    expect(b.indexOfId(42)).toBe(1);
    expect(b.indexOfId(7)).toBe(-1);
    b.clear();
    expect(b.length).toBe(0);
    expect(b.requests).toBe(0);
    expect(b.skipped).toBe(0);
  });

  it("refuses a capacity that is not a positive integer", () => {
    expect(() => new LogBuffer(0)).toThrow(RangeError);
  });
});

describe("countText", () => {
  it("reads '1,234 requests · 12 skipped'", () => {
    const b = new LogBuffer(10_000);
    b.push(records(1222), 12);
    expect(countText(b)).toBe("1,234 requests · 12 skipped");
  });
  it("leaves out what is zero, and says what the filter and the cap hide", () => {
    const b = new LogBuffer(4);
    b.push(records(1));
    expect(countText(b)).toBe("1 request");
    b.push(records(5, 2));
    b.setFilter({ ...NO_FILTER, status: "4xx" });
    expect(countText(b)).toBe("6 requests · 2 match · latest 4 kept");
  });
});
