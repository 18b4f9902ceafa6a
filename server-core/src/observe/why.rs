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

/// Declares a `u8` code enum with its stable names (for exports and the UI), in code order.
macro_rules! codes {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }) => {
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
        File = "file",
        /// The folder's `index.html`.
        Index = "index",
        /// The folder's listing (no `index.html`).
        Listing = "listing",
        /// `/about` answered by `about.html` (clean URLs).
        CleanUrl = "clean-url",
        /// A missed page navigation answered by the root `index.html` (SPA fallback).
        SpaFallback = "spa-fallback",
        /// A miss answered by the site's `404.html`.
        NotFoundPage = "404-page",
        /// Nothing at the path, and no page for it.
        NotFound = "not-found",
        /// A folder asked for without its final `/`: redirected to it.
        RedirectSlash = "redirect-slash",
        /// `.html` dropped from the address (clean URLs): redirected.
        RedirectHtml = "redirect-html",
        /// A dotfile or dot-folder, hidden (answered as absent).
        Hidden = "hidden",
        /// A symlink leading out of the folder, refused (answered as absent).
        OutsideRoot = "outside-root",
        /// Forwarded by a proxy rule.
        Proxy = "proxy",
        /// Wharf's own `/__wharf/` (live reload, the CA certificate).
        Reserved = "reserved",
        /// A method other than GET and HEAD (OPTIONS 204, else 405).
        Method = "method",
        /// A malformed request (framing, Host, target): 4xx.
        Malformed = "malformed",
        /// Refused before anything was looked up: a foreign Host or a cross-site load.
        Blocked = "blocked",
    }
}

codes! {
    /// What a conditional request's validators decided.
    Validation {
        /// `If-None-Match` matched the ETag: 304.
        EtagMatched = "etag-matched",
        /// `If-None-Match` did not match: the full answer.
        EtagChanged = "etag-changed",
        /// `If-Modified-Since` is not older than Last-Modified: 304.
        DateUnchanged = "date-unchanged",
        /// `If-Modified-Since` is older than Last-Modified: the full answer.
        DateChanged = "date-changed",
        /// `If-Match` or `If-Unmodified-Since` failed: 412.
        PreconditionFailed = "precondition-failed",
    }
}

codes! {
    /// Which representation of a file was sent, and for identity, why.
    Representation {
        /// A `.br` sibling on disk.
        BrSibling = "br-sibling",
        /// A `.gz` sibling on disk.
        GzSibling = "gz-sibling",
        /// Brotli, compressed by Wharf (kept with the file's cache entry).
        BrCompressed = "br-compressed",
        /// gzip, compressed by Wharf.
        GzCompressed = "gz-compressed",
        /// As on disk: the client accepts no coding Wharf has.
        NotAccepted = "identity-not-accepted",
        /// As on disk: the type is not worth compressing (images, video, archives).
        NotCompressible = "identity-not-compressible",
        /// As on disk: compression is off in the settings.
        CompressionOff = "identity-compression-off",
        /// As on disk: a range is always of the file as it is.
        Range = "identity-range",
        /// As on disk: too small or not smaller compressed.
        NotSmaller = "identity-not-smaller",
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

impl Why {
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
