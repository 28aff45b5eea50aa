//! The consumer trait enforces the spec at compile time: an implementation of the generated
//! `ChatConsumer` (from `specs/chat.yaml`) that leaves out a required action handler does not
//! compile (E0046, naming the handler), and the same implementation with the handler compiles with
//! no warnings, so the first case cannot fail for another reason.
//!
//! Both cases are crates of one scratch workspace under `target/compile-fail/`, checked by one
//! `cargo check` (see `common/scratch.rs`). Their implementations are derived from the generated
//! trait itself (every method without a default body), so they follow the templates.

mod common;

use std::path::{Path, PathBuf};

use common::scratch::{self, ScratchCrate};

/// The handler the failing case leaves out.
const OMITTED: &str = "handle_chat";

#[test]
fn a_consumer_missing_a_handler_does_not_compile() {
    let spec = common::specs_dir().join("chat.yaml");
    let generated = chanx_gen::generate(&spec, &chanx_gen::render::Settings::new())
        .unwrap_or_else(|error| panic!("specs/chat.yaml does not generate: {error:?}"));
    let chat_rs = generated
        .files
        .iter()
        .find(|file| file.path == Path::new("chat.rs"))
        .expect("chat.rs is generated");
    let required = required_methods(&chat_rs.contents);
    assert!(
        required.iter().any(|name| name == OMITTED),
        "`{OMITTED}` is not a required method of ChatConsumer: {required:?}"
    );
    assert!(
        required.len() >= 2,
        "ChatConsumer should have several required methods: {required:?}"
    );

    let api: Vec<(PathBuf, String)> = generated
        .files
        .iter()
        .map(|file| (Path::new("src/api").join(&file.path), file.contents.clone()))
        .collect();
    let case = |package: &str, omit: Option<&str>| {
        let mut files = api.clone();
        files.push((
            PathBuf::from("src/lib.rs"),
            lib_rs(&consumer_impl(&chat_rs.contents, omit)),
        ));
        ScratchCrate {
            package: package.to_owned(),
            label: format!(
                "ChatConsumer implemented {}",
                omit.map_or("completely".to_owned(), |m| format!("without `{m}`"))
            ),
            files,
            edition: "2024",
        }
    };
    let crates = [
        case("missing-handler", Some(OMITTED)),
        case("all-handlers", None),
    ];
    let root = scratch::target_dir().join("compile-fail");
    scratch::write_workspace(&root, &crates);
    let report = scratch::cargo_check(&root);

    let complete = report.outcome(&crates[1].crate_name());
    let rendered = |outcome: &scratch::CrateOutcome| {
        outcome
            .messages
            .iter()
            .map(|m| m.rendered.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(
        complete.is_clean(&["lib"]),
        "the complete implementation should compile with no warnings (checked: {:?}):\n{}\n{}",
        complete.units,
        rendered(&complete),
        report.stderr_tail(15)
    );

    let missing = report.outcome(&crates[0].crate_name());
    assert!(!report.success, "cargo check succeeded without `{OMITTED}`");
    let errors: Vec<_> = missing.of_level("error").collect();
    assert!(
        errors.len() == 1
            && errors[0].code.as_deref() == Some("E0046")
            && errors[0]
                .message
                .contains("not all trait items implemented")
            && errors[0].message.contains(&format!("`{OMITTED}`")),
        "expected exactly one error, E0046 naming `{OMITTED}`; got:\n{}\n{}",
        rendered(&missing),
        report.stderr_tail(15)
    );
    assert_eq!(
        missing.messages.len(),
        1,
        "only the missing handler should be reported:\n{}",
        rendered(&missing)
    );
}

/// The names of the methods of `ChatConsumer` that have no default body.
fn required_methods(chat_rs: &str) -> Vec<String> {
    consumer_trait(chat_rs)
        .items
        .iter()
        .filter_map(|item| match item {
            syn::TraitItem::Fn(method) if method.default.is_none() => {
                Some(method.sig.ident.to_string())
            }
            _ => None,
        })
        .collect()
}

fn consumer_trait(chat_rs: &str) -> syn::ItemTrait {
    let file = syn::parse_file(chat_rs).expect("chat.rs parses");
    file.items
        .into_iter()
        .find_map(|item| match item {
            syn::Item::Trait(item) if item.ident == "ChatConsumer" => Some(item),
            _ => None,
        })
        .expect("chat.rs defines the trait ChatConsumer")
}

/// `impl ChatConsumer for Server` with every required method of the generated trait except
/// `omit`, each with the trait's own signature and a body that never finishes.
fn consumer_impl(chat_rs: &str, omit: Option<&str>) -> String {
    let mut consumer = consumer_trait(chat_rs);
    consumer.attrs.clear();
    consumer.items.retain(|item| match item {
        syn::TraitItem::Fn(method) => {
            method.default.is_none() && Some(method.sig.ident.to_string().as_str()) != omit
        }
        _ => false,
    });
    for item in &mut consumer.items {
        let syn::TraitItem::Fn(method) = item else {
            continue;
        };
        method.attrs.clear();
        let arguments: Vec<String> = method
            .sig
            .inputs
            .iter()
            .filter_map(|input| match input {
                syn::FnArg::Typed(typed) => match &*typed.pat {
                    syn::Pat::Ident(pat) => Some(pat.ident.to_string()),
                    _ => None,
                },
                syn::FnArg::Receiver(_) => None,
            })
            .collect();
        let value = if method.sig.asyncness.is_some() {
            "::core::unimplemented!()"
        } else {
            "::core::future::pending()"
        };
        let body = format!("{{ let _ = ({}); {value} }}", arguments.join(", "));
        method.default = Some(syn::parse_str(&body).expect("the body parses"));
        method.semi_token = None;
    }
    let mut file = syn::parse_file("").expect("an empty file parses");
    file.items.push(syn::Item::Trait(consumer));
    let text = prettyplease::unparse(&file);
    let open = text.find("{\n").expect("the trait has a body");
    format!(
        "impl crate::api::chat::ChatConsumer for Server {{\n{}",
        &text[open + 2..]
    )
    // Paths as a user writes them outside the generated module: the trait names the runtime's
    // `Context` and `HandlerError` through the generated files' `cg` alias.
    .replace("super::", "crate::api::")
    .replace("cg::", "chanx_runtime::context::")
}

fn lib_rs(consumer_impl: &str) -> String {
    format!(
        "//! A user's implementation of the generated consumer trait.\n\
         #![deny(warnings)]\n\
         pub mod api;\n\
         \n\
         /// The user's consumer.\n\
         pub struct Server;\n\
         \n\
         {consumer_impl}"
    )
}
