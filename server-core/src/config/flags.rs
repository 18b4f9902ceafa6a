//! Each setting's command-line flag, as data: the CLI (`wharf serve`) builds its arguments
//! from [`ConfigDraft::flags`](super::ConfigDraft::flags) and writes what was given with
//! [`ConfigDraft::set_flag`](super::ConfigDraft::set_flag), so a setting declared in the
//! table has its flag without a line in the CLI. No parser library here: the core does not
//! link clap.

use std::net::IpAddr;
use std::path::PathBuf;

use super::settings::{CustomHeaderDraft, ProxyRuleDraft};
use crate::network::NetworkRuleDraft;

/// A setting's flag as the CLI shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlagSpec {
    /// The long name, without dashes: `port`, `no-keep-alive`.
    pub long: &'static str,
    /// The placeholder of its value (`PORT`), `None` for a switch.
    pub value_name: Option<&'static str>,
    /// The help text; a default is written `[default: 8080]`.
    pub help: &'static str,
    /// How many values it takes.
    pub takes: Takes,
}

/// How many values a flag takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    /// A switch: given or not.
    Nothing,
    /// One value; given twice, the last one counts.
    One,
    /// Repeatable; the values given replace the whole list.
    Many,
}

/// How a flag writes into a draft field of type `D`.
pub(crate) trait FlagInput<D> {
    /// The flag, if the setting has one.
    fn spec(&self) -> Option<FlagSpec>;
    /// Writes the values given (none for a switch) into `slot`.
    fn write(&self, slot: &mut Option<D>, values: &[String]) -> Result<(), String>;
}

/// No flag (the CLI gives the setting another way, e.g. `root` as its argument).
pub(crate) struct NoFlag;

impl<D> FlagInput<D> for NoFlag {
    fn spec(&self) -> Option<FlagSpec> {
        None
    }
    fn write(&self, _: &mut Option<D>, _: &[String]) -> Result<(), String> {
        Err("this setting has no flag".into())
    }
}

/// A switch that sets an on/off setting to `sets`: `--show-dotfiles`, `--no-listing`.
pub(crate) struct Switch {
    pub(crate) long: &'static str,
    pub(crate) sets: bool,
    pub(crate) help: &'static str,
}

impl FlagInput<bool> for Switch {
    fn spec(&self) -> Option<FlagSpec> {
        Some(FlagSpec {
            long: self.long,
            value_name: None,
            help: self.help,
            takes: Takes::Nothing,
        })
    }
    fn write(&self, slot: &mut Option<bool>, _: &[String]) -> Result<(), String> {
        *slot = Some(self.sets);
        Ok(())
    }
}

/// A flag with one value, read by `parse`.
pub(crate) struct Single<D> {
    pub(crate) long: &'static str,
    pub(crate) value_name: &'static str,
    pub(crate) parse: fn(&str) -> Result<D, String>,
    pub(crate) help: &'static str,
}

impl<D> FlagInput<D> for Single<D> {
    fn spec(&self) -> Option<FlagSpec> {
        Some(FlagSpec {
            long: self.long,
            value_name: Some(self.value_name),
            help: self.help,
            takes: Takes::One,
        })
    }
    fn write(&self, slot: &mut Option<D>, values: &[String]) -> Result<(), String> {
        if let Some(last) = values.last() {
            *slot = Some((self.parse)(last)?);
        }
        Ok(())
    }
}

/// A repeatable flag, one list item per value.
pub(crate) struct Repeated<I> {
    pub(crate) long: &'static str,
    pub(crate) value_name: &'static str,
    pub(crate) parse: fn(&str) -> Result<I, String>,
    pub(crate) help: &'static str,
}

impl<I> FlagInput<Vec<I>> for Repeated<I> {
    fn spec(&self) -> Option<FlagSpec> {
        Some(FlagSpec {
            long: self.long,
            value_name: Some(self.value_name),
            help: self.help,
            takes: Takes::Many,
        })
    }
    fn write(&self, slot: &mut Option<Vec<I>>, values: &[String]) -> Result<(), String> {
        if !values.is_empty() {
            *slot = Some(
                values
                    .iter()
                    .map(|value| (self.parse)(value))
                    .collect::<Result<_, _>>()?,
            );
        }
        Ok(())
    }
}

/// Text as written.
pub(crate) fn text(value: &str) -> Result<String, String> {
    Ok(value.to_owned())
}

/// A path as written.
pub(crate) fn path(value: &str) -> Result<PathBuf, String> {
    Ok(PathBuf::from(value))
}

/// An IP address, kept as text for the draft.
pub(crate) fn ip(value: &str) -> Result<String, String> {
    value
        .parse::<IpAddr>()
        .map(|ip| ip.to_string())
        .map_err(|_| format!("{value:?} is not an IP address; use e.g. 127.0.0.1 or 0.0.0.0"))
}

/// A port, 0 to 65535.
pub(crate) fn port(value: &str) -> Result<u32, String> {
    value
        .parse::<u16>()
        .map(u32::from)
        .map_err(|_| format!("{value:?} is not a port; use 0 to 65535"))
}

/// A whole number.
pub(crate) fn count(value: &str) -> Result<u64, String> {
    value
        .parse()
        .map_err(|_| format!("{value:?} is not a whole number"))
}

/// Seconds (`1.5`) to the draft's milliseconds; out-of-range values are left for validation
/// to explain.
pub(crate) fn seconds(value: &str) -> Result<u64, String> {
    let secs: f64 = value
        .parse()
        .map_err(|_| format!("{value:?} is not a number of seconds"))?;
    Ok(if secs.is_finite() && secs > 0.0 {
        (secs * 1000.0).round() as u64
    } else {
        0
    })
}

/// `GLOB NAME: VALUE` (the glob ends at the first space). Names and values are checked with
/// the rest of the config, so the error names the rule.
pub(crate) fn header_rule(text: &str) -> Result<CustomHeaderDraft, String> {
    let shape = || {
        format!("{text:?} is not `GLOB NAME: VALUE`, e.g. '/assets/** Cache-Control: max-age=60'")
    };
    let (path, header) = text.trim().split_once(' ').ok_or_else(shape)?;
    let (name, value) = header.split_once(':').ok_or_else(shape)?;
    Ok(CustomHeaderDraft {
        path: path.to_owned(),
        name: name.trim().to_owned(),
        value: value.trim().to_owned(),
    })
}

/// `--proxy 'PATH=URL [rewrite=PREFIX] [change-origin=false]'`: a proxy rule, with the TOML's
/// `rewrite` and `change_origin` as optional words after it (`rewrite=` strips the prefix).
pub(crate) fn proxy_rule(text: &str) -> Result<ProxyRuleDraft, String> {
    let mut words = text.split_whitespace();
    let (path, target) = words
        .next()
        .and_then(|rule| rule.split_once('='))
        .ok_or_else(|| format!("{text:?} is not `PATH=URL`, e.g. '/api=http://localhost:3000'"))?;
    let mut rule = ProxyRuleDraft {
        path: path.to_owned(),
        target: target.to_owned(),
        ..ProxyRuleDraft::default()
    };
    for word in words {
        match word.split_once('=') {
            Some(("rewrite", prefix)) => rule.rewrite = Some(prefix.to_owned()),
            Some(("change-origin", on)) => {
                let on = on
                    .parse()
                    .map_err(|_| format!("change-origin={on:?} is not true or false"))?;
                rule.change_origin = Some(on);
            }
            _ => {
                return Err(format!(
                    "{word:?} is not rewrite=PREFIX or change-origin=true|false"
                ))
            }
        }
    }
    Ok(rule)
}

/// A network rule from the CLI's `GLOB KEY=VALUE ...` (see [`crate::network`]).
pub(crate) fn network_rule(text: &str) -> Result<NetworkRuleDraft, String> {
    crate::network::parse_flag(text)
}
