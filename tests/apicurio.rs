//! Apicurio's AsyncAPI 3.0 validation fixtures: every problem Apicurio reports must be found by
//! chanx-gen too, at the same place (or inside it).
//!
//! The fixtures live in the shared corpus, which `CHANX_CORPUS` names. Without it the test is skipped,
//! except under CI, where it fails.

mod common;

use std::path::PathBuf;

use chanx_gen::Analysis;
use chanx_gen::diagnostics::{Code, Diagnostic, Severity};
use chanx_gen::load::Sources;

const FIXTURES: &str = "invalid/apicurio-validation-3.0";

/// The one fixture that is only a warning: AsyncAPI 3.0 allows a channel without an address.
const WARNING_ONLY: &str = "missing-channel-address.json";

/// One line of a `.expected` file: `[RULE] |severity| {path} :: message`.
#[derive(Debug)]
struct Expected {
    rule: String,
    pointer: String,
}

/// Parses an expected line; `None` for blank lines. Panics on a line it cannot read, so that no
/// expectation is skipped unnoticed.
fn parse_expected(line: &str) -> Option<Expected> {
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    let rule = line
        .strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .map(|(rule, _)| rule.to_owned());
    let path = line
        .split_once('{')
        .and_then(|(_, rest)| rest.split_once("} ::"))
        .map(|(path, _)| path);
    match (rule, path) {
        (Some(rule), Some(path)) => Some(Expected {
            rule,
            pointer: apicurio_path_to_pointer(path),
        }),
        _ => panic!("cannot read the expected line `{line}`"),
    }
}

/// Turns Apicurio's node path (`/channels[userSignup]->subscribe`: `a[b]` is key `b` under `a`,
/// `/` and `->` separate segments) into a JSON pointer (`/channels/userSignup/subscribe`).
fn apicurio_path_to_pointer(path: &str) -> String {
    let mut segments: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' => {
                segments.extend(take(&mut current));
                segments.push(chars.by_ref().take_while(|&c| c != ']').collect());
            }
            '/' => segments.extend(take(&mut current)),
            '-' if chars.peek() == Some(&'>') => {
                chars.next();
                segments.extend(take(&mut current));
            }
            c => current.push(c),
        }
    }
    segments.extend(take(&mut current));
    segments
        .iter()
        .map(|segment| format!("/{}", segment.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// The text gathered so far, if any, leaving `current` empty.
fn take(current: &mut String) -> Option<String> {
    (!current.is_empty()).then(|| std::mem::take(current))
}

/// Whether `diagnostic` is about the place `expected` names: that node, something inside it, or (when
/// `expected` names a field the document lacks) its parent object, with the field named.
fn matches(analysis: &Analysis, diagnostic: &Diagnostic, expected: &str) -> bool {
    let Some(loc) = diagnostic.loc.as_ref().filter(|l| l.file == Sources::ENTRY) else {
        return false;
    };
    if loc.pointer == expected || loc.pointer.starts_with(&format!("{expected}/")) {
        return true;
    }
    let Some((parent, field)) = expected.rsplit_once('/') else {
        return false;
    };
    let mut expected_loc = loc.clone();
    expected_loc.pointer = expected.to_owned();
    loc.pointer == parent
        && analysis.sources.get(&expected_loc).is_none()
        && diagnostic.message.contains(&format!("`{field}`"))
}

#[test]
fn apicurio_fixtures_are_all_detected() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let folder = corpus.join(FIXTURES);
    let mut documents: Vec<PathBuf> = std::fs::read_dir(&folder)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", folder.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "json"))
        .collect();
    documents.sort();
    assert!(!documents.is_empty(), "no fixtures in {}", folder.display());

    let mut failures = Vec::new();
    let mut table = Vec::new();
    for document in &documents {
        let name = document.file_name().unwrap_or_default().to_string_lossy();
        let expected_file = PathBuf::from(format!("{}.expected", document.display()));
        let expected_text = std::fs::read_to_string(&expected_file)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", expected_file.display()));
        let analysis = chanx_gen::analyze(document)
            .unwrap_or_else(|e| panic!("cannot analyze {}: {e}", document.display()));
        for diagnostic in analysis.diagnostics.iter() {
            if let Some(loc) = &diagnostic.loc {
                assert!(
                    analysis.sources.locate(loc).is_some(),
                    "{name}: {diagnostic:?} has no position"
                );
            }
        }
        let expectations: Vec<Expected> =
            expected_text.lines().filter_map(parse_expected).collect();
        assert!(
            !expectations.is_empty(),
            "{} is empty",
            expected_file.display()
        );
        for expected in expectations {
            match analysis
                .diagnostics
                .iter()
                .find(|d| matches(&analysis, d, &expected.pointer))
            {
                Some(found) => table.push((name.to_string(), expected.rule, found.code)),
                None => failures.push(format!(
                    "{name}: nothing reported at {} ({}); found: {:?}",
                    expected.pointer,
                    expected.rule,
                    analysis
                        .diagnostics
                        .iter()
                        .map(|d| (d.code, d.loc.as_ref().map(|l| l.pointer.clone())))
                        .collect::<Vec<_>>()
                )),
            }
        }
        if name == WARNING_ONLY {
            let warns = analysis
                .diagnostics
                .iter()
                .any(|d| d.code == Code::ChannelAddressMissing && d.severity == Severity::Warning);
            if !warns {
                failures.push(format!("{name}: no `channel-address-missing` warning"));
            }
        } else if !analysis.has_errors() {
            failures.push(format!("{name}: no error reported"));
        }
    }

    println!("{:<45} {:<12} chanx-gen code", "fixture", "Apicurio");
    for (name, rule, code) in &table {
        println!("{name:<45} {rule:<12} {code}");
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn apicurio_paths_become_pointers() {
    let cases = [
        (
            "/channels[userSignup]->subscribe",
            "/channels/userSignup/subscribe",
        ),
        (
            "/components->schemas[Invalid Schema Name]",
            "/components/schemas/Invalid Schema Name",
        ),
        (
            "/components->messages[Invalid/Message]",
            "/components/messages/Invalid~1Message",
        ),
        (
            "/components/messages[UserSignup]/payload->$ref",
            "/components/messages/UserSignup/payload/$ref",
        ),
        (
            "/operations[send]/messages[0]->$ref",
            "/operations/send/messages/0/$ref",
        ),
        ("/info/tags[0]->$ref", "/info/tags/0/$ref"),
        ("/servers[x-y]->host", "/servers/x-y/host"),
    ];
    for (path, pointer) in cases {
        assert_eq!(apicurio_path_to_pointer(path), pointer, "{path}");
    }
}
