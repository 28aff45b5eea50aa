//! The Gemini market-data feed, driven in process: market events published once to a symbol's
//! group on an `InMemoryLayer` reach every connection, whose `MarketFeed` filters them before the
//! generated dispatcher writes the frame.

use std::sync::Arc;

use chanx_example_gemini::MarketFeed;
use chanx_example_gemini::api::market_data_v1::{
    self, MarketDataV1Dispatcher, MarketDataV1Layer, ServerMessage,
};
use chanx_example_gemini::api::types::{Market, MarketDataV1Query};
use chanx_runtime::context::{Context, Outbound, channel};
use chanx_runtime::layer::{ChannelLayer, Inbound, classify};
use chanx_runtime::memory::InMemoryLayer;
use serde_json::{Value, json};
use tokio::sync::mpsc::UnboundedReceiver;

/// The spec's two examples of `marketData`.
fn update_example() -> Value {
    json!({
        "type": "update",
        "eventId": 36902233362_i64,
        "timestamp": 1619769673,
        "timestampms": 1619769673527_i64,
        "socket_sequence": 661,
        "events": [{
            "type": "change",
            "side": "bid",
            "price": 54350.40,
            "remaining": 0.002,
            "delta": 0.002,
            "reason": "place",
        }],
    })
}

fn heartbeat_example() -> Value {
    json!({"type": "heartbeat", "socket_sequence": 1656})
}

/// One client connection to `/v1/marketdata/btcusd?<query>`.
struct Connection {
    cx: Context,
    outbound: UnboundedReceiver<Outbound>,
    dispatcher: MarketDataV1Dispatcher<MarketFeed>,
}

impl Connection {
    async fn open(layer: &Arc<dyn ChannelLayer>, query: MarketDataV1Query) -> Self {
        let (sender, outbound) = channel();
        let name = layer.new_channel("specific.").await.unwrap();
        let cx = Context::new(name, Arc::clone(layer), sender);
        cx.join_group(&MarketFeed::symbol_group("btcusd"))
            .await
            .unwrap();
        // A consumer per connection: it holds that connection's filters.
        let dispatcher = MarketDataV1Dispatcher::new(MarketFeed::new(&query));
        Self {
            cx,
            outbound,
            dispatcher,
        }
    }

    /// Handles the next channel event, as the connection loop does, and returns what was written.
    async fn deliver_event(&mut self) -> Vec<String> {
        let message = self
            .cx
            .layer()
            .receive(self.cx.channel_name())
            .await
            .unwrap();
        let Inbound::ChannelEvent { event_data } = classify(message) else {
            panic!("expected a channel event");
        };
        self.dispatcher.handle_event(&self.cx, event_data).await;
        self.written()
    }

    fn written(&mut self) -> Vec<String> {
        let mut frames = Vec::new();
        while let Ok(item) = self.outbound.try_recv() {
            match item {
                Outbound::Text(text) => frames.push(text),
                Outbound::Close(code) => panic!("unexpected close {code}"),
            }
        }
        frames
    }
}

/// The query string of a connection, as a query parser would decode it (`?heartbeat=true` gives
/// `{"heartbeat": true}`); absent keys take the spec's defaults.
fn query(parameters: Value) -> MarketDataV1Query {
    serde_json::from_value(parameters).unwrap()
}

/// The update example, as every connection that does not filter it writes it: Python's
/// `json.dumps` of the decoded message (fields in the spec's order; `number` fields are floats).
const UPDATE_FRAME: &str = r#"{"type": "update", "eventId": 36902233362, "events": [{"type": "change", "price": 54350.4, "side": "bid", "reason": "place", "remaining": 0.002, "delta": 0.002}], "timestamp": 1619769673.0, "timestampms": 1619769673527.0, "socket_sequence": 661}"#;

#[tokio::test]
async fn published_events_reach_every_subscriber_through_its_filters() {
    let layer: Arc<dyn ChannelLayer> = Arc::new(InMemoryLayer::new());
    let mut plain = Connection::open(&layer, query(json!({}))).await;
    let mut with_heartbeat = Connection::open(&layer, query(json!({"heartbeat": true}))).await;

    // The feed process publishes each event once, to the symbol's group.
    let publisher = MarketDataV1Layer::new(Arc::clone(&layer));
    let group = MarketFeed::symbol_group("btcusd");
    assert_eq!(group, "marketdata.btcusd");
    for example in [heartbeat_example(), update_example()] {
        let event: Market = serde_json::from_value(example).unwrap();
        publisher
            .broadcast_event(&[&group], &ServerMessage::MarketData(event))
            .await
            .unwrap();
    }

    // Heartbeats only for the connection that asked for them (`?heartbeat=true`).
    assert_eq!(plain.deliver_event().await, Vec::<String>::new());
    assert_eq!(
        with_heartbeat.deliver_event().await,
        [r#"{"type": "heartbeat", "socket_sequence": 1656}"#]
    );
    // Updates for both, through the default-like path of the feed.
    assert_eq!(plain.deliver_event().await, [UPDATE_FRAME]);
    assert_eq!(with_heartbeat.deliver_event().await, [UPDATE_FRAME]);
}

#[tokio::test]
async fn trades_can_be_filtered_out() {
    let layer: Arc<dyn ChannelLayer> = Arc::new(InMemoryLayer::new());
    let mut no_trades = Connection::open(&layer, query(json!({"trades": false}))).await;
    let mut update = update_example();
    update["events"]
        .as_array_mut()
        .unwrap()
        .push(json!({"type": "trade", "price": 54350.5, "side": "bid"}));
    no_trades
        .dispatcher
        .handle_event(&no_trades.cx, update)
        .await;
    assert_eq!(no_trades.written(), [UPDATE_FRAME]);
}

#[tokio::test]
async fn events_that_are_not_market_data_are_dropped() {
    let layer: Arc<dyn ChannelLayer> = Arc::new(InMemoryLayer::new());
    let mut connection = Connection::open(&layer, query(json!({"heartbeat": true}))).await;
    for event in [
        json!({"type": "unknown", "socket_sequence": 1}),
        json!({"type": "heartbeat"}),
        json!({"action": "ping"}),
    ] {
        connection
            .dispatcher
            .handle_event(&connection.cx, event)
            .await;
    }
    assert_eq!(connection.written(), Vec::<String>::new());
}

#[tokio::test]
async fn the_client_cannot_send_anything() {
    let layer: Arc<dyn ChannelLayer> = Arc::new(InMemoryLayer::new());
    let mut connection = Connection::open(&layer, query(json!({}))).await;
    assert!(market_data_v1::CLIENT_TAGS.is_empty());
    let cases = [
        (
            "{not json",
            r#"{"action": "error", "payload": [{"type": "json_invalid", "loc": [], "msg": "Invalid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"}]}"#,
        ),
        (
            "[1, 2]",
            r#"{"action": "error", "payload": [{"type": "model_type", "loc": [], "msg": "Input should be a valid dictionary or instance of Envelope"}]}"#,
        ),
    ];
    for (input, output) in cases {
        connection
            .dispatcher
            .handle_text(&connection.cx, input)
            .await;
        assert_eq!(connection.written(), [output], "{input}");
    }
    // Any object is refused with one error frame, and the connection stays open.
    connection
        .dispatcher
        .handle_text(&connection.cx, r#"{"type": "heartbeat", "ref": "r-1"}"#)
        .await;
    let frames = connection.written();
    assert_eq!(frames.len(), 1);
    assert!(
        frames[0].starts_with(r#"{"action": "error", "payload": "#)
            && frames[0].ends_with(r#", "version": 1, "ref": "r-1"}"#),
        "{frames:?}"
    );
}
