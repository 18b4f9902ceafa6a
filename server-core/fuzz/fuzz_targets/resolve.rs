//! The request path resolver, with real files: a fuzzed request target, under a fuzzed
//! choice of site options, is resolved lexically (`SitePath::parse` + `under`) and then
//! answered by the real service from a real folder with dotfiles, dot-folders, nested
//! folders and symlinks out of the root (see `Site`).
//!
//! Invariants:
//! - an accepted path only adds plain names under the root: no empty, `.` or `..` segment,
//!   no separator or NUL inside one, and no dot segment while dotfiles are hidden;
//! - whatever the answer, its head and body never carry a file from outside the root, nor a
//!   hidden file (directly, or through a symlink inside the root) while dotfiles are hidden,
//!   nor a hidden file's name in a listing;
//! - nothing panics and nothing is a 5xx.
#![no_main]

use std::path::Component;

use http::{Method, Request};
use libfuzzer_sys::fuzz_target;
use wharf_core::fuzzing::resolve::SitePath;
use wharf_fuzz::Site;

fuzz_target!(|data: &[u8]| {
    let Some((&options, target)) = data.split_first() else {
        return;
    };
    // Only targets a client can send: hyper hands the service nothing else.
    let Ok(uri) = http::Uri::builder().path_and_query(target).build() else {
        return;
    };
    let site = Site::get();
    let config = site.config(options);
    let shown = *config.show_dotfiles();

    if let Ok(path) = SitePath::parse(uri.path(), shown) {
        let full = path.under(config.root());
        assert!(full.starts_with(config.root()), "{uri} resolved to {full:?}");
        let added: Vec<Component> = full
            .components()
            .skip(config.root().components().count())
            .collect();
        assert_eq!(
            added.len(),
            path.segments.len(),
            "{uri} resolved to {full:?}"
        );
        for (segment, component) in path.segments.iter().zip(added) {
            assert!(
                matches!(component, Component::Normal(name) if name == segment.as_str()),
                "{uri}: segment {segment:?} became {component:?}"
            );
            assert!(!segment.contains(['/', '\0']), "{uri}: segment {segment:?}");
            assert!(
                shown || !segment.starts_with('.'),
                "{uri}: hidden segment {segment:?}"
            );
        }
    }

    // No Accept-Encoding and no Range: the body is the file's bytes, whole, so a marker in
    // it cannot hide in a compressed or partial body.
    let method = if options & 0x80 != 0 {
        Method::HEAD
    } else {
        Method::GET
    };
    let Ok(request) = Request::builder()
        .method(method)
        .uri(uri.clone())
        .header(http::header::HOST, "localhost")
        .body(())
    else {
        return;
    };
    let response = site.block_on(site.respond(config, request));
    assert!(
        !response.status().is_server_error(),
        "{uri}: {}",
        response.status()
    );
    for value in response.headers().values() {
        site.assert_no_leak(value.as_bytes(), shown, target);
    }
    site.assert_no_leak(response.body(), shown, target);
});
