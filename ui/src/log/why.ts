//! Why a response is what it is, in plain sentences (issue 19): the access record's decisions
//! (`wharf_core::Why`) told as a developer would ask them: "why a 304?", "why index.html
//! instead of my route?", "why not compressed?". The words are the core's, generated with the
//! codes (`ROUTE_WORDS` and its siblings), so the window and `wharf serve --explain` say the
//! same; this only puts them in order, as `Why::explain` does, then how the request ended
//! (`OUTCOME_WORDS`; the network rule has rows of its own in the detail pane). Pure: no DOM.
import {
  CACHE_CONTROL_WORDS,
  OUTCOME_WORDS,
  REPRESENTATION_WORDS,
  ROUTE_WORDS,
  VALIDATION_WORDS,
  WHY_PHRASES,
  type Why,
} from "../api/generated/config";
import type { AccessRecord } from "../api/types";

/** The sentences that say why `record` is what it is; none for records from before issue 19. */
export function explainWhy(record: AccessRecord): string[] {
  const why: Why | undefined = record.why;
  if (why === undefined) {
    return [];
  }
  // A function, so a `$&` in a stranger's method is not a replacement pattern.
  const fill = (words: string) =>
    words.replaceAll("{method}", () => record.method).replaceAll("{status}", () => String(record.status));
  const sentences = [ROUTE_WORDS[why.route], VALIDATION_WORDS[why.validation], REPRESENTATION_WORDS[why.body]].map(
    fill,
  );
  if (why.injected) {
    sentences.push(WHY_PHRASES.injected);
  }
  sentences.push(CACHE_CONTROL_WORDS[why.cacheControl]);
  const listed = ruleNumbers(why.headerRuleMask);
  if (listed.length === 0 || listed.length < why.headerRules) {
    if (why.headerRules > 0) {
      sentences.push(WHY_PHRASES.headerRuleCount.replace("{n}", () => String(why.headerRules)));
    }
  } else {
    const phrase = listed.length === 1 ? WHY_PHRASES.oneHeaderRule : WHY_PHRASES.headerRules;
    sentences.push(phrase.replace("{list}", () => listText(listed)));
  }
  sentences.push(OUTCOME_WORDS[record.outcome].replace("{bytes}", () => String(record.bodyBytes)));
  return sentences.filter((sentence) => sentence !== "");
}

/** The rules of `mask` as the Settings table numbers them (from 1): bit 0 is #1. */
function ruleNumbers(mask: number): number[] {
  const numbers: number[] = [];
  for (let bit = 0; bit < 32; bit++) {
    // `>>>` reads the mask as unsigned, so bit 31 counts too.
    if (((mask >>> bit) & 1) === 1) {
      numbers.push(bit + 1);
    }
  }
  return numbers;
}

/** `#1`, `#1 and #3`, `#1, #2 and #5`, as `Why::explain` writes them. */
function listText(numbers: number[]): string {
  const named = numbers.map((n) => `#${n}`);
  const last = named.pop() ?? "";
  return named.length === 0 ? last : `${named.join(", ")} and ${last}`;
}
