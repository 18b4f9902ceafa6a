//! One accepted connection, below the routing: HTTP/1.1 and HTTP/2 on hyper, its metered
//! socket, the response body type, the dead-client bound, and the browser-facing guards (Host
//! allow-list, cross-site refusals, CORS) asked before any request is routed.

pub(crate) mod body;
pub(crate) mod connection;
pub(crate) mod dead_client;
pub(crate) mod guard;
