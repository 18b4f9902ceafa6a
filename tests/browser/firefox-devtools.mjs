// Firefox's own DevTools code, run in Node as Firefox runs its DevTools' Jest tests: a CommonJS
// loader for the `resource://devtools/` modules that Debian's firefox-esr package ships in its
// omni.ja (extracted, not installed, by scripts/deps.sh's ensure_firefox_devtools into
// WHARF_FIREFOX_DEVTOOLS). The few Gecko services those modules reach for are given as plain
// stand-ins; everything else is Firefox's code as it ships.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const nodeRequire = createRequire(import.meta.url);

/** Gecko's XPCOM, as far as the network monitor's HAR import reaches: IDN display (the hosts
 * the tests use are ASCII, so a name shows as itself) and nsISupportsPriority's constants. */
const Ci = {
  nsIIDNService: {},
  nsISupportsPriority: {
    PRIORITY_HIGHEST: -20,
    PRIORITY_HIGH: -10,
    PRIORITY_NORMAL: 0,
    PRIORITY_LOW: 10,
    PRIORITY_LOWEST: 20,
  },
};
const Cc = new Proxy(
  {},
  { get: () => ({ getService: () => ({ convertToDisplayIDN: (/** @type {string} */ host) => host }) }) },
);
/** Lazy ES module getters: the import reaches none of them. */
const ChromeUtils = { defineESModuleGetters() {} };
/** Gecko's URL has a static `isInstance`, as its DOM classes do. */
const GeckoURL = class extends URL {
  static isInstance(/** @type {unknown} */ value) {
    return value instanceof URL;
  }
};

/**
 * A `require` for the DevTools modules under `root` (…/chrome/devtools/modules/devtools): ids
 * `resource://devtools/x.js` and `devtools/x` are files under it; any other id is Node's.
 * @param {string} root
 * @returns {(id: string) => any}
 */
export function devToolsRequire(root) {
  /** @type {Map<string, { exports: any }>} */
  const modules = new Map();
  const loader = {
    lazyRequireGetter(/** @type {any} */ target, /** @type {string} */ name, /** @type {string} */ id, destructure = false) {
      Object.defineProperty(target, name, {
        get: () => (destructure ? load(id)[name] : load(id)),
        configurable: true,
      });
    },
  };
  const load = (/** @type {string} */ id) => {
    const relative = id.replace(/^resource:\/\/devtools\//, "").replace(/^devtools\//, "");
    if (relative === id) return nodeRequire(id);
    const file = join(root, relative.endsWith(".js") ? relative : `${relative}.js`);
    const known = modules.get(file);
    if (known) return known.exports;
    const module = { exports: {} };
    modules.set(file, module);
    const body = new Function(
      "require",
      "exports",
      "module",
      "__dirname",
      "loader",
      "ChromeUtils",
      "Cc",
      "Ci",
      "URL",
      readFileSync(file, "utf8"),
    );
    body.call(module.exports, load, module.exports, module, dirname(file), loader, ChromeUtils, Cc, Ci, GeckoURL);
    return module.exports;
  };
  return load;
}

/**
 * Imports `har` (a HAR file's text) as Firefox's network monitor does (Network › Import HAR):
 * its `HarImporter` dispatches its own action creators into its own requests reducer.
 * Returns the reducer's state: `requests` is what the panel lists. Throws where Firefox's
 * import would fail.
 * @param {string} root WHARF_FIREFOX_DEVTOOLS
 * @param {string} har
 */
export function importInFirefox(root, har) {
  const require = devToolsRequire(root);
  const src = "resource://devtools/client/netmonitor/src/";
  const { HarImporter } = require(`${src}har/har-importer.js`);
  const { requestsReducer } = require(`${src}reducers/requests.js`);
  const creators = require(`${src}actions/requests.js`);
  const { CLEAR_REQUESTS } = require(`${src}constants.js`);
  let state = requestsReducer(undefined, { type: "@@INIT" });
  const dispatch = (/** @type {any} */ action) => {
    state = requestsReducer(state, action);
  };
  new HarImporter({
    clearRequests: () => dispatch({ type: CLEAR_REQUESTS }),
    addRequest: (/** @type {any[]} */ ...args) => dispatch(creators.addRequest(...args)),
    updateRequest: (/** @type {any[]} */ ...args) => dispatch(creators.updateRequest(...args)),
    // Page timing markers: Wharf's HAR has no pages.
    addTimingMarker() {},
  }).import(har);
  return state;
}
