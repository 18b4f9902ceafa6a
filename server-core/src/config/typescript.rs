//! The UI's TypeScript types of the settings, generated from the Rust types by ts-rs, and a
//! test that fails when the committed file is stale. Regenerate it with
//! `WHARF_WRITE_TYPES=1 cargo test -p wharf-core --lib config::typescript`.

use std::path::PathBuf;

use ts_rs::{Config, TS};

use super::NetworkRuleDraft;
use super::{ConfigDraft, CustomHeaderDraft, ProxyRuleDraft};
use crate::observe::timing::Timing;
use crate::observe::why::{phrases, CacheControlFrom, Representation, Route, Validation, Why};

/// Where the UI imports them from.
fn committed() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../ui/src/api/generated/config.ts")
}

/// The file as ts-rs writes the types today. Numbers are `number`: no setting comes near
/// 2^53, and the UI sends and reads JSON numbers.
fn generated() -> String {
    let config = Config::new().with_large_int("number");
    let mut out = String::from(
        "// Generated from wharf-core's settings table (server-core/src/config/settings.rs) by\n\
         // ts-rs. Do not edit: run `WHARF_WRITE_TYPES=1 cargo test -p wharf-core --lib \
         config::typescript`.\n",
    );
    for (docs, decl) in [
        (CustomHeaderDraft::docs(), CustomHeaderDraft::decl(&config)),
        (ProxyRuleDraft::docs(), ProxyRuleDraft::decl(&config)),
        (NetworkRuleDraft::docs(), NetworkRuleDraft::decl(&config)),
        (ConfigDraft::docs(), ConfigDraft::decl(&config)),
        // The access record's decisions (issue 19), which the log explains in words.
        (Route::docs(), Route::decl(&config)),
        (Validation::docs(), Validation::decl(&config)),
        (Representation::docs(), Representation::decl(&config)),
        (CacheControlFrom::docs(), CacheControlFrom::decl(&config)),
        (Why::docs(), Why::decl(&config)),
        // The request's timeline (issue 19), which the log draws as a waterfall.
        (Timing::docs(), Timing::decl(&config)),
    ] {
        out.push('\n');
        out.push_str(&docs.unwrap_or_default());
        out.push_str("export ");
        out.push_str(&decl);
        out.push('\n');
    }
    // The access record's network effects, by name (`NetworkNote`): the log names them.
    out.push_str(
        "\n// The bits of an access record's `network.effects`, by the name the CSV gives them.\n\
         export const NETWORK_EFFECT_BITS = {\n",
    );
    for (bit, name) in crate::network::NetworkNote::NAMES {
        out.push_str(&format!("  {name}: {bit},\n"));
    }
    out.push_str("} as const;\n");
    // The why codes in words (`observe::why`), which the detail pane says.
    out.push_str(
        "\n// The access record's decisions in words, as `wharf serve --explain` prints them. \
         `{method}`,\n// `{status}` and `{n}` stand for the request's method, the status and a count.\n",
    );
    words(
        &mut out,
        "ROUTE_WORDS",
        "Route",
        Route::ALL,
        Route::as_str,
        Route::words,
    );
    words(
        &mut out,
        "VALIDATION_WORDS",
        "Validation",
        Validation::ALL,
        Validation::as_str,
        Validation::words,
    );
    words(
        &mut out,
        "REPRESENTATION_WORDS",
        "Representation",
        Representation::ALL,
        Representation::as_str,
        Representation::words,
    );
    words(
        &mut out,
        "CACHE_CONTROL_WORDS",
        "CacheControlFrom",
        CacheControlFrom::ALL,
        CacheControlFrom::as_str,
        CacheControlFrom::words,
    );
    out.push_str("export const OUTCOME_WORDS = {\n");
    for outcome in crate::Outcome::ALL {
        out.push_str(&format!(
            "  {}: {},\n",
            outcome.as_str(),
            json(outcome.words())
        ));
    }
    out.push_str("} as const;\n");
    out.push_str("export const WHY_PHRASES = {\n");
    for (name, text) in [
        ("injected", phrases::INJECTED),
        ("oneHeaderRule", phrases::ONE_HEADER_RULE),
        ("headerRules", phrases::HEADER_RULES),
        ("headerRuleCount", phrases::HEADER_RULE_COUNT),
    ] {
        out.push_str(&format!("  {name}: {},\n", json(text)));
    }
    out.push_str("} as const;\n");
    // A glob in a doc (`**/*.wasm`) would end the comment: ts-rs copies docs as they are.
    let lines: Vec<String> = out
        .lines()
        .map(|line| match line.trim() {
            "*/" => line.to_owned(),
            _ => line.replace("*/", "*\\/"),
        })
        .collect();
    lines.join("\n") + "\n"
}

/// `text` as a TypeScript string literal (JSON's is one).
fn json(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

/// Appends `export const NAME: Record<TYPE, string> = {...}` with each code's words.
fn words<T: Copy>(
    out: &mut String,
    name: &str,
    ty: &str,
    all: &[T],
    code: fn(T) -> &'static str,
    words: fn(T) -> &'static str,
) {
    out.push_str(&format!("export const {name}: Record<{ty}, string> = {{\n"));
    for &value in all {
        out.push_str(&format!(
            "  {}: {},\n",
            json(code(value)),
            json(words(value))
        ));
    }
    out.push_str("};\n");
}

#[test]
fn the_committed_typescript_types_are_current() {
    let path = committed();
    let fresh = generated();
    if std::env::var_os("WHARF_WRITE_TYPES").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &fresh).unwrap();
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == fresh,
        "{} is stale: the settings changed. Regenerate it with \
         `WHARF_WRITE_TYPES=1 cargo test -p wharf-core --lib config::typescript`",
        path.display()
    );
}
