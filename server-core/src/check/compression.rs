//! Large text assets without a precompressed sibling. Wharf compresses on the fly, as most
//! hosts and CDNs do, but plain static hosts (an S3 bucket, some nginx setups) send such files
//! as they are; a `.br` or `.gz` beside the file (`app.js.br`) is what those serve instead,
//! and what Wharf itself prefers. Which types are worth it is `serve::encoding`'s judgement.

use std::path::Path;

use super::finding::{Finding, FindingKind, Severity};
use super::inventory::Inventory;
use crate::serve::encoding::{is_compressible, Encoding};
use crate::serve::mime::content_type;

/// A warning per compressible file over `threshold` bytes with neither sibling.
pub(super) fn check(inventory: &Inventory, threshold: u64) -> Vec<Finding> {
    let siblings = [Encoding::Brotli, Encoding::Gzip].map(|encoding| encoding.suffix());
    inventory
        .entries()
        .filter(|(name, entry)| {
            !entry.is_dir
                && entry.size > threshold
                && is_compressible(&content_type(Path::new(name)))
                && !siblings
                    .iter()
                    .flatten()
                    .any(|suffix| inventory.contains(&format!("{name}{suffix}")))
        })
        .map(|(name, entry)| Finding {
            kind: FindingKind::Uncompressed,
            severity: Severity::Warning,
            file: name.to_owned(),
            line: None,
            message: format!(
                "{} KiB of text with no precompressed .br or .gz beside it",
                entry.size.div_ceil(1024)
            ),
            advice: format!(
                "Most hosts compress on the fly, but static hosts may not: precompress it at \
                 build time (`brotli -k {leaf}` and `gzip -k9 {leaf}`, or your bundler's \
                 compression plugin), and Wharf will serve the sibling too.",
                leaf = name.rsplit('/').next().unwrap_or(name)
            ),
        })
        .collect()
}
