//! [`Change`]: one setting that differs between two configs, as `changes()` reports it.

use std::fmt;

use serde::Serialize;

/// One setting that differs between two configs, for reports such as
/// `port 8080 -> 8081, keep_alive on -> off`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The draft field, as in [`ConfigError::field`](super::ConfigError::field) (`keepAlive`).
    pub field: &'static str,
    /// The old value, as a person reads it (`on`, `10s`, `8080`).
    pub from: String,
    /// The new value.
    pub to: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} -> {}", snake_case(self.field), self.from, self.to)
    }
}

/// `keepAliveIdleTimeoutMs` → `keep_alive_idle_timeout_ms`, as a TOML file and the CLI spell it.
pub fn snake_case(field: &str) -> String {
    let mut out = String::with_capacity(field.len() + 4);
    for c in field.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
