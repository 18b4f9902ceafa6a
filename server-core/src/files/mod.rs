//! The served folder as the server keeps it in memory and watches it: the file cache, the
//! folder watcher, and files only the user may read (keys, logs, exports).

pub(crate) mod cache;
pub(crate) mod private_fs;
pub(crate) mod watcher;
