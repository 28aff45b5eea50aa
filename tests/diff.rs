//! `chanx-gen diff`: hand-made pairs under `specs/diff/` (each case is `base.yaml` with one kind of
//! change) are classified as expected, and the two largest real documents of the corpus compare
//! without error.

mod common;

use std::path::{Path, PathBuf};

use chanx_gen::diff::{DiffReport, diff_files};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/diff")
}

/// (case, change kind that must be there, breaks clients, breaks servers) for that change; and the
/// verdict of the whole report (any change breaking clients, any breaking servers).
struct Case {
    file: &'static str,
    kind: &'static str,
    change: (bool, bool),
    report: (bool, bool),
}

const CASES: &[Case] = &[
    Case {
        file: "add-required-client-field.yaml",
        kind: "field-added",
        change: (true, false),
        report: (true, false),
    },
    Case {
        file: "add-optional-client-field.yaml",
        kind: "field-added",
        change: (false, false),
        report: (false, false),
    },
    Case {
        file: "remove-action.yaml",
        kind: "action-removed",
        change: (true, false),
        report: (true, true),
    },
    Case {
        file: "add-action.yaml",
        kind: "action-added",
        change: (false, true),
        report: (false, true),
    },
    Case {
        file: "add-server-message.yaml",
        kind: "message-added",
        change: (true, false),
        report: (true, false),
    },
    Case {
        file: "narrow-client-constraint.yaml",
        kind: "constraint-changed",
        change: (true, false),
        report: (true, false),
    },
    Case {
        file: "widen-client-constraint.yaml",
        kind: "constraint-changed",
        change: (false, true),
        report: (false, true),
    },
    Case {
        file: "server-field-nullable.yaml",
        kind: "nullable-changed",
        change: (true, false),
        report: (true, false),
    },
    Case {
        file: "enum-value-added.yaml",
        kind: "enum-value-added",
        change: (false, true),
        report: (true, true),
    },
    Case {
        file: "server-enum-value-removed.yaml",
        kind: "enum-value-removed",
        change: (false, true),
        report: (false, true),
    },
    Case {
        file: "address-changed.yaml",
        kind: "address-changed",
        change: (true, true),
        report: (true, true),
    },
    Case {
        file: "reply-added.yaml",
        kind: "reply-added",
        change: (true, false),
        report: (true, false),
    },
    Case {
        file: "field-type-changed.yaml",
        kind: "type-changed",
        change: (true, true),
        report: (true, true),
    },
    Case {
        file: "required-to-optional.yaml",
        kind: "required-changed",
        change: (false, true),
        report: (false, true),
    },
];

fn verdict(report: &DiffReport) -> (bool, bool) {
    (
        report.changes.iter().any(|c| c.breaks_clients),
        report.changes.iter().any(|c| c.breaks_servers),
    )
}

#[test]
fn hand_made_pairs_are_classified() {
    let base = dir().join("base.yaml");
    let mut failures = Vec::new();
    for case in CASES {
        let report = diff_files(&base, &dir().join(case.file))
            .unwrap_or_else(|e| panic!("{}: {e}", case.file));
        let hit = report
            .changes
            .iter()
            .find(|c| c.change.kind.as_str() == case.kind);
        match hit {
            None => failures.push(format!(
                "{}: no `{}` in\n{}",
                case.file,
                case.kind,
                report.render()
            )),
            Some(c) => {
                if (c.breaks_clients, c.breaks_servers) != case.change {
                    failures.push(format!(
                        "{}: `{}` classified {:?}, expected {:?}",
                        case.file,
                        case.kind,
                        (c.breaks_clients, c.breaks_servers),
                        case.change
                    ));
                }
                if c.change.old_site.is_none() && c.change.new_site.is_none() {
                    failures.push(format!("{}: `{}` has no place", case.file, case.kind));
                }
            }
        }
        if verdict(&report) != case.report {
            failures.push(format!(
                "{}: report verdict {:?}, expected {:?}:\n{}",
                case.file,
                verdict(&report),
                case.report,
                report.render()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_case_file_is_in_the_table() {
    for entry in std::fs::read_dir(dir()).expect("specs/diff") {
        let name = entry
            .expect("entry")
            .file_name()
            .to_string_lossy()
            .into_owned();
        if name == "base.yaml" || name == "reordered-renamed.yaml" {
            continue;
        }
        assert!(
            CASES.iter().any(|c| c.file == name),
            "specs/diff/{name} has no row in CASES"
        );
    }
}

#[test]
fn key_order_and_synthetic_names_are_no_change() {
    let report = diff_files(
        &dir().join("base.yaml"),
        &dir().join("reordered-renamed.yaml"),
    )
    .expect("diff");
    assert!(report.changes.is_empty(), "{}", report.render());
    let same = diff_files(&dir().join("base.yaml"), &dir().join("base.yaml")).expect("diff");
    assert!(same.changes.is_empty());
}

#[test]
fn json_output_has_both_verdicts() {
    let report = diff_files(
        &dir().join("base.yaml"),
        &dir().join("enum-value-added.yaml"),
    )
    .expect("diff");
    let json = serde_json::to_value(&report).expect("json");
    let changes = json["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 2, "{json:#}");
    for change in changes {
        assert_eq!(change["kind"], "enum-value-added");
        assert!(change["breaks_clients"].is_boolean());
        assert!(change["breaks_servers"].is_boolean());
        assert!(change["old_site"]["line"].as_u64().unwrap_or(0) > 0);
    }
    let directions: Vec<&str> = changes
        .iter()
        .filter_map(|c| c["direction"].as_str())
        .collect();
    assert_eq!(directions, ["client_to_server", "server_to_client"]);
}

#[test]
fn largest_corpus_documents_diff() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let mut documents: Vec<(u64, PathBuf)> = common::corpus_documents(&corpus)
        .into_iter()
        .filter(|d| d.kind.is_valid())
        .map(|d| {
            let size = std::fs::metadata(&d.path).map(|m| m.len()).unwrap_or(0);
            (size, d.path)
        })
        .collect();
    documents.sort();
    let (_, largest) = documents.pop().expect("a document");
    let (_, second) = documents.pop().expect("two documents");
    let report = diff_files(&second, &largest).expect("both generate");
    assert!(!report.changes.is_empty());
    assert!(
        report
            .changes
            .iter()
            .any(|c| c.change.kind.as_str() == "channel-removed" && c.breaks_clients)
    );
    for path in [&largest, &second] {
        let same = diff_files(path, path).expect("diff");
        assert!(same.changes.is_empty(), "{}", same.render());
    }
}
