//! The notification service served by `chanx_runtime::server`: the spec's security schemes
//! (query `token`, bearer) read by the authenticator, Chanx's `authentication` frame and close
//! codes, the user's group, and pushes through the layer.

use std::sync::Arc;

use chanx_example_notifications::api::notifications::NotificationsLayer;
use chanx_example_notifications::api::types::{NotificationPayload, Severity};
use chanx_example_notifications::{NotificationServer, server};
use chanx_runtime::memory::InMemoryLayer;
use chrono::{TimeZone, Utc};
use serde_json::json;
use uuid::Uuid;

const ALICE: &str = "alice-token-0123456789";
const BOB: &str = "bob-token-0123456789";

fn service() -> NotificationServer {
    NotificationServer::new([(ALICE, 7, "alice"), (BOB, 8, "bob")])
}

#[tokio::test]
async fn authentication_through_the_server() {
    let memory = InMemoryLayer::new();
    let server = server(Arc::new(memory.clone()), service());

    let mut anonymous = server
        .communicator("/ws/notifications/7")
        .connect()
        .unwrap();
    assert_eq!(
        anonymous.receive_text().await,
        r#"{"action": "authentication", "payload": {"status_code": 401, "status_text": "Unauthorized", "data": {"detail": "missing token"}}}"#
    );
    anonymous.assert_closed(4401).await;

    let mut wrong = server
        .communicator("/ws/notifications/7?token=wrong")
        .connect()
        .unwrap();
    assert_eq!(
        wrong.receive_text().await,
        r#"{"action": "authentication", "payload": {"status_code": 403, "status_text": "Forbidden", "data": {"detail": "bad token"}}}"#
    );
    wrong.assert_closed(4403).await;

    let mut other = server
        .communicator("/ws/notifications/7")
        .header("Authorization", &format!("Bearer {BOB}"))
        .connect()
        .unwrap();
    assert_eq!(
        other.receive_json().await["payload"]["data"],
        json!({"detail": "not your notifications"})
    );
    other.assert_closed(4403).await;

    let mut alice = server
        .communicator("/ws/notifications/7")
        .header("Authorization", &format!("Bearer {ALICE}"))
        .connect()
        .unwrap();
    assert_eq!(
        alice.receive_text().await,
        r#"{"action": "authentication", "payload": {"status_code": 200, "status_text": "OK", "data": {"user": "alice"}}}"#
    );
    assert_eq!(
        alice.receive_text().await,
        r#"{"action": "welcome", "payload": null}"#
    );
    assert_eq!(
        memory
            .group_members(&NotificationServer::user_group(7))
            .len(),
        1
    );
    assert!(
        memory
            .group_members(&NotificationServer::user_group(8))
            .is_empty()
    );

    // A push to user 7 from anywhere on the layer reaches the connection.
    let notifications = service();
    let layer = NotificationsLayer::new(Arc::new(memory.clone()));
    let id = Uuid::from_u128(1);
    notifications
        .notify(
            &layer,
            7,
            NotificationPayload {
                id,
                title: "hi".to_owned(),
                body: None,
                severity: Severity::V10,
                created_at: Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap(),
            },
        )
        .await
        .unwrap();
    assert_eq!(alice.receive_json().await["action"], "notification");
    assert_eq!(
        alice.receive_json().await,
        json!({"action": "unread_count", "payload": {"unread": 1}})
    );
    alice.disconnect().await;
    assert!(
        memory
            .group_members(&NotificationServer::user_group(7))
            .is_empty()
    );
}
