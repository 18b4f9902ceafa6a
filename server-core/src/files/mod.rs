//! The served folder as the server keeps it in memory and watches it: the file cache, the
//! listing cache, the site watch (owned by the supervisor, subscribed to by the listing cache
//! and live reload), and files only the user may read (keys, logs, exports).

pub(crate) mod cache;
pub(crate) mod listing_cache;
pub(crate) mod private_fs;
pub(crate) mod watcher;
