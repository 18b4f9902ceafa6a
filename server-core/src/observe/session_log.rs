//! The durable access log: one folder per session under the log directory, holding JSON Lines
//! segments (`000001.jsonl`, ...) and a `session.json` manifest.
//!
//! Only the log's writer thread writes here; exports read. Retention is bounded twice: a
//! session keeps at most `max_session_bytes` (its oldest segments go first) and the directory
//! keeps at most `max_sessions` (the oldest sessions go first). Whatever retention deletes is
//! counted in the manifest, so an export can say what it no longer holds.
//!
//! The log holds what strangers asked for and from where, so it is private: on Unix the
//! folders it makes are 0700 and its files 0600 from the moment they exist (see `private_fs`).

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::files::private_fs;
use crate::observe::access::{unix_ms, AccessRecord};

/// Bytes gathered before each write to disk: a few writes per 100 ms batch at top speed.
const WRITE_BUFFER: usize = 64 * 1024;
/// Manifest file name inside a session folder.
const MANIFEST: &str = "session.json";

/// How much the log keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retention {
    /// Bytes one session may hold before its oldest segments are deleted. Default: 256 MiB.
    pub max_session_bytes: u64,
    /// Sessions kept in the directory, the newest; older ones are deleted. Default: 20.
    pub max_sessions: usize,
    /// Size at which a segment is closed and the next one started. Default: 8 MiB.
    pub segment_bytes: u64,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            max_session_bytes: 256 << 20,
            max_sessions: 20,
            segment_bytes: 8 << 20,
        }
    }
}

/// One line of a segment.
#[allow(clippy::large_enum_variant)] // Read and written one at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum LogLine {
    /// A request.
    Request(AccessRecord),
    /// Records that never reached the log because its queue was full.
    Lost {
        /// How many.
        count: u64,
        /// When the loss was noticed, in milliseconds since the Unix epoch.
        at_ms: u64,
    },
}

/// A session's manifest: who it is, and what retention has deleted from it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    /// The session's id (its folder name).
    pub id: String,
    /// When it started, in milliseconds since the Unix epoch.
    pub started_ms: u64,
    /// Records deleted by the per-session size limit.
    pub dropped_records: u64,
    /// Segments deleted by the per-session size limit.
    pub dropped_segments: u64,
}

struct Segment {
    index: u64,
    bytes: u64,
    records: u64,
}

/// Appends to the current session. Owned by the log's writer thread.
pub struct SessionWriter {
    folder: PathBuf,
    manifest: Manifest,
    retention: Retention,
    /// Closed segments still on disk, oldest first, then the open one.
    segments: Vec<Segment>,
    out: BufWriter<File>,
    line: Vec<u8>,
}

impl std::fmt::Debug for SessionWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionWriter")
            .field("folder", &self.folder)
            .finish_non_exhaustive()
    }
}

impl SessionWriter {
    /// Starts a new session in `dir` (created if missing), deleting the oldest sessions so
    /// that at most `retention.max_sessions` remain, this one included.
    ///
    /// # Errors
    /// What the file system reports.
    pub fn create(dir: &Path, retention: Retention) -> io::Result<SessionWriter> {
        private_fs::create_dir_all(dir)?;
        let old = sessions(dir)?;
        let excess = (old.len() + 1).saturating_sub(retention.max_sessions.max(1));
        for session in old.iter().take(excess) {
            fs::remove_dir_all(&session.folder)?;
        }
        let started_ms = unix_ms(std::time::SystemTime::now());
        let base = session_id(started_ms);
        // Sessions started in the same millisecond are numbered on from the newest, never
        // into a gap the pruning above left, so the newest always sorts last.
        let (id, folder) = (old_sequence(&old, started_ms).map_or(0, |n| n + 1)..)
            .map(|n| {
                if n == 0 {
                    base.clone()
                } else {
                    format!("{base}-{n}")
                }
            })
            .map(|id| (id.clone(), dir.join(id)))
            .find(|(_, folder)| !folder.exists())
            .unwrap_or_else(|| (base.clone(), dir.join(&base)));
        private_fs::create_dir(&folder)?;
        let manifest = Manifest {
            id,
            started_ms,
            ..Manifest::default()
        };
        write_manifest(&folder, &manifest)?;
        let out = BufWriter::with_capacity(
            WRITE_BUFFER,
            private_fs::create_file(&segment_path(&folder, 1))?,
        );
        Ok(SessionWriter {
            folder,
            manifest,
            retention,
            segments: vec![Segment {
                index: 1,
                bytes: 0,
                records: 0,
            }],
            out,
            line: Vec::with_capacity(512),
        })
    }

    /// The session's id.
    pub fn id(&self) -> &str {
        &self.manifest.id
    }

    /// The session's folder.
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// Appends one line (buffered; [`SessionWriter::flush`] makes it durable).
    ///
    /// # Errors
    /// What the file system reports.
    pub fn append(&mut self, line: &LogLine) -> io::Result<()> {
        let mut text = std::mem::take(&mut self.line);
        text.clear();
        serde_json::to_writer(&mut text, line)?;
        let appended = self.append_line(&text, matches!(line, LogLine::Request(_)));
        self.line = text;
        appended
    }

    /// Appends a request's line, already written as JSON (see `packed`), without its newline.
    pub(crate) fn append_request_line(&mut self, json: &[u8]) -> io::Result<()> {
        self.append_line(json, true)
    }

    fn append_line(&mut self, json: &[u8], request: bool) -> io::Result<()> {
        self.out.write_all(json)?;
        self.out.write_all(b"\n")?;
        if let Some(open) = self.segments.last_mut() {
            open.bytes += json.len() as u64 + 1;
            open.records += u64::from(request);
            if open.bytes >= self.retention.segment_bytes {
                self.rotate()?;
            }
        }
        Ok(())
    }

    /// Writes out everything appended so far.
    ///
    /// # Errors
    /// What the file system reports.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.out.flush()?;
        let index = self.segments.last().map_or(1, |open| open.index + 1);
        self.out = BufWriter::with_capacity(
            WRITE_BUFFER,
            private_fs::create_file(&segment_path(&self.folder, index))?,
        );
        self.segments.push(Segment {
            index,
            bytes: 0,
            records: 0,
        });
        let mut total: u64 = self.segments.iter().map(|segment| segment.bytes).sum();
        // Keep the open segment whatever its size; delete the oldest closed ones.
        while total > self.retention.max_session_bytes && self.segments.len() > 1 {
            let oldest = self.segments.remove(0);
            fs::remove_file(segment_path(&self.folder, oldest.index))?;
            total -= oldest.bytes;
            self.manifest.dropped_records += oldest.records;
            self.manifest.dropped_segments += 1;
        }
        write_manifest(&self.folder, &self.manifest)
    }
}

/// A session on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// Its manifest.
    pub manifest: Manifest,
    /// Its folder.
    pub folder: PathBuf,
}

/// The sessions in `dir`, oldest first. Folders without a readable manifest are skipped.
///
/// # Errors
/// What the file system reports for `dir` itself.
pub fn sessions(dir: &Path) -> io::Result<Vec<SessionInfo>> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let folder = entry?.path();
        let Ok(text) = fs::read_to_string(folder.join(MANIFEST)) else {
            continue;
        };
        if let Ok(manifest) = serde_json::from_str::<Manifest>(&text) {
            found.push(SessionInfo { manifest, folder });
        }
    }
    found.sort_by_key(|session| (session.manifest.started_ms, sequence(&session.manifest.id)));
    Ok(found)
}

/// A session's number among those started in the same millisecond: 0 for `<time>`, `n` for
/// `<time>-n`.
fn sequence(id: &str) -> u64 {
    id.rsplit_once('-')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or(0)
}

/// The highest number among `sessions` started at `started_ms`, if any.
fn old_sequence(sessions: &[SessionInfo], started_ms: u64) -> Option<u64> {
    sessions
        .iter()
        .filter(|session| session.manifest.started_ms == started_ms)
        .map(|session| sequence(&session.manifest.id))
        .max()
}

/// Reads a session's lines in order, segment by segment, in bounded memory.
pub struct SessionReader {
    segments: std::vec::IntoIter<PathBuf>,
    current: Option<BufReader<File>>,
    buffer: String,
    /// Lines that could not be parsed (a line torn by a crash), skipped.
    pub unreadable: u64,
}

impl SessionReader {
    /// Opens `session` for reading.
    ///
    /// # Errors
    /// What the file system reports.
    pub fn open(session: &SessionInfo) -> io::Result<SessionReader> {
        let mut segments: Vec<(u64, PathBuf)> = fs::read_dir(&session.folder)?
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                let index = path
                    .file_name()?
                    .to_str()?
                    .strip_suffix(".jsonl")?
                    .parse()
                    .ok()?;
                Some((index, path))
            })
            .collect();
        segments.sort_unstable();
        Ok(SessionReader {
            segments: segments
                .into_iter()
                .map(|(_, path)| path)
                .collect::<Vec<_>>()
                .into_iter(),
            current: None,
            buffer: String::new(),
            unreadable: 0,
        })
    }
}

impl Iterator for SessionReader {
    type Item = io::Result<LogLine>;

    fn next(&mut self) -> Option<io::Result<LogLine>> {
        loop {
            let reader = match &mut self.current {
                Some(reader) => reader,
                None => {
                    let path = self.segments.next()?;
                    match File::open(path) {
                        Ok(file) => self.current.insert(BufReader::new(file)),
                        // Deleted by retention meanwhile: nothing to read there.
                        Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
                        Err(err) => return Some(Err(err)),
                    }
                }
            };
            self.buffer.clear();
            match reader.read_line(&mut self.buffer) {
                Ok(0) => self.current = None,
                Ok(_) => match serde_json::from_str(self.buffer.trim_end()) {
                    Ok(line) => return Some(Ok(line)),
                    Err(_) => self.unreadable += 1,
                },
                Err(err) => return Some(Err(err)),
            }
        }
    }
}

fn segment_path(folder: &Path, index: u64) -> PathBuf {
    folder.join(format!("{index:06}.jsonl"))
}

fn write_manifest(folder: &Path, manifest: &Manifest) -> io::Result<()> {
    private_fs::write_atomically(
        &folder.join(MANIFEST),
        &serde_json::to_vec_pretty(manifest)?,
    )
}

/// `20261121T030203.456Z`: sortable, and safe as a folder name everywhere.
fn session_id(started_ms: u64) -> String {
    crate::observe::access::rfc3339_ms(started_ms).replace(['-', ':'], "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: u64) -> LogLine {
        LogLine::Request(AccessRecord {
            id,
            body_bytes: 1024,
            user_agent: Some("curl/8".into()),
            ..AccessRecord::example(&format!("/file-{id}.txt?q=\"x\""))
        })
    }

    #[test]
    fn writes_and_reads_back_every_line_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SessionWriter::create(dir.path(), Retention::default()).unwrap();
        for id in 1..=1000 {
            writer.append(&record(id)).unwrap();
        }
        writer
            .append(&LogLine::Lost { count: 3, at_ms: 1 })
            .unwrap();
        writer.flush().unwrap();
        let listed = sessions(dir.path()).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].manifest.id, writer.id());
        let lines: Vec<LogLine> = SessionReader::open(&listed[0])
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(lines.len(), 1001);
        assert_eq!(lines[0], record(1));
        assert_eq!(lines[1000], LogLine::Lost { count: 3, at_ms: 1 });
    }

    #[test]
    fn a_full_session_drops_its_oldest_segments_and_counts_them() {
        let dir = tempfile::tempdir().unwrap();
        let retention = Retention {
            max_session_bytes: 20_000,
            max_sessions: 20,
            segment_bytes: 5_000,
        };
        let mut writer = SessionWriter::create(dir.path(), retention).unwrap();
        for id in 1..=1000 {
            writer.append(&record(id)).unwrap();
        }
        writer.flush().unwrap();
        let session = &sessions(dir.path()).unwrap()[0];
        let kept: Vec<u64> = SessionReader::open(session)
            .unwrap()
            .map(|line| match line.unwrap() {
                LogLine::Request(record) => record.id,
                LogLine::Lost { .. } => 0,
            })
            .collect();
        assert!(session.manifest.dropped_records > 0);
        assert_eq!(kept.len() as u64 + session.manifest.dropped_records, 1000);
        assert_eq!(
            kept[0],
            session.manifest.dropped_records + 1,
            "oldest went first"
        );
        assert_eq!(*kept.last().unwrap(), 1000);
    }

    #[test]
    fn old_sessions_are_deleted_oldest_first() {
        let dir = tempfile::tempdir().unwrap();
        let retention = Retention {
            max_sessions: 2,
            ..Retention::default()
        };
        let ids: Vec<String> = (0..3)
            .map(|_| {
                SessionWriter::create(dir.path(), retention.clone())
                    .unwrap()
                    .id()
                    .to_owned()
            })
            .collect();
        let left: Vec<String> = sessions(dir.path())
            .unwrap()
            .into_iter()
            .map(|session| session.manifest.id)
            .collect();
        assert_eq!(left, ids[1..]);
    }

    #[test]
    fn a_torn_last_line_is_skipped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SessionWriter::create(dir.path(), Retention::default()).unwrap();
        writer.append(&record(1)).unwrap();
        writer.flush().unwrap();
        let segment = segment_path(writer.folder(), 1);
        let mut file = fs::OpenOptions::new().append(true).open(segment).unwrap();
        file.write_all(b"{\"type\":\"request\",\"id\":2,\"sta")
            .unwrap();
        let session = &sessions(dir.path()).unwrap()[0];
        let mut reader = SessionReader::open(session).unwrap();
        assert_eq!(reader.by_ref().count(), 1);
        assert_eq!(reader.unreadable, 1);
    }

    #[cfg(unix)]
    #[test]
    fn log_folders_are_0700_and_their_files_0600() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("access-log/site");
        let retention = Retention {
            segment_bytes: 1_000,
            ..Retention::default()
        };
        let mut writer = SessionWriter::create(&dir, retention).unwrap();
        for id in 1..=20 {
            writer.append(&record(id)).unwrap();
        }
        writer.flush().unwrap();
        let folders = [tmp.path().join("access-log"), dir, writer.folder().into()];
        for folder in &folders {
            assert_eq!(mode(folder), 0o700, "{}", folder.display());
        }
        let files: Vec<PathBuf> = fs::read_dir(writer.folder())
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        assert!(
            files.len() > 2,
            "a manifest and rotated segments: {files:?}"
        );
        for file in &files {
            assert_eq!(mode(file), 0o600, "{}", file.display());
        }
    }
}
