//! The config's own tests: defaults, errors naming fields, rules between fields, and the
//! table's names.

use std::path::Path;
use std::time::Duration;

use super::*;

fn draft(root: &Path) -> ConfigDraft {
    ConfigDraft {
        root: Some(root.to_path_buf()),
        ..ConfigDraft::default()
    }
}

#[test]
fn defaults_bind_loopback_on_8080() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig::try_from(draft(dir.path())).unwrap();
    assert_eq!(config.host, DEFAULT_HOST);
    assert_eq!(config.port, 8080);
    assert!(config.keep_alive);
    assert_eq!(config.generation, 1);
    assert_eq!(config.keep_alive_idle_timeout, Duration::from_secs(5));
    assert_eq!(config.header_read_timeout, Duration::from_secs(10));
    assert!(config.directory_listing && config.compression);
    assert!(!config.show_dotfiles && !config.follow_symlinks);
    assert_eq!(config.cache_control, "no-cache");
    assert!(config.root.is_absolute());
    assert!(config.live_reload && config.custom_headers.is_empty());
    assert!(!config.spa_fallback && !config.clean_urls && !config.drop_html_extension);
    assert!(!config.cors && !config.cross_origin_isolation);
    assert_eq!(
        (config.https_port, config.cert_dir.as_deref()),
        (None, None)
    );
    // The default ignore globs compile (IgnoreGlobs::default would be empty otherwise).
    assert_eq!(config.reload_ignore.patterns(), DEFAULT_RELOAD_IGNORE);
    assert!(config.reload_ignore.is_ignored("a/node_modules/b.js"));
    // The draft of a config validates back to it.
    let again = ServerConfig::try_from(ConfigDraft::from(&config)).unwrap();
    assert_eq!(again, config);
}

#[test]
fn errors_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let port = ServerConfig::try_from(ConfigDraft {
        port: Some(70000),
        ..draft(dir.path())
    })
    .unwrap_err();
    assert_eq!(port.field, "port");
    assert!(
        port.to_string().contains("70000 is not a valid port"),
        "{port}"
    );

    let host = ServerConfig::try_from(ConfigDraft {
        host: Some("my laptop".into()),
        ..draft(dir.path())
    })
    .unwrap_err();
    assert_eq!(host.field, "host");

    let missing = ServerConfig::try_from(draft(&dir.path().join("nope"))).unwrap_err();
    assert_eq!(missing.field, "root");

    let file = dir.path().join("file.txt");
    std::fs::write(&file, "x").unwrap();
    let not_dir = ServerConfig::try_from(draft(&file)).unwrap_err();
    assert!(not_dir.reason.contains("not a folder"), "{not_dir}");

    let idle = ServerConfig::try_from(ConfigDraft {
        keep_alive_idle_timeout_ms: Some(5),
        ..draft(dir.path())
    })
    .unwrap_err();
    assert_eq!(idle.field, "keepAliveIdleTimeoutMs");
    // In seconds, as the window and the CLI's flags take them, and digits grouped.
    assert_eq!(
        idle.reason,
        "0.005 s is out of range; use 0.1 s to 86,400 s (one day)"
    );
    let max = ServerConfig::try_from(ConfigDraft {
        max_connections: Some(0),
        ..draft(dir.path())
    })
    .unwrap_err();
    assert_eq!(max.reason, "0 is out of range; use 1 to 1,000,000");

    let cache = ServerConfig::try_from(ConfigDraft {
        cache_control: Some("no-cache\r\nX-Evil: 1".into()),
        ..draft(dir.path())
    })
    .unwrap_err();
    assert_eq!(cache.field, "cacheControl");
}

#[test]
fn https_needs_a_port_of_its_own_and_a_certificate_folder() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    let https = |port: u32, cert_dir: Option<&Path>| {
        ServerConfig::try_from(ConfigDraft {
            port: Some(8080),
            https_port: Some(port),
            cert_dir: cert_dir.map(Path::to_path_buf),
            ..draft(dir.path())
        })
    };
    let on = https(8443, Some(&certs)).unwrap();
    assert_eq!(on.https_port, Some(8443));
    assert_eq!(on.cert_dir.as_deref(), Some(certs.as_path()));
    assert_eq!(https(0, Some(&certs)).unwrap().https_port, Some(0));
    let again = ServerConfig::try_from(ConfigDraft::from(&on)).unwrap();
    assert_eq!(again, on);

    let missing = https(8443, None).unwrap_err();
    assert_eq!(missing.field, "certDir");
    assert!(missing.reason.contains("certificate"), "{missing}");
    let same = https(8080, Some(&certs)).unwrap_err();
    assert_eq!(same.field, "httpsPort");
    assert!(same.reason.contains("already the HTTP port"), "{same}");
    let big = https(70000, Some(&certs)).unwrap_err();
    assert_eq!(big.field, "httpsPort");
    let file = dir.path().join("file");
    std::fs::write(&file, "x").unwrap();
    assert_eq!(https(8443, Some(&file)).unwrap_err().field, "certDir");

    let off = ServerConfig::try_from(ConfigDraft {
        port: Some(8080),
        ..draft(dir.path())
    })
    .unwrap();
    assert!(off.needs_https_rebind(&on) && on.needs_https_rebind(&off));
    assert!(!off.needs_rebind(&on));
    let changes = off.changes(&on);
    assert_eq!(changes[0].to_string(), "https_port off -> 8443");
    assert_eq!(changes[1].field, "certDir");
}

#[test]
fn each_row_spells_its_names_alike() {
    for (camel, snake) in settings::NAMES {
        assert_eq!(snake_case(camel), *snake, "the row of {camel}");
    }
    // Every flag belongs to a setting and writes it.
    for (field, spec) in ConfigDraft::flags() {
        assert!(settings::NAMES.iter().any(|(camel, _)| *camel == field));
        assert!(!spec.help.is_empty(), "{field}");
    }
}

#[test]
fn list_errors_carry_index_and_member_as_data() {
    let dir = tempfile::tempdir().unwrap();
    let err = ServerConfig::try_from(ConfigDraft {
        custom_headers: Some(vec![
            CustomHeaderDraft {
                path: "/a".into(),
                name: "X-A".into(),
                value: "1".into(),
            },
            CustomHeaderDraft {
                path: "/b".into(),
                name: "Bad Name".into(),
                value: "2".into(),
            },
        ]),
        ..draft(dir.path())
    })
    .unwrap_err();
    assert_eq!(
        (err.field, err.index, err.member),
        ("customHeaders", Some(1), Some("name"))
    );
    assert!(err.reason.starts_with("\"Bad Name\" is not"), "{err}");
    assert!(err
        .to_string()
        .starts_with("customHeaders[1].name: \"Bad Name\""));

    let err = ServerConfig::try_from(ConfigDraft {
        reload_ignore: Some(vec!["ok".into(), "a[".into()]),
        ..draft(dir.path())
    })
    .unwrap_err();
    assert_eq!(
        (err.field, err.index, err.member),
        ("reloadIgnore", Some(1), None)
    );
    assert!(
        err.to_string().starts_with("reloadIgnore[1]: \"a[\""),
        "{err}"
    );
}

#[test]
fn flags_write_the_draft() {
    let mut draft = ConfigDraft::default();
    draft.set_flag("port", &["8081".into()]).unwrap();
    draft.set_flag("keepAlive", &[]).unwrap();
    draft
        .set_flag("keepAliveIdleTimeoutMs", &["1.5".into()])
        .unwrap();
    draft
        .set_flag("customHeaders", &["/a/** X-A: 1".into()])
        .unwrap();
    assert_eq!(draft.port, Some(8081));
    assert_eq!(draft.keep_alive, Some(false));
    assert_eq!(draft.keep_alive_idle_timeout_ms, Some(1500));
    assert_eq!(draft.custom_headers.unwrap()[0].name, "X-A");
    assert!(ConfigDraft::default()
        .set_flag("port", &["x".into()])
        .is_err());
    // The row of byteRanges gives the CLI its switch.
    let flags = ConfigDraft::flags();
    let (_, ranges) = flags
        .iter()
        .find(|(field, _)| *field == "byteRanges")
        .unwrap();
    assert_eq!(
        (ranges.long, ranges.takes),
        ("no-byte-ranges", Takes::Nothing)
    );
    let mut off = ConfigDraft::default();
    off.set_flag("byteRanges", &[]).unwrap();
    assert_eq!(off.byte_ranges, Some(false));
}

#[test]
fn with_defaults_fills_what_was_left_out_from_the_checks() {
    let filled = ConfigDraft {
        port: Some(0),
        ..ConfigDraft::default()
    }
    .with_defaults();
    assert_eq!(filled.root, None, "root has no default");
    assert_eq!(filled.port, Some(0), "given values stay");
    assert_eq!(filled.keep_alive, Some(true));
    assert_eq!(filled.header_read_timeout_ms, Some(10_000));
    assert_eq!(filled.cache_control.as_deref(), Some(DEFAULT_CACHE_CONTROL));
    assert_eq!(filled.https_port, None, "HTTPS stays off");
    assert_eq!(
        filled.reload_ignore.unwrap(),
        DEFAULT_RELOAD_IGNORE.map(str::to_owned)
    );
    assert_eq!(filled.custom_headers, Some(Vec::new()));
}
