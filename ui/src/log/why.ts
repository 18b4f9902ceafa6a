//! Why a response is what it is, in plain sentences (issue 19): the access record's decisions
//! (`wharf_core::Why`, typed from the core's generated codes, so a new code is a type error
//! here) told as a developer would ask them: "why a 304?", "why index.html instead of my
//! route?", "why not compressed?". Pure: no DOM.
import type { CacheControlFrom, Representation, Route, Validation, Why } from "../api/generated/config";
import type { AccessRecord } from "../api/types";

const ROUTES: Record<Route, (record: AccessRecord) => string> = {
  unknown: () => "",
  file: () => "The file at this path answered.",
  index: () => "The path is a folder: its index.html answered.",
  listing: () => "The path is a folder without index.html: Wharf listed it.",
  "clean-url": () => "No file has this exact name: clean URLs answered with the .html file of the same name.",
  "spa-fallback": () =>
    "No file has this path, and the request was a page navigation: the SPA fallback answered with the root index.html (a script or image would get 404).",
  "404-page": () => "No file has this path: the site's own 404.html answered, with status 404.",
  "not-found": () => "No file has this path, and the site has no 404.html: Wharf answered 404.",
  "redirect-slash": () => "The path is a folder asked for without its final /: Wharf redirected to it, so relative links resolve.",
  "redirect-html": () => "The address ended in .html with clean URLs' drop-extension on: Wharf redirected to the address without it.",
  hidden: () => "The path is a dotfile or inside a dot-folder, which Wharf hides (Settings → Show dotfiles): it answered as if nothing were there.",
  "outside-root": () =>
    "The path is a symlink leading out of the site's folder, which Wharf refuses (Settings → Follow symlinks): it answered as if nothing were there.",
  proxy: () => "A proxy rule forwarded the request to its target.",
  reserved: () => "The path is under /__wharf/, which is Wharf's own (live reload, the CA certificate).",
  method: (record) =>
    record.method === "OPTIONS"
      ? "OPTIONS is answered with the allowed methods."
      : `A static site answers GET and HEAD only: ${record.method} got 405.`,
  malformed: () => "The request itself was at fault (its framing, Host or target): Wharf answered with a 4xx before looking anything up.",
  blocked: () =>
    "Refused before anything was looked up: a Host this site does not answer to (DNS rebinding), or a load from another site.",
};

const VALIDATIONS: Record<Validation, string> = {
  unknown: "",
  "etag-matched": "The browser's copy is current: its If-None-Match matched the file's ETag, so Wharf sent 304 and no body.",
  "etag-changed": "The browser's copy is out of date: its If-None-Match did not match the file's ETag, so the whole file was sent.",
  "date-unchanged": "The browser's copy is current: the file has not changed since its If-Modified-Since, so Wharf sent 304 and no body.",
  "date-changed": "The file changed after the browser's If-Modified-Since, so the whole file was sent.",
  "precondition-failed": "An If-Match or If-Unmodified-Since did not hold: 412.",
};

const BODIES: Record<Representation, string> = {
  unknown: "",
  "br-sibling": "Sent as the precompressed .br file beside it.",
  "gz-sibling": "Sent as the precompressed .gz file beside it.",
  "br-compressed": "Compressed with Brotli by Wharf, as the browser accepts it.",
  "gz-compressed": "Compressed with gzip by Wharf, as the browser accepts it.",
  "identity-not-accepted": "Sent uncompressed: the request's Accept-Encoding names no coding Wharf has (br, gzip).",
  "identity-not-compressible": "Sent uncompressed: its type (an image, video or archive) does not get smaller.",
  "identity-compression-off": "Sent uncompressed: compression is off in Settings.",
  "identity-range": "Sent uncompressed: a range is always of the file as it is on disk.",
  "identity-not-smaller": "Sent uncompressed: it is too small, or compressing did not make it smaller.",
};

const CACHE_CONTROL: Record<CacheControlFrom, string> = {
  default: "",
  setting: "Its Cache-Control is the site's Cache-Control setting.",
  rule: "Its Cache-Control comes from a custom header rule.",
};

/** The sentences that say why `record` is what it is; none for records from before issue 19. */
export function explainWhy(record: AccessRecord): string[] {
  const why: Why | undefined = record.why;
  if (why === undefined) {
    return [];
  }
  const sentences = [ROUTES[why.route](record), VALIDATIONS[why.validation], BODIES[why.body]];
  if (why.injected) {
    sentences.push("Live reload put its script into the page.");
  }
  sentences.push(CACHE_CONTROL[why.cacheControl]);
  if (why.headerRules > 0) {
    const rules = why.headerRules === 1 ? "1 custom header rule" : `${why.headerRules} custom header rules`;
    sentences.push(`${rules} applied.`);
  }
  return sentences.filter((sentence) => sentence !== "");
}
