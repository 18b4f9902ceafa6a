//! What the server tells about itself: the access record of each request, the access-log
//! pipeline and its durable session log, latency metrics, and CSV export.

pub(crate) mod access;
pub(crate) mod access_log;
pub(crate) mod export;
pub(crate) mod metrics;
pub(crate) mod packed;
pub(crate) mod session_log;
pub(crate) mod timing;
pub(crate) mod why;
