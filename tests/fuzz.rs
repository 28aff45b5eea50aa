//! A bounded, deterministic mutation fuzzer for the front end: real documents (every file of
//! `specs/`, and of the shared corpus when `$CHANX_CORPUS` is set) are mutated at random, byte-wise
//! and structurally, and [`chanx_gen::analyze`] must never panic on them; neither may rendering or
//! serializing any diagnostic it returns, and every located diagnostic must resolve to a 1-based
//! line and column.
//!
//! `CHANX_FUZZ_SEED` (default [`DEFAULT_SEED`]) and `CHANX_FUZZ_ITERS` (default [`DEFAULT_ITERS`])
//! set the run. A failing mutant is written to `target/fuzz-failures/` for `chanx-gen inspect
//! FILE`.

mod common;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use chanx_gen::Analysis;

/// The seed used when `CHANX_FUZZ_SEED` is unset.
const DEFAULT_SEED: u64 = 0x5EED_C4A2_2026_0001;

/// The number of mutants tried when `CHANX_FUZZ_ITERS` is unset (a few seconds in a debug build).
const DEFAULT_ITERS: usize = 1500;

/// For each kind of failure, at most this many mutants are reported (every one is counted).
const MAX_REPORTS: usize = 8;

/// What went wrong on a mutant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// `analyze`, `render` or serialization panicked.
    Panic,
    /// A diagnostic with a place resolved to line or column 0.
    Mislocated,
}

/// The failures found so far: all counted, the first [`MAX_REPORTS`] of each kind described.
#[derive(Default)]
struct Findings {
    panics: usize,
    mislocated: usize,
    reports: Vec<String>,
}

impl Findings {
    /// The counter of `kind`.
    fn count(&mut self, kind: Failure) -> &mut usize {
        match kind {
            Failure::Panic => &mut self.panics,
            Failure::Mislocated => &mut self.mislocated,
        }
    }
}

#[test]
fn mutated_documents_never_panic_the_front_end() {
    let seed = env_number("CHANX_FUZZ_SEED", DEFAULT_SEED);
    let iterations = env_number("CHANX_FUZZ_ITERS", DEFAULT_ITERS as u64) as usize;
    let seeds = seed_documents();
    let workdir = TempDir::new(seed);
    let mut rng = XorShift::new(seed);
    let mut findings = Findings::default();
    for iteration in 0..iterations {
        let (seed_path, original) = &seeds[rng.below(seeds.len())];
        let mut bytes = original.clone();
        let applied: Vec<&str> = (0..=rng.below(3))
            .map(|_| mutate(&mut rng, &mut bytes, &seeds))
            .collect();
        let extension = seed_path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("yaml");
        let mutant = workdir
            .path()
            .join(format!("mutant-{iteration}.{extension}"));
        std::fs::write(&mutant, &bytes).expect("write the mutant");
        let mut problems = check("as a file", || chanx_gen::analyze(&mutant).ok());
        std::fs::remove_file(&mutant).expect("remove the mutant");
        // Half the time, also analyzed in place of its seed, so that relative `$ref`s reach the
        // seed's real neighbour files.
        if let Ok(text) = String::from_utf8(bytes.clone()) {
            if rng.chance(50) {
                problems.extend(check("in place of its seed", || {
                    Some(chanx_gen::analyze_text(seed_path, text))
                }));
            }
        }
        for kind in [Failure::Panic, Failure::Mislocated] {
            let found: Vec<&str> = problems
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, message)| message.as_str())
                .collect();
            if found.is_empty() {
                continue;
            }
            *findings.count(kind) += 1;
            if *findings.count(kind) <= MAX_REPORTS {
                let saved = save_failure(seed, iteration, extension, &bytes);
                findings.reports.push(format!(
                    "{kind:?} at iteration {iteration}: {} mutated by [{}], saved as {}:\n    {}",
                    seed_path.display(),
                    applied.join(", "),
                    saved.display(),
                    found.join("\n    ")
                ));
            }
        }
    }
    assert!(
        findings.panics == 0 && findings.mislocated == 0,
        "over {iterations} mutants, {} panicked and {} had a diagnostic at line/column 0 \
         (reproduce with CHANX_FUZZ_SEED={seed:#x}, or `chanx-gen inspect` a saved file); the \
         first {MAX_REPORTS} of each:\n{}",
        findings.panics,
        findings.mislocated,
        findings.reports.join("\n")
    );
}

/// Runs `analyze` (which may give no analysis, for an unreadable file), then renders and serializes
/// each diagnostic; returns what went wrong, each described as happening `how` the mutant was read.
fn check(how: &str, analyze: impl FnOnce() -> Option<Analysis>) -> Vec<(Failure, String)> {
    let analysis = match catch_unwind(AssertUnwindSafe(analyze)) {
        Ok(Some(analysis)) => analysis,
        Ok(None) => return Vec::new(),
        Err(panic) => {
            return vec![(
                Failure::Panic,
                format!("{how}: analyze panicked: {}", panic_message(&panic)),
            )];
        }
    };
    let mut problems = Vec::new();
    for diagnostic in analysis.diagnostics.iter() {
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let _ = diagnostic.render(&analysis.sources);
            let json = diagnostic.to_json(&analysis.sources);
            serde_json::to_string(&json).expect("serialize a diagnostic");
            json.location.filter(|l| l.line == 0 || l.column == 0)
        }));
        match outcome {
            Ok(None) => {}
            Ok(Some(location)) => problems.push((
                Failure::Mislocated,
                format!(
                    "{how}: [{}] {} is at line {}, column {} (pointer `{}`)",
                    diagnostic.code,
                    diagnostic.message,
                    location.line,
                    location.column,
                    location.pointer
                ),
            )),
            Err(panic) => problems.push((
                Failure::Panic,
                format!(
                    "{how}: rendering [{}] {} panicked: {}",
                    diagnostic.code,
                    diagnostic.message,
                    panic_message(&panic)
                ),
            )),
        }
    }
    problems
}

/// The message a panic carried.
fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(non-string panic payload)".to_owned())
}

/// Every document file of `specs/` and, when configured, of the corpus, with its bytes; fragments
/// that are not AsyncAPI documents are kept too (the front end must survive them as well).
fn seed_documents() -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = common::document_files(&common::specs_dir());
    if let Some(corpus) = common::configured_corpus() {
        files.extend(common::document_files(&corpus));
    }
    assert!(!files.is_empty(), "no seed document found");
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()));
            (path, bytes)
        })
        .collect()
}

/// Applies one random mutation to `bytes` and names it.
fn mutate(rng: &mut XorShift, bytes: &mut Vec<u8>, seeds: &[(PathBuf, Vec<u8>)]) -> &'static str {
    match rng.below(12) {
        0 => {
            if !bytes.is_empty() {
                let at = rng.below(bytes.len());
                bytes[at] ^= 1 << rng.below(8);
            }
            "flip a bit"
        }
        1 => {
            let at = rng.below(bytes.len() + 1);
            let count = 1 + rng.below(8);
            let inserted: Vec<u8> = (0..count).map(|_| yaml_byte(rng)).collect();
            bytes.splice(at..at, inserted);
            "insert bytes"
        }
        2 => {
            let at = rng.below(bytes.len() + 1);
            let end = (at + 1 + rng.below(32)).min(bytes.len());
            bytes.drain(at..end);
            "delete bytes"
        }
        3 => {
            bytes.truncate(rng.below(bytes.len() + 1));
            "truncate"
        }
        4 => {
            edit_lines(bytes, |lines| {
                let at = rng.below(lines.len());
                let line = lines[at].clone();
                lines.insert(at, line);
            });
            "duplicate a line"
        }
        5 => {
            edit_lines(bytes, |lines| {
                lines.remove(rng.below(lines.len()));
            });
            "delete a line"
        }
        6 => {
            edit_lines(bytes, |lines| {
                let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
                lines.swap(a, b);
            });
            "swap two lines"
        }
        7 => {
            let donor = &seeds[rng.below(seeds.len())].1;
            let start = rng.below(donor.len() + 1);
            let end = (start + rng.below(2048)).min(donor.len());
            let at = rng.below(bytes.len() + 1);
            bytes.splice(at..at, donor[start..end].iter().copied());
            "splice a chunk of another document"
        }
        8 => {
            let reference = *rng.pick(&[
                "'#/x'",
                "'#'",
                "'#/'",
                "'#/components/schemas'",
                "'#/channels/~2'",
                "'#/%zz'",
                "'missing.yaml#/a'",
                "'../../../../etc/passwd'",
                "'https://example.invalid/a.yaml'",
                "''",
                "42",
            ]);
            edit_lines(bytes, |lines| {
                let at = rng.below(lines.len());
                if let Some(colon) = lines[at].find(": ") {
                    lines[at].truncate(colon + 2);
                    lines[at].push_str(&format!("{{$ref: {reference}}}"));
                }
            });
            "replace a scalar with a $ref"
        }
        9 => {
            let depth = 1 + rng.below(600);
            let (open, close) = *rng.pick(&[("[", "]"), ("{a: ", "}")]);
            let nested = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            edit_lines(bytes, |lines| {
                let at = rng.below(lines.len());
                let indent = lines[at].len() - lines[at].trim_start().len();
                lines.insert(at, format!("{}deep: {nested}", " ".repeat(indent)));
            });
            "insert deep nesting"
        }
        10 => {
            edit_lines(bytes, |lines| {
                let (a, b) = (rng.below(lines.len()), rng.below(lines.len()));
                if let Some(colon) = lines[a].find(": ") {
                    lines[a].insert_str(colon + 2, "&a ");
                }
                if let Some(colon) = lines[b].find(": ") {
                    lines[b].truncate(colon + 2);
                    lines[b].push_str("*a");
                }
                // Sometimes an alias bomb: 8^levels nodes, past the loader's bound from 6 levels on
                // (rare, since each one that hits the bound costs a quarter second in debug).
                if rng.chance(10) {
                    lines.push("bomb0: &b0 [x, x, x, x, x, x, x, x]".to_owned());
                    for level in 1..=1 + rng.below(7) {
                        let prev = format!("*b{}", level - 1);
                        lines.push(format!(
                            "bomb{level}: &b{level} [{}]",
                            [prev.as_str(); 8].join(", ")
                        ));
                    }
                }
            });
            "insert anchors and aliases"
        }
        _ => {
            let at = rng.below(bytes.len() + 1);
            let garbage = *rng.pick(&[
                &b"\xff"[..],
                b"\xc3\x28",
                b"\xed\xa0\x80",
                b"\xf0\x28\x8c",
                b"\x00",
            ]);
            bytes.splice(at..at, garbage.iter().copied());
            "insert invalid UTF-8"
        }
    }
}

/// Applies `edit` to the lines of `bytes` (as lossy UTF-8), when there is at least one line.
fn edit_lines(bytes: &mut Vec<u8>, edit: impl FnOnce(&mut Vec<String>)) {
    let text = String::from_utf8_lossy(bytes);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    if lines.is_empty() {
        return;
    }
    edit(&mut lines);
    *bytes = (lines.join("\n") + "\n").into_bytes();
}

/// A byte that is likely to change how YAML reads the text, or sometimes any byte.
fn yaml_byte(rng: &mut XorShift) -> u8 {
    const SIGNIFICANT: &[u8] = b":{}[]-#&*!|>'\"%@`,?\n\t \\~0123456789";
    if rng.chance(80) {
        *rng.pick(SIGNIFICANT)
    } else {
        rng.next() as u8
    }
}

/// Writes a failing mutant to `target/fuzz-failures/` and returns its path.
fn save_failure(seed: u64, iteration: usize, extension: &str, bytes: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target directory")
        .join("fuzz-failures");
    std::fs::create_dir_all(&dir).expect("create target/fuzz-failures");
    let path = dir.join(format!("seed-{seed:x}-iteration-{iteration}.{extension}"));
    std::fs::write(&path, bytes).expect("save the failing mutant");
    path
}

/// Reads a number (decimal or `0x` hexadecimal) from the environment.
fn env_number(name: &str, default: u64) -> u64 {
    let Ok(text) = std::env::var(name) else {
        return default;
    };
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    parsed.unwrap_or_else(|_| panic!("{name}={text} is not a number"))
}

/// A fresh directory under the system temp dir, removed when dropped (also when the test fails).
struct TempDir(PathBuf);

impl TempDir {
    fn new(seed: u64) -> Self {
        let path =
            std::env::temp_dir().join(format!("chanx-gen-fuzz-{}-{seed:x}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create the fuzz directory");
        TempDir(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// xorshift64* (Vigna): small, fast and plenty for choosing mutations.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> Self {
        // The state must never be zero.
        XorShift((seed ^ 0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    /// True `percent` times out of 100.
    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
