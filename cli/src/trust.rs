//! `wharf trust` and `wharf untrust`: install or remove Wharf's local certificate authority
//! in this user's trust stores (wharf-core's `trust`), or with `--system` in the machine's.

use std::path::PathBuf;
use std::process::ExitCode;

use wharf_core::trust::{self, Action, Elevation, TrustOptions};

/// `wharf trust`'s and `wharf untrust`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct TrustArgs {
    /// The certificate folder, as `serve --cert-dir`; the CA is made there if there is none
    /// [default: wharf/certs in the OS's local data folder]
    #[arg(long, value_name = "DIR")]
    cert_dir: Option<PathBuf>,
    /// The machine's trust store instead of the user's: every user and most programs, asks
    /// for an administrator's password (sudo; on Windows, UAC)
    #[arg(long, conflicts_with = "nss_db")]
    system: bool,
    /// Only this NSS database folder (made if missing), instead of the user's stores, e.g. a
    /// browser's profile or `$HOME/.pki/nssdb` of another home; repeatable
    #[arg(long, value_name = "DIR")]
    nss_db: Vec<PathBuf>,
    /// Only say where the CA is trusted; change nothing
    #[arg(long)]
    status: bool,
}

/// Runs `wharf trust` (`action` Install) or `wharf untrust` (Remove).
pub(crate) fn run(args: TrustArgs, action: Action) -> ExitCode {
    let Some(cert_dir) = args.cert_dir.clone().or_else(crate::args::default_cert_dir) else {
        eprintln!("error: this OS names no data folder; choose one with --cert-dir");
        return ExitCode::from(2);
    };
    let action = if args.status { Action::Check } else { action };
    let options = TrustOptions {
        cert_dir,
        nss_dbs: (!args.nss_db.is_empty()).then_some(args.nss_db),
        home: None,
    };
    let report = if args.system {
        trust::system(&options, action, Elevation::Sudo)
    } else {
        match action {
            Action::Install => trust::trust(&options),
            Action::Remove => trust::untrust(&options),
            Action::Check => trust::status(&options),
        }
    };
    match report {
        Ok(report) => {
            println!(
                "Wharf's certificate authority: {} ({})",
                report.ca_fingerprint,
                report.ca_cert_path.display()
            );
            print!("{report}");
            if report.failed() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
    }
}
