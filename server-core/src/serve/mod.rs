//! Answers one request from the served folder: routing (`service`), URL-to-path resolution
//! and the file system's name rules, folder listings, and the HTTP semantics of files
//! (preconditions, ranges, content codings, content types).

pub mod conditional;
pub(crate) mod encoding;
pub(crate) mod listing;
pub(crate) mod mime;
pub(crate) mod names;
pub mod range;
pub mod resolve;
pub(crate) mod service;
