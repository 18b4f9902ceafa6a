//! HTML listings of folders that have no `index.html`.
//!
//! This module reads a folder's entries ([`read_entries`]), parses the listing's query string
//! ([`ListingQuery::parse`]) and renders the page ([`render`]): folders first, sorted by name,
//! size or date, optionally filtered by name, with no JavaScript at all (sorting is plain
//! links, filtering a plain GET form). File names are chosen by whoever wrote into the folder
//! and the query string by whoever sent the request, so every name and echoed value is
//! HTML-escaped and every link is percent-encoded and relative (`./name`, `?sort=…`). Bidi
//! and control characters in shown names are written out (`<U+202E>`), so a name cannot
//! disguise itself; its link still names the file exactly.
//! It does not decide what may be served: that is `resolve`'s job, and a listed name may
//! still be refused there.

mod entries;
mod query;
mod render;
#[cfg(test)]
mod tests;

pub(crate) use entries::read_entries;
pub(crate) use query::ListingQuery;
pub(crate) use render::{escape, render, SEGMENT};
