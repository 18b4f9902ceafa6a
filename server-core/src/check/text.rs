//! Byte-level text helpers for the scanners: substring search, and byte offsets to 1-based
//! line numbers for findings that point at a line of a file.

/// Where each line of one text starts.
#[derive(Debug)]
pub(super) struct Lines {
    starts: Vec<usize>,
}

impl Lines {
    /// Indexes `text`'s lines (`\n` ends one; `\r\n` too, the `\r` being part of the line).
    pub(super) fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(
            text.bytes()
                .enumerate()
                .filter(|(_, byte)| *byte == b'\n')
                .map(|(at, _)| at + 1),
        );
        Lines { starts }
    }

    /// The 1-based line holding byte `offset`.
    pub(super) fn line_of(&self, offset: usize) -> u32 {
        let line = self.starts.partition_point(|start| *start <= offset);
        u32::try_from(line).unwrap_or(u32::MAX)
    }
}

/// Where `needle` first occurs in `haystack` at or after `from`.
pub(super) fn find(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    find_by(haystack, from, needle, |window| window == needle)
}

/// As [`find`], ignoring ASCII case.
pub(super) fn find_ignoring_case(haystack: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    find_by(haystack, from, needle, |window| {
        window.eq_ignore_ascii_case(needle)
    })
}

fn find_by(
    haystack: &[u8],
    from: usize,
    needle: &[u8],
    same: impl Fn(&[u8]) -> bool,
) -> Option<usize> {
    haystack
        .get(from..)?
        .windows(needle.len())
        .position(same)
        .map(|at| from + at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_map_to_their_lines() {
        let lines = Lines::new("ab\ncd\r\n\nx");
        let got: Vec<u32> = [0, 2, 3, 6, 7, 8].map(|at| lines.line_of(at)).to_vec();
        assert_eq!(got, [1, 1, 2, 2, 3, 4]);
    }
}
