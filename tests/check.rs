//! `chanx-gen check`: the checked-in generated examples are clean, and each kind of hand edit to a
//! copy of the chat example is reported under the right rule, with the spec's place and the Rust
//! place. The checked-in examples are never modified: every mutation works on a copy under the
//! target's temporary folder.

mod common;

use std::path::{Path, PathBuf};

use chanx_gen::check::{self, CheckReport, Rule};
use chanx_gen::render::Settings;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run_check(spec: &Path, crate_src: &Path) -> CheckReport {
    check::check(
        spec,
        &crate_src.join("api"),
        Some(crate_src),
        &Settings::new(),
    )
    .unwrap_or_else(|e| panic!("check of {} failed to run: {e}", crate_src.display()))
}

fn assert_clean(spec: &Path, crate_src: &Path) {
    let report = run_check(spec, crate_src);
    assert!(
        report.findings.is_empty(),
        "{} has findings:\n{}",
        crate_src.display(),
        report.render()
    );
}

#[test]
fn chat_example_is_clean() {
    assert_clean(
        &root().join("specs/chat.yaml"),
        &root().join("generated-examples/chat/src"),
    );
}

#[test]
fn notifications_example_is_clean() {
    assert_clean(
        &root().join("specs/notifications.yaml"),
        &root().join("generated-examples/notifications/src"),
    );
}

#[test]
fn parity_example_is_clean() {
    assert_clean(
        &root().join("specs/parity.json"),
        &root().join("generated-examples/parity/src"),
    );
}

#[test]
fn gemini_example_is_clean() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    assert_clean(
        &corpus.join("spec-examples/v3.0.0/websocket-gemini-asyncapi.yml"),
        &root().join("generated-examples/gemini/src"),
    );
}

#[test]
fn every_golden_is_clean_without_coverage() {
    for (spec, golden) in [
        ("channel-traits.yaml", "channel-traits"),
        ("constructs.yaml", "constructs"),
        ("hostile.yaml", "hostile"),
        ("minimal-3.1.yaml", "minimal-3.1"),
        (
            "warnings/schema-format-avro.yaml",
            "warnings-schema-format-avro",
        ),
        (
            "warnings/reply-address-conflict.yaml",
            "warnings-reply-address-conflict",
        ),
    ] {
        let report = check::check(
            &root().join("specs").join(spec),
            &root().join("tests/golden").join(golden),
            None,
            &Settings::new(),
        )
        .unwrap_or_else(|e| panic!("{spec}: {e}"));
        assert!(report.findings.is_empty(), "{spec}:\n{}", report.render());
    }
}

/// A copy of the chat example's `src/` in a fresh scratch folder.
fn chat_copy(label: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("check-mutations")
        .join(label);
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&root().join("generated-examples/chat/src"), &dir);
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("scratch folder");
    for entry in std::fs::read_dir(from).expect("example folder") {
        let entry = entry.expect("entry");
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copy");
        }
    }
}

/// One kind of hand edit.
enum Edit {
    /// Replace the first occurrence of the text.
    Replace(&'static str, &'static str),
    /// Replace every occurrence of the text.
    ReplaceAll(&'static str, &'static str),
    /// Remove from the first occurrence of the first text to the end of the next occurrence of the
    /// second.
    Cut(&'static str, &'static str),
    /// Append text.
    Append(&'static str),
    /// Delete the file.
    Delete,
}

struct Mutation {
    name: &'static str,
    file: &'static str,
    edit: Edit,
    rule: Rule,
}

const fn m(name: &'static str, file: &'static str, edit: Edit, rule: Rule) -> Mutation {
    Mutation {
        name,
        file,
        edit,
        rule,
    }
}

fn mutations() -> Vec<Mutation> {
    use Edit::*;
    vec![
        m(
            "rename-field",
            "api/types.rs",
            Replace(
                "    /// Message body\n    pub text:",
                "    /// Message body\n    #[serde(rename = \"body\")]\n    pub text:",
            ),
            Rule::FieldMissing,
        ),
        m(
            "remove-field",
            "api/types.rs",
            Cut(
                "    #[serde(default)]\n    pub alt_text:",
                "::std::string::String>,\n",
            ),
            Rule::FieldMissing,
        ),
        m(
            "add-field",
            "api/types.rs",
            Replace(
                "pub struct ImageAttachment {\n",
                "pub struct ImageAttachment {\n    pub extra: i64,\n",
            ),
            Rule::FieldExtra,
        ),
        m(
            "change-field-type",
            "api/types.rs",
            Replace(
                "    pub width: i64,",
                "    pub width: ::std::string::String,",
            ),
            Rule::TypeMismatch,
        ),
        m(
            "change-integer-width",
            "api/types.rs",
            Replace("    pub height: i64,", "    pub height: i32,"),
            Rule::TypeMismatch,
        ),
        m(
            "make-required-field-optional",
            "api/types.rs",
            Replace(
                "pub struct ImageAttachment {\n    pub url:",
                "pub struct ImageAttachment {\n    #[serde(default)]\n    pub url:",
            ),
            Rule::RequiredMismatch,
        ),
        m(
            "drop-enum-variant",
            "api/types.rs",
            Cut("    #[serde(rename = \"high\")]\n", "High,\n"),
            Rule::EnumValueMissing,
        ),
        m(
            "rename-enum-value",
            "api/types.rs",
            Replace(
                "#[serde(rename = \"low\")]",
                "#[serde(rename = \"lowest\")]",
            ),
            Rule::EnumValueMissing,
        ),
        m(
            "drop-union-arm",
            "api/types.rs",
            Cut(
                "    #[serde(rename = \"link\")]\n    LinkAttachment(LinkAttachment),\n",
                "\n",
            ),
            Rule::ArmMissing,
        ),
        m(
            "change-union-tag",
            "api/types.rs",
            Replace(
                "#[serde(tag = \"kind\")]\npub enum Attachment {",
                "#[serde(tag = \"type\")]\npub enum Attachment {",
            ),
            Rule::DispatchMismatch,
        ),
        m(
            "change-max-length",
            "api/types.rs",
            ReplaceAll(".max_length(2000)", ".max_length(1000)"),
            Rule::ConstraintMismatch,
        ),
        m(
            "change-validate-impl-only",
            "api/types.rs",
            Replace(".max_length(2000)", ".max_length(1000)"),
            Rule::CodeInconsistent,
        ),
        m(
            "change-pattern",
            "api/types.rs",
            Replace("\"^[a-z0-9_]{3,32}$\"", "\"^[a-z0-9_]{1,64}$\""),
            Rule::ConstraintMismatch,
        ),
        m(
            "drop-nullable",
            "api/types.rs",
            Replace(
                "&cg::Schema::Nullable(&cg::Schema::Uuid),",
                "&cg::Schema::Uuid,",
            ),
            Rule::NullableMismatch,
        ),
        m(
            "add-deny-unknown-fields",
            "api/types.rs",
            Replace(
                "pub struct ImageAttachment {",
                "#[serde(deny_unknown_fields)]\npub struct ImageAttachment {",
            ),
            Rule::UnknownFieldsMismatch,
        ),
        m(
            "add-rename-all",
            "api/types.rs",
            Replace(
                "pub struct ImageAttachment {",
                "#[serde(rename_all = \"camelCase\")]\npub struct ImageAttachment {",
            ),
            Rule::FieldMissing,
        ),
        m(
            "skip-field",
            "api/types.rs",
            Replace(
                "    pub width: i64,",
                "    #[serde(skip)]\n    pub width: i64,",
            ),
            Rule::FieldMissing,
        ),
        m(
            "rename-client-tag",
            "api/chat.rs",
            Replace(
                "#[serde(rename = \"chat\")]",
                "#[serde(rename = \"chat_line\")]",
            ),
            Rule::MessageMissing,
        ),
        m(
            "drop-server-message",
            "api/chat.rs",
            Cut(
                "    #[serde(rename = \"pong\")]\n",
                "PongMessage(super::types::PongMessage),\n",
            ),
            Rule::MessageMissing,
        ),
        m(
            "add-client-message",
            "api/chat.rs",
            Replace(
                "pub enum ClientMessage {\n",
                "pub enum ClientMessage {\n    #[serde(rename = \"kick\")]\n    Kick(super::types::RoomMetadata),\n",
            ),
            Rule::MessageExtra,
        ),
        m(
            "add-action",
            "api/chat.rs",
            Replace(
                "pub enum ClientMessage {\n",
                "pub enum ClientMessage {\n    #[serde(rename = \"kick\")]\n    Kick(super::types::RoomMetadata),\n",
            ),
            Rule::ActionExtra,
        ),
        m(
            "remove-action",
            "api/chat.rs",
            Cut("    fn handle_ping(", "> + Send;\n"),
            Rule::ActionMissing,
        ),
        m(
            "rename-handler",
            "api/chat.rs",
            Replace("    fn handle_react(", "    fn handle_reaction("),
            Rule::HandlerNameMismatch,
        ),
        m(
            "change-reply",
            "api/chat.rs",
            Replace(
                "Option<super::types::PongMessage>,",
                "Option<super::types::CursorMoved>,",
            ),
            Rule::ReplySetMismatch,
        ),
        m(
            "change-event-message",
            "api/chat.rs",
            Replace(
                "event: super::types::Announcement,",
                "event: super::types::UserLeft,",
            ),
            Rule::EventMessagesMismatch,
        ),
        m(
            "change-address",
            "api/chat.rs",
            Replace(
                "RAW_ADDRESS: &str = \"/ws/chat/{room_name}\";",
                "RAW_ADDRESS: &str = \"/ws/rooms/{room_name}\";",
            ),
            Rule::AddressMismatch,
        ),
        m(
            "change-parameter-type",
            "api/chat.rs",
            Replace(
                "    pub room_name: ::std::string::String,",
                "    pub room_name: i64,",
            ),
            Rule::ParameterMismatch,
        ),
        m(
            "change-title",
            "api/mod.rs",
            Replace(
                "pub const TITLE: &str = \"Chat Rooms",
                "pub const TITLE: &str = \"Chat Halls",
            ),
            Rule::InfoMismatch,
        ),
        m(
            "delete-channel-file",
            "api/chat.rs",
            Delete,
            Rule::MissingFile,
        ),
        m(
            "break-syntax",
            "api/types.rs",
            Append("\nfn broken( {\n"),
            Rule::UnparsableRust,
        ),
        m(
            "remove-handler-implementation",
            "lib.rs",
            Replace(
                "    async fn handle_attach(",
                "    async fn handle_attach_later(",
            ),
            Rule::HandlerMissing,
        ),
        m(
            "remove-consumer-impl",
            "lib.rs",
            Replace("impl ChatConsumer for ChatServer {", "impl ChatServer {"),
            Rule::ConsumerNotImplemented,
        ),
        m(
            "stale-body",
            "api/chat.rs",
            Replace(
                "pub fn new(consumer: C) -> Self {",
                "pub fn new(consumer: C) -> Self {\n        let _unused = 1;",
            ),
            Rule::StaleFile,
        ),
    ]
}

/// The handler `add-action` adds to the consumer trait, beside its new message.
const KICK_HANDLER: &str = "pub trait ChatConsumer: Send + Sync + 'static {\n    fn kick(&self, cx: &cg::Context, message: super::types::RoomMetadata) -> impl ::core::future::Future<Output = Result<Option<()>, cg::HandlerError>> + Send;\n";

fn apply(dir: &Path, mutation: &Mutation) {
    let path = dir.join(mutation.file);
    if let Edit::Delete = mutation.edit {
        std::fs::remove_file(&path).expect("delete");
        return;
    }
    let mut text = std::fs::read_to_string(&path).expect("read");
    match &mutation.edit {
        Edit::Replace(old, new) => {
            assert!(text.contains(old), "{}: `{old}` not found", mutation.name);
            text = text.replacen(old, new, 1);
        }
        Edit::ReplaceAll(old, new) => {
            assert!(text.contains(old), "{}: `{old}` not found", mutation.name);
            text = text.replace(old, new);
        }
        Edit::Cut(start, end) => {
            let a = text
                .find(start)
                .unwrap_or_else(|| panic!("{}: `{start}` not found", mutation.name));
            let b = text[a..]
                .find(end)
                .map(|b| a + b + end.len())
                .unwrap_or_else(|| panic!("{}: `{end}` not found", mutation.name));
            text.replace_range(a..b, "");
        }
        Edit::Append(more) => text.push_str(more),
        Edit::Delete => {}
    }
    if mutation.name == "add-action" {
        let head = "pub trait ChatConsumer: Send + Sync + 'static {\n";
        assert!(text.contains(head));
        text = text.replacen(head, KICK_HANDLER, 1);
    }
    std::fs::write(&path, text).expect("write");
}

#[test]
fn mutations_are_reported_with_rule_and_both_places() {
    let spec = root().join("specs/chat.yaml");
    let list = mutations();
    assert!(list.len() >= 20, "only {} kinds of edit", list.len());
    let mut failures = Vec::new();
    for mutation in &list {
        let dir = chat_copy(mutation.name);
        apply(&dir, mutation);
        let report = run_check(&spec, &dir);
        let hit = report.findings.iter().find(|f| f.rule == mutation.rule);
        match hit {
            None => failures.push(format!(
                "{}: expected `{}`, got:\n{}",
                mutation.name,
                mutation.rule,
                report.render()
            )),
            Some(f) if f.spec.is_none() || f.rust.is_none() => failures.push(format!(
                "{}: `{}` lacks a place (spec {:?}, rust {:?})",
                mutation.name, mutation.rule, f.spec, f.rust
            )),
            Some(f) => {
                let rust = f.rust.as_ref().map(|s| s.file.clone()).unwrap_or_default();
                let expected = match mutation.rule {
                    Rule::ConsumerNotImplemented => "api/chat.rs",
                    _ => mutation.file,
                };
                if !rust.ends_with(expected) {
                    failures.push(format!(
                        "{}: `{}` points at {rust}, not {expected}",
                        mutation.name, mutation.rule
                    ));
                }
                if f.spec.as_ref().is_some_and(|s| s.line == 0) {
                    failures.push(format!("{}: spec place has no line", mutation.name));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn formatting_and_comments_are_not_findings() {
    let dir = chat_copy("cosmetic");
    let path = dir.join("api/chat.rs");
    let text = std::fs::read_to_string(&path).expect("read");
    let text = text.replace("    ", "  ").replace(
        "pub const KEY",
        "// a comment someone added\n\n\npub const KEY",
    );
    std::fs::write(&path, text).expect("write");
    let report = run_check(&root().join("specs/chat.yaml"), &dir);
    assert!(report.findings.is_empty(), "{}", report.render());
}

#[test]
fn json_output_carries_rule_severity_and_places() {
    let dir = chat_copy("json");
    apply(
        &dir,
        &m(
            "change-field-type",
            "api/types.rs",
            Edit::Replace("    pub width: i64,", "    pub width: bool,"),
            Rule::TypeMismatch,
        ),
    );
    let report = run_check(&root().join("specs/chat.yaml"), &dir);
    let json = report.to_json();
    let finding = json["findings"]
        .as_array()
        .and_then(|a| a.iter().find(|f| f["rule"] == "type-mismatch"))
        .unwrap_or_else(|| panic!("{json:#}"));
    assert_eq!(finding["severity"], "error");
    assert!(
        finding["spec"]["file"]
            .as_str()
            .unwrap_or("")
            .ends_with("chat.yaml")
    );
    assert!(finding["spec"]["line"].as_u64().unwrap_or(0) > 1);
    assert!(
        finding["rust"]["file"]
            .as_str()
            .unwrap_or("")
            .ends_with("types.rs")
    );
    assert!(
        finding["fix"]
            .as_str()
            .unwrap_or("")
            .contains("chanx-gen generate")
    );
    assert!(json["summary"]["errors"].as_u64().unwrap_or(0) >= 2);
}

#[test]
fn every_rule_is_documented() {
    let doc =
        std::fs::read_to_string(root().join("docs/check-rules.md")).expect("docs/check-rules.md");
    for rule in Rule::ALL {
        assert!(
            doc.contains(&format!("`{}`", rule.as_str())),
            "docs/check-rules.md does not document `{rule}`"
        );
    }
}

#[test]
fn generated_code_of_every_corpus_document_checks_clean() {
    let Some(corpus) = common::corpus_dir() else {
        return;
    };
    let settings = Settings::new();
    let mut checked = 0;
    let mut failures = Vec::new();
    for document in common::corpus_documents(&corpus) {
        if !document.kind.is_valid() {
            continue;
        }
        let Ok(generated) = chanx_gen::generate(&document.path, &settings) else {
            continue;
        };
        let safe: String = document
            .name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("check-corpus")
            .join(safe);
        let _ = std::fs::remove_dir_all(&dir);
        chanx_gen::render::write_files(&dir, &generated.files).expect("write the module");
        let report = check::check(&document.path, &dir, None, &settings).expect("check runs");
        checked += 1;
        if !report.findings.is_empty() {
            failures.push(format!("{}:\n{}", document.name, report.render()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked >= 20, "only {checked} documents generated");
    eprintln!("{checked} corpus documents: generated code checks clean");
}

#[test]
fn code_not_in_the_generated_shape_gives_problems_not_panics() {
    // Real Rust that is not a generated module, an empty folder, and garbage.
    for dir in ["src/check", "src/ir", "runtime/src", "specs"] {
        let extracted = check::extract::extract_dir(&root().join(dir));
        let _ = chanx_gen::export::export(&extracted.model);
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("check-garbage");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    std::fs::write(
        dir.join("mod.rs"),
        "pub mod types; pub mod c;\npub const TITLE: &str = 1;",
    )
    .expect("write");
    std::fs::write(
        dir.join("types.rs"),
        "pub struct A { pub x: Unknown<Vec<>>, #[serde(rename)] pub y: (), }\n\
         pub enum B { X(i64, i64), Y { z: bool } }\n\
         pub static A_SCHEMA: Schema = Schema::Object(&7);\n\
         #[serde(try_from = \"i64\")] pub enum C { V }",
    )
    .expect("write");
    std::fs::write(
        dir.join("c.rs"),
        "pub const KEY: &str = \"c\"; pub const RAW_ADDRESS: &str = \"/{a:int}/{b\";\n\
         pub enum ClientMessage { X(super::types::A) }\n\
         pub trait CConsumer { fn f(&self); fn g(&self, a: u8, b: Nope) -> impl Future<Output = ()>; }",
    )
    .expect("write");
    let extracted = check::extract::extract_dir(&dir);
    assert!(!extracted.problems.is_empty());
    let _ = chanx_gen::export::export(&extracted.model);
    let report = check::check(
        &root().join("specs/chat.yaml"),
        &dir,
        Some(&dir),
        &Settings::new(),
    )
    .expect("check runs");
    assert!(report.findings.iter().any(|f| f.rule == Rule::StaleFile));
    std::fs::write(dir.join("types.rs"), "pub struct {").expect("write");
    assert!(chanx_gen::export::export_dir(&dir).is_err());
}
