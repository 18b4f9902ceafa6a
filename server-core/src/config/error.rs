//! [`ConfigError`]: why a draft was refused, with its structure (field, list item, member) as
//! data, so no caller parses it back out of the sentence.

use std::fmt;

/// Why a draft was refused. Names the field and says what would be accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The draft field at fault, as the user spells it (`root`, `port`, `customHeaders`).
    pub field: &'static str,
    /// For a list field, the position of the item at fault, from 0.
    pub index: Option<usize>,
    /// For a list of records, the item's member at fault (`path`, `name`, `value`).
    pub member: Option<&'static str>,
    /// A sentence saying what is wrong and what to do instead.
    pub reason: String,
}

impl ConfigError {
    /// An error on the whole of `field`.
    pub fn new(field: &'static str, reason: impl Into<String>) -> ConfigError {
        ConfigError {
            field,
            index: None,
            member: None,
            reason: reason.into(),
        }
    }

    /// An error on item `index` of list `field` (and on its `member`, if it has members).
    pub fn item(
        field: &'static str,
        index: usize,
        member: Option<&'static str>,
        reason: impl Into<String>,
    ) -> ConfigError {
        ConfigError {
            field,
            index: Some(index),
            member,
            reason: reason.into(),
        }
    }
}

/// Where in a setting the fault is, as the user reads it: `customHeaders[2].name`, with the
/// field spelled as the caller chooses (`custom_headers` in a TOML file).
pub(crate) fn write_place(
    f: &mut fmt::Formatter<'_>,
    field: &str,
    index: Option<usize>,
    member: Option<&str>,
) -> fmt::Result {
    f.write_str(field)?;
    if let Some(index) = index {
        write!(f, "[{index}]")?;
    }
    if let Some(member) = member {
        write!(f, ".{member}")?;
    }
    Ok(())
}

impl fmt::Display for ConfigError {
    /// `field: reason`, or `customHeaders[2].name: reason` for an item of a list.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_place(f, self.field, self.index, self.member)?;
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for ConfigError {}
