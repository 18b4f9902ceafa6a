//! Files only the user may read: the HTTPS private key, the access logs and CSV exports of them.
//!
//! On Unix, folders are made with mode 0700 and files with 0600 as they are created (never
//! chmod-ed afterwards, so they are never open for a moment), and files are created with
//! `O_EXCL` (`create_new`), so a symlink or leftover planted where a file is about to be made
//! is never written through. [`open_to_others`] tells whether an existing folder or file can
//! be read or written by group or other users; callers decide what to do about it (`tls`
//! refuses, as OpenSSH refuses a private key with such a mode).
//!
//! On Windows a new file inherits its folder's ACL, and the user's profile folders are private
//! by default; checking or setting an ACL (`GetNamedSecurityInfoW`/`SetNamedSecurityInfoW`)
//! would be needed to give the same guarantee there, and is not done: these functions then
//! create ordinary folders and files, and [`open_to_others`] says no.
//!
//! [`replace_private`] is the one way Wharf replaces a file whole (write beside, sync,
//! rename): `tls` (key and certificate), `session_log` (the session index), and through the
//! façade the CLI's and the app's CSV exports and the app's saved sites.
//!
//! This module only makes, replaces and checks files; what goes in them is its callers'
//! business.

use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

/// Makes `dir` and any missing parent; each folder made gets mode 0700 on Unix. An existing
/// folder is left as it is.
///
/// # Errors
/// What the file system reports.
pub(crate) fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Makes the folder `dir`, which must not exist yet (mode 0700 on Unix).
///
/// # Errors
/// What the file system reports, `AlreadyExists` included.
pub(crate) fn create_dir(dir: &Path) -> io::Result<()> {
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut builder = fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates the file `path` for writing; it must not exist yet, not even as a symlink (mode
/// 0600 on Unix).
///
/// # Errors
/// What the file system reports, `AlreadyExists` included.
pub(crate) fn create_file(path: &Path) -> io::Result<File> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// A new temporary file beside `path` (`<path>.<pid>.tmp`, see [`create_file`]) and its
/// name, to be renamed over `path` once written. One writer per `path` at a time.
///
/// # Errors
/// What the file system reports.
fn create_temporary(path: &Path) -> io::Result<(PathBuf, File)> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", std::process::id()));
    let temporary = PathBuf::from(temporary);
    let file = match create_file(&temporary) {
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
            // A leftover of a crashed run that had the same process id, or something planted:
            // removed (a symlink itself, never what it points to), never written through.
            fs::remove_file(&temporary)?;
            create_file(&temporary)?
        }
        opened => opened?,
    };
    Ok((temporary, file))
}

/// Replaces `path` with a new private file that `write` fills: a [`create_temporary`] file
/// beside it, synced and renamed over `path` once `write` succeeds, so a reader sees the old
/// file or the new one, never half of one. On any failure the temporary file is removed and
/// `path` is left as it was. The one way Wharf replaces a file: the HTTPS key and
/// certificate, the session index, CSV exports (CLI and app) and the app's saved sites.
///
/// # Errors
/// The outer error is about the file: `InvalidInput` when `path` names no file, or what the
/// file system reports on creating, syncing or renaming it. The inner one is `write`'s.
pub fn replace_private<T, E>(
    path: &Path,
    write: impl FnOnce(&mut File) -> Result<T, E>,
) -> io::Result<Result<T, E>> {
    if path.file_name().is_none() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a file name",
        ));
    }
    let (temporary, mut file) = create_temporary(path)?;
    let written = write(&mut file);
    let synced = if written.is_ok() {
        file.sync_all()
    } else {
        Ok(())
    };
    // Closed before the rename: Windows refuses to rename a file that is open.
    drop(file);
    let replaced = synced.and_then(|()| {
        if written.is_ok() {
            fs::rename(&temporary, path)
        } else {
            Ok(())
        }
    });
    if replaced.is_err() || written.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    replaced.map(|()| written)
}

/// Replaces `path` with a new private file holding `bytes` (see [`replace_private`]).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    replace_private(path, |file| file.write_all(bytes))?
}

/// The mode of `path` (a folder or file, symlinks followed) if group or other users can read,
/// write or enter it; `None` if only its owner can. Always `None` on Windows (see the module
/// docs).
///
/// # Errors
/// What the file system reports, e.g. `NotFound`.
pub(crate) fn open_to_others(path: &Path) -> io::Result<Option<u32>> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = fs::metadata(path)?.permissions().mode() & 0o7777;
        Ok((mode & 0o077 != 0).then_some(mode))
    }
    #[cfg(not(unix))]
    {
        fs::metadata(path).map(|_| None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On every OS: a hard link planted at the temporary's name (which Windows lets any user
    /// make, where a symlink needs a privilege) is removed, never written through.
    #[test]
    fn a_planted_hard_link_is_never_written_through() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        let outside = tmp.path().join("outside");
        fs::write(&outside, "untouched").unwrap();
        let planted = tmp.path().join(format!("f.{}.tmp", std::process::id()));
        fs::hard_link(&outside, &planted).unwrap();
        assert_eq!(
            create_file(&planted).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        write_atomically(&file, b"new").unwrap();
        assert_eq!(fs::read_to_string(&outside).unwrap(), "untouched");
        assert_eq!(fs::read_to_string(&file).unwrap(), "new");
        assert!(!planted.exists());
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt as _;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn folders_and_files_are_made_private_and_never_written_through() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        create_dir_all(&dir).unwrap();
        assert_eq!((mode(&tmp.path().join("a")), mode(&dir)), (0o700, 0o700));
        let file = dir.join("f");
        write_atomically(&file, b"one").unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(open_to_others(&file).unwrap(), None);

        let outside = tmp.path().join("outside");
        fs::write(&outside, "untouched").unwrap();
        let planted = dir.join(format!("f.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&outside, &planted).unwrap();
        assert_eq!(
            create_file(&planted).unwrap_err().kind(),
            io::ErrorKind::AlreadyExists
        );
        write_atomically(&file, b"two").unwrap();
        assert_eq!(fs::read_to_string(&outside).unwrap(), "untouched");
        assert_eq!(fs::read_to_string(&file).unwrap(), "two");
        assert!(!planted.exists());

        let mode = std::os::unix::fs::PermissionsExt::from_mode(0o640);
        fs::set_permissions(&outside, mode).unwrap();
        assert_eq!(open_to_others(&outside).unwrap(), Some(0o640));
    }
}
