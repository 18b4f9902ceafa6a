//! The live log's memory: a ring buffer of the latest records (capped, oldest evicted first),
//! the counts shown above the table, and the filtered view the table scrolls through. Records
//! keep arrival order (oldest first). Pure: no DOM, so it is tested without a window.
//!
//! At 50,000 requests/s the stream brings 2,000 records per batch; each push costs O(batch)
//! (the filtered view is extended, not rebuilt). Only a filter change rescans the buffer.
import type { AccessRecord } from "../api/types";
import { compileFilter, NO_FILTER, type LogFilter } from "./filter";

/** Records kept for the live view (every record is in the session log and the CSV anyway). */
export const DEFAULT_CAPACITY = 100_000;

export class LogBuffer {
  readonly capacity: number;
  private readonly ring: Array<AccessRecord | undefined>;
  /** Sequence number of the oldest record held; `nextSeq - firstSeq` records are held. */
  private firstSeq = 0;
  private nextSeq = 0;
  private skippedCount = 0;
  private filterValue: LogFilter = NO_FILTER;
  private predicate: ((record: AccessRecord) => boolean) | null = null;
  /** Matching sequence numbers, oldest first, from `matchHead` on (when a filter is set). */
  private matches: number[] = [];
  private matchHead = 0;
  /** Matching rows that left the front of the view (evicted) since the last `clear`. */
  private droppedMatches = 0;

  constructor(capacity = DEFAULT_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError("capacity must be a positive integer");
    }
    this.capacity = capacity;
    this.ring = new Array<AccessRecord | undefined>(capacity);
  }

  /** Adds a batch from the stream; `skipped` counts records the stream left out. */
  push(records: readonly AccessRecord[], skipped = 0): void {
    this.skippedCount += skipped;
    for (const record of records) {
      if (this.nextSeq - this.firstSeq === this.capacity) {
        this.evictOldest();
      }
      const seq = this.nextSeq++;
      this.ring[seq % this.capacity] = record;
      if (this.predicate !== null && this.predicate(record)) {
        this.matches.push(seq);
      }
    }
    this.compactMatches();
  }

  private evictOldest(): void {
    const seq = this.firstSeq++;
    this.ring[seq % this.capacity] = undefined;
    if (this.predicate === null) {
      this.droppedMatches += 1;
    } else if (this.matchHead < this.matches.length && this.matches[this.matchHead] === seq) {
      this.matchHead += 1;
      this.droppedMatches += 1;
    }
  }

  private compactMatches(): void {
    if (this.matchHead > 4096 && this.matchHead * 2 > this.matches.length) {
      this.matches = this.matches.slice(this.matchHead);
      this.matchHead = 0;
    }
  }

  /** Forgets everything (a new site is watched). */
  clear(): void {
    this.ring.fill(undefined);
    this.firstSeq = 0;
    this.nextSeq = 0;
    this.skippedCount = 0;
    this.matches = [];
    this.matchHead = 0;
    this.droppedMatches = 0;
  }

  get filter(): LogFilter {
    return this.filterValue;
  }

  /** Changes the filter and rebuilds the view from the records held. */
  setFilter(filter: LogFilter): void {
    this.filterValue = { ...filter };
    this.predicate = compileFilter(filter);
    this.matches = [];
    this.matchHead = 0;
    if (this.predicate !== null) {
      for (let seq = this.firstSeq; seq < this.nextSeq; seq += 1) {
        if (this.predicate(this.ring[seq % this.capacity] as AccessRecord)) {
          this.matches.push(seq);
        }
      }
    }
  }

  /** Records held now (at most `capacity`). */
  get size(): number {
    return this.nextSeq - this.firstSeq;
  }

  /** Records received since the last `clear`, including evicted ones. */
  get received(): number {
    return this.nextSeq;
  }

  /** Records the stream left out (they are in the log and the CSV, not here). */
  get skipped(): number {
    return this.skippedCount;
  }

  /** Requests the server reported since the last `clear`: received plus skipped. */
  get requests(): number {
    return this.nextSeq + this.skippedCount;
  }

  /** Records evicted because the buffer was full. */
  get evicted(): number {
    return this.firstSeq;
  }

  /** Whether a filter narrows the view. */
  get filtered(): boolean {
    return this.predicate !== null;
  }

  /** Rows in the (filtered) view. */
  get length(): number {
    return this.predicate === null ? this.size : this.matches.length - this.matchHead;
  }

  /**
   * Rows of the view that fell off its front since the last `clear` (counted while the
   * current filter was set), so a paused table can keep its rows still while old ones go.
   */
  get dropped(): number {
    return this.droppedMatches;
  }

  /** The `index`-th row of the view, oldest first. */
  at(index: number): AccessRecord | undefined {
    if (index < 0 || index >= this.length) {
      return undefined;
    }
    const seq = this.predicate === null ? this.firstSeq + index : this.matches[this.matchHead + index];
    return this.ring[seq % this.capacity];
  }

  /** The view's index of the record with `id`, or -1 (newest first search: recent is likely). */
  indexOfId(id: number): number {
    for (let i = this.length - 1; i >= 0; i -= 1) {
      if (this.at(i)?.id === id) {
        return i;
      }
    }
    return -1;
  }

  /** Every row of the view, oldest first (for tests and small views). */
  toArray(): AccessRecord[] {
    const out: AccessRecord[] = [];
    for (let i = 0; i < this.length; i += 1) {
      out.push(this.at(i) as AccessRecord);
    }
    return out;
  }
}
