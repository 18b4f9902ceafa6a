// Wharf live reload. A CSS change swaps the page's stylesheets in place; any other change
// reloads the page. One tab per site holds the event stream (a Web Lock elects it) and
// shares what it hears with the others over a BroadcastChannel, so many open tabs never use
// up the browser's six connections per server.
(() => {
  "use strict";
  if (self.__wharfReload) return;
  self.__wharfReload = true;
  // The server and config generation this page was served by.
  const SERVER = "__WHARF_SERVER__";
  const KINDS = ["hello", "css", "reload", "moved"];
  const channel = "BroadcastChannel" in self ? new BroadcastChannel("wharf-reload") : null;

  function handle(kind, data) {
    if (kind === "hello") {
      // Reconnected to a restarted server or a new config: the page may be stale.
      if (data.server !== SERVER) location.reload();
    } else if (kind === "css") {
      swapStylesheets(data.paths);
    } else if (kind === "reload") {
      location.reload();
    } else if (kind === "moved") {
      const url = new URL(location.href);
      url.port = String(data.port);
      location.replace(url.href);
    }
  }

  // The site's paths of the sheets a `<style>` element @imports (at any depth): no link
  // swap reaches them.
  function importedByStyleElements() {
    const paths = new Set();
    const visit = (sheet) => {
      let rules;
      try {
        rules = sheet.cssRules;
      } catch {
        return; // another origin's sheet
      }
      for (const rule of rules) {
        if (!(rule instanceof CSSImportRule) || !rule.styleSheet?.href) continue;
        const url = new URL(rule.styleSheet.href);
        if (url.origin === location.origin) paths.add(decodeURIComponent(url.pathname).slice(1));
        visit(rule.styleSheet);
      }
    };
    for (const sheet of document.styleSheets) {
      if (!(sheet.ownerNode instanceof HTMLLinkElement)) visit(sheet);
    }
    return paths;
  }

  function swapStylesheets(paths) {
    const imported = importedByStyleElements();
    if (paths.some((path) => imported.has(path))) {
      location.reload();
      return;
    }
    const links = [...document.querySelectorAll('link[rel~="stylesheet" i][href]')].filter(
      (link) => new URL(link.href, location.href).origin === location.origin,
    );
    const changed = links.filter((link) => {
      const path = decodeURIComponent(new URL(link.href, location.href).pathname).slice(1);
      return paths.includes(path);
    });
    // A sheet that is @imported, or named differently, is swapped with all the others.
    for (const link of changed.length ? changed : links) {
      const url = new URL(link.href, location.href);
      url.searchParams.set("wharf", Date.now().toString(36));
      const next = link.cloneNode();
      next.href = url.href;
      // The old sheet stays until the new one has loaded, so nothing flashes unstyled.
      next.onload = next.onerror = () => link.remove();
      link.after(next);
    }
  }

  let delay = 1000;
  function connect() {
    const source = new EventSource("/__wharf/reload");
    for (const kind of KINDS) {
      source.addEventListener(kind, (event) => {
        const data = JSON.parse(event.data);
        if (channel) channel.postMessage({ kind, data });
        handle(kind, data);
      });
    }
    source.onopen = () => {
      delay = 1000;
    };
    source.onerror = () => {
      // EventSource retries by itself after a network error; after a refusal (live reload
      // turned off) it gives up, so try again, less and less often.
      if (source.readyState === EventSource.CLOSED) {
        setTimeout(connect, delay);
        delay = Math.min(delay * 2, 30000);
      }
    };
  }

  if (channel) channel.onmessage = (event) => handle(event.data.kind, event.data.data);
  if (navigator.locks) {
    // Held for the page's life; the next tab takes over when this one closes or reloads.
    navigator.locks.request("wharf-reload", () => new Promise(() => connect()));
  } else {
    connect();
  }
})();
