//! A file's response, once `route` has chosen the file: its representation (the file, a
//! precompressed sibling, the body compressed in memory, or the page with the live-reload
//! script), its validators, the preconditions and ranges asked for, and its body (a slice of
//! the cached bytes, or a stream from disk).
//!
//! This is the hot path: a cached file costs a lookup and a few header inserts, no copy. Which
//! file answers, and whether it may, is `route`'s; the HTTP rules themselves are in
//! `conditional`, `range` and `encoding`.

use std::path::Path;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::header::{self, HeaderMap, HeaderValue};
use http::{Response, StatusCode};

use crate::files::cache::{CachedFile, FileCache, Lookup, Rewritten};
use crate::http::body::Body;
use crate::live_reload;
use crate::observe::why::{self, Validation};
use crate::serve::conditional::{self, Precondition, Validators};
use crate::serve::encoding::{self, Encoding};
use crate::serve::range::{self, ByteRange, RangeDecision};
use crate::serve::route::{lookup, Visit};
use crate::serve::service::status_page;

const BYTES: HeaderValue = HeaderValue::from_static("bytes");
const VARY_ENCODING: HeaderValue = HeaderValue::from_static("accept-encoding");

/// The representation chosen for a response: the file itself, a compressed variant, or the
/// page with the live-reload script (and its compressed variants).
struct Representation {
    encoding: Encoding,
    /// Which it is, and for the file itself why, for the access record.
    why: why::Representation,
    /// Whether it carries the live-reload script.
    injected: bool,
    /// The variant's own body, when it is not the file's.
    body: Option<Bytes>,
    etag: HeaderValue,
}

/// Serves `entry` (found at `path`) with `status`: 200 for a page, with validators,
/// preconditions, ranges and codings; or 404 for the site's `404.html`, which is sent whole
/// and without validators, because preconditions and ranges are about the resource asked for.
/// Returns the content coding it chose, for the access log.
pub(super) async fn serve_file<B>(
    visit: &Visit<'_, B>,
    path: &Path,
    entry: &Arc<CachedFile>,
    status: StatusCode,
) -> (Response<Body>, Encoding) {
    let config = visit.config;
    let headers = visit.request.headers();
    let page = status == StatusCode::OK;
    let compressible = config.compression && encoding::is_compressible(&entry.content_type);
    let wants_range = config.byte_ranges && page && headers.contains_key(header::RANGE);
    let chosen = choose(visit, path, entry, compressible, wants_range).await;
    let encoding = chosen.encoding;
    visit.why.note(|noted| {
        noted.body = chosen.why;
        noted.injected = chosen.injected;
    });

    let mut out = HeaderMap::new();
    out.insert(header::CACHE_CONTROL, config.cache_control.clone());
    if compressible {
        out.insert(header::VARY, VARY_ENCODING);
    }
    let response = if page {
        serve_page(visit, entry, chosen, wants_range, out)
    } else {
        serve_whole(entry, chosen, status, out)
    };
    (response, encoding)
}

/// The representation to send. A range is always of the file as it is on disk: never
/// compressed, never injected.
async fn choose<B>(
    visit: &Visit<'_, B>,
    path: &Path,
    entry: &CachedFile,
    compressible: bool,
    wants_range: bool,
) -> Representation {
    let headers = visit.request.headers();
    let injected =
        if visit.config.live_reload && !wants_range && live_reload::is_html(&entry.content_type) {
            entry.injected(live_reload::inject)
        } else {
            None
        };
    if let Some(injected) = injected {
        choose_injected(compressible, headers, entry, injected)
    } else if compressible && !wants_range {
        // Boxed: a precompressed sibling's lookup would make every file's future larger.
        Box::pin(choose_encoding(visit, path, entry)).await
    } else {
        let why = if wants_range {
            why::Representation::Range
        } else if !visit.config.compression {
            why::Representation::CompressionOff
        } else {
            why::Representation::NotCompressible
        };
        identity(entry, why)
    }
}

/// The file as it is on disk, sent so for the reason `why`.
fn identity(entry: &CachedFile, why: why::Representation) -> Representation {
    Representation {
        encoding: Encoding::Identity,
        why,
        injected: false,
        body: None,
        etag: entry.etag.clone(),
    }
}

/// The chosen representation sent whole with `status`, without validators.
fn serve_whole(
    entry: &CachedFile,
    chosen: Representation,
    status: StatusCode,
    mut out: HeaderMap,
) -> Response<Body> {
    out.insert(header::CONTENT_TYPE, entry.content_type.clone());
    if let Some(token) = chosen.encoding.token() {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static(token));
    }
    match chosen.body {
        Some(body) => with_headers(status, out, Body::Full(body)),
        None => match full_body(entry) {
            Some(body) => with_headers(status, out, body),
            None => status_page(status),
        },
    }
}

/// The page asked for: its validators, then the preconditions, then the representation, or
/// the ranges of the file asked for.
fn serve_page<B>(
    visit: &Visit<'_, B>,
    entry: &CachedFile,
    chosen: Representation,
    wants_range: bool,
    mut out: HeaderMap,
) -> Response<Body> {
    let headers = visit.request.headers();
    out.insert(header::ETAG, chosen.etag.clone());
    if let Some(last_modified) = &entry.last_modified {
        out.insert(header::LAST_MODIFIED, last_modified.clone());
    }
    let validators = Validators {
        etag: chosen.etag.to_str().ok(),
        last_modified: entry.modified,
    };
    let precondition = conditional::evaluate(visit.request.method(), headers, &validators);
    let validation = validation(headers, precondition);
    if validation != Validation::Unknown {
        visit.why.note(|noted| noted.validation = validation);
    }
    match precondition {
        Precondition::Proceed => {}
        Precondition::NotModified => {
            return with_headers(StatusCode::NOT_MODIFIED, out, Body::Empty)
        }
        Precondition::Failed => {
            return with_headers(StatusCode::PRECONDITION_FAILED, out, Body::Empty)
        }
    }

    out.insert(header::CONTENT_TYPE, entry.content_type.clone());
    if let Some(token) = chosen.encoding.token() {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static(token));
        let body = chosen.body.unwrap_or_default();
        return with_headers(StatusCode::OK, out, Body::Full(body));
    }
    // The page with the script: ranges of it are not offered (a range gets the file itself).
    if let Some(body) = chosen.body {
        return with_headers(StatusCode::OK, out, Body::Full(body));
    }
    if visit.config.byte_ranges {
        out.insert(header::ACCEPT_RANGES, BYTES);
    }
    let decision = if wants_range && conditional::if_range_allows(headers, &validators) {
        range::decide(headers.get(header::RANGE), entry.len)
    } else {
        RangeDecision::Full
    };
    serve_ranges(entry, decision, out)
}

/// Which validator decided `precondition`, for the access record: `If-None-Match` when sent
/// (it overrides `If-Modified-Since`, RFC 9110 §13.1.3), else `If-Modified-Since`.
fn validation(headers: &HeaderMap, precondition: Precondition) -> Validation {
    let etag = headers.contains_key(header::IF_NONE_MATCH);
    match precondition {
        Precondition::Failed => Validation::PreconditionFailed,
        Precondition::NotModified if etag => Validation::EtagMatched,
        Precondition::NotModified => Validation::DateUnchanged,
        Precondition::Proceed if etag => Validation::EtagChanged,
        Precondition::Proceed if headers.contains_key(header::IF_MODIFIED_SINCE) => {
            Validation::DateChanged
        }
        Precondition::Proceed => Validation::Unknown,
    }
}

/// The file itself, whole or in the ranges decided.
fn serve_ranges(entry: &CachedFile, decision: RangeDecision, mut out: HeaderMap) -> Response<Body> {
    match decision {
        RangeDecision::Full => match full_body(entry) {
            Some(body) => with_headers(StatusCode::OK, out, body),
            None => status_page(StatusCode::NOT_FOUND),
        },
        RangeDecision::Unsatisfiable => {
            out.insert(
                header::CONTENT_RANGE,
                header_value(&range::unsatisfied_content_range(entry.len)),
            );
            with_headers(StatusCode::RANGE_NOT_SATISFIABLE, out, Body::Empty)
        }
        RangeDecision::Partial(ranges) if ranges.len() == 1 => {
            let part = ranges[0];
            out.insert(
                header::CONTENT_RANGE,
                header_value(&part.content_range(entry.len)),
            );
            match slice_body(entry, part.start, part.len()) {
                Some(body) => with_headers(StatusCode::PARTIAL_CONTENT, out, body),
                None => status_page(StatusCode::NOT_FOUND),
            }
        }
        RangeDecision::Partial(ranges) => match &entry.body {
            Some(body) => multipart(entry, body, &ranges, out),
            // Several ranges of a file too big to keep in memory: RFC 9110 §14.2 lets us send
            // the whole file instead, which players never ask for anyway.
            None => match full_body(entry) {
                Some(body) => with_headers(StatusCode::OK, out, body),
                None => status_page(StatusCode::NOT_FOUND),
            },
        },
    }
}

/// Several ranges of a cached file, as one `multipart/byteranges` body.
fn multipart(
    entry: &CachedFile,
    body: &Bytes,
    ranges: &[ByteRange],
    mut out: HeaderMap,
) -> Response<Body> {
    let content_type = entry
        .content_type
        .to_str()
        .unwrap_or("application/octet-stream");
    let layout = range::multipart_layout(
        ranges,
        entry.len,
        content_type,
        &range::multipart_boundary(),
    );
    let mut buf = BytesMut::with_capacity(layout.content_length() as usize);
    for (part_head, part) in layout.parts() {
        buf.extend_from_slice(part_head);
        buf.extend_from_slice(&body[part.start as usize..=part.end as usize]);
    }
    buf.extend_from_slice(&layout.closing());
    out.insert(header::CONTENT_TYPE, header_value(&layout.content_type()));
    with_headers(StatusCode::PARTIAL_CONTENT, out, Body::Full(buf.freeze()))
}

/// Picks the best coding the client accepts: a precompressed sibling (`app.js.br`) that is
/// at least as new as the file, else the body compressed in memory, else the file itself.
async fn choose_encoding<B>(
    visit: &Visit<'_, B>,
    path: &Path,
    entry: &CachedFile,
) -> Representation {
    // Identity because nothing the client accepts is at hand, or because it accepts nothing.
    let mut why = why::Representation::NotAccepted;
    for encoding in encoding::preferences(visit.request.headers()) {
        let Some(suffix) = encoding.suffix() else {
            break;
        };
        why = why::Representation::NotSmaller;
        let root = &visit.config.root;
        if let Some(body) = precompressed(visit.cache, root, path, suffix, entry).await {
            return variant(encoding, body, entry, "p");
        }
        let compressed = match encoding {
            Encoding::Brotli => entry.brotli(),
            Encoding::Gzip => entry.gzip(),
            Encoding::Identity => None,
        };
        if let Some(body) = compressed {
            return variant(encoding, body.clone(), entry, "c");
        }
    }
    identity(entry, why)
}

/// The page with the live-reload script, compressed on the fly when the client accepts it.
/// Precompressed `.br`/`.gz` siblings of HTML are skipped: they hold the page without the
/// script. Its validators differ from the file's (`-lr` inside the quotes), so a cache never
/// mixes the two.
fn choose_injected(
    compressible: bool,
    headers: &HeaderMap,
    entry: &CachedFile,
    injected: &Rewritten,
) -> Representation {
    let base = entry.etag.to_str().unwrap_or("\"0\"").trim_end_matches('"');
    // HTML is worth compressing: not compressible here means compression is off.
    let mut why = if compressible {
        why::Representation::NotAccepted
    } else {
        why::Representation::CompressionOff
    };
    if compressible {
        for encoding in encoding::preferences(headers) {
            if encoding != Encoding::Identity {
                why = why::Representation::NotSmaller;
            }
            let body = match encoding {
                Encoding::Brotli => injected.brotli(),
                Encoding::Gzip => injected.gzip(),
                Encoding::Identity => break,
            };
            if let (Some(body), Some(token)) = (body, encoding.token()) {
                return Representation {
                    encoding,
                    why: compressed_why(encoding, false),
                    injected: true,
                    body: Some(body.clone()),
                    etag: header_value(&format!("{base}-lr-{token}c\"")),
                };
            }
        }
    }
    Representation {
        encoding: Encoding::Identity,
        why,
        injected: true,
        body: Some(injected.body.clone()),
        etag: header_value(&format!("{base}-lr\"")),
    }
}

/// The note of a body in `encoding`, from a sibling on disk or compressed by Wharf.
fn compressed_why(encoding: Encoding, sibling: bool) -> why::Representation {
    match (encoding, sibling) {
        (Encoding::Brotli, true) => why::Representation::BrSibling,
        (Encoding::Gzip, true) => why::Representation::GzSibling,
        (Encoding::Brotli, false) => why::Representation::BrCompressed,
        (Encoding::Gzip, false) => why::Representation::GzCompressed,
        (Encoding::Identity, _) => why::Representation::Unknown,
    }
}

/// Each representation has its own strong validator (RFC 9110 §8.8.3): the file's tag with
/// the coding and its origin appended inside the quotes.
fn variant(encoding: Encoding, body: Bytes, entry: &CachedFile, origin: &str) -> Representation {
    let base = entry.etag.to_str().unwrap_or("\"0\"").trim_end_matches('"');
    let token = encoding.token().unwrap_or("identity");
    Representation {
        encoding,
        why: compressed_why(encoding, origin == "p"),
        injected: false,
        body: Some(body),
        etag: header_value(&format!("{base}-{token}{origin}\"")),
    }
}

/// The precompressed sibling (`app.js.br`), through the same never-stale cache as every file,
/// so it is read once per version and, like any file, never followed out of the root. A sibling
/// older than the file it compresses is stale and ignored.
async fn precompressed(
    cache: &Arc<FileCache>,
    root: &Path,
    path: &Path,
    suffix: &str,
    entry: &CachedFile,
) -> Option<Bytes> {
    let mut sibling = path.as_os_str().to_os_string();
    sibling.push(suffix);
    let Lookup::File(found) = lookup(cache, root, Path::new(&sibling)).await else {
        return None;
    };
    let usable = found.real_path.starts_with(root)
        && !found.hidden_below(root)
        && found.modified >= entry.modified;
    if usable {
        found.body.clone()
    } else {
        None
    }
}

fn full_body(entry: &CachedFile) -> Option<Body> {
    match &entry.body {
        Some(body) => Some(Body::Full(body.clone())),
        None => slice_body(entry, 0, entry.len),
    }
}

/// `len` bytes from `start`: a zero-copy slice of the cached body, or a stream from disk.
fn slice_body(entry: &CachedFile, start: u64, len: u64) -> Option<Body> {
    if let Some(body) = &entry.body {
        return Some(Body::Full(
            body.slice(start as usize..(start + len) as usize),
        ));
    }
    // Opened on the runtime's thread, like the `stat` of every lookup and the read of a small
    // file on a miss: an open costs less than either, and a response decided without an
    // await keeps the request's future small (issue 17).
    let mut file = std::fs::File::open(&entry.real_path).ok()?;
    if start > 0 {
        use std::io::Seek;
        file.seek(std::io::SeekFrom::Start(start)).ok()?;
    }
    Some(Body::file_at(tokio::fs::File::from_std(file), start, len))
}

fn with_headers(status: StatusCode, headers: HeaderMap, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

fn header_value(text: &str) -> HeaderValue {
    // Only ever called with text we formatted from numbers and tokens.
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static(""))
}
