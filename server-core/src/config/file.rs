//! Reads a `wharf.toml` into a [`ConfigDraft`], with errors that point at the line.
//!
//! The file holds the same fields as the draft, spelled in snake_case (`keep_alive = false`)
//! or camelCase. A relative `root` or `cert_dir` is taken from the file's own folder, and a
//! file without `root` serves its own folder, so a config file works wherever the command is
//! run from.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use super::changes::snake_case;
use super::error::{write_place, ConfigError};
use super::settings::{ConfigDraft, ServerConfig};

/// Why a config file could not be used: where, which field, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFileError {
    /// The file.
    pub path: PathBuf,
    /// 1-based line of the fault, when it can be placed.
    pub line: Option<usize>,
    /// The field at fault, as the file spells it, when there is one.
    pub field: Option<String>,
    /// For a list field, the position of the item at fault, from 0. (`u32`, not `usize`: no
    /// file holds 2^32 items, and the error stays small enough to return by value where
    /// paths are larger, on Windows.)
    pub index: Option<u32>,
    /// For a list of tables, the item's member at fault (`name`).
    pub member: Option<&'static str>,
    /// What is wrong and what would be accepted.
    pub reason: String,
}

impl fmt::Display for ConfigFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        write!(f, ": ")?;
        if let Some(field) = &self.field {
            write_place(
                f,
                field,
                self.index.map(|index| index as usize),
                self.member,
            )?;
            write!(f, ": ")?;
        }
        write!(f, "{}", self.reason)
    }
}

impl std::error::Error for ConfigFileError {}

/// A config file read and parsed, not yet validated.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    path: PathBuf,
    text: String,
    /// The draft, with a relative `root` already resolved against the file's folder.
    pub draft: ConfigDraft,
}

impl ConfigFile {
    /// Reads and parses `path`.
    ///
    /// # Errors
    /// [`ConfigFileError`] if the file cannot be read, is not TOML, or has a field of the
    /// wrong type or an unknown field.
    pub fn read(path: &Path) -> Result<ConfigFile, ConfigFileError> {
        let text = std::fs::read_to_string(path).map_err(|err| ConfigFileError {
            path: path.to_path_buf(),
            line: None,
            field: None,
            index: None,
            member: None,
            reason: format!("cannot be read: {err}"),
        })?;
        ConfigFile::parse(path, text)
    }

    /// Parses `text` as the contents of `path`.
    ///
    /// # Errors
    /// As [`ConfigFile::read`], but for reading.
    pub fn parse(path: &Path, text: String) -> Result<ConfigFile, ConfigFileError> {
        let mut draft: ConfigDraft = toml::from_str(&text).map_err(|err| ConfigFileError {
            path: path.to_path_buf(),
            line: err.span().map(|span| line_of(&text, span)),
            field: None,
            index: None,
            member: None,
            reason: err.message().trim_end().to_owned(),
        })?;
        let folder = path
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        draft.root = Some(match draft.root.take() {
            Some(root) => folder.join(root),
            None => folder.to_path_buf(),
        });
        draft.cert_dir = draft.cert_dir.take().map(|dir| folder.join(dir));
        Ok(ConfigFile {
            path: path.to_path_buf(),
            text,
            draft,
        })
    }

    /// Turns a validation error about this file's draft into one that names the line.
    pub fn locate(&self, error: ConfigError) -> ConfigFileError {
        let snake = snake_case(error.field);
        let found = [snake.as_str(), error.field].into_iter().find_map(|key| {
            error
                .index
                .and_then(|index| table_line(&self.text, key, index, error.member.unwrap_or("")))
                .or_else(|| key_line(&self.text, key))
                .map(|line| (key, line))
        });
        ConfigFileError {
            path: self.path.clone(),
            line: found.map(|(_, line)| line),
            field: Some(found.map_or(snake.clone(), |(key, _)| key.to_owned())),
            index: error.index.and_then(|index| u32::try_from(index).ok()),
            member: error.member,
            reason: error.reason,
        }
    }

    /// Validates the draft as the first generation of a server.
    ///
    /// # Errors
    /// [`ConfigFileError`] naming the field and its line.
    pub fn validate(&self) -> Result<ServerConfig, ConfigFileError> {
        ServerConfig::try_from(self.draft.clone()).map_err(|err| self.locate(err))
    }
}

/// The 1-based line where `span` starts.
fn line_of(text: &str, span: Range<usize>) -> usize {
    let start = span.start.min(text.len());
    text.as_bytes()[..start]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// The 1-based line of `member = ...` in the `index`th `[[key]]` table, or of the table's
/// header when the member is not written there.
fn table_line(text: &str, key: &str, index: usize, member: &str) -> Option<usize> {
    let header = format!("[[{key}]]");
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| line.trim() == header)
        .nth(index)?
        .0;
    let body = lines[start + 1..]
        .iter()
        .take_while(|line| !line.trim_start().starts_with('['));
    let member_line = body.enumerate().find_map(|(offset, line)| {
        let rest = line.trim_start().strip_prefix(member)?;
        (!member.is_empty() && rest.trim_start().starts_with('=')).then_some(start + 1 + offset)
    });
    Some(member_line.unwrap_or(start) + 1)
}

/// The 1-based line that assigns `key` at the top level, e.g. `key = 1` or `"key" = 1`.
fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            let line = line.trim_start();
            let rest = line
                .strip_prefix(key)
                .or_else(|| line.strip_prefix(&format!("\"{key}\"")));
            rest.is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map(|index| index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConfigFile, ConfigFileError> {
        ConfigFile::parse(Path::new("/sites/blog/wharf.toml"), text.to_owned())
    }

    #[test]
    fn reads_snake_and_camel_case() {
        let file =
            parse("root = \"public\"\nkeep_alive = false\nheaderReadTimeoutMs = 2000\n").unwrap();
        assert_eq!(file.draft.keep_alive, Some(false));
        assert_eq!(file.draft.header_read_timeout_ms, Some(2000));
        assert_eq!(file.draft.root, Some(PathBuf::from("/sites/blog/public")));
        let rootless = parse("port = 0\n").unwrap();
        assert_eq!(rootless.draft.root, Some(PathBuf::from("/sites/blog")));
        let absolute = parse("root = \"/srv/www\"\n").unwrap();
        assert_eq!(absolute.draft.root, Some(PathBuf::from("/srv/www")));
        let https = parse("https_port = 8443\ncert_dir = \"certs\"\n").unwrap();
        assert_eq!(https.draft.https_port, Some(8443));
        assert_eq!(
            https.draft.cert_dir,
            Some(PathBuf::from("/sites/blog/certs"))
        );
    }

    #[test]
    fn type_errors_name_the_line() {
        let err = parse("port = 8080\nkeep_alive = \"yes\"\n").unwrap_err();
        assert_eq!(err.line, Some(2), "{err}");
        assert!(
            err.to_string().starts_with("/sites/blog/wharf.toml:2: "),
            "{err}"
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = parse("port = 8080\n\nkeepalive = false\n").unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(err.reason.contains("unknown field `keepalive`"), "{err}");
    }

    #[test]
    fn validation_errors_name_field_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!("root = {:?}\n# the port\n  port = 70000\n", dir.path());
        let err = parse(&text).unwrap().validate().unwrap_err();
        assert_eq!(err.line, Some(3));
        assert_eq!(err.field.as_deref(), Some("port"));
        assert!(
            err.to_string()
                .contains(":3: port: 70000 is not a valid port"),
            "{err}"
        );

        let text = format!(
            "root = {:?}\n\n[[custom_headers]]\npath = \"/a/**\"\nname = \"X-A\"\nvalue = \"1\"\n\n\
             [[custom_headers]]\npath = \"/b/**\"\nname = \"Bad Name\"\nvalue = \"2\"\n",
            dir.path()
        );
        let err = parse(&text).unwrap().validate().unwrap_err();
        assert_eq!(err.line, Some(10), "{err}");
        assert!(
            err.to_string()
                .contains(":10: custom_headers[1].name: \"Bad Name\" is not a valid header name"),
            "{err}"
        );

        // Proxy rules (issue 18) in the TOML form, with snake_case members.
        let text = format!(
            "root = {:?}\n\n[[proxy]]\npath = \"/api\"\ntarget = \"http://localhost:3000\"\n\
             rewrite = \"\"\nchange_origin = false\n\n[[proxy]]\npath = \"/b\"\ntarget = \"ftp://x\"\n",
            dir.path()
        );
        let err = parse(&text).unwrap().validate().unwrap_err();
        assert!(
            err.to_string()
                .contains("proxy[1].target: \"ftp://x\" is not an http:// or https:// URL"),
            "{err}"
        );
        let text = text.replace("ftp://x", "http://127.0.0.1:4000");
        let config = parse(&text).unwrap().validate().unwrap();
        let rule = &config.proxy.rules()[0];
        assert_eq!(
            (rule.rewrite.as_deref(), rule.change_origin),
            (Some(""), false)
        );

        let text = format!("root = {:?}\nmaxConnections = 0\n", dir.path());
        let err = parse(&text).unwrap().validate().unwrap_err();
        assert_eq!(
            (err.line, err.field.as_deref()),
            (Some(2), Some("maxConnections"))
        );
    }
}
