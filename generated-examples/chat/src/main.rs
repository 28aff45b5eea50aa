//! Serves the chat example on 127.0.0.1 with the in-memory channel layer:
//! `cargo run -p chanx-example-chat -- --port 8000` (or `PORT=8000`; 8000 by default), then
//! connect to `ws://127.0.0.1:8000/ws/chat/<room>`. Ctrl-C shuts down gracefully: every socket
//! is closed with 1001 and leaves its room.

use std::sync::Arc;

use chanx_runtime::memory::InMemoryLayer;

/// Where the port comes from: `--port N` / `--port=N`, else `PORT`, else 8000.
fn port(args: &[String], env: Option<&str>) -> Result<u16, String> {
    let mut from_args = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if let Some(value) = arg.strip_prefix("--port=") {
            from_args = Some(value.to_owned());
        } else if arg == "--port" {
            from_args = Some(args.next().ok_or("--port needs a value")?.clone());
        } else {
            return Err(format!(
                "unknown argument {arg:?} (usage: chanx-example-chat [--port N])"
            ));
        }
    }
    match from_args.as_deref().or(env) {
        Some(text) => text.parse().map_err(|_| format!("not a port: {text:?}")),
        None => Ok(8000),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = port(&args, std::env::var("PORT").ok().as_deref())?;
    let server = chanx_example_chat::server(Arc::new(InMemoryLayer::new()));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!(
        "chat: serving ws://{}/ws/chat/{{room_name}} (Ctrl-C to stop)",
        listener.local_addr()?
    );
    server
        .serve(listener, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    eprintln!("chat: stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::port;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn port_from_flag_env_or_default() {
        assert_eq!(port(&args(&[]), None), Ok(8000));
        assert_eq!(port(&args(&[]), Some("9000")), Ok(9000));
        assert_eq!(port(&args(&["--port", "9100"]), Some("9000")), Ok(9100));
        assert_eq!(port(&args(&["--port=9200"]), None), Ok(9200));
        assert!(port(&args(&["--port"]), None).is_err());
        assert!(port(&args(&["--port", "x"]), None).is_err());
        assert!(port(&args(&["--verbose"]), None).is_err());
    }
}
