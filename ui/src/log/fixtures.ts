// An access record for tests, with sensible defaults.
import type { AccessRecord } from "../api/types";

export function record(over: Partial<AccessRecord> = {}): AccessRecord {
  return {
    id: 1,
    startMs: 1_700_000_000_000,
    peer: "127.0.0.1:50000",
    method: "GET",
    target: "/",
    version: "HTTP/1.1",
    status: 200,
    bodyBytes: 100,
    completed: true,
    ttfbUs: 250,
    totalUs: 400,
    outcome: "completed",
    userAgent: "test",
    referer: null,
    connection: 1,
    generation: 1,
    served: "file",
    ...over,
  };
}

/** `n` records with ids from `first`; every third is a 404 on /missing-N. */
export function records(n: number, first = 1): AccessRecord[] {
  return Array.from({ length: n }, (_, i) => {
    const id = first + i;
    return id % 3 === 0
      ? record({ id, target: `/missing-${id}`, status: 404 })
      : record({ id, target: `/page-${id}` });
  });
}
