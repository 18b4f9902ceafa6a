import { describe, expect, it } from "vitest";
import type { ApplyOutcome, Site } from "../api/types";
import { applyResultMessage, continuingBelow, generationMessage } from "./generation";

describe("generationMessage", () => {
  it("counts transfers continuing on one older generation", () => {
    expect(generationMessage(4, [[3, 3]])).toBe(
      "Generation 4 applies to new connections — 3 transfers continue on generation 3",
    );
    expect(generationMessage(3, [[2, 1]])).toBe(
      "Generation 3 applies to new connections — 1 transfer continues on generation 2",
    );
  });

  it("names several older generations", () => {
    expect(generationMessage(5, [[2, 1], [3, 1], [4, 2]])).toBe(
      "Generation 5 applies to new connections — 4 transfers continue on generations 2, 3 and 4",
    );
  });

  it("says when every older transfer finished", () => {
    expect(generationMessage(4, [])).toBe(
      "Generation 4 applies to new connections — all transfers on older generations finished",
    );
    expect(generationMessage(4, [[3, 0]])).toMatch(/all transfers on older generations finished$/);
  });

  it("ignores connections on the current or a newer generation", () => {
    expect(continuingBelow([[2, 1], [4, 7], [5, 2]], 4)).toBe(1);
    expect(generationMessage(4, [[4, 7]])).toMatch(/finished$/);
  });
});

const site = (generation: number, continuing: Array<[number, number]>): Site =>
  ({ generation, continuing }) as unknown as Site;

const outcome = (over: Partial<ApplyOutcome> = {}): ApplyOutcome => ({
  site: site(4, [[3, 3]]),
  generation: 4,
  changes: [{ field: "keepAlive", from: "true", to: "false" }],
  continuing: [[3, 3]],
  applied: true,
  ...over,
});

describe("applyResultMessage", () => {
  it("falls with the site's live count", () => {
    expect(applyResultMessage(outcome(), site(4, [[3, 2]]))).toMatch(/2 transfers continue on generation 3$/);
    expect(applyResultMessage(outcome(), site(4, []))).toMatch(/all transfers on older generations finished$/);
  });

  it("does not believe a push from before the apply", () => {
    // A push still on generation 3 knows nothing of generation 4's older transfers.
    expect(applyResultMessage(outcome(), site(3, []))).toMatch(/3 transfers continue on generation 3$/);
  });

  it("says when the site was stopped and nothing changed", () => {
    expect(applyResultMessage(outcome({ applied: false }), null)).toBe("Saved. The site is stopped; these settings apply when it starts.");
    expect(applyResultMessage(outcome({ changes: [] }), null)).toBe("Nothing changed; generation 4 stays in use.");
  });
});
