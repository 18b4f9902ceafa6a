//! What the log says about a request beyond its status (issue 18): that a proxy rule forwarded
//! it, and which network rule shaped or failed it, in the words the table, the detail pane and
//! the filter share. Rules are numbered from 1 here, as a person counts the rows of Settings;
//! the record holds their index from 0. Pure: no DOM.
import type { AccessRecord, NetworkNote } from "../api/types";
import { NETWORK_EFFECT_BITS } from "../api/generated/config";
import { formatDurationUs } from "../format";

type EffectName = keyof typeof NETWORK_EFFECT_BITS;

interface NetworkEffect {
  /** The core's name (`NetworkNote::effect_names`, the CSV's `network_effect`), and `data-network`'s. */
  name: EffectName;
  /** In plain words; `status` reads its code from the record. */
  words: (status: number) => string;
  /** When it happens: 0–2 while the head is held, 3–4 while the body flows, 5 as its end. */
  order: number;
  /** It failed the request (the row says "fault"); the others slow it ("throttled"). */
  fault: boolean;
}

/** Every effect the core names (a missing one is a type error), in the core's order. */
const EFFECTS: { readonly [Name in EffectName]: Omit<NetworkEffect, "name"> } = {
  throttle: { words: () => "throttled", order: 3, fault: false },
  latency: { words: () => "delayed", order: 0, fault: false },
  status: { words: (status) => `answered ${status} instead`, order: 2, fault: true },
  reset: { words: () => "reset", order: 5, fault: true },
  stall: { words: () => "stalled", order: 5, fault: true },
  ttfb: { words: () => "first byte held", order: 1, fault: false },
  slice: { words: () => "sliced into small writes", order: 4, fault: false },
};

/** The effects with their bits, in the core's order. */
export const NETWORK_EFFECTS = Object.entries(NETWORK_EFFECT_BITS).map(([name, bit]) => ({
  ...EFFECTS[name as EffectName],
  name: name as EffectName,
  bit,
}));

const effectsOf = (note: NetworkNote) => NETWORK_EFFECTS.filter((effect) => (note.effects & effect.bit) !== 0);

/** The effects' names in the core's order, e.g. `["throttle", "reset"]`. */
export function effectNames(note: NetworkNote): string[] {
  return effectsOf(note).map((effect) => effect.name);
}

/** The effects in plain words, in the order they happen: "delayed, throttled, then reset". */
export function effectWords(note: NetworkNote, status: number): string {
  const effects = effectsOf(note).sort((a, b) => a.order - b.order);
  if (effects.length === 0) {
    // A rule whose faults have a chance (`p`) matched, and none happened this time.
    return "none this time";
  }
  const words = effects.map((effect) => effect.words(status));
  const last = effects[effects.length - 1];
  if (words.length > 1 && last.order === 5) {
    words[words.length - 1] = `then ${words[words.length - 1]}`;
  }
  return words.join(", ");
}

const ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"];
const ORDINAL_RULES = new Intl.PluralRules("en", { type: "ordinal" });
const SUFFIXES: Partial<Record<Intl.LDMLPluralRule, string>> = { one: "st", two: "nd", few: "rd" };

/** "first" … "tenth", then "11th", "22nd". */
export function ordinal(n: number): string {
  return ORDINALS[n - 1] ?? `${n}${SUFFIXES[ORDINAL_RULES.select(n)] ?? "th"}`;
}

/**
 * "rule 2 (the second in Settings → Proxy)" for the index 1 of the list `section`; `when`
 * ("as of generation 3") ends the parenthesis.
 */
export function ruleName(index: number, section: "Proxy" | "Network conditions", when?: string): string {
  const place = `the ${ordinal(index + 1)} in Settings → ${section}`;
  return `rule ${index + 1} (${when === undefined ? place : `${place}, ${when}`})`;
}

/** The hover text of a proxied record's status: what the target answered, and when. */
export function proxyTitle(r: AccessRecord): string {
  const proxy = r.proxy;
  if (proxy === undefined) {
    return "Proxied: forwarded to a proxy rule's target";
  }
  const rule = `Proxied by ${ruleName(proxy.rule, "Proxy")}`;
  if (proxy.upstreamStatus === null) {
    return `${rule}: its target did not answer, so Wharf answered ${r.status}`;
  }
  const ttfb = proxy.upstreamTtfbUs === null ? "" : ` in ${formatDurationUs(proxy.upstreamTtfbUs)}`;
  return `${rule} to its target: ${proxy.upstreamStatus}${ttfb}`;
}

/**
 * The row's network mark: a short tag, its hover text, and `data-network` (the effects' names,
 * so `[data-network~="reset"]` selects a row); null when no rule shaped or failed the request.
 */
export function networkMark(r: AccessRecord): { text: "fault" | "throttled"; title: string; effects: string } | null {
  const note = r.network;
  if (note === undefined || note.effects === 0) {
    return null;
  }
  const fault = effectsOf(note).some((effect) => effect.fault);
  return {
    text: fault ? "fault" : "throttled",
    title: `Network ${ruleName(note.rule, "Network conditions")}: ${effectWords(note, r.status)}`,
    effects: effectNames(note).join(" "),
  };
}
