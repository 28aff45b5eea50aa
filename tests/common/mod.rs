//! Helpers shared by the integration tests: where the shared corpus and the project's specs are,
//! and which files in them are AsyncAPI documents.
//!
//! Each test crate compiles this module on its own (`mod common;`) and uses a part of it, so unused
//! items are expected, and `pub` items are reachable from that crate only.
#![allow(dead_code, unreachable_pub)]

pub mod golden;
pub mod scratch;

use std::path::{Path, PathBuf};

/// The variable that points the tests at the shared corpus of real AsyncAPI documents.
pub const CORPUS_VAR: &str = "CHANX_CORPUS";

/// The shared corpus named by `$CHANX_CORPUS`, for a test that needs it.
///
/// When the variable is unset, the test cannot run: under CI (`CI` set) this panics, so a broken CI
/// setup fails loudly; elsewhere it prints why the test is skipped to stderr and returns `None`,
/// and the test returns. A variable that names no directory always panics.
pub fn corpus_dir() -> Option<PathBuf> {
    if let Some(dir) = configured_corpus() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{CORPUS_VAR} must be set under CI (scripts/test.sh sets it to ../shared/corpus when that \
         exists)"
    );
    eprintln!(
        "skipped: {CORPUS_VAR} is not set; point it at the shared corpus (scripts/test.sh does) to \
         run this test"
    );
    None
}

/// The shared corpus when `$CHANX_CORPUS` is set, for a test that only uses it when it is there.
/// Panics when the variable names no directory.
pub fn configured_corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(std::env::var_os(CORPUS_VAR)?);
    assert!(
        dir.is_dir(),
        "{CORPUS_VAR}={} is not a directory",
        dir.display()
    );
    Some(dir)
}

/// The project's `specs/` folder.
pub fn specs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("specs")
}

/// Every `.yml`, `.yaml` and `.json` file under `dir`, recursively, in sorted order.
pub fn document_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()));
        for entry in entries {
            let path = entry
                .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
                .path();
            if path.is_dir() {
                pending.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yml" | "yaml" | "json")
            ) {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Whether `path` is an AsyncAPI document (it has a top-level `asyncapi` key) rather than a
/// fragment that documents reference (`common/schemas.yaml`).
///
/// Decided from the text, independently of the code under test: a JSON file's top-level object has
/// the key; a YAML file has a line that starts (at column 0) with the key. A file that cannot be
/// read as text counts as a document, so that the test that runs it reports it.
pub fn is_asyncapi_document(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return true;
    };
    if path.extension().is_some_and(|e| e == "json") {
        return match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(value) => value.get("asyncapi").is_some(),
            Err(_) => true,
        };
    }
    text.lines().any(|line| {
        ["asyncapi", "\"asyncapi\"", "'asyncapi'"]
            .iter()
            .any(|key| {
                line.strip_prefix(key)
                    .is_some_and(|rest| rest.trim_start().starts_with(':'))
            })
    })
}

/// `path` relative to `base`, with `/` separators, for messages and for matching lists of files.
pub fn relative_name(path: &Path, base: &Path) -> String {
    let relative = path.strip_prefix(base).unwrap_or(path);
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The diagnostic code a spec names on its first line, `# expect: <code>`: the code it exists to
/// trigger.
pub fn expected_code(path: &Path) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let first = text.lines().next()?;
    Some(first.strip_prefix("# expect:")?.trim().to_owned())
}

/// Real-world documents of the corpus that cannot be used as published, with the reason. They must
/// be rejected like the documents under `invalid/` (`inspect` exits 1; `generate` fails in analysis).
pub const KNOWN_INVALID: &[(&str, &str)] = &[
    (
        "spec-examples/v3.0.0/adeo-kafka-request-reply-asyncapi.yml",
        "its Avro payloads are remote `$ref`s (https://…/*.avsc, two of them into a Netlify deploy \
         preview); chanx-gen never fetches over the network, so they cannot be resolved",
    ),
    (
        "spec-examples/v3.1.0/adeo-kafka-request-reply-asyncapi.yml",
        "its Avro payloads are remote `$ref`s (https://…/*.avsc); chanx-gen never fetches over the \
         network, so they cannot be resolved",
    ),
    (
        "wild/ws/generator-websocket-fixtures/asyncapi-websocket-components.yml",
        "server `withHostDuplicatingProtocol` has `host: wss://test.example.com`: a URL, not the \
         host name that `host` must be (Apicurio SRV-006); the fixture exists to test tolerance of \
         it",
    ),
];

/// Documents under `invalid/` that Apicurio rejects but AsyncAPI 3.0 allows, which chanx-gen
/// accepts with a warning (exit 0, a located warning), with the reason.
pub const ACCEPTED_WITH_WARNING: &[(&str, &str)] = &[(
    "invalid/apicurio-validation-3.0/missing-channel-address.json",
    "Apicurio CHAN-001 wants an `address`, but 3.0 says an absent or null address means \
     unknown/dynamic; chanx-gen warns `channel-address-missing`",
)];

/// What a document of the corpus is, by [`corpus_documents`]'s selection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorpusKind {
    /// A valid document: no error diagnostics.
    Valid,
    /// Valid, with at least one located warning ([`ACCEPTED_WITH_WARNING`]).
    Warned,
    /// Invalid: under `invalid/`, or in [`KNOWN_INVALID`].
    Invalid,
}

impl CorpusKind {
    /// Whether code can be generated from the document (it has no errors).
    pub fn is_valid(self) -> bool {
        self != CorpusKind::Invalid
    }
}

/// One AsyncAPI document of the corpus.
#[derive(Debug, Clone)]
pub struct CorpusDocument {
    /// Its path.
    pub path: PathBuf,
    /// Its path relative to the corpus, with `/` separators (as the lists above name it).
    pub name: String,
    /// What it is.
    pub kind: CorpusKind,
}

/// Every AsyncAPI document of the corpus at `corpus`, sorted, each classified. Panics when a
/// document the lists above name is not one of them (so the lists cannot go stale).
pub fn corpus_documents(corpus: &Path) -> Vec<CorpusDocument> {
    let documents = asyncapi_documents(corpus);
    let names: Vec<String> = documents
        .iter()
        .map(|path| relative_name(path, corpus))
        .collect();
    for (name, _) in KNOWN_INVALID.iter().chain(ACCEPTED_WITH_WARNING) {
        assert!(
            names.iter().any(|n| n == name),
            "`{name}` is listed, but it is not an AsyncAPI document of {}",
            corpus.display()
        );
    }
    let listed = |list: &[(&str, &str)], name: &str| list.iter().any(|(known, _)| *known == name);
    documents
        .into_iter()
        .zip(names)
        .map(|(path, name)| {
            let kind = if listed(ACCEPTED_WITH_WARNING, &name) {
                CorpusKind::Warned
            } else if name.starts_with("invalid/") || listed(KNOWN_INVALID, &name) {
                CorpusKind::Invalid
            } else {
                CorpusKind::Valid
            };
            CorpusDocument { path, name, kind }
        })
        .collect()
}

/// The AsyncAPI documents under `dir` (fragments left out), sorted. Panics when there is none.
pub fn asyncapi_documents(dir: &Path) -> Vec<PathBuf> {
    let documents: Vec<PathBuf> = document_files(dir)
        .into_iter()
        .filter(|path| is_asyncapi_document(path))
        .collect();
    assert!(
        !documents.is_empty(),
        "no AsyncAPI document under {}",
        dir.display()
    );
    documents
}

/// One AsyncAPI document of the project's `specs/`.
#[derive(Debug, Clone)]
pub struct ProjectSpec {
    /// Its path.
    pub path: PathBuf,
    /// Its path relative to `specs/`, with `/` separators (`warnings/schema-format-avro.yaml`).
    pub name: String,
    /// The code it names on its first line (`# expect: <code>`), when it names one.
    pub expected: Option<chanx_gen::diagnostics::Code>,
}

impl ProjectSpec {
    /// Whether code must be generated from it: it names no code, or a code that is not an error.
    pub fn generates(&self) -> bool {
        self.expected
            .is_none_or(|code| code.default_severity() != chanx_gen::diagnostics::Severity::Error)
    }

    /// A name for its generated output, unique among the specs, made of `[a-z0-9-.]`: the path
    /// relative to `specs/` without its extension, `/` replaced by `-` (`warnings-schema-format-avro`).
    pub fn stem(&self) -> String {
        let without_extension = self
            .name
            .rsplit_once('.')
            .map_or(self.name.as_str(), |(stem, _)| stem);
        without_extension.replace('/', "-")
    }

    /// [`ProjectSpec::stem`] as a Rust identifier (`minimal_3_1`).
    pub fn module_name(&self) -> String {
        self.stem()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect()
    }
}

/// Every AsyncAPI document of `specs/` (fragments such as `common/*.yaml` left out), sorted, with
/// the code each names. Panics when a spec names an unknown code.
pub fn project_specs() -> Vec<ProjectSpec> {
    let specs = specs_dir();
    asyncapi_documents(&specs)
        .into_iter()
        .map(|path| {
            let name = relative_name(&path, &specs);
            let expected = expected_code(&path).map(|id| {
                chanx_gen::diagnostics::Code::ALL
                    .iter()
                    .copied()
                    .find(|code| code.as_str() == id)
                    .unwrap_or_else(|| panic!("specs/{name}: `{id}` is not a diagnostic code"))
            });
            ProjectSpec {
                path,
                name,
                expected,
            }
        })
        .collect()
}
