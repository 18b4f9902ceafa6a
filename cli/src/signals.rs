//! The signals `wharf serve` answers. On Unix SIGINT and SIGTERM stop it and SIGHUP re-reads
//! its config file. On Windows, which has no signals, the console's control events stop it:
//! Ctrl-C, Ctrl-Break, the console window closing, log-off and shutdown; a changed config file
//! is noticed by its watch on every OS. All are registered before the first line is printed: a
//! script that signals as soon as it reads that line must get the behaviour it asked for, not
//! the default kill.
//!
//! Windows ends a process a few seconds after a close, log-off or shutdown event whatever it
//! is doing (tokio's handler holds the event meanwhile), so transfers in flight may be cut
//! sooner than the grace period then.

/// What a signal asks for.
pub(crate) enum Signal {
    Stop,
    #[cfg(unix)]
    Reload,
}

pub(crate) struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    #[cfg(unix)]
    hangup: tokio::signal::unix::Signal,
    #[cfg(windows)]
    ctrl_c: tokio::signal::windows::CtrlC,
    #[cfg(windows)]
    ctrl_break: tokio::signal::windows::CtrlBreak,
    #[cfg(windows)]
    ctrl_close: tokio::signal::windows::CtrlClose,
    #[cfg(windows)]
    ctrl_logoff: tokio::signal::windows::CtrlLogoff,
    #[cfg(windows)]
    ctrl_shutdown: tokio::signal::windows::CtrlShutdown,
}

impl Signals {
    pub(crate) fn install() -> std::io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Signals {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
                hangup: signal(SignalKind::hangup())?,
            })
        }
        #[cfg(windows)]
        {
            use tokio::signal::windows;
            Ok(Signals {
                ctrl_c: windows::ctrl_c()?,
                ctrl_break: windows::ctrl_break()?,
                ctrl_close: windows::ctrl_close()?,
                ctrl_logoff: windows::ctrl_logoff()?,
                ctrl_shutdown: windows::ctrl_shutdown()?,
            })
        }
    }

    pub(crate) async fn recv(&mut self) -> Signal {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => Signal::Stop,
            _ = self.terminate.recv() => Signal::Stop,
            _ = self.hangup.recv() => Signal::Reload,
        }
        #[cfg(windows)]
        tokio::select! {
            _ = self.ctrl_c.recv() => Signal::Stop,
            _ = self.ctrl_break.recv() => Signal::Stop,
            _ = self.ctrl_close.recv() => Signal::Stop,
            _ = self.ctrl_logoff.recv() => Signal::Stop,
            _ = self.ctrl_shutdown.recv() => Signal::Stop,
        }
    }
}
