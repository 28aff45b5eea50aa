//! Front-end benchmark: how long [`chanx_gen::analyze`] takes (read the file, parse with spans,
//! resolve `$ref`s, read the AsyncAPI model, validate, and whatever later stages `analyze` grows),
//! dropping of the result included, on three sizes of document:
//!
//! - small: the ~9 KB Gemini WebSocket example of the AsyncAPI spec (`$CHANX_CORPUS`), else
//!   `specs/chat.yaml`;
//! - large: the ~90 KB Deepgram document (`$CHANX_CORPUS` only);
//! - huge: a ~1 MiB document generated from `specs/chat.yaml` by cloning its channels, operations,
//!   messages and schemas under renamed keys, with every `$ref` rewritten to its clone.
//!
//! `cargo bench --bench frontend -- --write-huge PATH` only writes the huge document to `PATH` (for
//! `benches/compare-generate.sh`).
//!
//! Plain harness (`cargo bench --bench frontend`): warm-up, then at least [`MIN_ITERATIONS`] timed
//! runs and at least [`MIN_TIME`] per document; prints a markdown table of min / median / mean /
//! p95 and the throughput at the median.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chanx_gen::load::Sources;
use serde_json::{Map, Value};

/// Timed runs per document, at least.
const MIN_ITERATIONS: usize = 20;
/// Time spent measuring each document, at least (unless [`MAX_ITERATIONS`] is reached first).
const MIN_TIME: Duration = Duration::from_secs(2);
/// Timed runs per document, at most.
const MAX_ITERATIONS: usize = 10_000;
/// Untimed runs before measuring, at least; and the time they take, at least.
const WARM_UP: (usize, Duration) = (3, Duration::from_millis(300));
/// The size the generated document reaches, at least.
const HUGE_BYTES: usize = 1 << 20;

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let chat = root.join("specs/chat.yaml");
    // `--write-huge PATH`: only write the huge document (for `benches/compare-generate.sh`).
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|arg| arg == "--write-huge") {
        let path = args.get(at + 1).expect("usage: --write-huge PATH");
        let (text, copies) = huge_document(&chat, HUGE_BYTES);
        if let Some(parent) = Path::new(path).parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|error| panic!("cannot create {}: {error}", parent.display()));
        }
        std::fs::write(path, &text).unwrap_or_else(|error| panic!("cannot write {path}: {error}"));
        eprintln!(
            "wrote {path}: specs/chat.yaml x{copies}, {} bytes",
            text.len()
        );
        return;
    }
    let corpus = std::env::var_os("CHANX_CORPUS").map(PathBuf::from);
    let huge = GeneratedFile::new(&chat, HUGE_BYTES);

    let mut rows = Vec::new();
    match &corpus {
        Some(corpus) => {
            let gemini = corpus.join("spec-examples/v3.0.0/websocket-gemini-asyncapi.yml");
            rows.push(measure("small: websocket-gemini (corpus)", &gemini));
            let deepgram = corpus.join("wild/ws/deepgram-2026-01/asyncapi.yml");
            rows.push(measure("large: deepgram-2026-01 (corpus)", &deepgram));
        }
        None => {
            rows.push(measure("small: specs/chat.yaml", &chat));
            eprintln!("skipped the large document: CHANX_CORPUS is not set");
        }
    }
    rows.push(measure(
        &format!("huge: chat.yaml x{} (generated)", huge.copies),
        huge.path(),
    ));

    println!(
        "chanx_gen::analyze, in process ({} build)\n",
        build_profile()
    );
    println!("| document | size | runs | min ms | median ms | mean ms | p95 ms | MB/s (median) |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        println!("{row}");
    }
    println!(
        "\nPeer, for scale (reference/asyncapi-notes.md, same kind of 2-core machine): the Node \
         AsyncAPI CLI 6.2.0 `asyncapi validate` takes 3.52 s whole-process for the 10 KB Gemini \
         document and 5.38 s for the 99 KB Deepgram one; parser-js alone, in process, 0.48 s and \
         2.1 s. `benches/compare-validate.sh` measures both whole-process, side by side."
    );
}

/// The timings of one document.
struct Row {
    name: String,
    bytes: u64,
    samples: Vec<Duration>,
}

impl std::fmt::Display for Row {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let n = self.samples.len();
        let median = self.samples[n / 2];
        let p95 = self.samples[((n * 95).div_ceil(100)).clamp(1, n) - 1];
        let mean = self.samples.iter().sum::<Duration>() / n as u32;
        let megabytes = self.bytes as f64 / 1e6;
        write!(
            f,
            "| {} | {:.1} KB | {n} | {:.3} | {:.3} | {:.3} | {:.3} | {:.1} |",
            self.name,
            self.bytes as f64 / 1e3,
            ms(self.samples[0]),
            ms(median),
            ms(mean),
            ms(p95),
            megabytes / median.as_secs_f64()
        )
    }
}

/// Warms up, then times `analyze` on `path` until both minimums are met.
fn measure(name: &str, path: &Path) -> Row {
    let bytes = std::fs::metadata(path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
        .len();
    let analysis = chanx_gen::analyze(path).expect("the benchmark document is readable");
    if analysis.has_errors() {
        eprintln!(
            "note: {} has errors ({} diagnostics); timing it all the same",
            path.display(),
            analysis.diagnostics.len()
        );
    }
    let warm_up = Instant::now();
    let mut runs = 0;
    while runs < WARM_UP.0 || warm_up.elapsed() < WARM_UP.1 {
        drop(black_box(chanx_gen::analyze(black_box(path))));
        runs += 1;
    }
    let mut samples = Vec::new();
    let started = Instant::now();
    while samples.len() < MIN_ITERATIONS
        || (started.elapsed() < MIN_TIME && samples.len() < MAX_ITERATIONS)
    {
        let start = Instant::now();
        drop(black_box(chanx_gen::analyze(black_box(path))));
        samples.push(start.elapsed());
    }
    samples.sort();
    Row {
        name: name.to_owned(),
        bytes,
        samples,
    }
}

fn build_profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

/// A generated document in a temporary file, removed on drop.
struct GeneratedFile {
    dir: PathBuf,
    file: PathBuf,
    copies: usize,
}

impl GeneratedFile {
    /// Writes [`huge_document`] of `template` to a temporary file, and checks that it is valid.
    fn new(template: &Path, min_bytes: usize) -> Self {
        let (text, copies) = huge_document(template, min_bytes);
        let dir = std::env::temp_dir().join(format!("chanx-gen-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the bench directory");
        let file = dir.join("generated.json");
        std::fs::write(&file, text).expect("write the generated document");
        let analysis = chanx_gen::analyze(&file).expect("read the generated document");
        assert!(
            !analysis.has_errors(),
            "the generated document has errors: {:?}",
            analysis.diagnostics.iter().next()
        );
        GeneratedFile { dir, file, copies }
    }

    fn path(&self) -> &Path {
        &self.file
    }
}

impl Drop for GeneratedFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The API of the document at `template` cloned as many times as it takes to reach `min_bytes` of
/// pretty-printed JSON: the JSON text and the number of copies.
fn huge_document(template: &Path, min_bytes: usize) -> (String, usize) {
    let (sources, diagnostics) = Sources::load(template).expect("read the template");
    assert!(
        !diagnostics.has_errors(),
        "{} does not load cleanly",
        template.display()
    );
    let document = sources.file(Sources::ENTRY).root();
    let one_copy = serde_json::to_string_pretty(&replicate(document, 1))
        .expect("serialize")
        .len();
    let copies = min_bytes.div_ceil(one_copy).max(1);
    let text = serde_json::to_string_pretty(&replicate(document, copies)).expect("serialize");
    (text, copies)
}

/// `document` with its channels, operations, component messages and component schemas cloned
/// `copies` times: copy `i` has every key, title and message name suffixed `_i`, every address
/// prefixed `/copy{i}`, and every `$ref` to one of those rewritten to the clone. Everything else is
/// kept once.
fn replicate(document: &Value, copies: usize) -> Value {
    let mut out = document.clone();
    let sections: [&[&str]; 4] = [
        &["channels"],
        &["operations"],
        &["components", "messages"],
        &["components", "schemas"],
    ];
    for section in sections {
        let Some(Value::Object(original)) = get_path(document, section) else {
            continue;
        };
        let mut cloned = Map::new();
        for i in 0..copies {
            let suffix = format!("_{i}");
            for (key, value) in original {
                let mut value = value.clone();
                rewrite_refs(&mut value, &suffix);
                rename_titles(&mut value, &suffix);
                if let Some(Value::String(address)) = value.get_mut("address") {
                    *address = format!("/copy{i}/{}", address.trim_start_matches('/'));
                }
                cloned.insert(format!("{key}{suffix}"), value);
            }
        }
        if let Some(slot) = get_path_mut(&mut out, section) {
            *slot = Value::Object(cloned);
        }
    }
    out
}

/// Rewrites every `$ref` under `value` that names a channel, a component message or a component
/// schema so that it names the clone with `suffix`.
fn rewrite_refs(value: &mut Value, suffix: &str) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child {
                    Value::String(reference) if key == "$ref" => {
                        *reference = renamed_ref(reference, suffix);
                    }
                    _ => rewrite_refs(child, suffix),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|item| rewrite_refs(item, suffix)),
        _ => {}
    }
}

/// Suffixes every schema and message `title` (and message `name`) in `value`, so that each copy is a
/// distinct API for every generator (Modelina, for one, merges schemas that share a title); values
/// (`examples`, `default`, `const`, `enum`) are left alone.
fn rename_titles(value: &mut Value, suffix: &str) {
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                match child {
                    Value::String(text) if key == "title" || key == "name" => text.push_str(suffix),
                    _ if matches!(
                        key.as_str(),
                        "examples" | "example" | "default" | "const" | "enum"
                    ) => {}
                    _ => rename_titles(child, suffix),
                }
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|item| rename_titles(item, suffix)),
        _ => {}
    }
}

/// `#/channels/chat/messages/x` -> `#/channels/chat_1/messages/x`; `#/components/schemas/X` ->
/// `#/components/schemas/X_1`; other references unchanged.
fn renamed_ref(reference: &str, suffix: &str) -> String {
    let Some(pointer) = reference.strip_prefix("#/") else {
        return reference.to_owned();
    };
    let mut segments: Vec<String> = pointer.split('/').map(str::to_owned).collect();
    let renamed = match segments.as_slice() {
        [section, ..] if section == "channels" || section == "operations" => 1,
        [components, kind, ..]
            if components == "components" && (kind == "messages" || kind == "schemas") =>
        {
            2
        }
        _ => return reference.to_owned(),
    };
    if let Some(segment) = segments.get_mut(renamed) {
        segment.push_str(suffix);
    }
    format!("#/{}", segments.join("/"))
}

fn get_path<'a>(value: &'a Value, path: &[&str]) -> Option<&'a Value> {
    path.iter().try_fold(value, |node, key| node.get(key))
}

fn get_path_mut<'a>(value: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |node, key| node.get_mut(*key))
}
