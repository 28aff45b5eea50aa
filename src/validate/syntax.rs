//! The small string grammars the checks need: `{placeholder}` templates (channel addresses, server
//! hosts and pathnames), server hosts, runtime expressions and component keys. Pure functions, no
//! diagnostics.

use std::ops::Range;

/// A `{...}` placeholder in a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Placeholder<'a> {
    /// The text between the braces (for a Starlette converter, `user_id:int`).
    pub(super) inner: &'a str,
    /// Where the placeholder is, braces included, in bytes.
    pub(super) span: Range<usize>,
}

impl<'a> Placeholder<'a> {
    /// The parameter name and the Starlette converter, if any: `{user_id:int}` is `user_id` with
    /// converter `int`.
    pub(super) fn name_and_converter(&self) -> (&'a str, Option<&'a str>) {
        match self.inner.split_once(':') {
            Some((name, converter)) => (name, Some(converter)),
            None => (self.inner, None),
        }
    }
}

/// Why a template's braces do not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TemplateError {
    /// A `{` without its `}` (or with another `{` before it).
    Unclosed,
    /// A `}` without a `{` before it.
    Unopened,
    /// `{}`.
    Empty,
}

impl TemplateError {
    /// What is wrong, as a phrase.
    pub(super) fn describe(self) -> &'static str {
        match self {
            TemplateError::Unclosed => "has a `{` that is never closed",
            TemplateError::Unopened => "has a `}` that closes nothing",
            TemplateError::Empty => "has an empty placeholder `{}`",
        }
    }
}

/// The `{...}` placeholders of `text`, in order.
pub(super) fn placeholders(text: &str) -> Result<Vec<Placeholder<'_>>, TemplateError> {
    let mut found = Vec::new();
    let mut rest_start = 0;
    while let Some(offset) = text[rest_start..].find(['{', '}']) {
        let start = rest_start + offset;
        if text[start..].starts_with('}') {
            return Err(TemplateError::Unopened);
        }
        let after = start + 1;
        let end = match text[after..].find(['{', '}']) {
            Some(close) if text[after + close..].starts_with('}') => after + close,
            _ => return Err(TemplateError::Unclosed),
        };
        if end == after {
            return Err(TemplateError::Empty);
        }
        found.push(Placeholder {
            inner: &text[after..end],
            span: start..end + 1,
        });
        rest_start = end + 1;
    }
    Ok(found)
}

/// Why a server `host` is not a host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum HostProblem {
    /// It starts with a URL scheme (`wss://`).
    Scheme(String),
    /// It carries a path (`example.com/ws`).
    Path,
    /// Its `{variable}` braces do not parse.
    Template(TemplateError),
    /// Anything else, with the reason.
    Malformed(&'static str),
}

/// Checks a server `host`: a host name, an IPv4 address or a bracketed IPv6 address, optionally
/// followed by `:port`; any part may be a `{variable}`. Returns the variables it uses.
pub(super) fn check_host(host: &str) -> Result<Vec<Placeholder<'_>>, HostProblem> {
    if let Some((scheme, _)) = host.split_once("://") {
        return Err(HostProblem::Scheme(scheme.to_owned()));
    }
    let variables = placeholders(host).map_err(HostProblem::Template)?;
    // A variable may stand for any part, so check the host with each one replaced by a harmless `1`.
    let concrete = fill(host, &variables, "1");
    if concrete.contains('/') {
        return Err(HostProblem::Path);
    }
    let (name, port) = split_port(&concrete)?;
    if let Some(port) = port {
        let in_range = port.parse::<u32>().is_ok_and(|p| p <= 65535);
        if port.len() > 5 || !port.chars().all(|c| c.is_ascii_digit()) || !in_range {
            return Err(HostProblem::Malformed(
                "the port must be a number up to 65535",
            ));
        }
    }
    let valid = match name.strip_prefix('[') {
        Some(bracketed) => bracketed.strip_suffix(']').is_some_and(is_ipv6),
        None => is_host_name(name),
    };
    if valid {
        Ok(variables)
    } else {
        Err(HostProblem::Malformed(
            "a host is a name such as `example.com`, an IPv4 address or an IPv6 address in brackets",
        ))
    }
}

/// Splits `name:port` (`[v6]:port` for IPv6).
fn split_port(host: &str) -> Result<(&str, Option<&str>), HostProblem> {
    let name_end = if host.starts_with('[') {
        host.find(']').map_or(host.len(), |i| i + 1)
    } else {
        host.find(':').unwrap_or(host.len())
    };
    let (name, rest) = host.split_at(name_end);
    match rest.strip_prefix(':') {
        Some(port) if port.contains(':') => Err(HostProblem::Malformed(
            "an IPv6 address must be written in brackets, as in `[::1]:8080`",
        )),
        Some(port) => Ok((name, Some(port))),
        None if rest.is_empty() => Ok((name, None)),
        None => Err(HostProblem::Malformed(
            "only `:port` may follow an IPv6 address",
        )),
    }
}

/// `text` with each placeholder replaced by `with`.
fn fill(text: &str, placeholders: &[Placeholder<'_>], with: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    for placeholder in placeholders {
        out.push_str(&text[copied..placeholder.span.start]);
        out.push_str(with);
        copied = placeholder.span.end;
    }
    out.push_str(&text[copied..]);
    out
}

/// A DNS name (which covers IPv4 addresses): dot-separated labels of letters, digits, `-` and `_`
/// (container names use `_`), no label empty or starting or ending with `-`.
fn is_host_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        })
}

/// The inside of `[...]`: hex digits and colons (dots for an embedded IPv4, `%zone` allowed).
fn is_ipv6(address: &str) -> bool {
    let address = address
        .split_once('%')
        .map_or(address, |(address, _)| address);
    address.contains(':')
        && address
            .chars()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, ':' | '.'))
}

/// A runtime expression as AsyncAPI 3 defines it: `$message.header` or `$message.payload`, optionally
/// followed by `#` and a JSON pointer (`$message.header#/replyTo`).
pub(super) fn is_runtime_expression(text: &str) -> bool {
    let Some(source) = text.strip_prefix("$message.") else {
        return false;
    };
    let (source, fragment) = match source.split_once('#') {
        Some((source, fragment)) => (source, Some(fragment)),
        None => (source, None),
    };
    matches!(source, "header" | "payload") && fragment.is_none_or(is_json_pointer)
}

/// An RFC 6901 pointer: empty, or `/`-separated segments where `~` only starts `~0` or `~1`.
fn is_json_pointer(text: &str) -> bool {
    (text.is_empty() || text.starts_with('/'))
        && text
            .split('~')
            .skip(1)
            .all(|after| after.starts_with(['0', '1']))
}

/// Whether `key` matches `^[a-zA-Z0-9.\-_]+$`, the pattern of component keys.
pub(super) fn is_component_key(key: &str) -> bool {
    !key.is_empty() && key.chars().all(is_component_key_char)
}

/// A character allowed in a component key.
pub(super) fn is_component_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inners(text: &str) -> Vec<&str> {
        placeholders(text)
            .unwrap()
            .into_iter()
            .map(|p| p.inner)
            .collect()
    }

    #[test]
    fn placeholders_are_found_in_order() {
        assert_eq!(inners("/ws/{room}/{user_id:int}/"), ["room", "user_id:int"]);
        assert_eq!(inners("/plain"), Vec::<&str>::new());
        assert_eq!(inners("{a}{b}"), ["a", "b"]);
        assert_eq!(placeholders("/x/{id}").unwrap()[0].span, 3..7);
    }

    #[test]
    fn unbalanced_and_empty_placeholders_are_errors() {
        assert_eq!(placeholders("/ws/{room"), Err(TemplateError::Unclosed));
        assert_eq!(placeholders("/ws/{a{b}}"), Err(TemplateError::Unclosed));
        assert_eq!(placeholders("/ws/room}"), Err(TemplateError::Unopened));
        assert_eq!(placeholders("/ws/{}"), Err(TemplateError::Empty));
    }

    #[test]
    fn converters_split_off_the_name() {
        let found = placeholders("/n/{user_id:int}/{slug}").unwrap();
        assert_eq!(found[0].name_and_converter(), ("user_id", Some("int")));
        assert_eq!(found[1].name_and_converter(), ("slug", None));
    }

    #[test]
    fn hosts_names_ips_ports_and_variables_pass() {
        for host in [
            "example.com",
            "localhost",
            "kafka:9092",
            "127.0.0.1:8765",
            "realtime-ws-ms:3001",
            "[::1]",
            "[2001:db8::1]:443",
            "{environment}.example.com:{port}",
            "test.mosquitto.org:{port}",
            "{host}",
            "docker_service",
        ] {
            assert!(check_host(host).is_ok(), "{host}");
        }
        let variables = check_host("{env}.example.com:{port}").unwrap();
        let names: Vec<&str> = variables.iter().map(|p| p.inner).collect();
        assert_eq!(names, ["env", "port"]);
    }

    #[test]
    fn hosts_with_schemes_paths_or_junk_fail() {
        assert_eq!(
            check_host("wss://test.example.com"),
            Err(HostProblem::Scheme("wss".to_owned()))
        );
        assert_eq!(check_host("example.com/ws"), Err(HostProblem::Path));
        assert_eq!(
            check_host("{env.example.com"),
            Err(HostProblem::Template(TemplateError::Unclosed))
        );
        for host in [
            "",
            "exa mple.com",
            "user@example.com",
            "example..com",
            "-bad.com",
            "example.com:port",
            "example.com:99999",
            "example.com:",
            "::1",
            "[::1",
            "[::1]x",
        ] {
            assert!(
                matches!(check_host(host), Err(HostProblem::Malformed(_))),
                "{host}"
            );
        }
    }

    #[test]
    fn runtime_expressions() {
        for good in [
            "$message.header#/replyTo",
            "$message.payload#/user/id",
            "$message.payload#",
            "$message.payload",
            "$message.header#/a~1b~0c",
        ] {
            assert!(is_runtime_expression(good), "{good}");
        }
        for bad in [
            "invalidExpression",
            "$message.body#/id",
            "$message.header#replyTo",
            "$message.header#/a~2",
            "$request.header#/x",
            "message.payload#/id",
            "",
        ] {
            assert!(!is_runtime_expression(bad), "{bad}");
        }
    }

    #[test]
    fn component_keys() {
        assert!(is_component_key("Valid_Schema.Name-123"));
        for bad in [
            "",
            "Invalid Schema Name",
            "Invalid@Schema",
            "Invalid/Message",
            "é",
        ] {
            assert!(!is_component_key(bad), "{bad}");
        }
    }
}
