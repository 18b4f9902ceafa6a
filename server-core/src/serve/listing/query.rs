//! The listing's query string: sort key, order and name filter ([`ListingQuery`]). Parsing
//! never fails; what it yields is also the listing cache's key, so unknown parameters never
//! make a new page.

use percent_encoding::percent_decode;

/// The column a listing is sorted by. Folders always come before files, whatever the key
/// and order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) enum SortKey {
    /// `sort=name`: case-insensitive, ties broken by the exact name. The default.
    #[default]
    Name,
    /// `sort=size`: by size in bytes; folders have no size and stay in name order.
    Size,
    /// `sort=date`: by modification time; unknown times sort as the oldest.
    Date,
}

impl SortKey {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Size => "size",
            SortKey::Date => "date",
        }
    }
}

/// How to present a listing, taken from the request's query string.
/// Default: by name, ascending, unfiltered.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub(crate) struct ListingQuery {
    /// The sort column (`sort=name|size|date`). Default: [`SortKey::Name`].
    pub sort: SortKey,
    /// Reverse the order within folders and within files (`order=desc`). Default: `false`.
    pub descending: bool,
    /// Show only names that contain this text, ignoring case (`q=`). Default: `None`.
    pub filter: Option<String>,
}

impl ListingQuery {
    /// Parses a query string (the part after `?`). Never fails: unknown parameters, unknown
    /// values and malformed pairs are ignored, and the last valid value of a parameter wins.
    /// `q` is percent-decoded with `+` as a space (invalid UTF-8 becomes U+FFFD); an empty
    /// `q` means no filter.
    ///
    /// ```ignore
    /// use wharf_core::listing::{ListingQuery, SortKey};
    ///
    /// let query = ListingQuery::parse(Some("sort=size&order=desc&q=read+me&x=%zz"));
    /// assert_eq!(query.sort, SortKey::Size);
    /// assert!(query.descending);
    /// assert_eq!(query.filter.as_deref(), Some("read me"));
    /// assert_eq!(ListingQuery::parse(None), ListingQuery::default());
    /// ```
    pub(crate) fn parse(query: Option<&str>) -> ListingQuery {
        let mut parsed = ListingQuery::default();
        for pair in query.unwrap_or("").split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match (key, value) {
                ("sort", "name") => parsed.sort = SortKey::Name,
                ("sort", "size") => parsed.sort = SortKey::Size,
                ("sort", "date") => parsed.sort = SortKey::Date,
                ("order", "asc") => parsed.descending = false,
                ("order", "desc") => parsed.descending = true,
                ("q", value) => {
                    let value = decode_form_value(value);
                    parsed.filter = (!value.is_empty()).then_some(value);
                }
                _ => {}
            }
        }
        parsed
    }
}

/// `application/x-www-form-urlencoded` value decoding, which is what a GET form sends.
fn decode_form_value(value: &str) -> String {
    let bytes: Vec<u8> = value
        .bytes()
        .map(|b| if b == b'+' { b' ' } else { b })
        .collect();
    percent_decode(&bytes).decode_utf8_lossy().into_owned()
}

/// The module's documented example, run as a test (the items are private to the crate, so a
/// doctest cannot reach them).
#[cfg(test)]
mod doc_example {
    #[test]
    fn listing_query() {
        use crate::serve::listing::query::{ListingQuery, SortKey};

        let query = ListingQuery::parse(Some("sort=size&order=desc&q=read+me&x=%zz"));
        assert_eq!(query.sort, SortKey::Size);
        assert!(query.descending);
        assert_eq!(query.filter.as_deref(), Some("read me"));
        assert_eq!(ListingQuery::parse(None), ListingQuery::default());
    }
}
