//! `wharf serve`'s flags. Each one is optional so that, with `--config`, only the flags
//! actually given override the file.

use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Command};
use wharf_core::config::Takes;
use wharf_core::ConfigDraft;

#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
    /// Folder to serve; overrides `root` from --config [default: .]
    pub(crate) dir: Option<PathBuf>,
    /// TOML config file (same fields as the flags, e.g. `port = 8080`, `keep_alive = false`).
    /// Flags override it. Re-read when it changes and on SIGHUP (Unix).
    #[arg(long, value_name = "FILE")]
    pub(crate) config: Option<PathBuf>,
    /// Keep a durable access log of every request in this folder (one session per run; the
    /// oldest sessions are deleted beyond 20). Read it with `wharf export-csv` or
    /// `wharf export-har`.
    #[arg(long, value_name = "DIR")]
    pub(crate) log_dir: Option<PathBuf>,
    /// With --log-dir: megabytes one session's log may hold; beyond it the oldest records
    /// are deleted (and an export says how many) [default: 256]
    #[arg(long, value_name = "MB", requires = "log_dir", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) log_max_mb: Option<u64>,
    /// With --log-dir: sessions kept; the oldest are deleted first [default: 20]
    #[arg(long, value_name = "N", requires = "log_dir", value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) log_sessions: Option<u64>,
    /// Print every request on stdout as it is served.
    #[arg(long, value_name = "FORMAT")]
    pub(crate) access_log: Option<crate::tail::Format>,
    /// Print under each request why it got its answer, in words: which rule answered, what
    /// the validators decided, which representation was sent (in JSON lines, an `explain`
    /// field). Implies --access-log common when no format is given.
    #[arg(long)]
    pub(crate) explain: bool,
    /// Every server setting's flag, from wharf-core's settings table.
    #[command(flatten)]
    settings: SettingFlags,
}

impl ServeArgs {
    /// How requests are printed on stdout, if they are: `--access-log`'s format, or `common`
    /// when only `--explain` was given.
    pub(crate) fn printed_format(&self) -> Option<crate::tail::Format> {
        self.access_log
            .or(self.explain.then_some(crate::tail::Format::Common))
    }

    /// `base` (the config file's draft, or an empty one) with every flag given written over it.
    pub(crate) fn over(&self, base: ConfigDraft) -> ConfigDraft {
        let mut draft = base.overlaid(self.settings.given.clone());
        if let Some(dir) = &self.dir {
            draft.root = Some(dir.clone());
        }
        draft.root.get_or_insert_with(|| PathBuf::from("."));
        if draft.https_port.is_some() && draft.cert_dir.is_none() {
            draft.cert_dir = default_cert_dir();
        }
        draft
    }
}

/// The settings' flags, built from [`ConfigDraft::flags`]: a setting declared in wharf-core
/// has its flag here without a line of its own. Holds the flags given, as a draft.
#[derive(Debug, Clone, Default)]
struct SettingFlags {
    given: ConfigDraft,
}

impl clap::Args for SettingFlags {
    fn augment_args(mut command: Command) -> Command {
        for (field, flag) in ConfigDraft::flags() {
            // As clap's derive shows a one-sentence doc: without its final period.
            let help = flag.help.strip_suffix('.').unwrap_or(flag.help);
            let mut arg = Arg::new(field).long(flag.long).help(help);
            arg = match flag.takes {
                Takes::Nothing => arg.action(ArgAction::SetTrue),
                Takes::One => arg.action(ArgAction::Set),
                Takes::Many => arg.action(ArgAction::Append),
            };
            if let Some(name) = flag.value_name {
                // Checked here, so a bad value is refused with clap's usage line.
                let check = move |value: &str| {
                    let values = [value.to_owned()];
                    ConfigDraft::default()
                        .set_flag(field, &values)
                        .map(|()| value.to_owned())
                };
                arg = arg.value_name(name).value_parser(check);
            }
            command = command.arg(arg);
        }
        command
    }

    fn augment_args_for_update(command: Command) -> Command {
        SettingFlags::augment_args(command)
    }
}

impl clap::FromArgMatches for SettingFlags {
    fn from_arg_matches(matches: &ArgMatches) -> Result<SettingFlags, clap::Error> {
        let mut flags = SettingFlags::default();
        flags.update_from_arg_matches(matches)?;
        Ok(flags)
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        for (field, flag) in ConfigDraft::flags() {
            let values: Vec<String> = match flag.takes {
                Takes::Nothing if matches.get_flag(field) => Vec::new(),
                Takes::Nothing => continue,
                Takes::One | Takes::Many => match matches.get_many::<String>(field) {
                    Some(values) => values.cloned().collect(),
                    None => continue,
                },
            };
            self.given.set_flag(field, &values).map_err(|reason| {
                clap::Error::raw(clap::error::ErrorKind::ValueValidation, reason)
            })?;
        }
        Ok(())
    }
}

/// `wharf/certs` in the OS's local data folder (`dirs::data_local_dir`): `$XDG_DATA_HOME` or
/// `~/.local/share` on Linux, `~/Library/Application Support` on macOS, `%LOCALAPPDATA%` on
/// Windows (local, not roaming: the certificate names this machine's addresses). `None` when
/// the OS names no such folder (validation then asks for `--cert-dir`).
pub(crate) fn default_cert_dir() -> Option<PathBuf> {
    dirs::data_local_dir().map(|data| data.join("wharf").join("certs"))
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::ServeArgs;

    #[derive(Debug, Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn parse(flags: &[&str]) -> Result<ServeArgs, clap::Error> {
        let argv = std::iter::once("wharf").chain(flags.iter().copied());
        Serve::try_parse_from(argv).map(|serve| serve.args)
    }

    #[test]
    fn network_flags_repeat_and_keep_their_keys() {
        let args = parse(&[
            "--network",
            "/videos/** preset=slow-3g",
            "--network",
            "/api/** status=503 p=0.1 reset-after=10",
        ])
        .unwrap_or_else(|err| panic!("{err}"));
        let rules = args.over(Default::default()).network.unwrap_or_default();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].path, "/videos/**");
        assert_eq!(rules[0].preset.as_deref(), Some("slow-3g"));
        assert_eq!(rules[1].status, Some(503));
        assert_eq!(rules[1].p, Some(0.1));
        assert_eq!(rules[1].reset_after, Some(10));
    }

    /// `--proxy` takes the TOML's `rewrite` and `change_origin` as optional words.
    #[test]
    fn proxy_flags_take_a_rewrite_and_the_browser_s_host() {
        let args = parse(&[
            "--proxy",
            "/api=http://localhost:3000",
            "--proxy",
            "/v1=https://example.test rewrite= change-origin=false",
            "--proxy",
            "^/u/(\\d+)=http://[::1]:4000 rewrite=/users/$1",
        ])
        .unwrap_or_else(|err| panic!("{err}"));
        let rules = args.over(Default::default()).proxy.unwrap_or_default();
        let seen: Vec<_> = rules
            .iter()
            .map(|rule| {
                (
                    rule.path.as_str(),
                    rule.target.as_str(),
                    rule.rewrite.as_deref(),
                    rule.change_origin,
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("/api", "http://localhost:3000", None, None),
                ("/v1", "https://example.test", Some(""), Some(false)),
                ("^/u/(\\d+)", "http://[::1]:4000", Some("/users/$1"), None),
            ]
        );
    }

    #[test]
    fn a_bad_network_flag_is_refused_naming_the_key() {
        let err = parse(&["--network", "/api/** speed=10"]).unwrap_err();
        assert!(err.to_string().contains("\"speed\""), "{err}");
        let err = parse(&["--network", "/api/** rate=fast"]).unwrap_err();
        assert!(err.to_string().contains("rate="), "{err}");
    }
}
