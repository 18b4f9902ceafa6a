//! Texts of the Connections tab. Pure: no DOM.
import type { Admission } from "../api/types";
import { formatCount } from "../format";

/** "3 open / limit 256 · 2 waiting in queue (of 1,024) · 5 turned away"; where the OS does
 * not tell the queue's length (all but Linux), "waiting in queue: not available on this OS". */
export function admissionText(admission: Admission | null, running: boolean): string {
  if (admission === null) {
    return running ? "Waiting for the first report…" : "Not running: no connections.";
  }
  const parts = [`${formatCount(admission.open)} open / limit ${formatCount(admission.limit)}`];
  if (admission.waiting !== null) {
    const capacity = admission.queueCapacity !== null ? ` (of ${formatCount(admission.queueCapacity)})` : "";
    parts.push(`${formatCount(admission.waiting)} waiting in queue${capacity}`);
  } else {
    // Only Linux tells how many connections wait in the kernel's queue; 0 would be a guess.
    parts.push("waiting in queue: not available on this OS");
  }
  if (admission.turnedAway !== null && admission.turnedAway > 0) {
    parts.push(`${formatCount(admission.turnedAway)} turned away`);
  }
  return parts.join(" · ");
}
