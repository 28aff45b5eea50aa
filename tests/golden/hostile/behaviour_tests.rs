// Written once by chanx-gen as a starting point; yours to edit (never overwritten).

//! Behaviour tests of your implementation of this API.
//!
//! chanx-gen wrote this file once and never overwrites it: it is yours to edit. For each channel it
//! gives a check that sends every client action (the spec's example, else a generated sample) to an
//! implementation and asserts that it answers only with the action's declared replies. Call the check
//! from a test with your implementation, as each function's docs show.

/// Checks an implementation of [`super::r#type::TypeConsumer`]: every client
/// action is answered within its declared reply set, without error frames. Use it from a test:
///
/// ```text
/// #[tokio::test]
/// async fn type_behaves() {
///     check_type(MyImplementation::default()).await;
/// }
/// ```
#[allow(dead_code)]
pub(crate) async fn check_type<C: super::r#type::TypeConsumer>(consumer: C) {
    let problems = super::r#type::TypeDispatcher::new(consumer).check_replies().await;
    ::core::assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Checks an implementation of [`super::cg::CgConsumer`]: every client
/// action is answered within its declared reply set, without error frames. Use it from a test:
///
/// ```text
/// #[tokio::test]
/// async fn cg_behaves() {
///     check_cg(MyImplementation::default()).await;
/// }
/// ```
#[allow(dead_code)]
pub(crate) async fn check_cg<C: super::cg::CgConsumer>(consumer: C) {
    let problems = super::cg::CgDispatcher::new(consumer).check_replies().await;
    ::core::assert!(problems.is_empty(), "{}", problems.join("\n"));
}
