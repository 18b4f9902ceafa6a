//! Why a response is what it is (issue 19): the decisions that shaped it, as small codes set
//! by the request path as it decides (no text and no allocation: four bytes in an atomic), which
//! the access record keeps and exports, and the window explains in words.
//!
//! Each part answers one question:
//! - [`Route`]: which rule answered (a file, a folder's index, the SPA fallback, a redirect and
//!   why, a refusal and why, ...);
//! - [`Validation`]: for a conditional request, which validator decided and how;
//! - [`Representation`]: which representation was sent (identity, a precompressed sibling, compressed on
//!   the fly) and, for identity, why not compressed;
//! - flags: the live-reload script injected, where `Cache-Control` came from, and how many
//!   custom header rules applied.
//!
//! The network rule that shaped a response is the record's own `network` note.

use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};

use crate::observe::access::AccessRecord;

/// Declares a `u8` code enum with its stable names (for exports and the UI), in code order.
macro_rules! codes {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal => $words:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
        #[cfg_attr(test, derive(ts_rs::TS))]
        #[repr(u8)]
        pub enum $name {
            /// Not decided (records written before issue 19, or a path that sets none).
            #[default]
            #[serde(rename = "unknown")]
            #[cfg_attr(test, ts(rename = "unknown"))]
            Unknown,
            $($(#[$vdoc])* #[serde(rename = $text)] #[cfg_attr(test, ts(rename = $text))] $variant,)+
        }

        impl $name {
            /// Every code, in order (its index is its byte).
            pub const ALL: &'static [$name] = &[$name::Unknown, $($name::$variant,)+];

            /// The code's stable name, as exports write it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $name::Unknown => "unknown",
                    $($name::$variant => $text,)+
                }
            }

            /// The code in words, as the window and `wharf serve --explain` say it: a sentence,
            /// or nothing for [`Unknown`](Self::Unknown). `{method}` and `{status}` stand for
            /// the request's method and the response's status.
            pub fn words(self) -> &'static str {
                match self {
                    $name::Unknown => "",
                    $($name::$variant => $words,)+
                }
            }

            fn from_byte(byte: u8) -> $name {
                $name::ALL.get(usize::from(byte)).copied().unwrap_or($name::Unknown)
            }
        }
    };
}

codes! {
    /// Which rule answered the request.
    Route {
        /// The file at the path.
        File = "file"
            => "The file at this path answered.",
        /// The folder's `index.html`.
        Index = "index"
            => "The path is a folder: its index.html answered.",
        /// The folder's listing (no `index.html`).
        Listing = "listing"
            => "The path is a folder without index.html: Wharf listed it.",
        /// `/about` answered by `about.html` (clean URLs).
        CleanUrl = "clean-url"
            => "No file has this exact name: clean URLs answered with the .html file of the same name.",
        /// A missed page navigation answered by the root `index.html` (SPA fallback).
        SpaFallback = "spa-fallback"
            => "No file has this path, and the request was a page navigation: the SPA fallback answered with the root index.html (a script or image would get 404).",
        /// A miss answered by the site's `404.html`.
        NotFoundPage = "404-page"
            => "No file has this path: the site's own 404.html answered, with status 404.",
        /// Nothing at the path, and no page for it.
        NotFound = "not-found"
            => "No file has this path, and the site has no 404.html: Wharf answered 404.",
        /// A folder asked for without its final `/`: redirected to it.
        RedirectSlash = "redirect-slash"
            => "The path is a folder asked for without its final /: Wharf redirected to it, so relative links resolve.",
        /// `.html` dropped from the address (clean URLs): redirected.
        RedirectHtml = "redirect-html"
            => "The address ended in .html with clean URLs' drop-extension on: Wharf redirected to the address without it.",
        /// A dotfile or dot-folder, hidden (answered as absent).
        Hidden = "hidden"
            => "The path is a dotfile or inside a dot-folder, which Wharf hides (Settings → Show dotfiles): it answered as if nothing were there.",
        /// A symlink leading out of the folder, refused (answered as absent).
        OutsideRoot = "outside-root"
            => "The path is a symlink leading out of the site's folder, which Wharf refuses (Settings → Follow symlinks): it answered as if nothing were there.",
        /// Forwarded by a proxy rule.
        Proxy = "proxy"
            => "A proxy rule forwarded the request to its target.",
        /// Wharf's own `/__wharf/` (live reload, the CA certificate).
        Reserved = "reserved"
            => "The path is under /__wharf/, which is Wharf's own (live reload, the CA certificate).",
        /// A method other than GET and HEAD (OPTIONS 204, else 405).
        Method = "method"
            => "A static site answers GET and HEAD: {method} got {status} (OPTIONS gets the allowed methods).",
        /// A malformed request (framing, Host, target): 4xx.
        Malformed = "malformed"
            => "The request itself was at fault (its framing, Host or target): Wharf answered with a 4xx before looking anything up.",
        /// Refused before anything was looked up: a foreign Host or a cross-site load.
        Blocked = "blocked"
            => "Refused before anything was looked up: a Host this site does not answer to (DNS rebinding), or a load from another site.",
    }
}

codes! {
    /// What a conditional request's validators decided.
    Validation {
        /// `If-None-Match` matched the ETag: 304.
        EtagMatched = "etag-matched"
            => "The browser's copy is current: its If-None-Match matched the file's ETag, so Wharf sent 304 and no body.",
        /// `If-None-Match` did not match: the full answer.
        EtagChanged = "etag-changed"
            => "The browser's copy is out of date: its If-None-Match did not match the file's ETag, so the whole file was sent.",
        /// `If-Modified-Since` is not older than Last-Modified: 304.
        DateUnchanged = "date-unchanged"
            => "The browser's copy is current: the file has not changed since its If-Modified-Since, so Wharf sent 304 and no body.",
        /// `If-Modified-Since` is older than Last-Modified: the full answer.
        DateChanged = "date-changed"
            => "The file changed after the browser's If-Modified-Since, so the whole file was sent.",
        /// `If-Match` or `If-Unmodified-Since` failed: 412.
        PreconditionFailed = "precondition-failed"
            => "An If-Match or If-Unmodified-Since did not hold: 412.",
    }
}

codes! {
    /// Which representation of a file was sent, and for identity, why.
    Representation {
        /// A `.br` sibling on disk.
        BrSibling = "br-sibling"
            => "Sent as the precompressed .br file beside it.",
        /// A `.gz` sibling on disk.
        GzSibling = "gz-sibling"
            => "Sent as the precompressed .gz file beside it.",
        /// Brotli, compressed by Wharf (kept with the file's cache entry).
        BrCompressed = "br-compressed"
            => "Compressed with Brotli by Wharf, as the browser accepts it.",
        /// gzip, compressed by Wharf.
        GzCompressed = "gz-compressed"
            => "Compressed with gzip by Wharf, as the browser accepts it.",
        /// As on disk: the client accepts no coding Wharf has.
        NotAccepted = "identity-not-accepted"
            => "Sent uncompressed: the request's Accept-Encoding names no coding Wharf has (br, gzip).",
        /// As on disk: the type is not worth compressing (images, video, archives).
        NotCompressible = "identity-not-compressible"
            => "Sent uncompressed: its type (an image, video or archive) does not get smaller.",
        /// As on disk: compression is off in the settings.
        CompressionOff = "identity-compression-off"
            => "Sent uncompressed: compression is off in Settings.",
        /// As on disk: a range is always of the file as it is.
        Range = "identity-range"
            => "Sent uncompressed: a range is always of the file as it is on disk.",
        /// As on disk: too small or not smaller compressed.
        NotSmaller = "identity-not-smaller"
            => "Sent uncompressed: it is too small, or compressing did not make it smaller.",
    }
}

/// The live-reload script was put into this HTML.
const INJECTED: u8 = 1;
/// `Cache-Control` came from the `cache_control` setting, changed from its default.
const CACHE_SETTING: u8 = 2;
/// `Cache-Control` came from a custom header rule.
const CACHE_RULE: u8 = 4;
/// The count of custom header rules applied, in the flags' high nibble (capped at 15).
const RULES_SHIFT: u8 = 4;

/// The decisions that shaped one response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
#[cfg_attr(test, ts(rename_all = "camelCase"))]
pub struct Why {
    /// Which rule answered.
    pub route: Route,
    /// What the validators decided, for a conditional request.
    pub validation: Validation,
    /// Which representation was sent, for a file.
    pub body: Representation,
    /// Whether the live-reload script was injected.
    pub injected: bool,
    /// Where `Cache-Control` came from: `default`, `setting` or `rule`.
    pub cache_control: CacheControlFrom,
    /// How many custom header rules applied (up to 15).
    pub header_rules: u8,
    /// Which custom header rules applied: bit `i` for the rule at index `i` of the
    /// generation's `customHeaders`, for the first 32 rules; 0 in records written before it.
    #[serde(default)]
    pub header_rule_mask: u32,
}

/// Where a response's `Cache-Control` came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(ts_rs::TS))]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(test, ts(rename_all = "kebab-case"))]
pub enum CacheControlFrom {
    /// Wharf's default (`no-cache`), or none was sent.
    #[default]
    Default,
    /// The site's `cache_control` setting.
    Setting,
    /// A custom header rule.
    Rule,
}

impl CacheControlFrom {
    /// Every source, in order.
    pub const ALL: &'static [CacheControlFrom] = &[
        CacheControlFrom::Default,
        CacheControlFrom::Setting,
        CacheControlFrom::Rule,
    ];

    /// The source's stable name, as the record's JSON gives it.
    pub fn as_str(self) -> &'static str {
        match self {
            CacheControlFrom::Default => "default",
            CacheControlFrom::Setting => "setting",
            CacheControlFrom::Rule => "rule",
        }
    }

    /// The source in words, as [`Route::words`]; nothing for the default.
    pub fn words(self) -> &'static str {
        match self {
            CacheControlFrom::Default => "",
            CacheControlFrom::Setting => "Its Cache-Control is the site's Cache-Control setting.",
            CacheControlFrom::Rule => "Its Cache-Control comes from a custom header rule.",
        }
    }
}

/// The sentences of the flags, as [`Route::words`]: `{list}` stands for the rules' numbers
/// (`#1`, `#1 and #3`, `#1, #2 and #5`, counted from 1 as the Settings table shows them) and
/// `{n}` for their count.
pub(crate) mod phrases {
    /// The live-reload script was injected.
    pub(crate) const INJECTED: &str = "Live reload put its script into the page.";
    /// One custom header rule applied.
    pub(crate) const ONE_HEADER_RULE: &str =
        "Custom header rule {list} applied (Settings → Custom headers).";
    /// Several custom header rules applied.
    pub(crate) const HEADER_RULES: &str =
        "Custom header rules {list} applied (Settings → Custom headers).";
    /// Custom header rules applied, not known which (a rule past the 32nd).
    pub(crate) const HEADER_RULE_COUNT: &str = "{n} custom header rules applied.";
}

/// The numbers of the rules in `mask`, counted from 1: `#1`, `#1 and #3`, `#1, #2 and #5`.
fn rule_list(mask: u32) -> String {
    let numbers: Vec<String> = (0..32)
        .filter(|bit| mask & (1 << bit) != 0)
        .map(|bit| format!("#{}", bit + 1))
        .collect();
    match numbers.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

impl AccessRecord {
    /// Why this answer is what it is, in sentences, as `wharf serve --explain` prints them: its
    /// decisions ([`Why::explain`]), how it ended if not completed ([`Outcome::words`]), and
    /// the network rule that shaped it. The window says the first two from the same words
    /// and shows the network rule in rows of its own. None for records from before issue 19.
    pub fn explain(&self) -> Vec<String> {
        let Some(why) = self.why else {
            return Vec::new();
        };
        let mut sentences = why.explain(&self.method, self.status);
        let ending = self.outcome.words();
        if !ending.is_empty() {
            sentences.push(ending.replace("{bytes}", &self.body_bytes.to_string()));
        }
        if let Some(note) = self.network {
            sentences.push(format!(
                "Network rule #{} applied: {}.",
                u64::from(note.rule) + 1,
                note.effect_names()
            ));
        }
        sentences
    }
}

impl Why {
    /// The sentences that say why a response to `method` was `status`, as the window's detail
    /// pane says them (its sentences are generated from the same words): the route, the
    /// validators, the representation, then the flags; parts not decided are left out.
    pub fn explain(&self, method: &str, status: u16) -> Vec<String> {
        let mut sentences: Vec<String> = [
            self.route.words(),
            self.validation.words(),
            self.body.words(),
        ]
        .into_iter()
        .filter(|words| !words.is_empty())
        .map(|words| {
            words
                .replace("{method}", method)
                .replace("{status}", &status.to_string())
        })
        .collect();
        if self.injected {
            sentences.push(phrases::INJECTED.to_owned());
        }
        if !self.cache_control.words().is_empty() {
            sentences.push(self.cache_control.words().to_owned());
        }
        let listed = self.header_rule_mask.count_ones();
        if listed == 0 || listed < u32::from(self.header_rules) {
            if self.header_rules > 0 {
                let n = self.header_rules.to_string();
                sentences.push(phrases::HEADER_RULE_COUNT.replace("{n}", &n));
            }
        } else {
            let phrase = if listed == 1 {
                phrases::ONE_HEADER_RULE
            } else {
                phrases::HEADER_RULES
            };
            sentences.push(phrase.replace("{list}", &rule_list(self.header_rule_mask)));
        }
        sentences
    }

    /// The four bytes a record keeps.
    pub(crate) fn to_bytes(self) -> [u8; 4] {
        let mut flags = self.header_rules.min(15) << RULES_SHIFT;
        if self.injected {
            flags |= INJECTED;
        }
        flags |= match self.cache_control {
            CacheControlFrom::Default => 0,
            CacheControlFrom::Setting => CACHE_SETTING,
            CacheControlFrom::Rule => CACHE_RULE,
        };
        [
            self.route as u8,
            self.validation as u8,
            self.body as u8,
            flags,
        ]
    }

    /// The decisions of `bytes` (from [`Why::to_bytes`]); unknown codes read as unknown.
    pub(crate) fn from_bytes([route, validation, body, flags]: [u8; 4]) -> Why {
        Why {
            route: Route::from_byte(route),
            validation: Validation::from_byte(validation),
            body: Representation::from_byte(body),
            injected: flags & INJECTED != 0,
            cache_control: if flags & CACHE_RULE != 0 {
                CacheControlFrom::Rule
            } else if flags & CACHE_SETTING != 0 {
                CacheControlFrom::Setting
            } else {
                CacheControlFrom::Default
            },
            header_rules: flags >> RULES_SHIFT,
            // Kept in a group of its own (`packed`): it is set after the route, never in
            // `Deciding`.
            header_rule_mask: 0,
        }
    }

    /// The decisions as compact words for exports and `--access-log`, e.g.
    /// `route=spa-fallback body=br-compressed live-reload`; the unknown parts left out.
    pub fn code(&self) -> String {
        let mut words: Vec<String> = Vec::with_capacity(6);
        let mut add = |key: &str, value: &str| {
            if value != "unknown" {
                words.push(format!("{key}={value}"));
            }
        };
        add("route", self.route.as_str());
        add("validation", self.validation.as_str());
        add("body", self.body.as_str());
        if self.injected {
            words.push("live-reload".to_owned());
        }
        match self.cache_control {
            CacheControlFrom::Default => {}
            CacheControlFrom::Setting => words.push("cache-control=setting".to_owned()),
            CacheControlFrom::Rule => words.push("cache-control=rule".to_owned()),
        }
        if self.header_rules > 0 {
            words.push(format!("header-rules={}", self.header_rules));
        }
        words.join(" ")
    }
}

/// The decisions of a request in the making: set by the code that decides, read once the
/// answer is made. An atomic (not a `Cell`) so the request's future stays `Send`; every access
/// is from the request's own task, so `Relaxed` suffices.
#[derive(Debug, Default)]
pub(crate) struct Deciding(AtomicU32);

impl Deciding {
    /// The decisions so far.
    pub(crate) fn get(&self) -> Why {
        Why::from_bytes(self.0.load(Ordering::Relaxed).to_le_bytes())
    }

    /// Changes the decisions by `change`.
    pub(crate) fn note(&self, change: impl FnOnce(&mut Why)) {
        let mut why = self.get();
        change(&mut why);
        self.0
            .store(u32::from_le_bytes(why.to_bytes()), Ordering::Relaxed);
    }

    /// Sets which rule answered.
    pub(crate) fn route(&self, route: Route) {
        self.note(|why| why.route = route);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_decision_survives_its_four_bytes() {
        for &route in Route::ALL {
            for &validation in Validation::ALL {
                for &body in Representation::ALL {
                    for (injected, cache_control, header_rules) in [
                        (false, CacheControlFrom::Default, 0),
                        (true, CacheControlFrom::Setting, 1),
                        (true, CacheControlFrom::Rule, 15),
                    ] {
                        let why = Why {
                            route,
                            validation,
                            body,
                            injected,
                            cache_control,
                            header_rules,
                            header_rule_mask: 0,
                        };
                        assert_eq!(Why::from_bytes(why.to_bytes()), why);
                    }
                }
            }
        }
    }

    #[test]
    fn codes_read_back_by_their_byte_and_unknown_bytes_read_as_unknown() {
        for (i, route) in Route::ALL.iter().enumerate() {
            assert_eq!(*route as usize, i);
        }
        assert_eq!(Route::from_byte(250), Route::Unknown);
        let why = Why {
            route: Route::SpaFallback,
            body: Representation::BrCompressed,
            injected: true,
            header_rules: 2,
            ..Why::default()
        };
        assert_eq!(
            why.code(),
            "route=spa-fallback body=br-compressed live-reload header-rules=2"
        );
        assert_eq!(Why::default().code(), "");
    }

    #[test]
    fn explain_says_each_decided_part_in_words() {
        let why = Why {
            route: Route::Method,
            cache_control: CacheControlFrom::Rule,
            header_rules: 3,
            header_rule_mask: 0b10011,
            ..Why::default()
        };
        assert_eq!(
            why.explain("DELETE", 405),
            [
                "A static site answers GET and HEAD: DELETE got 405 (OPTIONS gets the allowed methods).",
                "Its Cache-Control comes from a custom header rule.",
                "Custom header rules #1, #2 and #5 applied (Settings → Custom headers).",
            ]
        );
        let why = Why {
            route: Route::File,
            validation: Validation::EtagMatched,
            injected: true,
            header_rules: 1,
            header_rule_mask: 1 << 31,
            ..Why::default()
        };
        let sentences = why.explain("GET", 304);
        assert_eq!(sentences.len(), 4);
        assert!(sentences[1].contains("If-None-Match matched"));
        assert_eq!(sentences[2], phrases::INJECTED);
        assert_eq!(
            sentences[3],
            "Custom header rule #32 applied (Settings → Custom headers)."
        );
        assert_eq!(rule_list(0b101), "#1 and #3");
        // A 33rd rule is counted, not named.
        let past = Why {
            header_rules: 2,
            header_rule_mask: 1,
            ..Why::default()
        };
        assert_eq!(past.explain("GET", 200), ["2 custom header rules applied."]);
        assert!(Why::default().explain("GET", 200).is_empty());
        for &route in &Route::ALL[1..] {
            assert!(route.words().ends_with('.'), "{route:?} has words");
        }
        for &body in &Representation::ALL[1..] {
            assert!(body.words().ends_with('.'), "{body:?} has words");
        }
    }

    #[test]
    fn a_record_explains_its_ending_and_its_network_rule_too() {
        let mut record = AccessRecord::example("/big.bin");
        assert!(record.explain().is_empty(), "no why: a record from before");
        record.why = Some(Why {
            route: Route::File,
            ..Why::default()
        });
        assert_eq!(record.explain(), ["The file at this path answered."]);
        record.outcome = crate::Outcome::ClientAborted;
        record.body_bytes = 65_536;
        record.network = Some(crate::network::NetworkNote {
            rule: 1,
            effects: crate::network::NetworkNote::THROTTLE | crate::network::NetworkNote::RESET,
        });
        assert_eq!(
            record.explain()[1..],
            [
                "The client went away before the whole answer was sent: 65536 body bytes went out.",
                "Network rule #2 applied: throttle+reset.",
            ]
        );
    }

    #[test]
    fn a_deciding_request_keeps_each_note() {
        let deciding = Deciding::default();
        deciding.route(Route::Index);
        deciding.note(|why| why.validation = Validation::EtagMatched);
        let why = deciding.get();
        assert_eq!(
            (why.route, why.validation),
            (Route::Index, Validation::EtagMatched)
        );
    }
}
