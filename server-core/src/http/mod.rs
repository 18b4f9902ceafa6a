//! One accepted connection, below the routing: HTTP/1.1 (`connection`), the HTTPS port's
//! handshake (`https`) and HTTP/2 (`h2`) on hyper, the metered socket (`metered`) and how it
//! closes (`linger`), each
//! request's access record (`record`), the response body type, zero-copy file bodies
//! (`sendfile`), the dead-client bound, and the
//! browser-facing guards (Host allow-list, cross-site refusals, CORS) asked before any
//! request is routed.

pub(crate) mod body;
pub(crate) mod connection;
pub(crate) mod dead_client;
pub(crate) mod guard;
mod h2;
mod https;
mod linger;
mod metered;
mod record;
pub(crate) mod sendfile;
