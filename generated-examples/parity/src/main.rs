//! Serves the parity example on 127.0.0.1 with the in-memory channel layer:
//! `cargo run -p chanx-example-parity -- --port 8000` (`--port 0` picks a free port). Once
//! listening it prints `listening on 127.0.0.1:<port>` on stdout, which the parity tests and
//! benchmarks wait for. Ctrl-C shuts down gracefully.

use std::io::Write;
use std::sync::Arc;

use chanx_runtime::memory::InMemoryLayer;

/// The port from `--port N` / `--port=N`; 8000 without one.
fn port(args: &[String]) -> Result<u16, String> {
    let mut port = None;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if let Some(value) = arg.strip_prefix("--port=") {
            port = Some(value.to_owned());
        } else if arg == "--port" {
            port = Some(args.next().ok_or("--port needs a value")?.clone());
        } else {
            return Err(format!(
                "unknown argument {arg:?} (usage: chanx-example-parity [--port N])"
            ));
        }
    }
    match port {
        Some(text) => text.parse().map_err(|_| format!("not a port: {text:?}")),
        None => Ok(8000),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let port = port(&args)?;
    // The benchmarks hold 1,000 connections in one group: room for bursts beyond Channels'
    // default capacity of 100 messages per channel.
    let layer = InMemoryLayer::builder().capacity(10_000).build();
    let server = chanx_example_parity::server(Arc::new(layer));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "listening on {}", listener.local_addr()?)?;
    stdout.flush()?;
    server
        .serve(listener, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::port;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn port_from_flag_or_default() {
        assert_eq!(port(&args(&[])), Ok(8000));
        assert_eq!(port(&args(&["--port", "9100"])), Ok(9100));
        assert_eq!(port(&args(&["--port=0"])), Ok(0));
        assert!(port(&args(&["--port"])).is_err());
        assert!(port(&args(&["--port", "x"])).is_err());
        assert!(port(&args(&["-v"])).is_err());
    }
}
