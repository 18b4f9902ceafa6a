//! The sentence shown after Apply: which generation new connections get, and how many
//! transfers are still finishing on older ones. The count follows `site.continuing` live.
import type { ApplyOutcome, Site } from "../api/types";
import { formatCount } from "../format";

/** Connections still open on generations older than `generation`. */
export function continuingBelow(continuing: ReadonlyArray<readonly [number, number]>, generation: number): number {
  return continuing.reduce((sum, [g, n]) => (g < generation ? sum + n : sum), 0);
}

/** "1, 2 and 3". */
function listGenerations(generations: number[]): string {
  if (generations.length === 1) {
    return String(generations[0]);
  }
  return `${generations.slice(0, -1).join(", ")} and ${generations[generations.length - 1]}`;
}

/**
 * "Generation 4 applies to new connections — 3 transfers continue on generation 3", or
 * "… — all transfers on older generations finished" once none are left.
 */
export function generationMessage(generation: number, continuing: ReadonlyArray<readonly [number, number]>): string {
  const head = `Generation ${generation} applies to new connections`;
  const older = continuing.filter(([g, n]) => g < generation && n > 0);
  const count = older.reduce((sum, [, n]) => sum + n, 0);
  if (count === 0) {
    return `${head} — all transfers on older generations finished`;
  }
  const gens = [...new Set(older.map(([g]) => g))].sort((a, b) => a - b);
  const verb = count === 1 ? "transfer continues" : "transfers continue";
  const where = gens.length === 1 ? `generation ${gens[0]}` : `generations ${listGenerations(gens)}`;
  return `${head} — ${formatCount(count)} ${verb} on ${where}`;
}

/**
 * The message for an apply's outcome. `site` is the latest pushed state of that site: its
 * `continuing` is used once it reflects the apply (its generation has reached the outcome's),
 * so a push from before the apply cannot claim the transfers finished.
 */
export function applyResultMessage(outcome: ApplyOutcome, site: Site | null): string {
  if (!outcome.applied) {
    return "Saved. The site is stopped; these settings apply when it starts.";
  }
  if (outcome.changes.length === 0) {
    return `Nothing changed; generation ${outcome.generation} stays in use.`;
  }
  const live = site !== null && site.generation >= outcome.generation ? site.continuing : outcome.continuing;
  return generationMessage(outcome.generation, live);
}
