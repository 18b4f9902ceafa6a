use super::*;

/// A whole lookup, as the service makes one: `probe`, then `load` on a miss.
fn lookup(cache: &FileCache, root: &Path, path: &Path) -> Lookup {
    match cache.probe(root, path) {
        Ok(found) => found,
        Err(miss) => cache.load(root, path, miss),
    }
}

fn settle(path: &Path) {
    let old = SystemTime::now() - Duration::from_secs(60);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(old)
        .unwrap();
}

#[test]
fn unchanged_files_come_from_memory_and_edits_are_seen_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dunce::canonicalize(dir.path()).unwrap();
    let file = root.join("a.txt");
    std::fs::write(&file, "one").unwrap();
    settle(&file);
    let cache = FileCache::default();
    let Lookup::File(first) = lookup(&cache, &root, &file) else {
        panic!("file")
    };
    let Lookup::File(again) = lookup(&cache, &root, &file) else {
        panic!("file")
    };
    assert!(Arc::ptr_eq(&first, &again), "second lookup is a cache hit");

    std::fs::write(&file, "two").unwrap(); // same size, new mtime
    let Lookup::File(edited) = lookup(&cache, &root, &file) else {
        panic!("file")
    };
    assert_eq!(edited.body.as_deref(), Some(&b"two"[..]));
    assert_ne!(edited.etag, first.etag);
}

#[test]
fn racy_files_are_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let root = dunce::canonicalize(dir.path()).unwrap();
    let file = root.join("fresh.txt");
    std::fs::write(&file, "just written").unwrap();
    let cache = FileCache::default();
    let Lookup::File(a) = lookup(&cache, &root, &file) else {
        panic!("file")
    };
    let Lookup::File(b) = lookup(&cache, &root, &file) else {
        panic!("file")
    };
    assert!(
        !Arc::ptr_eq(&a, &b),
        "a file written just now is read again"
    );
}

#[test]
fn deleted_files_are_missing_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let root = dunce::canonicalize(dir.path()).unwrap();
    let file = root.join("gone.txt");
    std::fs::write(&file, "x").unwrap();
    settle(&file);
    let cache = FileCache::default();
    assert!(matches!(lookup(&cache, &root, &file), Lookup::File(_)));
    std::fs::remove_file(&file).unwrap();
    assert!(matches!(lookup(&cache, &root, &file), Lookup::Missing));
}

#[test]
fn compression_shrinks_text_and_skips_tiny_bodies() {
    let text = Bytes::from("hello world, ".repeat(200));
    let gz = compress_gzip(&text).unwrap();
    let br = compress_brotli(&text).unwrap();
    assert!(gz.len() < text.len() && br.len() < text.len());
    let mut decoded = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut decoded)
        .unwrap();
    assert_eq!(decoded, text);
    assert!(compress_gzip(&Bytes::from_static(b"tiny")).is_none());
}
