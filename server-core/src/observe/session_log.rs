//! The durable access log: one folder per session under the log directory, holding segments
//! (`000001.wlog`, ...) and a `session.json` manifest.
//!
//! A segment is a short header ([`MAGIC`]) and then frames: a request is its id and its
//! record as the request path packed it (`packed`), copied as is, so writing costs no
//! formatting and about 130 bytes a request (about 400 with its headers, which a durable log
//! keeps for the HAR export: `packed`); a loss is its count and time. Sessions written
//! by earlier versions, as JSON Lines (`000001.jsonl`), are still read.
//!
//! Only the log's writer thread writes here; exports read. Retention is bounded twice: a
//! session keeps at most `max_session_bytes` (its oldest segments go first) and the directory
//! keeps at most `max_sessions` (the oldest sessions go first). Whatever retention deletes is
//! counted in the manifest, so an export can say what it no longer holds.
//!
//! The log holds what strangers asked for and from where, so it is private: on Unix the
//! folders it makes are 0700 and its files 0600 from the moment they exist (see `private_fs`).

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::files::private_fs;
use crate::observe::access::{unix_ms, AccessRecord};
use crate::observe::packed::{self, Numbers, Packed, RequestText};

/// Bytes gathered before each write to disk: a few writes per 100 ms batch at top speed.
const WRITE_BUFFER: usize = 64 * 1024;
/// The first bytes of every segment: what it is, and the version of its frames.
const MAGIC: &[u8; 8] = b"WHARFLG1";
/// A frame holding a request: its id (8 bytes), then its packed record.
const REQUEST: u8 = 1;
/// A frame holding a loss: its count and time (8 bytes each).
const LOST: u8 = 2;
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
    /// A packed record, reused.
    scratch: Vec<u8>,
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
        let out = open_segment(&segment_path(&folder, 1))?;
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
            scratch: Vec::new(),
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

    /// Appends one line (buffered; [`SessionWriter::flush`] makes it durable). The log's
    /// writer appends requests with [`SessionWriter::append_packed`]; this is for losses,
    /// and for tests and tools that write whole records.
    ///
    /// # Errors
    /// What the file system reports.
    pub fn append(&mut self, line: &LogLine) -> io::Result<()> {
        match line {
            LogLine::Request(record) => {
                let mut scratch = std::mem::take(&mut self.scratch);
                scratch.clear();
                packed::pack(
                    &Numbers::of(record),
                    &RequestText::of_record(record),
                    &mut scratch,
                );
                let appended = self.append_packed(record.id, &scratch);
                self.scratch = scratch;
                appended
            }
            LogLine::Lost { count, at_ms } => {
                let mut frame = [0; 17];
                frame[0] = LOST;
                frame[1..9].copy_from_slice(&count.to_le_bytes());
                frame[9..].copy_from_slice(&at_ms.to_le_bytes());
                self.append_frame(&[&frame], false)
            }
        }
    }

    /// Appends request `id`, its record packed by the request path (see `packed`).
    pub(crate) fn append_packed(&mut self, id: u64, record: &[u8]) -> io::Result<()> {
        let mut head = [REQUEST; 9];
        head[1..].copy_from_slice(&id.to_le_bytes());
        self.append_frame(&[&head, record], true)
    }

    fn append_frame(&mut self, parts: &[&[u8]], request: bool) -> io::Result<()> {
        let mut len = 0;
        for part in parts {
            self.out.write_all(part)?;
            len += part.len() as u64;
        }
        if let Some(open) = self.segments.last_mut() {
            open.bytes += len;
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
        self.out = open_segment(&segment_path(&self.folder, index))?;
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

/// A new segment, its header written.
fn open_segment(path: &Path) -> io::Result<BufWriter<File>> {
    let mut out = BufWriter::with_capacity(WRITE_BUFFER, private_fs::create_file(path)?);
    out.write_all(MAGIC)?;
    Ok(out)
}

/// Reads a session's lines in order, segment by segment, in bounded memory.
pub struct SessionReader {
    segments: std::vec::IntoIter<PathBuf>,
    current: Option<SegmentReader>,
    /// Lines that could not be parsed (a line torn by a crash), skipped.
    pub unreadable: u64,
}

/// The segment being read, by its format.
enum SegmentReader {
    Frames(BufReader<File>),
    /// Written by an earlier version.
    JsonLines(BufReader<File>),
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
                let name = path.file_name()?.to_str()?;
                let index = name
                    .strip_suffix(".wlog")
                    .or_else(|| name.strip_suffix(".jsonl"))?
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
            unreadable: 0,
        })
    }

    /// Opens the next segment: `None` when there is none left.
    fn next_segment(&mut self) -> Option<io::Result<()>> {
        loop {
            let path = self.segments.next()?;
            let file = match File::open(&path) {
                Ok(file) => BufReader::new(file),
                // Deleted by retention meanwhile: nothing to read there.
                Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
                Err(err) => return Some(Err(err)),
            };
            if path.extension().is_some_and(|ext| ext == "jsonl") {
                self.current = Some(SegmentReader::JsonLines(file));
                return Some(Ok(()));
            }
            let mut file = file;
            let mut magic = [0; MAGIC.len()];
            match file.read_exact(&mut magic) {
                Ok(()) if &magic == MAGIC => {
                    self.current = Some(SegmentReader::Frames(file));
                    return Some(Ok(()));
                }
                // Empty (a crash before the header was written) or not a segment.
                Ok(()) | Err(_) => self.unreadable += 1,
            }
        }
    }
}

/// Reads a segment's next frame: `Ok(None)` at its end, `Err(None)` for a frame cut short or
/// not understood (a crash mid-write), after which the rest of the segment is unreadable.
fn read_frame(file: &mut BufReader<File>) -> Result<Option<LogLine>, Option<io::Error>> {
    let mut tag = [0];
    match file.read(&mut tag) {
        Ok(0) => return Ok(None),
        Ok(_) => {}
        Err(err) => return Err(Some(err)),
    }
    let cut = |err: io::Error| match err.kind() {
        io::ErrorKind::UnexpectedEof => None,
        _ => Some(err),
    };
    match tag[0] {
        REQUEST => {
            let mut head = [0; 12];
            file.read_exact(&mut head).map_err(cut)?;
            let id = u64::from_le_bytes(head[..8].try_into().unwrap_or_default());
            let len = packed::packed_len(&head[8..]).ok_or(None)?;
            let mut record = vec![0; len];
            record[..4].copy_from_slice(&head[8..]);
            file.read_exact(&mut record[4..]).map_err(cut)?;
            let read = Packed::read(&record).ok_or(None)?;
            Ok(Some(LogLine::Request(read.to_record(id))))
        }
        LOST => {
            let mut u64s = [0; 16];
            file.read_exact(&mut u64s).map_err(cut)?;
            let count = u64::from_le_bytes(u64s[..8].try_into().unwrap_or_default());
            let at_ms = u64::from_le_bytes(u64s[8..].try_into().unwrap_or_default());
            Ok(Some(LogLine::Lost { count, at_ms }))
        }
        _ => Err(None),
    }
}

impl Iterator for SessionReader {
    type Item = io::Result<LogLine>;

    fn next(&mut self) -> Option<io::Result<LogLine>> {
        loop {
            let line = match &mut self.current {
                None => match self.next_segment()? {
                    Ok(()) => continue,
                    Err(err) => return Some(Err(err)),
                },
                Some(SegmentReader::Frames(file)) => read_frame(file),
                Some(SegmentReader::JsonLines(file)) => read_json_line(file),
            };
            match line {
                Ok(Some(line)) => return Some(Ok(line)),
                Ok(None) => self.current = None,
                Err(None) => {
                    self.unreadable += 1;
                    if matches!(self.current, Some(SegmentReader::Frames(_))) {
                        self.current = None;
                    }
                }
                Err(Some(err)) => return Some(Err(err)),
            }
        }
    }
}

/// Reads a JSON Lines segment's next line, as [`read_frame`] reads a frame; a line that does
/// not parse is skipped alone.
fn read_json_line(file: &mut BufReader<File>) -> Result<Option<LogLine>, Option<io::Error>> {
    let mut line = String::new();
    match file.read_line(&mut line) {
        Ok(0) => Ok(None),
        Ok(_) => serde_json::from_str(line.trim_end())
            .map(Some)
            .map_err(|_| None),
        // Not UTF-8 (a line torn inside a character): skip it like any torn line.
        Err(err) if err.kind() == io::ErrorKind::InvalidData => Err(None),
        Err(err) => Err(Some(err)),
    }
}

fn segment_path(folder: &Path, index: u64) -> PathBuf {
    folder.join(format!("{index:06}.wlog"))
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
    fn a_torn_last_frame_is_skipped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let mut writer = SessionWriter::create(dir.path(), Retention::default()).unwrap();
        writer.append(&record(1)).unwrap();
        writer.append(&record(2)).unwrap();
        writer.flush().unwrap();
        let segment = segment_path(writer.folder(), 1);
        let whole = fs::read(&segment).unwrap();
        // A crash in the middle of the second record.
        fs::write(&segment, &whole[..whole.len() - 20]).unwrap();
        let session = &sessions(dir.path()).unwrap()[0];
        let mut reader = SessionReader::open(session).unwrap();
        let ids: Vec<u64> = reader
            .by_ref()
            .map(|line| match line.unwrap() {
                LogLine::Request(record) => record.id,
                LogLine::Lost { .. } => 0,
            })
            .collect();
        assert_eq!(ids, [1]);
        assert_eq!(reader.unreadable, 1);
    }

    /// Sessions written by earlier versions, as JSON Lines, still read; a torn line is
    /// skipped alone.
    #[test]
    fn json_lines_segments_still_read() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SessionWriter::create(dir.path(), Retention::default()).unwrap();
        let folder = writer.folder().to_path_buf();
        drop(writer);
        fs::remove_file(segment_path(&folder, 1)).unwrap();
        let mut text = String::new();
        for id in [1, 2] {
            text += &serde_json::to_string(&record(id)).unwrap();
            text.push('\n');
        }
        text += "{\"type\":\"request\",\"id\":3,\"sta\n";
        text += &serde_json::to_string(&LogLine::Lost { count: 4, at_ms: 5 }).unwrap();
        text.push('\n');
        fs::write(folder.join("000001.jsonl"), text).unwrap();
        let session = &sessions(dir.path()).unwrap()[0];
        let mut reader = SessionReader::open(session).unwrap();
        let lines: Vec<LogLine> = reader.by_ref().map(Result::unwrap).collect();
        assert_eq!(
            lines,
            [record(1), record(2), LogLine::Lost { count: 4, at_ms: 5 }]
        );
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
