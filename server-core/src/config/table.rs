//! The `settings!` macro: from one row per setting, it writes everything that lists the
//! settings, so none of it can drift. The rows themselves are in `settings.rs`.
//!
//! A row reads
//!
//! ```text
//! /// One sentence, then `Default: ...`.
//! "keepAlive" "keep_alive" keep_alive: bool => keep_alive: bool,
//!         check flag::<true>, rebind None, cli Switch { long: "no-keep-alive", sets: false, help: "..." };
//! ```
//!
//! that is: the name in camelCase (JSON, the UI, errors) and in snake_case (TOML, the CLI's
//! reports), the draft's field and type (what a user writes), the validated field and type
//! (what the server reads), the check that turns one into the other (`checks.rs`), which
//! listener a change rebinds (`Http`, `Https`, `Both` or `None`), and the CLI flag with its
//! help text (`flags.rs`). How a value reads in a change report and which draft gives it back
//! follow from its validated type ([`Value`](super::value::Value)).
//!
//! Derived here: [`ConfigDraft`](super::ConfigDraft), [`ServerConfig`](super::ServerConfig)
//! and its accessors, `TryFrom<ConfigDraft>`, `From<&ServerConfig> for ConfigDraft`,
//! `changes`, `needs_rebind`, and the flag table the CLI builds its arguments from.
//! `macro_rules!` rather than a derive: the rows are data in one file of this crate, a
//! proc-macro crate would be a second crate to build and read for one table.

macro_rules! settings {
    ($(
        $(#[doc = $doc:literal])+
        $camel:literal $snake:literal $draft_field:ident: $draft:ty => $field:ident: $value:ty,
            check $check:expr, rebind $rebind:ident, cli $cli:expr;
    )+) => {
        /// A configuration as a user wrote it: every field optional, nothing checked yet.
        ///
        /// Fields left out take the documented defaults of [`ServerConfig`]. Field names are
        /// camelCase (`keepAlive`), as the UI sends them; a TOML file may also spell them in
        /// snake_case (`keep_alive`). Unknown fields are refused, so a typo never passes
        /// silently. Declared, with every setting, in `config/settings.rs`.
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[cfg_attr(test, derive(ts_rs::TS), ts(optional_fields = nullable))]
        #[serde(default, deny_unknown_fields)]
        pub struct ConfigDraft {
            $(
                $(#[doc = $doc])+
                #[serde(rename = $camel, alias = $snake)]
                #[cfg_attr(test, ts(rename = $camel))]
                pub $draft_field: Option<$draft>,
            )+
        }

        /// A validated configuration: immutable, made only by `ServerConfig::try_from(draft)`.
        /// A change makes a new one with a higher generation, numbered by the server.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct ServerConfig {
            $(
                $(#[doc = $doc])+
                pub(crate) $field: $value,
            )+
            /// Counts applied configurations, starting at 1; connections report which one
            /// they run on.
            pub(crate) generation: u64,
        }

        impl ServerConfig {
            $(
                $(#[doc = $doc])+
                pub fn $field(&self) -> &$value {
                    &self.$field
                }
            )+
        }

        /// Every setting's names, in declaration order: `(camelCase, snake_case)`.
        #[cfg(test)]
        pub(crate) const NAMES: &[(&str, &str)] = &[$(($camel, $snake)),+];

        impl TryFrom<ConfigDraft> for ServerConfig {
            type Error = ConfigError;

            /// Checks each field in declaration order, then the rules between fields.
            fn try_from(draft: ConfigDraft) -> Result<ServerConfig, ConfigError> {
                let ConfigDraft { $($draft_field),+ } = draft;
                let mut context = Context::default();
                $(
                    context.field = $camel;
                    let $field: $value = ($check)($draft_field, &mut context)?;
                )+
                let config = ServerConfig { $($field,)+ generation: 1 };
                config.consistent()?;
                Ok(config)
            }
        }

        impl From<&ServerConfig> for ConfigDraft {
            /// The draft that validates back to `config` (but for the generation): a form's
            /// starting point.
            fn from(config: &ServerConfig) -> ConfigDraft {
                ConfigDraft {
                    $($draft_field: Value::to_draft(&config.$field),)+
                }
            }
        }

        impl ServerConfig {
            /// The settings that differ from `self` to `next`, in declaration order; the
            /// generation is not a setting. Empty when `next` would change nothing.
            pub fn changes(&self, next: &ServerConfig) -> Vec<Change> {
                let mut changes = Vec::new();
                $(
                    let (from, to) = (Value::show(&self.$field), Value::show(&next.$field));
                    if from != to {
                        changes.push(Change { field: $camel, from, to });
                    }
                )+
                changes
            }

            /// Whether `next` needs a new listener: another host or another requested port.
            pub fn needs_rebind(&self, next: &ServerConfig) -> bool {
                false $(|| (Rebind::$rebind.http() && self.$field != next.$field))+
            }

            /// Whether a setting that the HTTPS listener is bound with differs in `next`.
            pub(crate) fn https_bound_differs(&self, next: &ServerConfig) -> bool {
                false $(|| (Rebind::$rebind.https() && self.$field != next.$field))+
            }
        }

        impl ConfigDraft {
            /// This draft with every field that `over` gives written over it.
            pub fn overlaid(self, over: ConfigDraft) -> ConfigDraft {
                ConfigDraft {
                    $($draft_field: over.$draft_field.or(self.$draft_field),)+
                }
            }

            /// This draft with every field left out filled with its default, as the check of an
            /// absent value gives it (`root`, which has none, stays out): what a form shows.
            pub fn with_defaults(self) -> ConfigDraft {
                let mut context = Context::default();
                ConfigDraft {
                    $(
                        $draft_field: self.$draft_field.or_else(|| {
                            context.field = $camel;
                            let value: $value = ($check)(None, &mut context).ok()?;
                            Value::to_draft(&value)
                        }),
                    )+
                }
            }

            /// Every setting's command-line flag, as `(field, flag)`, in declaration order.
            pub fn flags() -> Vec<(&'static str, FlagSpec)> {
                let mut flags = Vec::new();
                $(
                    if let Some(spec) = FlagInput::<$draft>::spec(&$cli) {
                        flags.push(($camel, spec));
                    }
                )+
                flags
            }

            /// Writes the values given to `field`'s flag over the draft (a switch has none; a
            /// repeatable flag's values replace the list).
            ///
            /// # Errors
            /// A sentence for the terminal if a value does not parse, or the field has no flag.
            pub fn set_flag(&mut self, field: &str, values: &[String]) -> Result<(), String> {
                $(
                    if field == $camel {
                        return FlagInput::<$draft>::write(&$cli, &mut self.$draft_field, values);
                    }
                )+
                Err(format!("{field} has no command-line flag"))
            }
        }
    };
}

pub(crate) use settings;
