// Generated from wharf-core's settings table (server-core/src/config/settings.rs) by
// ts-rs. Do not edit: run `WHARF_WRITE_TYPES=1 cargo test -p wharf-core --lib config::typescript`.

/**
 * One custom header rule as written: `{ path = "/assets/**", name = "Cache-Control",
 * value = "max-age=31536000" }`.
 */
export type CustomHeaderDraft = { 
/**
 * Glob over the URL path, e.g. `/assets/**` or `**\/*.wasm`. `*` stays within a segment.
 */
path: string, 
/**
 * Header name, e.g. `Cache-Control`.
 */
name: string, 
/**
 * Header value.
 */
value: string, };

/**
 * One proxy rule as written: `{ path = "/api", target = "http://localhost:3000" }`.
 */
export type ProxyRuleDraft = { 
/**
 * A path prefix matched at segment boundaries (`/api` matches `/api` and `/api/users`,
 * not `/apix`), or a regular expression over the path when it starts with `^`.
 */
path: string, 
/**
 * Where matching requests go: an `http://` or `https://` URL, e.g.
 * `http://localhost:3000`; a path in it (`http://localhost:3000/v2`) is put in front of
 * the forwarded path. An `https://` target on this machine may show any certificate;
 * elsewhere, one the OS trusts.
 */
target: string, 
/**
 * Replaces the matched prefix (or, for a regex, the match; `$1` names a group) before
 * forwarding; `""` strips it. Default: none (the path is forwarded as it came).
 */
rewrite?: string, 
/**
 * Send the target's host as `Host` (on), or keep the browser's (off). Default: on.
 * `change_origin` in the TOML file, as its other names are snake_case.
 */
changeOrigin?: boolean, };

/**
 * One network rule as written: `{ path = "/api/**", status = 503, p = 0.1 }`. Every member
 * but `path` is optional; the names are the CLI's keys.
 */
export type NetworkRuleDraft = { 
/**
 * Glob over the URL path, e.g. `/videos/**`. `*` stays within a segment.
 */
path: string, 
/**
 * `slow-3g`, `slow-4g`, `fast-4g` (Chrome DevTools' numbers) or `offline` (a reset).
 */
preset?: string | null, 
/**
 * Download bandwidth in bytes per second.
 */
rate?: number | null, 
/**
 * Who shares `rate`: `rule` (all its connections together, the default) or `connection`.
 */
per?: string | null, 
/**
 * Milliseconds added before the first byte.
 */
latency?: number | null, 
/**
 * Up to this many milliseconds more or less than `latency`, at random.
 */
jitter?: number | null, 
/**
 * Fault: answer with this status instead (429 and 503 carry `Retry-After: 1`).
 */
status?: number | null, 
/**
 * Fault: reset the connection after this many body bytes.
 */
"reset-after"?: number | null, 
/**
 * Fault: send nothing more after this many body bytes, until the connection ends.
 */
"stall-after"?: number | null, 
/**
 * Fault: hold the response head this many milliseconds (a slow first byte).
 */
ttfb?: number | null, 
/**
 * Fault: send the body in writes of at most this many bytes.
 */
slice?: number | null, 
/**
 * Probability (0 to 1) that the faults happen to a request. Default: 1.
 */
p?: number | null, };

/**
 * A configuration as a user wrote it: every field optional, nothing checked yet.
 *
 * Fields left out take the documented defaults of [`ServerConfig`]. Field names are
 * camelCase (`keepAlive`), as the UI sends them; a TOML file may also spell them in
 * snake_case (`keep_alive`). Unknown fields are refused, so a typo never passes
 * silently. Declared, with every setting, in `config/settings.rs`.
 */
export type ConfigDraft = { 
/**
 * Folder to serve, made absolute and canonical (symlinks resolved). Required.
 */
root?: string | null, 
/**
 * Address to bind, e.g. `127.0.0.1` or `0.0.0.0`. Default: `127.0.0.1`.
 */
host?: string | null, 
/**
 * Port to bind; `0` picks a free one. Default: `8080`.
 */
port?: number | null, 
/**
 * Port to serve HTTPS on as well (HTTP/2 or HTTP/1.1 by ALPN), beside `port`; `0` picks
 * a free one. Default: none (HTTPS off).
 */
httpsPort?: number | null, 
/**
 * Folder holding the HTTPS certificate, made there on first use and reused after.
 * Required with `httpsPort`. Default: none (the CLI and the app pass their data folder).
 */
certDir?: string | null, 
/**
 * Keep connections open between requests. Default: on.
 */
keepAlive?: boolean | null, 
/**
 * Milliseconds a client may take to send a request's headers before it is cut off.
 * Default: 10,000.
 */
headerReadTimeoutMs?: number | null, 
/**
 * Milliseconds an idle keep-alive connection stays open. Default: 5,000.
 */
keepAliveIdleTimeoutMs?: number | null, 
/**
 * Connections served at once, 1 to 1,000,000. Beyond it the server stops accepting, so
 * new connections wait in the kernel's accept queue instead of being accepted and
 * starved. Default: 4096.
 */
maxConnections?: number | null, 
/**
 * List folders that have no `index.html`; otherwise they are 404. Default: on.
 */
directoryListing?: boolean | null, 
/**
 * Serve and list dotfiles and dot-folders such as `.env` and `.git/`. Default: off.
 */
showDotfiles?: boolean | null, 
/**
 * Serve files whose symlinks lead outside the root. Default: off.
 */
followSymlinks?: boolean | null, 
/**
 * `Cache-Control` header sent with files and listings. Default: `no-cache`.
 */
cacheControl?: string | null, 
/**
 * Compress text responses for clients that accept gzip or Brotli. Default: on.
 */
compression?: boolean | null, 
/**
 * Answer `Range` requests with the parts asked for (206), as `Accept-Ranges: bytes` says;
 * off, every request gets the whole file, as from a server without ranges. Default: on.
 */
byteRanges?: boolean | null, 
/**
 * Answer a missed page navigation (GET or HEAD, `Accept: text/html`, no extension in
 * the last segment) with the root `index.html` and 200, for single-page apps. Default: off.
 */
spaFallback?: boolean | null, 
/**
 * Serve `/about` from `about.html` when `/about` itself does not exist. Default: off.
 */
cleanUrls?: boolean | null, 
/**
 * With `cleanUrls`: redirect `/about.html` to `/about` (301) and `/docs/index.html` to
 * `/docs/`. Default: off.
 */
dropHtmlExtension?: boolean | null, 
/**
 * Send a `Wharf-Why` header with each answer: the decisions of the access record's `why`
 * as codes (`route=spa-fallback body=br-compressed`), for the browser's devtools.
 * Default: off.
 */
whyHeader?: boolean | null, 
/**
 * Let allowed origins (`corsOrigins` and the loopback ones) read the site with CORS, and
 * answer their preflights (see [`crate::http::guard`]). Default: off.
 */
cors?: boolean | null, 
/**
 * Send COOP `same-origin` and COEP `require-corp`, which `SharedArrayBuffer` needs.
 * Default: off.
 */
crossOriginIsolation?: boolean | null, 
/**
 * Extra response headers for paths matching a glob, in order. Default: none.
 */
customHeaders?: Array<CustomHeaderDraft> | null, 
/**
 * Requests whose path matches a rule are forwarded to the rule's target (an `http://`
 * or `https://` URL), ahead of files, clean URLs and the SPA fallback; `/__wharf/` never is. The first
 * matching rule wins. Default: none.
 */
proxy?: Array<ProxyRuleDraft> | null, 
/**
 * Milliseconds the proxy waits to connect to a target before answering 502.
 * Default: 5,000.
 */
proxyConnectTimeoutMs?: number | null, 
/**
 * Milliseconds the proxy waits for a target's response head before answering 504.
 * Default: 30,000.
 */
proxyFirstByteTimeoutMs?: number | null, 
/**
 * Network conditions and faults for paths matching a glob (bandwidth, latency, a status,
 * a reset or stall after K bytes, a slow first byte, small writes); the first matching
 * rule applies, never to `/__wharf/`. Default: none.
 */
network?: Array<NetworkRuleDraft> | null, 
/**
 * Apply the `network` rules; off, they are kept and do nothing, so one switch turns every
 * throttle and fault off and on again. Default: on.
 */
networkConditions?: boolean | null, 
/**
 * Reload pages when a file of the site changes (the `/__wharf/` endpoints and the
 * script injected into HTML); CSS changes are swapped in place. Default: on.
 */
liveReload?: boolean | null, 
/**
 * Changes that never trigger a reload, as globs relative to the root. Default:
 * [`DEFAULT_RELOAD_IGNORE`].
 */
reloadIgnore?: Array<string> | null, 
/**
 * Host names served beside `localhost`, `*.localhost`, IP literals and (while the server
 * binds a non-loopback address) this computer's name and `NAME.local`: `name`, or `.name`
 * / `*.name` for it and every name under it (see [`crate::http::guard`]). Default: none.
 */
allowedHosts?: Array<string> | null, 
/**
 * Origins CORS lets read the site beside the loopback ones, e.g.
 * `https://app.example.test`. Default: none.
 */
corsOrigins?: Array<string> | null, };

/**
 * Which rule answered the request.
 */
export type Route = "unknown" | "file" | "index" | "listing" | "clean-url" | "spa-fallback" | "404-page" | "not-found" | "redirect-slash" | "redirect-html" | "hidden" | "outside-root" | "proxy" | "reserved" | "method" | "malformed" | "blocked";

/**
 * What a conditional request's validators decided.
 */
export type Validation = "unknown" | "etag-matched" | "etag-changed" | "date-unchanged" | "date-changed" | "precondition-failed";

/**
 * Which representation of a file was sent, and for identity, why.
 */
export type Representation = "unknown" | "br-sibling" | "gz-sibling" | "br-compressed" | "gz-compressed" | "identity-not-accepted" | "identity-not-compressible" | "identity-compression-off" | "identity-range" | "identity-not-smaller";

/**
 * Where a response's `Cache-Control` came from.
 */
export type CacheControlFrom = "default" | "setting" | "rule";

/**
 * The decisions that shaped one response.
 */
export type Why = { 
/**
 * Which rule answered.
 */
route: Route, 
/**
 * What the validators decided, for a conditional request.
 */
validation: Validation, 
/**
 * Which representation was sent, for a file.
 */
body: Representation, 
/**
 * Whether the live-reload script was injected.
 */
injected: boolean, 
/**
 * Where `Cache-Control` came from: `default`, `setting` or `rule`.
 */
cacheControl: CacheControlFrom, 
/**
 * How many custom header rules applied (up to 15).
 */
headerRules: number, 
/**
 * Which custom header rules applied: bit `i` for the rule at index `i` of the
 * generation's `customHeaders`, for the first 32 rules; 0 in records written before it.
 */
headerRuleMask: number, };

/**
 * Where a request's time went before its first byte, in microseconds relative to its head
 * being complete.
 */
export type Timing = { 
/**
 * Whether this was its connection's first request: `false` when the connection was reused
 * (keep-alive, or another stream of an HTTP/2 connection).
 */
newConnection: boolean, 
/**
 * Microseconds from the connection's accept to this request's head being complete.
 */
sinceAcceptUs: number, 
/**
 * Microseconds from the accept to the TLS handshake's end: only on the first request of
 * an HTTPS connection.
 */
tlsUs: number | null, 
/**
 * Microseconds from the head's first byte to its last (on a new connection, from the
 * accept or the TLS handshake's end if later): how long the client took to send it. `None`
 * on HTTP/2, whose requests share the connection's reads.
 */
headUs: number | null, 
/**
 * Microseconds from the head to the route's file resolved: its last stat or cache lookup
 * (on a cache miss, the small file's read with it). `None` when nothing was looked up: a
 * refusal, Wharf's own endpoints, a proxied request.
 */
resolveUs: number | null, };

// The bits of an access record's `network.effects`, by the name the CSV gives them.
export const NETWORK_EFFECT_BITS = {
  throttle: 1,
  latency: 2,
  status: 4,
  reset: 8,
  stall: 16,
  ttfb: 32,
  slice: 64,
} as const;

// The access record's decisions in words, as `wharf serve --explain` prints them. `{method}`,
// `{status}` and `{n}` stand for the request's method, the status and a count.
export const ROUTE_WORDS: Record<Route, string> = {
  "unknown": "",
  "file": "The file at this path answered.",
  "index": "The path is a folder: its index.html answered.",
  "listing": "The path is a folder without index.html: Wharf listed it.",
  "clean-url": "No file has this exact name: clean URLs answered with the .html file of the same name.",
  "spa-fallback": "No file has this path, and the request was a page navigation: the SPA fallback answered with the root index.html (a script or image would get 404).",
  "404-page": "No file has this path: the site's own 404.html answered, with status 404.",
  "not-found": "No file has this path, and the site has no 404.html: Wharf answered 404.",
  "redirect-slash": "The path is a folder asked for without its final /: Wharf redirected to it, so relative links resolve.",
  "redirect-html": "The address ended in .html with clean URLs' drop-extension on: Wharf redirected to the address without it.",
  "hidden": "The path is a dotfile or inside a dot-folder, which Wharf hides (Settings → Show dotfiles): it answered as if nothing were there.",
  "outside-root": "The path is a symlink leading out of the site's folder, which Wharf refuses (Settings → Follow symlinks): it answered as if nothing were there.",
  "proxy": "A proxy rule forwarded the request to its target.",
  "reserved": "The path is under /__wharf/, which is Wharf's own (live reload, the CA certificate).",
  "method": "A static site answers GET and HEAD: {method} got {status} (OPTIONS gets the allowed methods).",
  "malformed": "The request itself was at fault (its framing, Host or target): Wharf answered with a 4xx before looking anything up.",
  "blocked": "Refused before anything was looked up: a Host this site does not answer to (DNS rebinding), or a load from another site.",
};
export const VALIDATION_WORDS: Record<Validation, string> = {
  "unknown": "",
  "etag-matched": "The browser's copy is current: its If-None-Match matched the file's ETag, so Wharf sent 304 and no body.",
  "etag-changed": "The browser's copy is out of date: its If-None-Match did not match the file's ETag, so the whole file was sent.",
  "date-unchanged": "The browser's copy is current: the file has not changed since its If-Modified-Since, so Wharf sent 304 and no body.",
  "date-changed": "The file changed after the browser's If-Modified-Since, so the whole file was sent.",
  "precondition-failed": "An If-Match or If-Unmodified-Since did not hold: 412.",
};
export const REPRESENTATION_WORDS: Record<Representation, string> = {
  "unknown": "",
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
export const CACHE_CONTROL_WORDS: Record<CacheControlFrom, string> = {
  "default": "",
  "setting": "Its Cache-Control is the site's Cache-Control setting.",
  "rule": "Its Cache-Control comes from a custom header rule.",
};
export const OUTCOME_WORDS = {
  completed: "",
  client_aborted: "The client went away before the whole answer was sent: {bytes} body bytes went out.",
  timed_out: "The request's head did not arrive in time (Settings → Header timeout): Wharf closed the connection.",
  error: "The request could not be read, or its connection was cut (by a stop, a new generation's deadline, or a network rule's reset).",
} as const;
export const WHY_PHRASES = {
  injected: "Live reload put its script into the page.",
  oneHeaderRule: "Custom header rule {list} applied (Settings → Custom headers).",
  headerRules: "Custom header rules {list} applied (Settings → Custom headers).",
  headerRuleCount: "{n} custom header rules applied.",
} as const;
