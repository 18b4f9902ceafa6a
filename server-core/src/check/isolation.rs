//! Shared memory without cross-origin isolation: browsers define `SharedArrayBuffer`, and
//! allow `new WebAssembly.Memory({ shared: true })`, only in pages served with
//! `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`
//! (Wharf's `cross_origin_isolation` setting). The site's JavaScript files are searched as
//! text, so a mention is reported as a warning, not an error: bundles often test
//! `typeof SharedArrayBuffer` and fall back to a single thread. Inline scripts are not searched.

use super::finding::{Finding, FindingKind, Severity};
use super::inventory::Inventory;
use super::mime::{is_javascript, served_type};
use super::text::{find, Lines};

/// How far after `WebAssembly.Memory` its descriptor is looked for, in bytes.
const DESCRIPTOR_BYTES: usize = 400;

/// One finding per JavaScript file that uses shared memory (at its first use), unless the
/// site is served cross-origin isolated.
pub(super) fn check(inventory: &mut Inventory, cross_origin_isolation: bool) -> Vec<Finding> {
    if cross_origin_isolation {
        return Vec::new();
    }
    let scripts: Vec<String> = inventory
        .entries()
        .filter(|(name, entry)| !entry.is_dir && is_javascript(&served_type(name)))
        .map(|(name, _)| name.to_owned())
        .collect();
    let mut findings = Vec::new();
    for file in scripts {
        let Some(text) = inventory.read_text(&file) else {
            continue;
        };
        let Some((offset, what)) = first_use(&text) else {
            continue;
        };
        findings.push(Finding {
            kind: FindingKind::SharedMemory,
            severity: Severity::Warning,
            line: Some(Lines::new(&text).line_of(offset)),
            file,
            message: format!(
                "uses {what}, which browsers allow only in cross-origin isolated pages"
            ),
            advice: "Serve the site with `Cross-Origin-Opener-Policy: same-origin` and \
                `Cross-Origin-Embedder-Policy: require-corp` (wharf serve \
                --cross-origin-isolation; on your host, its headers setting), then check again \
                with --cross-origin-isolation."
                .to_owned(),
        });
    }
    findings
}

/// The byte offset and name of the first use of shared memory in `script`.
fn first_use(script: &str) -> Option<(usize, &'static str)> {
    let bytes = script.as_bytes();
    let buffer = find(bytes, 0, b"SharedArrayBuffer").map(|at| (at, "SharedArrayBuffer"));
    let mut from = 0;
    let memory = std::iter::from_fn(|| {
        let at = find(bytes, from, b"WebAssembly.Memory")?;
        from = at + 1;
        Some(at)
    })
    .find(|&at| {
        let end = (at + DESCRIPTOR_BYTES).min(bytes.len());
        let descriptor = &bytes[at..end];
        let descriptor = &descriptor[..find(descriptor, 0, b")").unwrap_or(descriptor.len())];
        let compact: Vec<u8> = descriptor
            .iter()
            .copied()
            .filter(|b| !b.is_ascii_whitespace() && !matches!(b, b'"' | b'\''))
            .collect();
        find(&compact, 0, b"shared:true").is_some() || find(&compact, 0, b"shared:!0").is_some()
    })
    .map(|at| (at, "shared WebAssembly memory"));
    match (buffer, memory) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shared_memory_is_found_in_plain_and_minified_code() {
        let plain =
            "const m = new WebAssembly.Memory({\n  initial: 1, maximum: 2, shared: true });";
        assert_eq!(first_use(plain), Some((14, "shared WebAssembly memory")));
        let minified = "x=new WebAssembly.Memory({initial:1,maximum:2,\"shared\":!0})";
        assert!(first_use(minified).is_some());
        assert_eq!(first_use("new WebAssembly.Memory({initial:1})"), None);
        assert_eq!(
            first_use("a;\nnew SharedArrayBuffer(8)").map(|u| u.0),
            Some(7)
        );
    }
}
