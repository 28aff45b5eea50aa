//! Security schemes: their types, the fields each type needs, and OAuth flows.

use serde_json::Value;

use super::{Checker, Kind, Object};
use crate::diagnostics::{Code, Loc};

/// AsyncAPI 2.x fields of an OAuth flow, with what 3.0 has instead.
const OAUTH_FLOW_2X_FIELDS: &[(&str, &str)] = &[(
    "scopes",
    "AsyncAPI 3.0 renamed an OAuth flow's `scopes` to `availableScopes`",
)];

/// A security scheme type of AsyncAPI 3.0: the fields it requires and the values its `in` may take.
struct SchemeType {
    name: &'static str,
    required: &'static [&'static str],
    locations: &'static [&'static str],
}

/// A type that requires no field and does not restrict `in`.
const fn scheme_type(name: &'static str) -> SchemeType {
    SchemeType {
        name,
        required: &[],
        locations: &[],
    }
}

/// The security scheme types of AsyncAPI 3.0.
const SCHEME_TYPES: &[SchemeType] = &[
    scheme_type("userPassword"),
    SchemeType {
        name: "apiKey",
        required: &["in"],
        locations: &["user", "password"],
    },
    scheme_type("X509"),
    scheme_type("symmetricEncryption"),
    scheme_type("asymmetricEncryption"),
    SchemeType {
        name: "httpApiKey",
        required: &["name", "in"],
        locations: &["query", "header", "cookie"],
    },
    SchemeType {
        required: &["scheme"],
        ..scheme_type("http")
    },
    SchemeType {
        required: &["flows"],
        ..scheme_type("oauth2")
    },
    SchemeType {
        required: &["openIdConnectUrl"],
        ..scheme_type("openIdConnect")
    },
    scheme_type("plain"),
    scheme_type("scramSha256"),
    scheme_type("scramSha512"),
    scheme_type("gssapi"),
];

impl Checker<'_, '_> {
    /// A security scheme (in `components.securitySchemes` or inline in a `security` list).
    pub(super) fn security_scheme(&mut self, loc: &Loc) {
        let Some((at, scheme)) = self.visit(Kind::SecurityScheme, loc) else {
            return;
        };
        let Some(Value::String(kind)) = scheme.get("type") else {
            return; // Missing or not a string: the reader's concern.
        };
        let Some(scheme_type) = SCHEME_TYPES.iter().find(|t| t.name == kind) else {
            self.report(
                Code::InvalidSecurityScheme,
                at.child("type"),
                format!("`{kind}` is not a security scheme type of AsyncAPI 3.0"),
                unknown_type_help(kind),
            );
            return;
        };
        self.scheme_fields(&at, scheme, scheme_type);
        self.oauth_flows(&at, scheme);
    }

    /// The fields the scheme's type requires, and the value of `in` where the type restricts it.
    fn scheme_fields(&mut self, at: &Loc, scheme: &Object, scheme_type: &SchemeType) {
        let kind = scheme_type.name;
        for field in scheme_type.required {
            if !scheme.contains_key(*field) {
                self.report(
                    Code::InvalidSecurityScheme,
                    at.clone(),
                    format!("a `{kind}` security scheme needs `{field}`"),
                    format!("add `{field}:` to this security scheme"),
                );
            }
        }
        let Some(Value::String(location)) = scheme.get("in") else {
            return;
        };
        let allowed = scheme_type.locations;
        if !allowed.is_empty() && !allowed.contains(&location.as_str()) {
            self.report(
                Code::InvalidSecurityScheme,
                at.child("in"),
                format!("`in: {location}` is not valid for a `{kind}` security scheme"),
                format!("`in` must be one of: {}", allowed.join(", ")),
            );
        }
    }

    /// OAuth flows: the 2.x `scopes`.
    fn oauth_flows(&mut self, at: &Loc, scheme: &Object) {
        let Some(Value::Object(flows)) = scheme.get("flows") else {
            return;
        };
        for (name, flow) in flows {
            if let Value::Object(flow) = flow {
                self.asyncapi2_fields(&at.child("flows").child(name), flow, OAUTH_FLOW_2X_FIELDS);
            }
        }
    }
}

/// What to write instead of an unknown security scheme type.
fn unknown_type_help(kind: &str) -> String {
    match SCHEME_TYPES
        .iter()
        .find(|t| t.name.eq_ignore_ascii_case(kind))
    {
        Some(close) => format!("did you mean `{}`? (types are case-sensitive)", close.name),
        None => {
            let names: Vec<&str> = SCHEME_TYPES.iter().map(|t| t.name).collect();
            format!("the types are: {}", names.join(", "))
        }
    }
}
