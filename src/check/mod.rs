//! `chanx-gen check SPEC --generated DIR [--src DIR]`, for CI:
//!
//! 1. **freshness**: every file `generate` writes equals the one in `DIR`, compared as token streams
//!    (`cargo fmt` and comments are not drift), with a unified diff in the finding;
//! 2. **round trip**: the API read back from the Rust code ([`extract`]) equals the spec's, compared
//!    as [`wire::Model`]s: channels, addresses, parameters, messages, actions and their reply sets,
//!    events, fields, types, optionality, nullability and constraints;
//! 3. **coverage**: every action handler of each consumer trait is implemented in `--src`.
//!
//! Each [`Finding`] has a [`Rule`] (stable id, severity), the spec's place and the Rust place, and
//! the fix.

pub mod extract;
pub mod fresh;
pub mod rules;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

pub use rules::Rule;

use crate::diagnostics::Severity;
use crate::wire::{self, Model, Site};

/// One problem found by `check`.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The rule.
    #[serde(serialize_with = "rule_id")]
    pub rule: Rule,
    /// How bad.
    pub severity: Severity,
    /// What is wrong.
    pub message: String,
    /// The place in the spec.
    pub spec: Option<Site>,
    /// The place in the Rust code.
    pub rust: Option<Site>,
    /// What to do.
    pub fix: String,
    /// A unified diff (stale files).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

fn rule_id<S: serde::Serializer>(rule: &Rule, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(rule.as_str())
}

/// Everything `check` found.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The findings: freshness, then round trip, then coverage.
    pub findings: Vec<Finding>,
}

/// Why `check` could not run.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    /// The spec file could not be read.
    #[error(transparent)]
    Load(#[from] crate::load::LoadError),
    /// The spec has errors.
    #[error("the spec has errors:\n{}", .0.render_diagnostics())]
    Document(Box<crate::Analysis>),
    /// A template failed.
    #[error(transparent)]
    Render(#[from] crate::render::RenderError),
    /// The generated folder does not exist.
    #[error("{0} is not a folder")]
    NotAFolder(PathBuf),
}

impl From<crate::GenerateError> for CheckError {
    fn from(error: crate::GenerateError) -> Self {
        match error {
            crate::GenerateError::Load(e) => CheckError::Load(e),
            crate::GenerateError::Document(a) => CheckError::Document(a),
            crate::GenerateError::Render(e) => CheckError::Render(e),
        }
    }
}

/// Runs the three checks.
pub fn check(
    spec: &Path,
    generated: &Path,
    src: Option<&Path>,
    settings: &crate::render::Settings,
) -> Result<CheckReport, CheckError> {
    if !generated.is_dir() {
        return Err(CheckError::NotAFolder(generated.to_owned()));
    }
    let output = crate::generate(spec, settings)?;
    let Some(api) = output.analysis.api.as_ref() else {
        return Err(CheckError::Document(Box::new(output.analysis)));
    };
    let spec_model = crate::diff::model_of(api, &output.analysis.sources);
    let spec_name = spec.display().to_string();
    let gen_name = generated.display().to_string();
    let spec_site = Site {
        file: output
            .analysis
            .sources
            .file(crate::load::Sources::ENTRY)
            .display_name()
            .to_owned(),
        line: 1,
        column: 1,
    };
    let mut findings = Vec::new();
    let mut push = |rule: Rule, message: String, spec: Option<Site>, rust: Option<Site>| {
        findings.push(Finding {
            rule,
            severity: rule.severity(),
            message,
            spec,
            rust,
            fix: rule.fix(&spec_name, &gen_name),
            diff: None,
        });
    };

    // 1. Freshness.
    let mut stale = Vec::new();
    for file in output.files.iter().filter(|f| !f.once) {
        let path = generated.join(&file.path);
        let name = path.display().to_string();
        let rust = |line, column| {
            Some(Site {
                file: name.clone(),
                line,
                column,
            })
        };
        match std::fs::read_to_string(&path) {
            Err(_) => push(
                Rule::MissingFile,
                format!("{name} is missing"),
                Some(spec_site.clone()),
                rust(1, 1),
            ),
            Ok(text) => match fresh::compare(&text, &file.contents, &name) {
                fresh::Freshness::Fresh => {}
                fresh::Freshness::Stale { line, column, diff } => {
                    stale.push(diff);
                    push(
                        Rule::StaleFile,
                        format!("{name} is not what `generate` writes now"),
                        Some(spec_site.clone()),
                        rust(line, column),
                    );
                }
                fresh::Freshness::Unparsable { message } => push(
                    Rule::UnparsableRust,
                    format!("{name} does not parse: {message}"),
                    Some(spec_site.clone()),
                    rust(1, 1),
                ),
            },
        }
    }
    let mut stale = stale.into_iter();
    for finding in findings.iter_mut().filter(|f| f.rule == Rule::StaleFile) {
        finding.diff = stale.next();
    }

    // 2. Round trip.
    let extracted = extract::extract_dir(generated);
    for problem in &extracted.problems {
        let rule = if problem.unparsable {
            Rule::UnparsableRust
        } else {
            Rule::CodeInconsistent
        };
        if problem.unparsable && findings.iter().any(|f| f.rule == Rule::UnparsableRust) {
            continue;
        }
        findings.push(Finding {
            rule,
            severity: rule.severity(),
            message: problem.message.clone(),
            spec: Some(spec_site.clone()),
            rust: Some(problem.site.clone()),
            fix: rule.fix(&spec_name, &gen_name),
            diff: None,
        });
    }
    let unparsable = extracted.problems.iter().any(|p| p.unparsable);
    if !unparsable {
        findings.extend(round_trip(
            &spec_model,
            &extracted.model,
            &spec_name,
            &gen_name,
        ));
    }

    // 3. Coverage.
    if let Some(src) = src {
        findings.extend(coverage(
            &spec_model,
            &extracted.model,
            src,
            generated,
            &spec_name,
            &gen_name,
        ));
    }
    Ok(CheckReport { findings })
}

/// Findings for every difference between the spec's model and the code's.
pub fn round_trip(spec: &Model, code: &Model, spec_name: &str, gen_name: &str) -> Vec<Finding> {
    let options = wire::CompareOptions {
        code_level: true,
        rust_names: true,
    };
    let mut seen = std::collections::HashSet::new();
    wire::compare(spec, code, options)
        .into_iter()
        // A type used by client and server messages differs once in the code: report it once.
        .filter(|change| {
            seen.insert((
                Rule::from_change(change.kind),
                change
                    .old_site
                    .as_ref()
                    .map(|s| (s.file.clone(), s.line, s.column)),
                change
                    .new_site
                    .as_ref()
                    .map(|s| (s.file.clone(), s.line, s.column)),
            ))
        })
        .map(|change| {
            let rule = Rule::from_change(change.kind);
            Finding {
                rule,
                severity: rule.severity(),
                message: change.message,
                spec: change.old_site,
                rust: change.new_site,
                fix: rule.fix(spec_name, gen_name),
                diff: None,
            }
        })
        .collect()
}

/// The methods of every `impl <...>Consumer for T` in the `.rs` files under `src` (the generated
/// folder excluded): trait name to (methods, place of the impl).
fn implementations(src: &Path, generated: &Path) -> Vec<(String, Vec<String>, Site)> {
    let mut out = Vec::new();
    let mut stack = vec![src.to_owned()];
    let skip = generated.canonicalize().ok();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                if path.canonicalize().ok() != skip {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let Ok(file) = syn::parse_file(&text) else {
                continue;
            };
            collect_impls(&file.items, &path.display().to_string(), &mut out);
        }
    }
    out
}

fn collect_impls(items: &[syn::Item], name: &str, out: &mut Vec<(String, Vec<String>, Site)>) {
    for item in items {
        match item {
            syn::Item::Impl(imp) => {
                let Some((path, _)) = &imp.trait_ else {
                    continue;
                };
                let Some(segment) = path.segments.last() else {
                    continue;
                };
                let methods = imp
                    .items
                    .iter()
                    .filter_map(|i| match i {
                        syn::ImplItem::Fn(f) => {
                            Some(f.sig.ident.to_string().trim_start_matches("r#").to_owned())
                        }
                        _ => None,
                    })
                    .collect();
                let start = segment.ident.span().start();
                out.push((
                    segment.ident.to_string(),
                    methods,
                    Site {
                        file: name.to_owned(),
                        line: start.line,
                        column: start.column + 1,
                    },
                ));
            }
            syn::Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    collect_impls(items, name, out);
                }
            }
            _ => {}
        }
    }
}

fn coverage(
    spec: &Model,
    code: &Model,
    src: &Path,
    generated: &Path,
    spec_name: &str,
    gen_name: &str,
) -> Vec<Finding> {
    let impls = implementations(src, generated);
    let mut findings = Vec::new();
    for channel in &spec.channels {
        if channel.actions.is_empty() {
            continue;
        }
        let found: Vec<_> = impls
            .iter()
            .filter(|(t, _, _)| *t == channel.consumer)
            .collect();
        if found.is_empty() {
            let rule = Rule::ConsumerNotImplemented;
            findings.push(Finding {
                rule,
                severity: rule.severity(),
                message: format!(
                    "`{}` (channel `{}`) is not implemented in {}",
                    channel.consumer,
                    channel.key,
                    src.display()
                ),
                spec: channel.site.clone(),
                // The trait, in the generated module.
                rust: code
                    .channels
                    .iter()
                    .find(|c| c.key == channel.key)
                    .and_then(|c| c.site.clone()),
                fix: rule.fix(spec_name, gen_name),
                diff: None,
            });
            continue;
        }
        for (_, methods, site) in found {
            for action in &channel.actions {
                if !methods.contains(&action.method) {
                    let rule = Rule::HandlerMissing;
                    findings.push(Finding {
                        rule,
                        severity: rule.severity(),
                        message: format!(
                            "`{}` does not implement `{}` (action `{}`)",
                            channel.consumer, action.method, action.message
                        ),
                        spec: action.site.clone(),
                        rust: Some(site.clone()),
                        fix: format!(
                            "add `async fn {}` to this `impl {}`",
                            action.method, channel.consumer
                        ),
                        diff: None,
                    });
                }
            }
        }
    }
    findings
}

impl CheckReport {
    /// The JSON shape: `{"findings": [...], "summary": {...}}`.
    pub fn to_json(&self) -> serde_json::Value {
        let count = |s: Severity| self.findings.iter().filter(|f| f.severity == s).count();
        serde_json::json!({
            "findings": self.findings,
            "summary": {
                "errors": count(Severity::Error),
                "warnings": count(Severity::Warning),
            }
        })
    }

    /// Rendered like rustc: a header per finding, the spec place and the Rust place with their
    /// lines, the fix, and the diff of stale files.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            let label = match f.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
                Severity::Info => "info",
            };
            let _ = writeln!(out, "{label}[{}]: {}", f.rule, f.message);
            for (what, site) in [("spec", &f.spec), ("rust", &f.rust)] {
                if let Some(site) = site {
                    render_site(&mut out, what, site);
                }
            }
            let _ = writeln!(out, "  = help: {}", f.fix);
            if let Some(diff) = &f.diff {
                for line in diff.lines().take(200) {
                    let _ = writeln!(out, "  | {line}");
                }
            }
            out.push('\n');
        }
        let count = |s: Severity| self.findings.iter().filter(|f| f.severity == s).count();
        let _ = writeln!(
            out,
            "check: {} error(s), {} warning(s)",
            count(Severity::Error),
            count(Severity::Warning)
        );
        out
    }
}

fn render_site(out: &mut String, what: &str, site: &Site) {
    let _ = writeln!(out, "  --> {site} ({what})");
    let Ok(text) = std::fs::read_to_string(&site.file) else {
        return;
    };
    let Some(line) = text.lines().nth(site.line.saturating_sub(1)) else {
        return;
    };
    let gutter = site.line.to_string().len();
    let shown: String = line.chars().take(200).collect();
    let _ = writeln!(out, "{:gutter$} |", "");
    let _ = writeln!(out, "{:>gutter$} | {}", site.line, shown.replace('\t', " "));
    let _ = writeln!(
        out,
        "{:gutter$} | {}^",
        "",
        " ".repeat(site.column.saturating_sub(1))
    );
}
