//! Freshness: generated files compared with what `generate` writes now, as token streams, so
//! formatting and comments are not drift; a unified diff of the two (both pretty-printed) shows what
//! changed.

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// One token of a flattened stream: its text and where it starts (line, 1-based column).
struct Token {
    text: String,
    line: usize,
    column: usize,
}

fn flatten(stream: TokenStream, out: &mut Vec<Token>) {
    for tree in stream {
        let start = tree.span().start();
        let (line, column) = (start.line, start.column + 1);
        match tree {
            TokenTree::Group(group) => {
                let (open, close) = match group.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::None => ("", ""),
                };
                out.push(Token {
                    text: open.to_owned(),
                    line,
                    column,
                });
                flatten(group.stream(), out);
                out.push(Token {
                    text: close.to_owned(),
                    line,
                    column,
                });
            }
            TokenTree::Punct(p) => out.push(Token {
                text: p.as_char().to_string(),
                line,
                column,
            }),
            other => out.push(Token {
                text: other.to_string(),
                line,
                column,
            }),
        }
    }
}

/// How a checked-in file compares with the expected text.
pub enum Freshness {
    /// Same tokens.
    Fresh,
    /// Different: the first differing token of the checked-in file (line, column), and a unified
    /// diff from the checked-in file to the expected one.
    Stale {
        /// Line of the first difference in the checked-in file.
        line: usize,
        /// Column of the first difference.
        column: usize,
        /// The diff.
        diff: String,
    },
    /// The checked-in file does not tokenize.
    Unparsable {
        /// Why.
        message: String,
    },
}

/// Compares `actual` (on disk) with `expected` (what `generate` writes).
pub fn compare(actual: &str, expected: &str, name: &str) -> Freshness {
    let actual_stream: TokenStream = match actual.parse() {
        Ok(stream) => stream,
        Err(error) => {
            return Freshness::Unparsable {
                message: error.to_string(),
            };
        }
    };
    let Ok(expected_stream) = expected.parse::<TokenStream>() else {
        return Freshness::Fresh;
    };
    let (mut a, mut e) = (Vec::new(), Vec::new());
    flatten(actual_stream, &mut a);
    flatten(expected_stream, &mut e);
    let first = a
        .iter()
        .zip(&e)
        .position(|(x, y)| x.text != y.text)
        .or_else(|| (a.len() != e.len()).then(|| a.len().min(e.len())));
    let Some(index) = first else {
        return Freshness::Fresh;
    };
    let (line, column) = a
        .get(index)
        .or_else(|| a.last())
        .map_or((1, 1), |t| (t.line, t.column));
    let pretty = |text: &str| match syn::parse_file(text) {
        Ok(file) => prettyplease::unparse(&file),
        Err(_) => text.to_owned(),
    };
    Freshness::Stale {
        line,
        column,
        diff: unified_diff(&pretty(actual), &pretty(expected), name),
    }
}

/// A unified diff (3 lines of context) from `old` to `new`.
pub fn unified_diff(old: &str, new: &str, name: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let ops = line_ops(&a, &b);
    let mut out = format!("--- {name} (checked in)\n+++ {name} (generated now)\n");
    // Group the operations into hunks with 3 lines of context.
    let changed: Vec<usize> = ops
        .iter()
        .enumerate()
        .filter(|(_, op)| !matches!(op, Op::Same(..)))
        .map(|(i, _)| i)
        .collect();
    let mut i = 0;
    while i < changed.len() {
        let start = changed[i].saturating_sub(3);
        let mut end = changed[i] + 3;
        while i + 1 < changed.len() && changed[i + 1] <= end + 3 {
            i += 1;
            end = changed[i] + 3;
        }
        let end = end.min(ops.len() - 1);
        let (mut old_start, mut new_start) = (None, None);
        let (mut old_len, mut new_len) = (0, 0);
        let mut body = String::new();
        for op in &ops[start..=end] {
            match op {
                Op::Same(x, y) => {
                    old_start.get_or_insert(*x);
                    new_start.get_or_insert(*y);
                    old_len += 1;
                    new_len += 1;
                    body.push_str(&format!(" {}\n", a[*x]));
                }
                Op::Del(x, y) => {
                    old_start.get_or_insert(*x);
                    new_start.get_or_insert(*y);
                    old_len += 1;
                    body.push_str(&format!("-{}\n", a[*x]));
                }
                Op::Ins(x, y) => {
                    old_start.get_or_insert(*x);
                    new_start.get_or_insert(*y);
                    new_len += 1;
                    body.push_str(&format!("+{}\n", b[*y]));
                }
            }
        }
        out.push_str(&format!(
            "@@ -{},{old_len} +{},{new_len} @@\n{body}",
            old_start.unwrap_or(0) + 1,
            new_start.unwrap_or(0) + 1
        ));
        i += 1;
    }
    out
}

/// A line operation: indexes into old and new (for inserts and deletes, the position in the other).
enum Op {
    Same(usize, usize),
    Del(usize, usize),
    Ins(usize, usize),
}

/// The line operations turning `a` into `b`: common prefix and suffix, and an LCS of the middle when
/// it is small enough (else the middle is replaced as a block).
fn line_ops(a: &[&str], b: &[&str]) -> Vec<Op> {
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (am, bm) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut ops: Vec<Op> = (0..prefix).map(|i| Op::Same(i, i)).collect();
    if am.len().saturating_mul(bm.len()) <= 4_000_000 {
        // LCS lengths, from the end.
        let w = bm.len() + 1;
        let mut table = vec![0u32; (am.len() + 1) * w];
        for i in (0..am.len()).rev() {
            for j in (0..bm.len()).rev() {
                table[i * w + j] = if am[i] == bm[j] {
                    table[(i + 1) * w + j + 1] + 1
                } else {
                    table[(i + 1) * w + j].max(table[i * w + j + 1])
                };
            }
        }
        let (mut i, mut j) = (0, 0);
        while i < am.len() || j < bm.len() {
            if i < am.len() && j < bm.len() && am[i] == bm[j] {
                ops.push(Op::Same(prefix + i, prefix + j));
                i += 1;
                j += 1;
            } else if i < am.len()
                && (j == bm.len() || table[(i + 1) * w + j] >= table[i * w + j + 1])
            {
                // Deletions before insertions, as unified diffs print them.
                ops.push(Op::Del(prefix + i, prefix + j));
                i += 1;
            } else {
                ops.push(Op::Ins(prefix + i, prefix + j));
                j += 1;
            }
        }
    } else {
        ops.extend((0..am.len()).map(|i| Op::Del(prefix + i, prefix)));
        ops.extend((0..bm.len()).map(|j| Op::Ins(prefix + am.len(), prefix + j)));
    }
    let (a_end, b_end) = (a.len() - suffix, b.len() - suffix);
    ops.extend((0..suffix).map(|k| Op::Same(a_end + k, b_end + k)));
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatting_and_comments_are_not_drift() {
        let a = "// header\nfn f() { let x = 1; }\n";
        let b = "fn f() {\n    // note\n    let x = 1;\n}\n";
        assert!(matches!(compare(a, b, "x.rs"), Freshness::Fresh));
    }

    #[test]
    fn a_changed_token_is_located_and_diffed() {
        let a = "fn f() {\n    let x = 1;\n}\n";
        let b = "fn f() {\n    let x = 2;\n}\n";
        match compare(a, b, "x.rs") {
            Freshness::Stale { line, column, diff } => {
                assert_eq!((line, column), (2, 13));
                assert!(
                    diff.contains("-    let x = 1;\n+    let x = 2;\n"),
                    "{diff}"
                );
                assert!(diff.contains("@@ -1,3 +1,3 @@"), "{diff}");
            }
            _ => panic!("expected stale"),
        }
    }

    #[test]
    fn unparsable_input_is_reported() {
        assert!(matches!(
            compare("fn f( {", "fn f() {}", "x.rs"),
            Freshness::Unparsable { .. }
        ));
    }
}
