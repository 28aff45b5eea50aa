// Written once by chanx-gen as a starting point; yours to edit (never overwritten).

//! Behaviour tests of your implementation of this API.
//!
//! chanx-gen wrote this file once and never overwrites it: it is yours to edit. For each channel it
//! gives a check that sends every client action (the spec's example, else a generated sample) to an
//! implementation and asserts that it answers only with the action's declared replies. Call the check
//! from a test with your implementation, as each function's docs show.

/// Checks an implementation of [`super::sensors::SensorsConsumer`]: every client
/// action is answered within its declared reply set, without error frames. Use it from a test:
///
/// ```text
/// #[tokio::test]
/// async fn sensors_behaves() {
///     check_sensors(MyImplementation::default()).await;
/// }
/// ```
#[allow(dead_code)]
pub(crate) async fn check_sensors<C: super::sensors::SensorsConsumer>(consumer: C) {
    let problems = super::sensors::SensorsDispatcher::new(consumer)
        .check_replies()
        .await;
    ::core::assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Checks an implementation of [`super::mirror::MirrorConsumer`]: every client
/// action is answered within its declared reply set, without error frames. Use it from a test:
///
/// ```text
/// #[tokio::test]
/// async fn mirror_behaves() {
///     check_mirror(MyImplementation::default()).await;
/// }
/// ```
#[allow(dead_code)]
pub(crate) async fn check_mirror<C: super::mirror::MirrorConsumer>(consumer: C) {
    let problems = super::mirror::MirrorDispatcher::new(consumer).check_replies().await;
    ::core::assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Checks an implementation of [`super::acks::AcksConsumer`]: every client
/// action is answered within its declared reply set, without error frames. Use it from a test:
///
/// ```text
/// #[tokio::test]
/// async fn acks_behaves() {
///     check_acks(MyImplementation::default()).await;
/// }
/// ```
#[allow(dead_code)]
pub(crate) async fn check_acks<C: super::acks::AcksConsumer>(consumer: C) {
    let problems = super::acks::AcksDispatcher::new(consumer).check_replies().await;
    ::core::assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Checks an implementation of [`super::alerts::AlertsConsumer`]: every client
/// action is answered within its declared reply set, without error frames. Use it from a test:
///
/// ```text
/// #[tokio::test]
/// async fn alerts_behaves() {
///     check_alerts(MyImplementation::default()).await;
/// }
/// ```
#[allow(dead_code)]
pub(crate) async fn check_alerts<C: super::alerts::AlertsConsumer>(consumer: C) {
    let problems = super::alerts::AlertsDispatcher::new(consumer).check_replies().await;
    ::core::assert!(problems.is_empty(), "{}", problems.join("\n"));
}
