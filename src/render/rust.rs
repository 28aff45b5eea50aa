//! Small helpers that turn spec text into safe Rust tokens: string literals and doc attributes.
//!
//! Nothing from the spec reaches the output except through these: prose becomes `#[doc = "..."]`
//! string literals (so `*/`, `"`, `#[` and control characters cannot end a comment or start an item),
//! code fences become `text` blocks (so spec prose never becomes a doctest), and every other piece of
//! spec text is a Rust string literal.

/// A Rust string literal for `text` (quotes included), escaping everything that is not printable
/// ASCII.
pub(crate) fn str_lit(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' '..='~' => out.push(c),
            c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
        }
    }
    out.push('"');
    out
}

/// The doc attributes' string literals for a block of Markdown prose: one per line, each starting
/// with a space (as `///` would), with code fences turned into `text` fences, indented code blocks
/// un-indented, bare URLs wrapped in `<>` and brackets escaped, so rustdoc neither runs nor links
/// anything the spec wrote.
pub(crate) fn doc_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut in_fence = false;
    let text = visible(&text.replace("\r\n", "\n"));
    for raw in text.trim().lines() {
        let trimmed = raw.trim_start();
        let line = if let Some(rest) = trimmed.strip_prefix("```").or(trimmed.strip_prefix("~~~")) {
            in_fence = !in_fence;
            if in_fence {
                let _ = rest;
                "```text".to_owned()
            } else {
                "```".to_owned()
            }
        } else if in_fence {
            raw.to_owned()
        } else {
            // Four spaces of indent would make an indented code block, which rustdoc compiles.
            let indent = (raw.len() - trimmed.len()).min(3);
            let mut line = " ".repeat(indent);
            line.push_str(&escape_markdown(trimmed));
            line
        };
        lines.push(str_lit(&format!(" {line}")));
    }
    if in_fence {
        lines.push(str_lit(" ```"));
    }
    lines
}

/// Spells out characters that must not appear raw in a doc comment: control characters (a bare CR is a
/// compile error), text-direction overrides (denied by rustc) and other invisible format characters,
/// as `\u{..}` text.
fn visible(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let invisible = (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{061c}' | '\u{feff}');
        if invisible {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// Makes a line of spec text plain Markdown for rustdoc: brackets (intra-doc links) and angle
/// brackets (HTML tags) are escaped, and URLs are wrapped in `<..>` wherever they stand
/// (`(https://..)`, `https://...,`; rustdoc's `bare_urls` lint). Code spans are left as they are.
fn escape_markdown(line: &str) -> String {
    let code_spans = code_spans(line);
    let mut out = String::with_capacity(line.len() + 8);
    let mut at = 0;
    while let Some(c) = line[at..].chars().next() {
        if let Some(&(_, close)) = code_spans.iter().find(|(open, _)| *open == at) {
            out.push_str(&line[at..=close]);
            at = close + 1;
            continue;
        }
        let rest = &line[at..];
        if rest.starts_with("http://") || rest.starts_with("https://") {
            let end = rest
                .find(|c: char| c.is_whitespace() || "<>()[]\"'`".contains(c))
                .unwrap_or(rest.len());
            let url = rest[..end].trim_end_matches(['.', ',', ';', ':', '!', '?']);
            out.push('<');
            out.push_str(url);
            out.push('>');
            at += url.len();
            continue;
        }
        if matches!(c, '[' | ']' | '<' | '>') {
            out.push('\\');
        }
        out.push(c);
        at += c.len_utf8();
    }
    out
}

/// The code spans of a Markdown line, as (first, last) byte offsets of their backticks: as in
/// CommonMark, a run of backticks opens a span that the next run of the same length closes; a run
/// that nothing closes is plain text.
fn code_spans(line: &str) -> Vec<(usize, usize)> {
    let bytes = line.as_bytes();
    let mut runs = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        if bytes[at] == b'`' {
            let start = at;
            while at < bytes.len() && bytes[at] == b'`' {
                at += 1;
            }
            runs.push((start, at - start));
        } else {
            at += 1;
        }
    }
    let mut spans = Vec::new();
    let mut open = 0;
    while open < runs.len() {
        let (start, len) = runs[open];
        match runs[open + 1..].iter().position(|&(_, l)| l == len) {
            Some(offset) => {
                let (close, _) = runs[open + 1 + offset];
                spans.push((start, close + len - 1));
                open += offset + 2;
            }
            None => open += 1,
        }
    }
    spans
}

/// A Rust literal for a JSON number: integers as written, floats with a decimal point.
pub(crate) fn f64_lit(value: f64) -> String {
    if value.is_finite() && value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.1}")
    } else if value.is_finite() {
        format!("{value:?}")
    } else {
        "0.0".to_owned()
    }
}

/// `SCREAMING_SNAKE_CASE` for a static derived from a type name.
pub(crate) fn screaming(name: &str) -> String {
    use heck::ToShoutySnakeCase;
    let name = name.trim_start_matches("r#").to_shouty_snake_case();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        format!("_{name}")
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_everything_unsafe() {
        assert_eq!(str_lit("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(str_lit("bell\u{7}"), r#""bell\u{7}""#);
        assert_eq!(str_lit("é"), r#""\u{e9}""#);
    }

    #[test]
    fn docs_spell_out_invisible_characters() {
        let lines = doc_lines("a\rb\u{202e}c\u{0}");
        assert_eq!(lines, [r#"" a\\u{d}b\\u{202e}c\\u{0}""#]);
    }

    #[test]
    fn docs_neutralize_code_and_links() {
        let lines = doc_lines(
            "Hello [link]\n\n```rust\nfn main() {}\n```\n        indented\nsee https://x.y/z",
        );
        assert_eq!(lines[0], r#"" Hello \\[link\\]""#);
        assert_eq!(lines[2], r#"" ```text""#);
        assert_eq!(lines[5], r#""    indented""#);
        assert_eq!(lines[6], r#"" see <https://x.y/z>""#);
    }

    #[test]
    fn code_spans_pair_runs_of_the_same_length() {
        assert_eq!(code_spans("a `b` c"), [(2, 4)]);
        assert_eq!(code_spans("``a ` b`` `c"), [(0, 8)]);
        assert_eq!(code_spans("`a"), []);
        assert_eq!(code_spans("``a` b` c"), [(3, 6)]);
    }

    #[test]
    fn docs_wrap_urls_wherever_they_stand() {
        let lines = doc_lines(
            "click [here](https://a.b/c#d), or https://e.f/g. Code: `https://h.i [x]` <b> `odd",
        );
        assert_eq!(
            lines[0],
            r#"" click \\[here\\](<https://a.b/c#d>), or <https://e.f/g>. Code: `https://h.i [x]` \\<b\\> `odd""#
        );
    }
}
