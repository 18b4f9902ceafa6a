//! Content-coding negotiation (RFC 9110 §12.5.3): which encoding a client accepts, and which
//! content types are worth compressing. It compresses nothing itself (see `cache`).

use http::header::{HeaderMap, ACCEPT_ENCODING};
use http::HeaderValue;

/// A content coding Wharf can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// No transformation.
    Identity,
    /// gzip.
    Gzip,
    /// Brotli.
    Brotli,
}

impl Encoding {
    /// The `Content-Encoding` token, or `None` for identity.
    pub(crate) fn token(self) -> Option<&'static str> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some("gzip"),
            Encoding::Brotli => Some("br"),
        }
    }

    /// The file-name suffix of a precompressed sibling (`app.js.br`).
    pub(crate) fn suffix(self) -> Option<&'static str> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some(".gz"),
            Encoding::Brotli => Some(".br"),
        }
    }
}

/// The codings the client accepts, best first: Brotli before gzip at equal weight. Codings
/// with `q=0` are excluded; `*` stands for any coding not named. Identity is always last.
pub(crate) fn preferences(headers: &HeaderMap) -> Vec<Encoding> {
    let mut br = None;
    let mut gzip = None;
    let mut star = None;
    for value in headers.get_all(ACCEPT_ENCODING) {
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .or_else(|| p.trim().strip_prefix("Q="))
                })
                .map_or(Some(1.0), |q| {
                    q.trim()
                        .parse::<f32>()
                        .ok()
                        .filter(|q| (0.0..=1.0).contains(q))
                });
            let Some(q) = q else { continue };
            match coding.as_str() {
                "br" => br = Some(q),
                "gzip" | "x-gzip" => gzip = Some(q),
                "*" => star = Some(q),
                _ => {}
            }
        }
    }
    let br = br.or(star).unwrap_or(0.0);
    let gzip = gzip.or(star).unwrap_or(0.0);
    let mut ranked: Vec<(f32, Encoding)> = [(br, Encoding::Brotli), (gzip, Encoding::Gzip)]
        .into_iter()
        .filter(|(q, _)| *q > 0.0)
        .collect();
    // Stable sort keeps Brotli ahead of gzip when weights tie.
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut out: Vec<Encoding> = ranked.into_iter().map(|(_, e)| e).collect();
    out.push(Encoding::Identity);
    out
}

/// Whether a response of this type is worth compressing. Images, audio, video, archives and
/// WOFF fonts are compressed already.
pub(crate) fn is_compressible(content_type: &HeaderValue) -> bool {
    let Ok(text) = content_type.to_str() else {
        return false;
    };
    let essence = text.split(';').next().unwrap_or("").trim();
    essence.starts_with("text/")
        || essence.ends_with("+json")
        || essence.ends_with("+xml")
        || matches!(
            essence,
            "application/javascript"
                | "application/json"
                | "application/xml"
                | "application/wasm"
                | "image/x-icon"
                | "image/vnd.microsoft.icon"
                | "font/ttf"
                | "font/otf"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefs(value: &str) -> Vec<Encoding> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
        preferences(&headers)
    }

    #[test]
    fn brotli_wins_ties_and_weights_decide() {
        use Encoding::*;
        assert_eq!(prefs("gzip, deflate, br"), [Brotli, Gzip, Identity]);
        assert_eq!(prefs("br;q=0.5, gzip"), [Gzip, Brotli, Identity]);
        assert_eq!(prefs("gzip;q=0, br;q=0"), [Identity]);
        assert_eq!(prefs("*"), [Brotli, Gzip, Identity]);
        assert_eq!(prefs("*;q=0.1, gzip"), [Gzip, Brotli, Identity]);
        assert_eq!(prefs("identity"), [Identity]);
        assert_eq!(prefs("gzip;q=nonsense"), [Identity]);
        assert_eq!(preferences(&HeaderMap::new()), [Identity]);
    }

    #[test]
    fn only_compressible_types_are_compressed() {
        for yes in [
            "text/html; charset=utf-8",
            "application/json",
            "image/svg+xml; charset=utf-8",
            "application/wasm",
        ] {
            assert!(is_compressible(&HeaderValue::from_static(yes)), "{yes}");
        }
        for no in [
            "image/png",
            "video/mp4",
            "application/zip",
            "font/woff2",
            "application/octet-stream",
        ] {
            assert!(!is_compressible(&HeaderValue::from_static(no)), "{no}");
        }
    }
}
