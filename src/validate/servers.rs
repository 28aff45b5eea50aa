//! Servers: AsyncAPI 2.x `url`, `host` and `pathname` formats, the `{variables}` they use, and
//! server variables.

use serde_json::Value;

use super::{Checker, Kind, Object, distinct, entries, items, keys, syntax};
use crate::diagnostics::{Code, Loc};

/// AsyncAPI 2.x fields of a server, with what 3.0 has instead.
const SERVER_2X_FIELDS: &[(&str, &str)] = &[(
    "url",
    "AsyncAPI 3.0 splits `url` into `host` (with the port), `pathname` and `protocol`",
)];

impl Checker<'_, '_> {
    /// A root or component server.
    pub(super) fn server(&mut self, loc: &Loc) {
        let Some((at, server)) = self.visit(Kind::Server, loc) else {
            return;
        };
        self.asyncapi2_fields(&at, server, SERVER_2X_FIELDS);
        self.tags_and_external_docs(&at, server);
        let variables = keys(server, "variables");
        match server.get("host") {
            None => self.missing_host(&at, server),
            Some(Value::String(host)) => self.server_host(&at.child("host"), host, &variables),
            Some(_) => {}
        }
        if let Some(Value::String(pathname)) = server.get("pathname") {
            self.server_pathname(&at.child("pathname"), pathname, &variables);
        }
        for variable in entries(&at, server, "variables") {
            self.server_variable(&variable);
        }
        for scheme in items(&at, server, "security") {
            self.security_scheme(&scheme);
        }
    }

    fn missing_host(&mut self, at: &Loc, server: &Object) {
        let help = if server.contains_key("url") {
            "split `url`: the host and port go in `host`, the path in `pathname`, the scheme in \
             `protocol`"
        } else {
            "add `host:`, a host name or IP address, optionally with `:port`"
        };
        self.report(
            Code::InvalidServer,
            at.clone(),
            "the server has no `host`".to_owned(),
            help,
        );
    }

    /// A host name or IP address, optionally with a port, whose `{variables}` are declared.
    fn server_host(&mut self, at: &Loc, host: &str, variables: &[&str]) {
        let problem = match syntax::check_host(host) {
            Ok(used) => {
                self.undeclared_variables(at, "host", &used, variables);
                return;
            }
            Err(problem) => problem,
        };
        let (message, help) = match problem {
            syntax::HostProblem::Scheme(scheme) => (
                format!("the host `{host}` includes the scheme `{scheme}://`"),
                format!(
                    "keep only the host (and port) in `host`, and write the scheme as \
                     `protocol: {scheme}`"
                ),
            ),
            syntax::HostProblem::Path => (
                format!("the host `{host}` includes a path"),
                "keep only the host (and port) in `host`, and put the path in `pathname`"
                    .to_owned(),
            ),
            syntax::HostProblem::Template(error) => (
                format!("the host `{host}` {}", error.describe()),
                "a server variable is written `{name}` and declared under `variables`".to_owned(),
            ),
            syntax::HostProblem::Malformed(why) => (
                format!("the host `{host}` is not a valid host name or IP address"),
                format!("{why}, optionally followed by `:port`"),
            ),
        };
        self.report(Code::InvalidServer, at.clone(), message, help);
    }

    /// A path that begins with `/`, whose `{variables}` are declared.
    fn server_pathname(&mut self, at: &Loc, pathname: &str, variables: &[&str]) {
        if !pathname.starts_with('/') {
            self.report(
                Code::InvalidServer,
                at.clone(),
                format!("the pathname `{pathname}` must begin with `/`"),
                format!("write `/{pathname}`"),
            );
        }
        match syntax::placeholders(pathname) {
            Ok(used) => self.undeclared_variables(at, "pathname", &used, variables),
            Err(error) => self.report(
                Code::InvalidServer,
                at.clone(),
                format!("the pathname `{pathname}` {}", error.describe()),
                "a server variable is written `{name}` and declared under `variables`",
            ),
        }
    }

    /// Reports the `{variables}` a server's `field` uses without declaring them, once each.
    fn undeclared_variables(
        &mut self,
        at: &Loc,
        field: &str,
        used: &[syntax::Placeholder<'_>],
        declared: &[&str],
    ) {
        let names = distinct(used.iter().map(|placeholder| placeholder.inner));
        for name in names.into_iter().filter(|name| !declared.contains(name)) {
            self.report(
                Code::InvalidServer,
                at.clone(),
                format!(
                    "the {field} uses `{{{name}}}`, but the server declares no variable `{name}`"
                ),
                format!("declare it under the server's `variables`: `{name}: {{default: ...}}`"),
            );
        }
    }

    /// A server variable (of a server or in `components.serverVariables`).
    pub(super) fn server_variable(&mut self, loc: &Loc) {
        if let Some((at, variable)) = self.visit(Kind::ServerVariable, loc) {
            self.default_in_enum(&at, variable);
        }
    }
}
