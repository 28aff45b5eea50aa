//! The command-line interface. `main.rs` only calls [`main`].
//!
//! Exit codes: 0 success, 1 the document has errors (`check`: findings at the `--deny` level; `diff`:
//! a breaking change), 2 usage or I/O error.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::Analysis;
use crate::diagnostics::{DiagnosticJson, Severity};

/// AsyncAPI-first code generator for typed WebSocket APIs in Rust, speaking Chanx's conventions.
#[derive(Debug, Parser)]
#[command(name = "chanx-gen", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Read a spec and print its API as a person reads it (or its model as JSON).
    Inspect {
        /// The AsyncAPI 3.0 document (YAML or JSON).
        spec: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Generate the Rust module for a spec: types, per-channel message enums, consumer traits,
    /// dispatchers, layer clients and contract tests.
    Generate {
        /// The AsyncAPI 3.0 document (YAML or JSON).
        spec: PathBuf,
        /// The folder to write the module into (created if missing).
        #[arg(short, long)]
        output: PathBuf,
        /// The path generated code uses to reach the runtime crate.
        #[arg(long, default_value = "::chanx_runtime")]
        runtime_path: String,
        /// A folder of `*.rs.j2` templates that replace the embedded ones.
        #[arg(long)]
        templates: Option<PathBuf>,
        /// Write nothing; exit 1 if any file would change (for CI).
        #[arg(long)]
        check: bool,
    },
    /// Check generated code against its spec: fresh, still describing the spec, every handler
    /// implemented. Exit 1 when a finding reaches the `--deny` level.
    Check {
        /// The AsyncAPI 3.0 document (YAML or JSON).
        spec: PathBuf,
        /// The folder `generate` wrote the module into.
        #[arg(long)]
        generated: PathBuf,
        /// The crate's sources, where the consumer traits are implemented (coverage check).
        #[arg(long)]
        src: Option<PathBuf>,
        /// The runtime path the code was generated with.
        #[arg(long, default_value = "::chanx_runtime")]
        runtime_path: String,
        /// The lowest severity that makes the exit code 1.
        #[arg(long, value_enum, default_value_t = DenyLevel::Warning)]
        deny: DenyLevel,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Write an AsyncAPI 3.0 document from Rust code in the generated shape.
    Export {
        /// The folder holding the generated module (`mod.rs`, `types.rs`, one file per channel).
        dir: PathBuf,
        /// Where to write the document (`.json`, or `.yaml`/`.yml`: JSON is valid YAML).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Classify every change between two specs as breaking or not, for clients and for servers.
    /// Exit 1 when a change is breaking.
    Diff {
        /// The old document.
        old: PathBuf,
        /// The new document.
        new: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
    },
    /// Serve a spec on 127.0.0.1 without writing code: frames are validated as generated code
    /// validates them, each action is answered with an example of its reply, and
    /// `push CHANNEL MESSAGE` on standard input pushes a server message.
    Mock {
        /// The AsyncAPI 3.0 document (YAML or JSON).
        spec: PathBuf,
        /// The port to listen on (0 picks a free one).
        #[arg(long, default_value_t = 8000)]
        port: u16,
    },
}

/// The lowest severity that fails `check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DenyLevel {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warning,
    /// Everything.
    Info,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: text, diagnostics with source snippets.
    Human,
    /// For tools: one JSON object on stdout.
    Json,
}

/// Exit code: the run succeeded.
pub const EXIT_OK: u8 = 0;
/// Exit code: the document has errors (or `check` found drift).
pub const EXIT_FINDINGS: u8 = 1;
/// Exit code: bad usage or an I/O error.
pub const EXIT_USAGE: u8 = 2;

/// Parses the process arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return ExitCode::from(if error.use_stderr() {
                EXIT_USAGE
            } else {
                EXIT_OK
            });
        }
    };
    ExitCode::from(run(cli))
}

/// Runs a parsed command and returns its exit code.
pub fn run(cli: Cli) -> u8 {
    match cli.command {
        Command::Inspect { spec, format } => inspect(&spec, format),
        Command::Generate {
            spec,
            output,
            runtime_path,
            templates,
            check,
        } => {
            let mut settings = crate::render::Settings::new().runtime_path(runtime_path);
            if let Some(dir) = templates {
                settings = settings.templates_dir(dir);
            }
            generate(&spec, &output, &settings, check)
        }
        Command::Check {
            spec,
            generated,
            src,
            runtime_path,
            deny,
            format,
        } => {
            let settings = crate::render::Settings::new().runtime_path(runtime_path);
            let deny = match deny {
                DenyLevel::Error => Severity::Error,
                DenyLevel::Warning => Severity::Warning,
                DenyLevel::Info => Severity::Info,
            };
            check(&spec, &generated, src.as_deref(), &settings, deny, format)
        }
        Command::Export { dir, output } => export(&dir, &output),
        Command::Diff { old, new, format } => diff(&old, &new, format),
        Command::Mock { spec, port } => mock(&spec, port),
    }
}

fn mock(spec: &std::path::Path, port: u16) -> u8 {
    let analysis = match crate::analyze(spec) {
        Ok(analysis) => analysis,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_USAGE;
        }
    };
    print_diagnostics(&analysis);
    let Some(api) = analysis.api.as_ref().filter(|_| !analysis.has_errors()) else {
        return EXIT_FINDINGS;
    };
    match crate::mock::serve(api, port) {
        Ok(()) => EXIT_OK,
        Err(error) => {
            eprintln!("error: {error}");
            EXIT_USAGE
        }
    }
}

fn check(
    spec: &std::path::Path,
    generated: &std::path::Path,
    src: Option<&std::path::Path>,
    settings: &crate::render::Settings,
    deny: Severity,
    format: Format,
) -> u8 {
    let report = match crate::check::check(spec, generated, src, settings) {
        Ok(report) => report,
        Err(crate::check::CheckError::Document(analysis)) => {
            print_diagnostics(&analysis);
            return EXIT_USAGE;
        }
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_USAGE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    match format {
        Format::Human => {
            let _ = write!(stdout, "{}", report.render());
        }
        Format::Json => {
            let _ = serde_json::to_writer_pretty(&mut stdout, &report.to_json());
            let _ = writeln!(stdout);
        }
    }
    if report.findings.iter().any(|f| f.severity >= deny) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

fn export(dir: &std::path::Path, output: &std::path::Path) -> u8 {
    let document = match crate::export::export_dir(dir) {
        Ok(document) => document,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_USAGE;
        }
    };
    let text = match serde_json::to_string_pretty(&document) {
        Ok(text) => text + "\n",
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_USAGE;
        }
    };
    match std::fs::write(output, text) {
        Ok(()) => EXIT_OK,
        Err(error) => {
            eprintln!("error: cannot write {}: {error}", output.display());
            EXIT_USAGE
        }
    }
}

fn diff(old: &std::path::Path, new: &std::path::Path, format: Format) -> u8 {
    let report = match crate::diff::diff_files(old, new) {
        Ok(report) => report,
        Err(crate::diff::DiffError::Generate(crate::GenerateError::Document(analysis))) => {
            print_diagnostics(&analysis);
            return EXIT_USAGE;
        }
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_USAGE;
        }
    };
    let mut stdout = std::io::stdout().lock();
    match format {
        Format::Human => {
            let _ = write!(stdout, "{}", report.render());
        }
        Format::Json => {
            let _ = serde_json::to_writer_pretty(&mut stdout, &report);
            let _ = writeln!(stdout);
        }
    }
    if report.is_breaking() {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}

fn generate(
    spec: &std::path::Path,
    output: &std::path::Path,
    settings: &crate::render::Settings,
    check: bool,
) -> u8 {
    let generated = match crate::generate(spec, settings) {
        Ok(generated) => generated,
        Err(crate::GenerateError::Document(analysis)) => {
            print_diagnostics(&analysis);
            return EXIT_FINDINGS;
        }
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_USAGE;
        }
    };
    print_diagnostics(&generated.analysis);
    if check {
        let stale: Vec<String> = generated
            .files
            .iter()
            .filter(|f| {
                let path = output.join(&f.path);
                !(f.once && path.exists())
                    && std::fs::read_to_string(path).map_or(true, |old| old != f.contents)
            })
            .map(|f| output.join(&f.path).display().to_string())
            .collect();
        if stale.is_empty() {
            return EXIT_OK;
        }
        for path in &stale {
            eprintln!("stale: {path}");
        }
        eprintln!(
            "run `chanx-gen generate {} -o {}` to update",
            spec.display(),
            output.display()
        );
        return EXIT_FINDINGS;
    }
    let written = crate::render::write_files(output, &generated.files);
    // The process ends next: freeing the spec's model and the output piece by piece would only
    // cost time (a tenth of a run on large specs).
    std::mem::forget(generated);
    match written {
        Ok(report) => {
            eprintln!(
                "{}: {} file(s) written, {} unchanged, in {}",
                spec.display(),
                report.written.len(),
                report.unchanged.len(),
                output.display()
            );
            EXIT_OK
        }
        Err(error) => {
            eprintln!("error: cannot write to {}: {error}", output.display());
            EXIT_USAGE
        }
    }
}

fn inspect(spec: &std::path::Path, format: Format) -> u8 {
    let analysis = match crate::analyze(spec) {
        Ok(analysis) => analysis,
        Err(error) => {
            eprintln!("error: {error}");
            return EXIT_USAGE;
        }
    };
    let code = if analysis.has_errors() {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    };
    let mut stdout = std::io::stdout().lock();
    match format {
        Format::Human => {
            print_diagnostics(&analysis);
            if let Some(api) = analysis.api.as_ref().filter(|_| code == EXIT_OK) {
                let _ = write!(stdout, "{}", crate::inspect::render(api));
            }
        }
        Format::Json => {
            let diagnostics: Vec<DiagnosticJson<'_>> = analysis
                .diagnostics
                .iter()
                .map(|d| d.to_json(&analysis.sources))
                .collect();
            let api = analysis.api.as_ref().filter(|_| code == EXIT_OK);
            let out = serde_json::json!({ "diagnostics": diagnostics, "api": api });
            let _ = serde_json::to_writer_pretty(&mut stdout, &out);
            let _ = writeln!(stdout);
        }
    }
    code
}

/// Prints every diagnostic to stderr, then a one-line summary when there were any.
fn print_diagnostics(analysis: &Analysis) {
    let mut stderr = std::io::stderr().lock();
    for diagnostic in analysis.diagnostics.iter() {
        let _ = writeln!(stderr, "{}", diagnostic.render(&analysis.sources));
    }
    let count = |severity| {
        analysis
            .diagnostics
            .iter()
            .filter(|d| d.severity == severity)
            .count()
    };
    let (errors, warnings) = (count(Severity::Error), count(Severity::Warning));
    if errors + warnings > 0 {
        let _ = writeln!(
            stderr,
            "{}: {errors} error(s), {warnings} warning(s)",
            analysis
                .sources
                .file(crate::load::Sources::ENTRY)
                .display_name()
        );
    }
}
