//! The named presets of a network rule, with the numbers Chrome DevTools uses (issue 18):
//! download bandwidth and added latency, or "offline" (every answer is a reset).

/// What a preset sets, unless the rule sets it itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Preset {
    /// Download bandwidth, bytes per second; `None` for offline.
    pub(crate) rate: Option<u32>,
    /// Latency added before the first byte, in microseconds (Slow 4G's is 562.5 ms).
    pub(crate) latency_us: u64,
    /// Whether the connection is reset instead of answered.
    pub(crate) offline: bool,
}

/// The presets by name, as written in a rule (`preset=slow-3g`).
pub(crate) const PRESETS: [(&str, Preset); 4] = [
    (
        "slow-3g",
        Preset {
            rate: Some(50_000),
            latency_us: 2_000_000,
            offline: false,
        },
    ),
    (
        "slow-4g",
        Preset {
            rate: Some(180_000),
            latency_us: 562_500,
            offline: false,
        },
    ),
    (
        "fast-4g",
        Preset {
            rate: Some(1_012_500),
            latency_us: 165_000,
            offline: false,
        },
    ),
    (
        "offline",
        Preset {
            rate: None,
            latency_us: 0,
            offline: true,
        },
    ),
];

/// The preset named `name`, if there is one.
pub(crate) fn preset(name: &str) -> Option<Preset> {
    PRESETS
        .iter()
        .find(|(known, _)| known.eq_ignore_ascii_case(name.trim()))
        .map(|&(_, preset)| preset)
}

/// The preset names, for messages.
pub(crate) fn names() -> String {
    PRESETS.map(|(name, _)| name).join(", ")
}

#[cfg(test)]
mod tests {
    use super::preset;

    /// Issue 18's table, which is Chrome DevTools'.
    #[test]
    fn presets_have_devtools_numbers() {
        let cases = [
            ("slow-3g", Some(50_000), 2_000_000),
            ("Slow-4G", Some(180_000), 562_500),
            ("fast-4g", Some(1_012_500), 165_000),
            ("offline", None, 0),
        ];
        for (name, rate, latency_us) in cases {
            let found = preset(name).unwrap_or_else(|| panic!("{name}"));
            assert_eq!((found.rate, found.latency_us), (rate, latency_us), "{name}");
            assert_eq!(found.offline, name == "offline");
        }
        assert!(preset("slow-5g").is_none());
    }
}
