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

/** Forwarded by proxy rule 0 (the first), whose target answered 200 after 12 ms. */
export const proxied = record({
  id: 11,
  target: "/api/users",
  served: "proxy",
  generation: 3,
  proxy: { rule: 0, upstreamStatus: 200, upstreamTtfbUs: 12_000 },
});

/** Proxy rule 1 (the second): its target did not answer, so Wharf answered 502. */
export const proxyNoAnswer = record({
  id: 12,
  target: "/v2/items",
  status: 502,
  served: "proxy",
  generation: 3,
  proxy: { rule: 1, upstreamStatus: null, upstreamTtfbUs: null },
});

/** A file under network rule 0, throttled (1) then reset (8) mid-body. */
export const throttledReset = record({
  id: 13,
  target: "/videos/a.mp4",
  completed: false,
  outcome: "error",
  generation: 3,
  network: { rule: 0, effects: 1 | 8 },
});
