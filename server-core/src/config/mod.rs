//! Server configuration: the permissive [`ConfigDraft`] that users and the UI edit, and the
//! validated, immutable [`ServerConfig`] that the server runs on.
//!
//! Every setting is declared once, in `settings.rs`; `table.rs` derives from that row the
//! draft, the config, the checks' order, the change report, the rebind rule and the CLI flag.
//! Only [`ServerConfig::try_from`] turns a draft into a config, so nothing downstream
//! re-validates, and only the server numbers generations. A connection takes an
//! `Arc<ServerConfig>` snapshot when it is accepted and keeps it for life; this module never
//! reaches into a running server.
//!
//! - `settings.rs`: the table, the defaults, [`CustomHeaderDraft`];
//! - `table.rs`: the `settings!` macro that derives everything from the table;
//! - `checks.rs`: each setting's check; `validated.rs`: the rules between settings;
//! - `value.rs`: how a validated value reads back (draft, change text);
//! - `rules.rs`: the compiled list settings ([`HeaderRules`], [`IgnoreGlobs`]);
//! - `flags.rs`: the CLI flags as data; `changes.rs`: [`Change`]; `error.rs`: [`ConfigError`];
//! - `file.rs`: a `wharf.toml` read into a draft, errors naming the line;
//! - `typescript.rs` (tests only): the UI's types, `ui/src/api/generated/config.ts`.

mod changes;
mod checks;
mod error;
mod file;
mod flags;
mod rules;
mod settings;
mod table;
mod validated;
mod value;

pub use crate::network::{parse_flag as parse_network_rule, NetworkRuleDraft, NetworkRules};
pub use crate::proxy::{ProxyRule, ProxyRules};
pub use changes::{snake_case, Change};
pub use error::ConfigError;
pub use file::{ConfigFile, ConfigFileError};
pub use flags::{FlagSpec, Takes};
pub(crate) use rules::path_glob;
pub use rules::{HeaderRule, HeaderRules, IgnoreGlobs};
pub use settings::{
    ConfigDraft, CustomHeaderDraft, ProxyRuleDraft, ServerConfig, DEFAULT_CACHE_CONTROL,
    DEFAULT_HEADER_READ_TIMEOUT, DEFAULT_HOST, DEFAULT_KEEP_ALIVE_IDLE_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS, DEFAULT_PORT, DEFAULT_PROXY_CONNECT_TIMEOUT,
    DEFAULT_PROXY_FIRST_BYTE_TIMEOUT, DEFAULT_RELOAD_IGNORE,
};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod typescript;
