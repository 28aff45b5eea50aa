//! Stage 5: the IR rendered into Rust files.
//!
//! The `view` module decides every name, type and attribute; the minijinja templates in `templates/` (embedded
//! in the binary, overridable with [`Settings::templates_dir`]) only print the view; each file is
//! cut at the templates' item breaks as it is printed (into pieces of at least 16 KiB),
//! each piece parsed (by `quick_parse` when it keeps to the grammar
//! the templates write, else by syn, to the same tree) and printed with prettyplease, so output is well-formed and
//! formatted the same way on every machine; [`write_files`] adds the `@generated` header and writes
//! only what changed.

mod quick_parse;
mod rust;
pub(crate) mod schema;
pub(crate) mod view;

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use minijinja::{Environment, UndefinedBehavior};

use crate::ir::Api;

/// The templates, embedded at build time.
const TEMPLATES: &[(&str, &str)] = &[
    ("mod.rs.j2", include_str!("../../templates/mod.rs.j2")),
    ("types.rs.j2", include_str!("../../templates/types.rs.j2")),
    (
        "channel.rs.j2",
        include_str!("../../templates/channel.rs.j2"),
    ),
    (
        "contract_tests.rs.j2",
        include_str!("../../templates/contract_tests.rs.j2"),
    ),
    (
        "behaviour_tests.rs.j2",
        include_str!("../../templates/behaviour_tests.rs.j2"),
    ),
];

/// How code is generated. Shared by the CLI and by `build.rs` users.
#[derive(Debug, Clone)]
pub struct Settings {
    runtime_path: String,
    templates_dir: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            runtime_path: "::chanx_runtime".to_owned(),
            templates_dir: None,
        }
    }
}

impl Settings {
    /// The defaults: runtime at `::chanx_runtime`, embedded templates.
    pub fn new() -> Self {
        Self::default()
    }

    /// The path under which generated code finds the runtime (for crates that re-export it), e.g.
    /// `::my_crate::chanx_runtime`.
    pub fn runtime_path(mut self, path: impl Into<String>) -> Self {
        self.runtime_path = path.into();
        self
    }

    /// A folder whose `*.rs.j2` files replace the embedded templates of the same name.
    pub fn templates_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.templates_dir = Some(dir.into());
        self
    }
}

/// One file of the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Its path relative to the output folder.
    pub path: PathBuf,
    /// Its formatted text, header included.
    pub contents: String,
    /// A scaffold for the user: written when missing, never overwritten, never stale.
    pub once: bool,
}

/// Rendering failed: a bug in a (possibly user-supplied) template, not in the spec.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// A template could not be read or rendered.
    #[error("template `{name}`: {message}")]
    Template {
        /// The template.
        name: String,
        /// What went wrong.
        message: String,
    },
    /// A template produced text that is not valid Rust.
    #[error(
        "template output `{file}` is not valid Rust at {line}:{column}: {message} (the unformatted text was written to {dump})"
    )]
    InvalidRust {
        /// The output file.
        file: String,
        /// 1-based line in the unformatted text.
        line: usize,
        /// 1-based column.
        column: usize,
        /// syn's message.
        message: String,
        /// Where the unformatted text was written for inspection.
        dump: String,
    },
}

/// Renders `api` into files: `mod.rs`, `types.rs`, one file per channel, `contract_tests.rs`, and the
/// `behaviour_tests.rs` scaffold (marked [`GeneratedFile::once`]).
/// `header` is the text of the `@generated` comment line (without `//`).
pub fn render(
    api: &Api,
    header: &str,
    settings: &Settings,
) -> Result<Vec<GeneratedFile>, RenderError> {
    let env = environment(settings)?;
    let mut views = view::Builder::new(
        api,
        &view::ViewOptions {
            runtime: &settings.runtime_path,
        },
    );
    // Each file is rendered by a template as soon as its view is built, cut into independent
    // chunks at the templates' item breaks, and each chunk parsed and printed (which takes most of
    // the time), all on every core: the first channels' files are rendered and formatted while
    // later views are built. File numbers give the output's order.
    let (mod_rs, types_rs, contract_tests, behaviour_tests) =
        (0, 1, api.channels.len() + 2, api.channels.len() + 3);
    let mut files: Vec<(String, bool)> = vec![(String::new(), false); api.channels.len() + 4];
    let formatted = render_and_format(
        files.len(),
        MIN_CHUNK_BYTES,
        |submit| {
            let globals = minijinja::context! {
                cg => view::CODEGEN_ALIAS,
                codegen => views.codegen(),
                serde_crate => views.serde_crate(),
                item_break => ITEM_BREAK,
            };
            let mut channel_values = Vec::with_capacity(api.channels.len());
            for (i, channel) in api.channels.iter().enumerate() {
                let view = views.channel_view(channel);
                let value = minijinja::Value::from(minijinja::value::Serde(&view));
                let path = format!("{}.rs", view.module_bare);
                files[i + 2].0.clone_from(&path);
                channel_values.push(value.clone());
                let globals = globals.clone();
                submit(
                    i + 2,
                    FileJob::new("channel.rs.j2", move || {
                        minijinja::context! { channel => value, ..globals }
                    }),
                );
            }
            // The files of the whole module next (the contract tests are the second largest), so
            // that the workers have them while this thread builds the types' views.
            let (docs, title, version) = views.module_header();
            let root = minijinja::context! {
                docs => docs,
                title => title,
                version => version,
                channels => channel_values,
                ..globals.clone()
            };
            for (number, path, template) in [
                (mod_rs, "mod.rs", "mod.rs.j2"),
                (contract_tests, "contract_tests.rs", "contract_tests.rs.j2"),
                (
                    behaviour_tests,
                    "behaviour_tests.rs",
                    "behaviour_tests.rs.j2",
                ),
            ] {
                files[number].0 = path.to_owned();
                let root = root.clone();
                submit(number, FileJob::new(template, move || root));
            }
            // The largest file, in parts of a few types each, submitted as their views are
            // built, so that every worker renders some; its head, with the patterns the types
            // and the channels use, last.
            files[types_rs].0 = "types.rs".to_owned();
            let type_count = api.types.len();
            for (part, start) in (0..type_count).step_by(TYPES_PER_PART).enumerate() {
                let types = views.type_views(start..type_count.min(start + TYPES_PER_PART));
                submit(
                    types_rs,
                    types_job(part + 1, types, Vec::new(), globals.clone()),
                );
            }
            let patterns = views.into_patterns();
            submit(types_rs, types_job(0, Vec::new(), patterns, globals));
            files[behaviour_tests].1 = true;
        },
        |template, context, writer| render_template(&env, template, context, writer),
    );
    files
        .into_iter()
        .zip(formatted)
        .map(|((path, once), contents)| {
            let header = if once {
                "Written once by chanx-gen as a starting point; yours to edit (never overwritten)."
            } else {
                header
            };
            let contents = contents.map_err(|failure| failure.into_error(&path))?;
            Ok(GeneratedFile {
                contents: contents.join_after(&format!("// {header}\n\n")),
                path: PathBuf::from(path),
                once,
            })
        })
        .collect()
}

/// What templates print, on a line of its own, between top-level items where a file may be cut
/// for formatting; never part of the output. A template prints it with `{{ item_break }}`, which
/// reaches [`ChunkWriter`] as one write of exactly this text: written any other way (as literal
/// template text), it is not a cut but an ordinary comment, which formatting drops.
const ITEM_BREAK: &str = "//~ chanx-gen item break";

/// How many types a part of `types.rs` has (see [`FileJob::part`]).
const TYPES_PER_PART: usize = 64;

/// Part `part` of `types.rs`: its head (part 0: the file's docs and `use`, and `patterns`) or some
/// of its `types`. The context is made on the worker that renders it.
fn types_job(
    part: usize,
    types: Vec<view::TypeView>,
    patterns: Vec<view::PatternView>,
    globals: minijinja::Value,
) -> FileJob {
    FileJob::new("types.rs.j2", move || {
        minijinja::context! {
            head => part == 0,
            types => minijinja::Value::from(minijinja::value::Serde(&types)),
            patterns => minijinja::Value::from(minijinja::value::Serde(&patterns)),
            ..globals
        }
    })
    .part(part)
}

/// A file to render, or a part of one: its template and what makes the template's context (on
/// the worker that renders it).
struct FileJob {
    template: &'static str,
    context: Box<dyn FnOnce() -> minijinja::Value + Send>,
    /// Where its text goes among the file's parts.
    part: usize,
}

impl FileJob {
    fn new(
        template: &'static str,
        context: impl FnOnce() -> minijinja::Value + Send + 'static,
    ) -> Self {
        FileJob {
            template,
            context: Box::new(context),
            part: 0,
        }
    }

    /// The same job as part `part` of its file: a file may be rendered in parts, by several jobs
    /// of the same file number, whose texts follow each other by part (part 0, the default,
    /// first).
    fn part(self, part: usize) -> Self {
        FileJob { part, ..self }
    }
}

/// One piece of a rendered file that parses on its own: the text between two item breaks.
struct Chunk {
    file: usize,
    /// The file's part it belongs to.
    part: usize,
    /// Its place among the part's chunks.
    index: usize,
    text: String,
}

/// What a worker made of one chunk, or of a file whose template failed.
struct Piece {
    file: usize,
    part: usize,
    index: usize,
    /// The chunk's unformatted text (empty for a failed template), kept for error reports.
    source: String,
    printed: Result<String, Unformatted>,
}

/// Why a piece has no formatted text.
enum Unformatted {
    /// The template failed (the piece comes after every chunk of its file).
    Template(RenderError),
    /// The chunk is not valid Rust, at this 1-based line and column of the chunk.
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
}

/// Why [`render_and_format`] has no text for a file.
enum FileFailure {
    /// The template failed.
    Template(RenderError),
    /// The template printed invalid Rust.
    Syntax {
        /// 1-based line and column in `text`.
        line: usize,
        column: usize,
        message: String,
        /// The file's whole unformatted text.
        text: String,
    },
}

impl FileFailure {
    /// The error for output file `path`; the unformatted text of a file that is not valid Rust is
    /// written to a temporary file for inspection.
    fn into_error(self, path: &str) -> RenderError {
        match self {
            FileFailure::Template(error) => error,
            FileFailure::Syntax {
                line,
                column,
                message,
                text,
            } => {
                let dump = std::env::temp_dir().join(format!("chanx-gen-unformatted-{path}"));
                let _ = std::fs::write(&dump, text);
                RenderError::InvalidRust {
                    file: path.to_owned(),
                    line,
                    column,
                    message,
                    dump: dump.display().to_string(),
                }
            }
        }
    }
}

/// The work the threads of [`render_and_format`] share.
struct Work {
    /// The files submitted and not yet rendered, by number, the next one first.
    to_render: VecDeque<(usize, FileJob)>,
    /// Whether files may still be submitted.
    submitting: bool,
    /// How many files are being rendered (whose chunks may still come).
    rendering: usize,
    /// Chunks waiting to be formatted.
    chunks: VecDeque<Chunk>,
}

/// The work queue and the signal that it changed.
struct Shared {
    work: Mutex<Work>,
    changed: Condvar,
}

impl Shared {
    /// An empty queue; `submitting` says whether files may still come.
    fn new(submitting: bool) -> Self {
        Shared {
            work: Mutex::new(Work {
                to_render: VecDeque::new(),
                submitting,
                rendering: 0,
                chunks: VecDeque::new(),
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Work> {
        self.work.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a chunk and wakes a worker for it.
    fn push_chunk(&self, chunk: Chunk) {
        self.lock().chunks.push_back(chunk);
        self.changed.notify_one();
    }
}

/// Counts a file as rendered when dropped, even by a panicking worker, so that no other worker
/// waits for its chunks forever.
struct Rendering<'s>(&'s Shared);

impl Drop for Rendering<'_> {
    fn drop(&mut self) {
        self.0.lock().rendering -= 1;
        self.0.changed.notify_all();
    }
}

/// Counts submitting as over when dropped, even when the caller panics, so that no worker waits
/// for more files forever.
struct Submitting<'s>(&'s Shared);

impl Drop for Submitting<'_> {
    fn drop(&mut self) {
        self.0.lock().submitting = false;
        self.0.changed.notify_all();
    }
}

/// Chunks are cut at the first item break after at least this much text: a chunk per item (a
/// few hundred bytes each, in a types file) would cost more in hand-offs between threads and in
/// formatter set-ups than it gains in balance; a 1 MB spec's run is about 5% faster so
/// (docs/decisions.md).
const MIN_CHUNK_BYTES: usize = 16 << 10;

/// Where a template writes a file: each chunk is queued for formatting as soon as the item break
/// after it is written, so that a large file is formatted on every core while it is still being
/// rendered; [`ChunkWriter::finish`] queues the last one.
struct ChunkWriter<'s> {
    file: usize,
    part: usize,
    shared: &'s Shared,
    /// The text written since the last cut.
    pending: Vec<u8>,
    /// How long a chunk is at least (the last one excepted).
    min_bytes: usize,
    /// How many chunks were queued.
    queued: usize,
}

impl<'s> ChunkWriter<'s> {
    /// A writer for part `part` of file number `file` that cuts chunks of at least `min_bytes`.
    fn new(file: usize, part: usize, shared: &'s Shared, min_bytes: usize) -> Self {
        ChunkWriter {
            file,
            part,
            shared,
            pending: Vec::new(),
            min_bytes,
            queued: 0,
        }
    }

    /// Queues the text written since the last break as the next chunk (the next one is expected
    /// to be about as long).
    fn cut(&mut self) {
        let next = Vec::with_capacity(self.pending.len());
        let bytes = std::mem::replace(&mut self.pending, next);
        // Templates write whole strings and a break is one of them, so a chunk is whole UTF-8
        // and the lossy conversion never replaces anything.
        let text = String::from_utf8(bytes)
            .unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned());
        self.shared.push_chunk(Chunk {
            file: self.file,
            part: self.part,
            index: self.queued,
            text,
        });
        self.queued += 1;
    }

    /// Queues the last chunk.
    fn finish(mut self) {
        self.cut();
    }
}

impl std::io::Write for ChunkWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if bytes == ITEM_BREAK.as_bytes() {
            // The first break always cuts, so that a file's head (its inner docs, which only syn
            // reads) is a small chunk of its own. A break not cut at leaves its line empty, so
            // that lines keep their numbers.
            if self.queued == 0 || self.pending.len() >= self.min_bytes {
                self.cut();
            }
        } else {
            self.pending.extend_from_slice(bytes);
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Renders and formats `files` files on worker threads, one per core, while `submit_all` (on
/// the caller's thread) submits their jobs by number: workers render files first (those marked
/// `first` before the others; `render` writes each into a [`ChunkWriter`], which queues its
/// chunks as they are written), and format chunks when there is no file to render. Gives each
/// file's text by number; a file never submitted is empty.
fn render_and_format<S, R>(
    files: usize,
    min_chunk_bytes: usize,
    submit_all: S,
    render: R,
) -> Vec<Result<Printed, FileFailure>>
where
    S: FnOnce(&mut dyn FnMut(usize, FileJob)),
    R: Fn(&str, minijinja::Value, &mut ChunkWriter<'_>) -> Result<(), RenderError> + Sync,
{
    let shared = Shared::new(true);
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .clamp(1, 8);
    // Workers are threads of their own (the caller's thread submits, then waits): each forgets
    // the source text behind its spans after every chunk (see `work`), which would break spans
    // the caller's thread still holds.
    let worker = || work(&shared, min_chunk_bytes, &render);
    let mut pieces = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads).map(|_| scope.spawn(worker)).collect();
        {
            let _submitting = Submitting(&shared);
            submit_all(&mut |number, job| {
                shared.lock().to_render.push_back((number, job));
                shared.changed.notify_one();
            });
        }
        let mut pieces = Vec::new();
        for worker in workers {
            pieces.extend(
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            );
        }
        pieces
    });
    pieces.sort_by_key(|piece| (piece.file, piece.part, piece.index));
    let mut out: Vec<Result<Printed, FileFailure>> =
        (0..files).map(|_| Ok(Printed::default())).collect();
    for file_pieces in pieces.chunk_by_mut(|a, b| a.file == b.file) {
        out[file_pieces[0].file] = assemble(file_pieces);
    }
    out
}

/// A file's formatted text from its pieces (in order), or why it has none: its template's
/// failure first (a template that fails midway may leave a chunk cut short), else the first chunk
/// that is not valid Rust.
fn assemble(pieces: &mut [Piece]) -> Result<Printed, FileFailure> {
    let failed_template = pieces
        .iter()
        .position(|piece| matches!(piece.printed, Err(Unformatted::Template(_))));
    if let Some(at) = failed_template {
        if let Err(Unformatted::Template(error)) =
            std::mem::replace(&mut pieces[at].printed, Ok(String::new()))
        {
            return Err(FileFailure::Template(error));
        }
    }
    let mut printed = Vec::with_capacity(pieces.len());
    for at in 0..pieces.len() {
        match std::mem::replace(&mut pieces[at].printed, Ok(String::new())) {
            Ok(chunk) if chunk.is_empty() => {}
            Ok(chunk) => printed.push(chunk),
            Err(Unformatted::Syntax {
                line,
                column,
                message,
            }) => {
                let lines_before: usize = pieces[..at]
                    .iter()
                    .map(|piece| piece.source.matches('\n').count())
                    .sum();
                let sources: Vec<&str> = pieces.iter().map(|piece| piece.source.as_str()).collect();
                return Err(FileFailure::Syntax {
                    line: lines_before + line,
                    column,
                    message,
                    text: sources.join(ITEM_BREAK),
                });
            }
            Err(Unformatted::Template(_)) => {}
        }
    }
    Ok(Printed(printed))
}

/// A file's formatted chunks, in order (the empty ones left out).
#[derive(Debug, Default)]
struct Printed(Vec<String>);

impl Printed {
    /// `prefix`, then the chunks with a blank line between two (chunks are whole items, and a
    /// blank line goes between two items, as within a chunk); one allocation of the final size,
    /// where appending chunk after chunk would copy a large file's text over and over as it grows.
    fn join_after(&self, prefix: &str) -> String {
        let length = prefix.len() + self.0.iter().map(|chunk| chunk.len() + 1).sum::<usize>();
        let mut text = String::with_capacity(length);
        text.push_str(prefix);
        for (i, chunk) in self.0.iter().enumerate() {
            if i > 0 {
                text.push('\n');
            }
            text.push_str(chunk);
        }
        text
    }
}

/// One worker of [`render_and_format`], on a thread of its own: renders the next file while there
/// is one, else formats the next chunk, until every file is submitted and both are done.
fn work<R>(shared: &Shared, min_chunk_bytes: usize, render: &R) -> Vec<Piece>
where
    R: Fn(&str, minijinja::Value, &mut ChunkWriter<'_>) -> Result<(), RenderError>,
{
    let mut done = Vec::new();
    let mut work = shared.lock();
    loop {
        if let Some((file, job)) = work.to_render.pop_front() {
            work.rendering += 1;
            drop(work);
            let rendering = Rendering(shared);
            let FileJob {
                template,
                context,
                part,
            } = job;
            let mut writer = ChunkWriter::new(file, part, shared, min_chunk_bytes);
            match render(template, context(), &mut writer) {
                Ok(()) => writer.finish(),
                Err(error) => done.push(Piece {
                    file,
                    part,
                    index: usize::MAX,
                    source: String::new(),
                    printed: Err(Unformatted::Template(error)),
                }),
            }
            drop(rendering);
            work = shared.lock();
        } else if let Some(chunk) = work.chunks.pop_front() {
            drop(work);
            let printed = format_chunk(&chunk.text);
            // proc-macro2 keeps the text of every parse for its spans' line and column (the
            // `span-locations` feature `check` needs): without this, each chunk's parse is slower
            // than the last, and the worker holds the whole output twice. The chunk's spans are
            // gone with its syntax tree.
            proc_macro2::extra::invalidate_current_thread_spans();
            done.push(Piece {
                file: chunk.file,
                part: chunk.part,
                index: chunk.index,
                source: chunk.text,
                printed,
            });
            work = shared.lock();
        } else if work.rendering > 0 || work.submitting {
            work = shared
                .changed
                .wait(work)
                .unwrap_or_else(PoisonError::into_inner);
        } else {
            return done;
        }
    }
}

/// Renders `template` of `env` with `context` into `writer`.
fn render_template(
    env: &Environment<'_>,
    template: &str,
    context: minijinja::Value,
    writer: &mut ChunkWriter<'_>,
) -> Result<(), RenderError> {
    env.get_template(template)
        .and_then(|t| t.render_captured_to(context, writer))
        .map(drop)
        .map_err(|e| RenderError::Template {
            name: template.to_owned(),
            message: format!("{e:#}"),
        })
}

/// Parses one chunk (quickly when it keeps to the templates' grammar, else with syn) and prints it
/// with prettyplease.
fn format_chunk(text: &str) -> Result<String, Unformatted> {
    match quick_parse::parse_items(text).map_or_else(|| syn::parse_file(text), Ok) {
        Ok(parsed) => Ok(space_out_items(&prettyplease::unparse(&parsed))),
        Err(error) => {
            let start = error.span().start();
            Err(Unformatted::Syntax {
                line: start.line,
                column: start.column + 1,
                message: error.to_string(),
            })
        }
    }
}

fn environment(settings: &Settings) -> Result<Environment<'static>, RenderError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::None);
    for (name, source) in TEMPLATES {
        let source = match &settings.templates_dir {
            Some(dir) if dir.join(name).is_file() => std::fs::read_to_string(dir.join(name))
                .map_err(|e| RenderError::Template {
                    name: dir.join(name).display().to_string(),
                    message: e.to_string(),
                })?,
            _ => (*source).to_owned(),
        };
        env.add_template_owned(*name, source)
            .map_err(|e| RenderError::Template {
                name: (*name).to_owned(),
                message: format!("{e:#}"),
            })?;
    }
    Ok(env)
}

/// Puts a blank line between items, which prettyplease leaves out: before a line that starts an
/// item (or its docs and attributes) at the indentation where the previous item ended.
fn space_out_items(text: &str) -> String {
    const ITEM_STARTS: &[&str] = &[
        "///",
        "#[",
        "#![",
        "pub ",
        "pub(",
        "fn ",
        "async fn ",
        "impl",
        "const ",
        "static ",
        "mod ",
        "use ",
        "type ",
        "struct ",
        "enum ",
        "trait ",
    ];
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    // The previous line's indentation and its text without it (prettyplease indents with
    // spaces and leaves no trailing whitespace).
    let mut previous: Option<(usize, &str)> = None;
    // Inside an inner attribute printed over several lines (`#![allow(` .. `)]`), and whether the
    // previous line closed one.
    let mut in_inner_attribute = false;
    let mut closed_inner_attribute = false;
    for line in text.lines() {
        let body = line.trim_start_matches(' ');
        let indent = line.len() - body.len();
        if let Some((prev_indent, prev)) = previous {
            let ends_inner_attribute =
                (prev.starts_with("#![") && prev.ends_with(']')) || closed_inner_attribute;
            let ends_item = prev == "}"
                || prev == "};"
                || ends_inner_attribute
                || (!prev.starts_with("//") && (prev.ends_with(';') || prev.ends_with(" {}")));
            let after_inner_docs = prev.starts_with("//!") && !body.starts_with("//!");
            // Only then whether the line starts an item (most lines follow one that ends none).
            if (after_inner_docs || (ends_item && indent == prev_indent))
                && ITEM_STARTS.iter().any(|start| body.starts_with(start))
            {
                out.push('\n');
            }
        }
        closed_inner_attribute = in_inner_attribute && body == ")]";
        if body.starts_with("#![") && !body.ends_with(']') {
            in_inner_attribute = true;
        } else if closed_inner_attribute {
            in_inner_attribute = false;
        }
        out.push_str(line);
        out.push('\n');
        previous = Some((indent, body.trim_end()));
    }
    out
}

/// What [`write_files`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WriteReport {
    /// Files written (new or changed).
    pub written: Vec<PathBuf>,
    /// Files already up to date.
    pub unchanged: Vec<PathBuf>,
}

/// Writes `files` under `dir`, creating it; a file whose contents are already equal is not touched
/// (so its modification time, and the builds that depend on it, stay as they are), nor is a scaffold
/// that already exists.
pub fn write_files(dir: &Path, files: &[GeneratedFile]) -> std::io::Result<WriteReport> {
    std::fs::create_dir_all(dir)?;
    let mut report = WriteReport::default();
    for file in files {
        let path = dir.join(&file.path);
        if (file.once && path.exists())
            || std::fs::read_to_string(&path).is_ok_and(|old| old == file.contents)
        {
            report.unchanged.push(path);
            continue;
        }
        std::fs::write(&path, &file.contents)?;
        report.written.push(path);
    }
    Ok(report)
}

/// A stable 64-bit FNV-1a hash, for the header's spec hash.
pub fn fnv1a(parts: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat_api() -> Api {
        let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("specs/chat.yaml");
        let analysis = crate::analyze(&spec).expect("specs/chat.yaml loads");
        analysis.api.expect("specs/chat.yaml has no errors")
    }

    /// Writes `text` as a template would: item breaks (written `{ITEM_BREAK}` in `text`) as
    /// writes of their own.
    fn write_as_template(text: &str, writer: &mut ChunkWriter<'_>) -> Result<(), RenderError> {
        use std::io::Write as _;
        for (i, part) in text.split(ITEM_BREAK).enumerate() {
            if i > 0 {
                writer.write_all(ITEM_BREAK.as_bytes()).expect("in memory");
            }
            writer.write_all(part.as_bytes()).expect("in memory");
        }
        Ok(())
    }

    #[test]
    fn chunks_are_formatted_in_order_and_errors_point_into_the_whole_file() {
        let good =
            format!("//! Docs.\nstruct A;\n{ITEM_BREAK}\nstruct B ;\n{ITEM_BREAK}\nstruct C;");
        let bad = format!(
            "struct A;\n{ITEM_BREAK}\nstruct B;\n\nstruct C {{ x: }}\n{ITEM_BREAK}\nstruct D;"
        );
        // Breaks written as part of a larger write are plain comments, which formatting drops.
        let inline = format!("struct A;\n{ITEM_BREAK}\nstruct B;\n");
        // Submitted out of order, the last one first: the results keep the files' numbers.
        let submit_all = |submit: &mut dyn FnMut(usize, FileJob)| {
            for (number, template) in [(2, "broken"), (0, "good"), (3, "inline"), (1, "bad")] {
                submit(
                    number,
                    FileJob::new(template, || minijinja::Value::UNDEFINED),
                );
            }
        };
        // Every break cut at (no minimum size), to see chunks meet.
        let results = render_and_format(4, 0, submit_all, |template, _, writer| match template {
            "good" => write_as_template(&good, writer),
            "bad" => write_as_template(&bad, writer),
            "inline" => {
                use std::io::Write as _;
                writer.write_all(inline.as_bytes()).expect("in memory");
                Ok(())
            }
            _ => {
                write_as_template(&format!("struct A;\n{ITEM_BREAK}\nstruct B {{"), writer)?;
                Err(RenderError::Template {
                    name: template.to_owned(),
                    message: "no such template".to_owned(),
                })
            }
        });
        let mut results = results.into_iter().map(|r| match r {
            Ok(printed) => Ok(printed.join_after("")),
            Err(failure) => Err(failure.into_error("out.rs")),
        });
        assert_eq!(
            results.next().map(Result::ok),
            Some(Some(
                "//! Docs.\n\nstruct A;\n\nstruct B;\n\nstruct C;\n".to_owned()
            ))
        );
        match results.next() {
            Some(Err(RenderError::InvalidRust {
                file, line, dump, ..
            })) => {
                assert_eq!((file.as_str(), line), ("out.rs", 5));
                let dumped = std::fs::read_to_string(&dump).expect("the dump is written");
                assert_eq!(dumped, bad, "the dump holds the whole unformatted file");
                let _ = std::fs::remove_file(dump);
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
        match results.next() {
            Some(Err(RenderError::Template { name, .. })) => assert_eq!(name, "broken"),
            other => panic!("expected the template's error, got {other:?}"),
        }
        assert_eq!(
            results.next().map(Result::ok),
            Some(Some("struct A;\n\nstruct B;\n".to_owned()))
        );
    }

    #[test]
    fn parts_of_a_file_follow_each_other_by_part_and_errors_count_lines_over_them() {
        let parts = [
            "//! Head.\nconst H: u8 = 0;\n".to_owned(),
            format!("{ITEM_BREAK}\nstruct A;\n{ITEM_BREAK}\nstruct B;\n"),
            format!("{ITEM_BREAK}\nstruct C;\n"),
        ];
        let broken = [
            "struct A;\n".to_owned(),
            format!("{ITEM_BREAK}\nstruct B;\nstruct C {{ x: }}\n"),
        ];
        // Each file's parts submitted last one first, the two files interleaved.
        let submit_all = |submit: &mut dyn FnMut(usize, FileJob)| {
            for (number, template, part) in [(0, "2", 2), (1, "1", 1), (0, "1", 1), (0, "0", 0)] {
                submit(
                    number,
                    FileJob::new(template, || minijinja::Value::UNDEFINED).part(part),
                );
            }
            submit(1, FileJob::new("0", || minijinja::Value::UNDEFINED));
        };
        let mut results = render_and_format(2, 0, submit_all, |template, context, writer| {
            let part: usize = template.parse().expect("a part number");
            // Only the second file's writer sees its parts; the first file's are known by part.
            let text = if writer.file == 0 {
                &parts[part]
            } else {
                &broken[part]
            };
            drop(context);
            write_as_template(text, writer)
        })
        .into_iter();
        assert_eq!(
            results.next().map(|r| r.ok().map(|p| p.join_after(""))),
            Some(Some(
                "//! Head.\n\nconst H: u8 = 0;\n\nstruct A;\n\nstruct B;\n\nstruct C;\n".to_owned()
            ))
        );
        match results
            .next()
            .map(|r| r.map_err(|f| f.into_error("parts.rs")))
        {
            Some(Err(RenderError::InvalidRust { line, dump, .. })) => {
                assert_eq!(
                    line, 4,
                    "line 3 of the second part, after one line of the first"
                );
                let _ = std::fs::remove_file(dump);
            }
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn templates_are_cut_where_they_print_item_breaks() {
        let mut env = Environment::new();
        env.add_template("t", "{% for x in [1, 2] %}const A{{ x }}: u8 = 0;\n{{ item_break }}\n{% endfor %}const Z: u8 = 0;\n")
            .expect("a valid template");
        let shared = Shared::new(false);
        let chunks = |min_bytes| {
            let mut writer = ChunkWriter::new(7, 0, &shared, min_bytes);
            let context = minijinja::context! { item_break => ITEM_BREAK };
            render_template(&env, "t", context, &mut writer).expect("renders");
            writer.finish();
            let chunks: Vec<(usize, usize, String)> = shared
                .lock()
                .chunks
                .drain(..)
                .map(|chunk| (chunk.file, chunk.index, chunk.text))
                .collect();
            chunks
        };
        assert_eq!(
            chunks(0),
            [
                (7, 0, "const A1: u8 = 0;\n".to_owned()),
                (7, 1, "\nconst A2: u8 = 0;\n".to_owned()),
                // minijinja drops a template's last newline.
                (7, 2, "\nconst Z: u8 = 0;".to_owned()),
            ]
        );
        // After the first, a break before the chunk is long enough is not cut at, and leaves its
        // line empty.
        assert_eq!(
            chunks(40),
            [
                (7, 0, "const A1: u8 = 0;\n".to_owned()),
                (7, 1, "\nconst A2: u8 = 0;\n\nconst Z: u8 = 0;".to_owned()),
            ]
        );
    }

    fn scratch_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("chanx-gen-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn templates_dir_overrides_templates_by_name() {
        let dir = scratch_dir("templates");
        std::fs::write(
            dir.join("mod.rs.j2"),
            "/// {{ title }}\npub const CUSTOM: u8 = 1;\n",
        )
        .expect("write template");
        let files =
            render(&chat_api(), "h", &Settings::new().templates_dir(&dir)).expect("renders");
        let module = files
            .iter()
            .find(|f| f.path == Path::new("mod.rs"))
            .expect("mod.rs");
        assert!(
            module.contents.contains("pub const CUSTOM: u8 = 1;"),
            "{}",
            module.contents
        );
        let types = files
            .iter()
            .find(|f| f.path == Path::new("types.rs"))
            .expect("types.rs");
        assert!(
            types.contents.contains("pub struct"),
            "the other templates stay embedded"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn broken_template_output_is_reported_with_a_position() {
        let dir = scratch_dir("broken");
        std::fs::write(dir.join("mod.rs.j2"), "pub const X: u8 = ;\n").expect("write template");
        let error = render(&chat_api(), "h", &Settings::new().templates_dir(&dir)).unwrap_err();
        match error {
            RenderError::InvalidRust { file, line, .. } => {
                assert_eq!(file, "mod.rs");
                assert_eq!(line, 1);
            }
            other => panic!("unexpected {other}"),
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn writing_skips_unchanged_files_and_existing_scaffolds() {
        let dir = scratch_dir("write");
        let files = vec![
            GeneratedFile {
                path: PathBuf::from("a.rs"),
                contents: "// a\n".to_owned(),
                once: false,
            },
            GeneratedFile {
                path: PathBuf::from("scaffold.rs"),
                contents: "// new scaffold\n".to_owned(),
                once: true,
            },
        ];
        let first = write_files(&dir, &files).expect("write");
        assert_eq!(first.written.len(), 2);
        std::fs::write(dir.join("scaffold.rs"), "// edited by the user\n").expect("edit");
        let second = write_files(&dir, &files).expect("write again");
        assert!(second.written.is_empty());
        assert_eq!(
            std::fs::read_to_string(dir.join("scaffold.rs")).expect("read"),
            "// edited by the user\n"
        );
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn items_are_spaced_out() {
        let spaced = space_out_items(
            "struct A;\nstruct B;\nfn f() {\n    let x = 1;\n    let y = 2;\n}\nimpl A {}\n",
        );
        assert_eq!(
            spaced,
            "struct A;\n\nstruct B;\n\nfn f() {\n    let x = 1;\n    let y = 2;\n}\n\nimpl A {}\n"
        );
        // After an inner attribute, on one line or several; an outer one stays on its item.
        let spaced = space_out_items(
            "#![allow(a)]\nconst A: u8 = 1;\n#![allow(\n    b,\n)]\n/// B.\n#[derive(\n    Debug,\n)]\nstruct B;\n",
        );
        assert_eq!(
            spaced,
            "#![allow(a)]\n\nconst A: u8 = 1;\n\n#![allow(\n    b,\n)]\n\n/// B.\n#[derive(\n    Debug,\n)]\nstruct B;\n"
        );
    }
}
