//! Answers one request from the served folder: the request's hygiene and the site's headers
//! (`service`), which resource answers (`route`), a folder (`folder`) or a file (`file`),
//! URL-to-path resolution and the file system's name rules, folder listings, and the HTTP
//! semantics of files (preconditions, ranges, content codings, content types).

pub mod conditional;
pub(crate) mod encoding;
mod file;
mod folder;
pub(crate) mod listing;
pub(crate) mod mime;
pub(crate) mod names;
pub mod range;
pub mod resolve;
mod route;
pub(crate) mod service;
