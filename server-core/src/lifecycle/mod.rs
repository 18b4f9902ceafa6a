//! A server's life: binding listeners, the supervisor that accepts connections and applies
//! configs, TLS, the table of live connections, lifecycle events and start/apply errors.

pub(crate) mod accept;
pub(crate) mod backlog;
pub(crate) mod ca;
pub(crate) mod error;
pub(crate) mod events;
pub(crate) mod listener;
pub(crate) mod live_cert;
pub(crate) mod registry;
pub(crate) mod server;
pub(crate) mod tls;
