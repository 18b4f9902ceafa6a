import { describe, expect, it } from "vitest";
import type { Why } from "../api/generated/config";
import { detailRows } from "./detail";
import { record } from "./fixtures";
import { explainWhy } from "./why";

const why = (over: Partial<Why>): Why => ({
  route: "file",
  validation: "unknown",
  body: "unknown",
  injected: false,
  cacheControl: "default",
  headerRules: 0,
  headerRuleMask: 0,
  ...over,
});

describe("why this response, in words (issue 19)", () => {
  it("explains a 304 by the validator that decided it", () => {
    const notModified = record({ status: 304, served: "not_modified", why: why({ validation: "etag-matched", body: "identity-not-accepted" }) });
    const sentences = explainWhy(notModified);
    expect(sentences[0]).toBe("The file at this path answered.");
    expect(sentences[1]).toContain("If-None-Match matched the file's ETag, so Wharf sent 304");
    expect(explainWhy(record({ why: why({ validation: "date-unchanged" }) })).join(" ")).toContain("If-Modified-Since");
  });

  it("explains a SPA fallback, and what live reload and the headers did", () => {
    const fallback = record({
      target: "/app/settings",
      served: "fallback",
      why: why({ route: "spa-fallback", body: "br-compressed", injected: true, cacheControl: "rule", headerRules: 2, headerRuleMask: 0b101 }),
    });
    expect(explainWhy(fallback)).toEqual([
      "No file has this path, and the request was a page navigation: the SPA fallback answered with the root index.html (a script or image would get 404).",
      "Compressed with Brotli by Wharf, as the browser accepts it.",
      "Live reload put its script into the page.",
      "Its Cache-Control comes from a custom header rule.",
      "Custom header rules #1 and #3 applied (Settings → Custom headers).",
    ]);
    const one = explainWhy(record({ why: why({ headerRules: 1, headerRuleMask: 2 ** 31 }) }));
    expect(one.at(-1)).toBe("Custom header rule #32 applied (Settings → Custom headers).");
    const unnamed = explainWhy(record({ why: why({ headerRules: 3, headerRuleMask: 0b11 }) }));
    expect(unnamed.at(-1)).toBe("3 custom header rules applied.");
  });

  it("says nothing for a record from before issue 19, and puts the sentences under Why in the detail pane", () => {
    expect(explainWhy(record())).toEqual([]);
    expect(detailRows(record()).some(([label]) => label === "Why")).toBe(false);
    const rows = detailRows(record({ why: why({ route: "hidden" }) }));
    const at = rows.findIndex(([label]) => label === "Why");
    expect(rows[at][1]).toContain("dotfile");
    expect(rows[at - 1][0]).toBe("Target");
  });

  it("names a stranger's method as text, in a sentence, even with replacement patterns", () => {
    const dollar = record({ method: "$&$'", status: 405, why: why({ route: "method" }) });
    expect(explainWhy(dollar)[0]).toContain(": $&$' got 405");
    const hostile = record({ method: "<img src=x onerror=alert(1)>", status: 405, why: why({ route: "method" }) });
    expect(explainWhy(hostile)).toEqual([
      "A static site answers GET and HEAD: <img src=x onerror=alert(1)> got 405 (OPTIONS gets the allowed methods).",
    ]);
  });

  it("says how a request ended when it did not complete", () => {
    const aborted = record({ outcome: "client_aborted", completed: false, bodyBytes: 65536, why: why({}) });
    expect(explainWhy(aborted).at(-1)).toBe(
      "The client went away before the whole answer was sent: 65536 body bytes went out.",
    );
    expect(explainWhy(record({ why: why({}) }))).toEqual(["The file at this path answered."]);
  });
});
