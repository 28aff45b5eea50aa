//! The server side of RFC 6455 framing, on a connection axum (hyper) has upgraded.
//!
//! Written for what an idle connection keeps: no read buffer (bytes are read into a buffer on
//! the stack of the poll that reads them, and only the unparsed rest of a frame that has not
//! arrived whole is kept, freed once it has), no write buffer between flushes, and no more state
//! than the flags of the closing handshake. Client frames must be masked; extensions and
//! subprotocols are never negotiated, so reserved bits and opcodes are protocol errors.

use std::future::{Future, poll_fn};
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::CLOSE_TOO_BIG;
use super::connection::{ClientEvent, Transport};

/// Close code of a connection whose client broke the framing rules.
const CLOSE_PROTOCOL_ERROR: u16 = 1002;
/// Close code of a connection whose client sent text that is not UTF-8.
const CLOSE_INVALID_DATA: u16 = 1007;

/// The opcode of a frame continuing a fragmented message.
const OP_CONTINUATION: u8 = 0x0;
/// The opcode of a text frame.
const OP_TEXT: u8 = 0x1;
/// The opcode of a binary frame.
const OP_BINARY: u8 = 0x2;
/// The opcode of a close frame.
const OP_CLOSE: u8 = 0x8;
/// The opcode of a ping frame.
const OP_PING: u8 = 0x9;
/// The opcode of a pong frame.
const OP_PONG: u8 = 0xA;

/// The largest payload of a control frame (RFC 6455 §5.5).
const MAX_CONTROL_PAYLOAD: usize = 125;

/// How many bytes one socket read takes, into a buffer that lives on the stack during the poll
/// only: enough for many small frames at once, small enough for a worker thread's stack.
const READ_CHUNK: usize = 8 * 1024;

/// How long a closing connection waits for the client's side of the closing handshake.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// A text message arriving in fragments (its unmasked bytes so far), or a binary one (only its
/// length is kept: the loop answers binary frames without reading them).
#[derive(Debug)]
enum Fragments {
    /// Text bytes, validated as UTF-8 once the message is whole.
    Text(Vec<u8>),
    /// The number of binary bytes so far.
    Binary(usize),
}

impl Fragments {
    /// The message's length so far.
    fn len(&self) -> usize {
        match self {
            Self::Text(bytes) => bytes.len(),
            Self::Binary(len) => *len,
        }
    }
}

/// What decoding the start of a byte slice found.
#[derive(Debug, PartialEq, Eq)]
enum Decoded {
    /// No whole frame yet: more bytes are needed.
    Incomplete,
    /// The first `.0` bytes were one frame, which asks for `.1`.
    Frame(usize, Then),
    /// The client broke the protocol (or a size limit): close with this code.
    Violation(u16),
}

/// What a whole frame asks of the connection.
#[derive(Debug, PartialEq, Eq)]
enum Then {
    /// Nothing: a pong, or a fragment of a message still incomplete.
    Nothing,
    /// Hand this to the loop.
    Event(ClientEvent),
    /// Answer a ping with a pong carrying this payload.
    Pong(Vec<u8>),
    /// The client closed, with this code if it gave one: answer, and read no more.
    Close(Option<u16>),
}

/// The frame decoder's state between frames: the message being reassembled, and the limit.
#[derive(Debug)]
struct Decoder {
    /// The fragmented message in progress (boxed: an idle connection keeps only a pointer).
    message: Option<Box<Fragments>>,
    /// The largest message (bytes of payload) accepted.
    limit: usize,
}

impl Decoder {
    /// Decodes the frame at the start of `bytes`: a frame over the limit is refused as soon as
    /// its header has arrived, so that it is never buffered.
    fn decode(&mut self, bytes: &[u8]) -> Decoded {
        let [first, second, ..] = *bytes else {
            return Decoded::Incomplete;
        };
        let fin = first & 0x80 != 0;
        let opcode = first & 0x0F;
        // No extension was negotiated, so no reserved bit may be set.
        if first & 0x70 != 0 || second & 0x80 == 0 {
            return Decoded::Violation(CLOSE_PROTOCOL_ERROR);
        }
        let control = opcode & 0x08 != 0;
        if !matches!(
            opcode,
            OP_CONTINUATION | OP_TEXT | OP_BINARY | OP_CLOSE | OP_PING | OP_PONG
        ) {
            return Decoded::Violation(CLOSE_PROTOCOL_ERROR);
        }
        let (length_end, payload_len) = match second & 0x7F {
            126 => match bytes.get(2..4) {
                Some(&[high, low]) => (4, u64::from(u16::from_be_bytes([high, low]))),
                _ => return Decoded::Incomplete,
            },
            127 => match bytes.get(2..10).and_then(|b| <[u8; 8]>::try_from(b).ok()) {
                Some(length) => (10, u64::from_be_bytes(length)),
                None => return Decoded::Incomplete,
            },
            short => (2, u64::from(short)),
        };
        // Control frames are short and whole (RFC 6455 §5.5).
        if control && (!fin || payload_len > MAX_CONTROL_PAYLOAD as u64) {
            return Decoded::Violation(CLOSE_PROTOCOL_ERROR);
        }
        let so_far = match (opcode, &self.message) {
            (OP_CONTINUATION, None) | (OP_TEXT | OP_BINARY, Some(_)) => {
                return Decoded::Violation(CLOSE_PROTOCOL_ERROR);
            }
            (OP_CONTINUATION, Some(message)) => message.len(),
            _ => 0,
        };
        let payload_len = match usize::try_from(payload_len) {
            Ok(len) if control || len <= self.limit.saturating_sub(so_far) => len,
            _ => return Decoded::Violation(CLOSE_TOO_BIG),
        };
        let header_len: usize = length_end + 4;
        // Saturating: with a limit near `usize::MAX` the frame is merely never whole.
        let frame_len = header_len.saturating_add(payload_len);
        let (Some(key), Some(payload)) = (
            bytes.get(length_end..header_len),
            bytes.get(header_len..frame_len),
        ) else {
            return Decoded::Incomplete;
        };
        let key = [key[0], key[1], key[2], key[3]];
        Decoded::Frame(frame_len, self.frame(opcode, fin, key, payload))
    }

    /// What the whole frame `opcode` (masked `payload`) asks for.
    fn frame(&mut self, opcode: u8, fin: bool, key: [u8; 4], payload: &[u8]) -> Then {
        match opcode {
            OP_TEXT | OP_BINARY | OP_CONTINUATION => self.data(opcode, fin, key, payload),
            OP_PING => Then::Pong(unmasked(payload, key)),
            OP_PONG => Then::Nothing,
            _ => close_code(&unmasked(payload, key)),
        }
    }

    /// Adds a data frame to the message in progress, or starts one; the message once whole.
    fn data(&mut self, opcode: u8, fin: bool, key: [u8; 4], payload: &[u8]) -> Then {
        if fin && self.message.is_none() {
            // The usual case, a whole frame: one allocation for a text, the message's own.
            return if opcode == OP_TEXT {
                text_event(unmasked(payload, key))
            } else {
                Then::Event(ClientEvent::Binary(payload.len()))
            };
        }
        // `decode` let a continuation through only with a message, a text or binary frame only
        // without one.
        let mut message = self.message.take().unwrap_or_else(|| {
            Box::new(if opcode == OP_TEXT {
                Fragments::Text(Vec::new())
            } else {
                Fragments::Binary(0)
            })
        });
        match message.as_mut() {
            Fragments::Text(bytes) => unmask_into(bytes, payload, key),
            Fragments::Binary(len) => *len += payload.len(),
        }
        if !fin {
            self.message = Some(message);
            return Then::Nothing;
        }
        match *message {
            Fragments::Text(bytes) => text_event(bytes),
            Fragments::Binary(len) => Then::Event(ClientEvent::Binary(len)),
        }
    }
}

/// The text event for `bytes`, or a violation when they are not UTF-8.
fn text_event(bytes: Vec<u8>) -> Then {
    match String::from_utf8(bytes) {
        Ok(text) => Then::Event(ClientEvent::Text(text)),
        Err(_) => Then::Event(ClientEvent::Violation(CLOSE_INVALID_DATA)),
    }
}

/// What the client's close payload asks for: echo its code, or a violation for a malformed
/// payload (a lone byte, a code no endpoint may send, a reason that is not UTF-8).
fn close_code(payload: &[u8]) -> Then {
    let code = match payload {
        [] => return Then::Close(None),
        [high, low, reason @ ..] if std::str::from_utf8(reason).is_ok() => {
            u16::from_be_bytes([*high, *low])
        }
        [_, _, ..] => return Then::Event(ClientEvent::Violation(CLOSE_INVALID_DATA)),
        [_] => return Then::Event(ClientEvent::Violation(CLOSE_PROTOCOL_ERROR)),
    };
    // RFC 6455 §7.4: 1004-1006 and 1015 are never sent, 1016-2999 are reserved.
    if matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999) {
        Then::Close(Some(code))
    } else {
        Then::Event(ClientEvent::Violation(CLOSE_PROTOCOL_ERROR))
    }
}

/// `payload` unmasked with `key`, in a new vector.
fn unmasked(payload: &[u8], key: [u8; 4]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(payload.len());
    unmask_into(&mut bytes, payload, key);
    bytes
}

/// Appends `payload` unmasked with `key` to `bytes`.
fn unmask_into(bytes: &mut Vec<u8>, payload: &[u8], key: [u8; 4]) {
    let start = bytes.len();
    bytes.extend_from_slice(payload);
    // Four bytes at a time, which the compiler vectorizes.
    let mut words = bytes[start..].chunks_exact_mut(4);
    for word in &mut words {
        for (byte, mask) in word.iter_mut().zip(key) {
            *byte ^= mask;
        }
    }
    for (byte, mask) in words.into_remainder().iter_mut().zip(key) {
        *byte ^= mask;
    }
}

/// Appends an unmasked, unfragmented frame (the server's) to `out`.
fn encode_frame(out: &mut Vec<u8>, opcode: u8, payload: &[u8]) {
    out.push(0x80 | opcode);
    match payload.len() {
        len @ 0..=125 => out.push(len as u8),
        len @ 126..=0xFFFF => {
            out.push(126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        len => {
            out.push(127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
    }
    out.extend_from_slice(payload);
}

/// Appends a close frame with `code` (none: an empty close) to `out`.
fn encode_close(out: &mut Vec<u8>, code: Option<u16>) {
    let payload = code.map(u16::to_be_bytes);
    encode_frame(
        out,
        OP_CLOSE,
        payload.as_ref().map_or(&[], |code| &code[..]),
    );
}

/// An upgraded connection speaking WebSocket, server side.
pub(crate) struct WebSocket<S> {
    /// The upgraded connection.
    io: S,
    /// The reassembly state between frames.
    decoder: Decoder,
    /// The bytes read after the last whole frame: the start of a frame still arriving (or
    /// frames read together with an earlier one). Empty, without capacity, between frames.
    unparsed: Vec<u8>,
    /// Frames encoded but not yet written; without capacity once written.
    out: Vec<u8>,
    /// Reading has ended: the client closed (and was answered), hung up, or broke the
    /// protocol; `recv` returns [`ClientEvent::Closed`] from now on.
    ended: bool,
    /// Bytes may remain unread (reading failed, or stopped at a violation): closing the
    /// socket right after the close frame could reset it under that frame.
    unread: bool,
    /// The server's close frame is queued: nothing may follow it.
    close_sent: bool,
    /// Writing failed: the connection is gone.
    write_failed: bool,
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> WebSocket<S> {
    /// A WebSocket on `io` (already upgraded) accepting messages of up to `limit` bytes.
    pub(crate) fn new(io: S, limit: usize) -> Self {
        Self {
            io,
            decoder: Decoder {
                message: None,
                limit,
            },
            unparsed: Vec::new(),
            out: Vec::new(),
            ended: false,
            unread: false,
            close_sent: false,
            write_failed: false,
        }
    }

    /// Reads until the next event for the loop; the state of a partial frame lives in `self`,
    /// so that dropping the poll loses nothing.
    fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<ClientEvent> {
        if !self.out.is_empty() {
            // A pong the socket did not take at once; when it is not writable, this poll is
            // woken again once it is. A failure shows at the next write.
            let _ = self.poll_write_out(cx);
        }
        loop {
            if self.ended {
                return Poll::Ready(ClientEvent::Closed);
            }
            if !self.unparsed.is_empty() {
                match self.decoder.decode(&self.unparsed) {
                    Decoded::Incomplete => {}
                    Decoded::Frame(len, then) => {
                        self.consume_unparsed(len);
                        match self.apply(then, cx) {
                            Some(event) => return Poll::Ready(event),
                            None => continue,
                        }
                    }
                    Decoded::Violation(code) => return Poll::Ready(self.violation(code)),
                }
            }
            let mut chunk = [MaybeUninit::<u8>::uninit(); READ_CHUNK];
            let mut read = ReadBuf::uninit(&mut chunk);
            if ready!(Pin::new(&mut self.io).poll_read(cx, &mut read)).is_err() {
                self.ended = true;
                self.unread = true;
                return Poll::Ready(ClientEvent::Closed);
            }
            let mut input = read.filled();
            if input.is_empty() {
                // The client hung up without closing.
                self.ended = true;
                return Poll::Ready(ClientEvent::Closed);
            }
            if !self.unparsed.is_empty() {
                self.unparsed.extend_from_slice(input);
                continue;
            }
            // Frames straight from the chunk: only what follows an event, or a frame that has
            // not arrived whole, is copied out.
            loop {
                match self.decoder.decode(input) {
                    Decoded::Incomplete => {
                        self.unparsed.extend_from_slice(input);
                        break;
                    }
                    Decoded::Frame(len, then) => {
                        input = &input[len..];
                        if let Some(event) = self.apply(then, cx) {
                            if !self.ended {
                                self.unparsed.extend_from_slice(input);
                            }
                            return Poll::Ready(event);
                        }
                    }
                    Decoded::Violation(code) => return Poll::Ready(self.violation(code)),
                }
            }
        }
    }

    /// Drops the first `len` bytes of `unparsed`: freed when nothing follows (the usual case),
    /// else the rest is kept without the room of a large frame that came before it.
    fn consume_unparsed(&mut self, len: usize) {
        if len == self.unparsed.len() {
            self.unparsed = Vec::new();
            return;
        }
        self.unparsed.drain(..len);
        if self.unparsed.capacity() > READ_CHUNK.max(2 * self.unparsed.len()) {
            self.unparsed.shrink_to_fit();
        }
    }

    /// Does what a whole frame asks; the event for the loop, if any.
    fn apply(&mut self, then: Then, cx: &mut Context<'_>) -> Option<ClientEvent> {
        match then {
            Then::Nothing => None,
            Then::Event(ClientEvent::Violation(code)) => Some(self.violation(code)),
            Then::Event(event) => Some(event),
            Then::Pong(payload) => {
                if !self.close_sent {
                    encode_frame(&mut self.out, OP_PONG, &payload);
                    let _ = self.poll_write_out(cx);
                }
                None
            }
            Then::Close(code) => {
                self.ended = true;
                self.unparsed = Vec::new();
                // After its own close, the server only waits for the client's.
                if !self.close_sent {
                    encode_close(&mut self.out, code);
                    self.close_sent = true;
                    // Answered if the socket takes the answer now (a later `recv` tries again):
                    // a client that sent its close but does not read would not see it anyway,
                    // and the connection does not wait for it.
                    let _ = self.poll_write_out(cx);
                }
                Some(ClientEvent::Closed)
            }
        }
    }

    /// Ends reading at a violation: the loop closes with `code`.
    fn violation(&mut self, code: u16) -> ClientEvent {
        self.ended = true;
        self.unread = true;
        self.unparsed = Vec::new();
        ClientEvent::Violation(code)
    }

    /// Writes out the encoded frames; `false` when the connection is gone.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        if self.write_failed {
            return Poll::Ready(false);
        }
        while !self.out.is_empty() {
            match ready!(Pin::new(&mut self.io).poll_write(cx, &self.out)) {
                Ok(written) if written > 0 => {
                    self.out.drain(..written);
                }
                _ => {
                    self.write_failed = true;
                    self.out = Vec::new();
                    return Poll::Ready(false);
                }
            }
        }
        // Freed: an idle connection keeps no write buffer.
        self.out = Vec::new();
        match ready!(Pin::new(&mut self.io).poll_flush(cx)) {
            Ok(()) => Poll::Ready(true),
            Err(_) => {
                self.write_failed = true;
                Poll::Ready(false)
            }
        }
    }

    /// Writes out the encoded frames; `false` when the connection is gone.
    async fn write_out(&mut self) -> bool {
        poll_fn(|cx| self.poll_write_out(cx)).await
    }

    /// The closing handshake after the server's close frame: waits for the client's, or only
    /// lingers when unread bytes could make closing the socket reset it.
    async fn finish_closing(&mut self) {
        if self.unread {
            // The client could lose the close frame under a reset: give it time to read it.
            tokio::time::sleep(CLOSE_WAIT / 2).await;
            return;
        }
        // Frames the client still sends are read and dropped until its close arrives.
        let client_closed = poll_fn(|cx| {
            while !matches!(
                ready!(self.poll_event(cx)),
                ClientEvent::Closed | ClientEvent::Violation(_)
            ) {}
            Poll::Ready(())
        });
        let _ = tokio::time::timeout(CLOSE_WAIT, client_closed).await;
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin + Send + 'static> Transport for WebSocket<S> {
    fn recv(&mut self) -> impl Future<Output = ClientEvent> + Send + '_ {
        poll_fn(|cx| self.poll_event(cx))
    }

    fn send_text(&mut self, text: String) -> bool {
        if self.write_failed || self.close_sent {
            return false;
        }
        encode_frame(&mut self.out, OP_TEXT, text.as_bytes());
        true
    }

    fn flush(&mut self) -> impl Future<Output = bool> + Send + '_ {
        poll_fn(|cx| self.poll_write_out(cx))
    }

    async fn close(&mut self, code: u16) {
        // Once the client closed (and was answered) or hung up, there is nobody to tell.
        if self.close_sent || self.write_failed || (self.ended && !self.unread) {
            return;
        }
        encode_close(&mut self.out, Some(code));
        self.close_sent = true;
        // Boxed: the timers would otherwise enlarge every connection's task by their size.
        Box::pin(async {
            if let Ok(true) = tokio::time::timeout(CLOSE_WAIT, self.write_out()).await {
                self.finish_closing().await;
            }
        })
        .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream, duplex};

    /// A client frame: `first` is the first byte (FIN, RSV, opcode), masked with a fixed key
    /// unless `masked` is off.
    fn client_frame(first: u8, payload: &[u8], masked: bool) -> Vec<u8> {
        let key = [0x37, 0xFA, 0x21, 0x3D];
        let mut frame = Vec::new();
        encode_frame(&mut frame, 0, payload);
        frame[0] = first;
        if masked {
            frame[1] |= 0x80;
            let header = frame.len() - payload.len();
            let mut masked = frame[..header].to_vec();
            masked.extend_from_slice(&key);
            unmask_into(&mut masked, payload, key);
            frame = masked;
        }
        frame
    }

    /// A masked text frame, whole.
    fn text(payload: &str) -> Vec<u8> {
        client_frame(0x80 | OP_TEXT, payload.as_bytes(), true)
    }

    /// A server on one end of a pipe, the client's end, and the server's limit.
    fn pair(limit: usize) -> (WebSocket<DuplexStream>, DuplexStream) {
        let (server, client) = duplex(1 << 20);
        (WebSocket::new(server, limit), client)
    }

    /// What the server wrote, read from the client's end until `len` bytes arrived.
    async fn read_exactly(client: &mut DuplexStream, len: usize) -> Vec<u8> {
        let mut bytes = vec![0; len];
        client.read_exact(&mut bytes).await.unwrap();
        bytes
    }

    /// The close frame the server sends with `code`.
    fn server_close(code: Option<u16>) -> Vec<u8> {
        let mut frame = Vec::new();
        encode_close(&mut frame, code);
        frame
    }

    #[tokio::test]
    async fn masked_text_and_binary_frames() {
        let (mut ws, mut client) = pair(1024);
        client.write_all(&text("héllo")).await.unwrap();
        assert_eq!(ws.recv().await, ClientEvent::Text("héllo".to_owned()));
        let long = "x".repeat(300);
        client.write_all(&text(&long)).await.unwrap();
        assert_eq!(ws.recv().await, ClientEvent::Text(long));
        let binary = client_frame(0x80 | OP_BINARY, &[1, 2, 3], true);
        client.write_all(&binary).await.unwrap();
        assert_eq!(ws.recv().await, ClientEvent::Binary(3));
        // Idle between frames: nothing buffered.
        assert_eq!(ws.unparsed.capacity(), 0);
        assert_eq!(ws.out.capacity(), 0);
    }

    #[tokio::test]
    async fn unmasked_frames_are_protocol_errors() {
        let (mut ws, mut client) = pair(1024);
        let frame = client_frame(0x80 | OP_TEXT, b"hi", false);
        client.write_all(&frame).await.unwrap();
        assert_eq!(ws.recv().await, ClientEvent::Violation(1002));
        assert_eq!(ws.recv().await, ClientEvent::Closed);
    }

    #[tokio::test]
    async fn fragments_fed_one_byte_at_a_time() {
        let (mut ws, mut client) = pair(1024);
        // "é" is split between the two fragments; a ping arrives between them.
        let mut bytes = client_frame(OP_TEXT, "ab\u{e9}".as_bytes()[..3].as_ref(), true);
        bytes.extend(client_frame(0x80 | OP_PING, b"p", true));
        bytes.extend(client_frame(0x80 | OP_CONTINUATION, &[0xA9, b'c'], true));
        let feeding = tokio::spawn(async move {
            for byte in bytes {
                client.write_all(&[byte]).await.unwrap();
                tokio::task::yield_now().await;
            }
            client
        });
        assert_eq!(ws.recv().await, ClientEvent::Text("ab\u{e9}c".to_owned()));
        let mut client = feeding.await.unwrap();
        // The pong went out on its own.
        assert_eq!(
            read_exactly(&mut client, 3).await,
            [0x80 | OP_PONG, 1, b'p']
        );
        assert_eq!(ws.unparsed.capacity(), 0);
        assert!(ws.decoder.message.is_none());
    }

    #[tokio::test]
    async fn a_frame_split_across_two_reads_and_frames_sharing_one() {
        let (mut ws, mut client) = pair(1024);
        let frame = text("split in two");
        client.write_all(&frame[..5]).await.unwrap();
        let first = tokio::time::timeout(Duration::from_millis(20), ws.recv()).await;
        assert!(first.is_err(), "no event from half a frame");
        client.write_all(&frame[5..]).await.unwrap();
        assert_eq!(
            ws.recv().await,
            ClientEvent::Text("split in two".to_owned())
        );
        let mut three = text("one");
        three.extend(text("two"));
        three.extend(text("three"));
        client.write_all(&three).await.unwrap();
        assert_eq!(ws.recv().await, ClientEvent::Text("one".to_owned()));
        assert_eq!(ws.recv().await, ClientEvent::Text("two".to_owned()));
        assert_eq!(ws.recv().await, ClientEvent::Text("three".to_owned()));
        assert_eq!(ws.unparsed.capacity(), 0);
    }

    #[tokio::test]
    async fn invalid_utf8_closes_with_1007() {
        let (mut ws, mut client) = pair(1024);
        client
            .write_all(&client_frame(0x80 | OP_TEXT, &[b'a', 0xFF], true))
            .await
            .unwrap();
        assert_eq!(ws.recv().await, ClientEvent::Violation(1007));
        // Across fragments: a sequence left unfinished by the last one.
        let (mut ws, mut client) = pair(1024);
        let mut bytes = client_frame(OP_TEXT, b"a", true);
        bytes.extend(client_frame(0x80 | OP_CONTINUATION, &[0xC3], true));
        client.write_all(&bytes).await.unwrap();
        assert_eq!(ws.recv().await, ClientEvent::Violation(1007));
    }

    #[tokio::test]
    async fn oversized_frames_and_messages_close_with_1009_unbuffered() {
        let (mut ws, mut client) = pair(10);
        client.write_all(&text("0123456789")).await.unwrap();
        assert_eq!(ws.recv().await, ClientEvent::Text("0123456789".to_owned()));
        // Only the header of the large frame is sent: it is refused from that.
        let frame = text(&"y".repeat(70_000));
        client.write_all(&frame[..14]).await.unwrap();
        assert_eq!(ws.recv().await, ClientEvent::Violation(1009));
        assert_eq!(ws.unparsed.capacity(), 0);

        let (mut ws, mut client) = pair(10);
        let mut bytes = client_frame(OP_TEXT, b"012345", true);
        bytes.extend(client_frame(OP_CONTINUATION, b"6789", true));
        bytes.extend(client_frame(0x80 | OP_CONTINUATION, b"a", true));
        client.write_all(&bytes).await.unwrap();
        assert_eq!(ws.recv().await, ClientEvent::Violation(1009));
        // A 64-bit length with its top bit set.
        let (mut ws, mut client) = pair(10);
        let mut huge = vec![0x80 | OP_BINARY, 0x80 | 127];
        huge.extend(u64::MAX.to_be_bytes());
        client.write_all(&huge).await.unwrap();
        assert_eq!(ws.recv().await, ClientEvent::Violation(1009));
    }

    #[tokio::test]
    async fn pings_are_answered_and_pongs_ignored() {
        let (mut ws, mut client) = pair(1024);
        let mut bytes = client_frame(0x80 | OP_PING, b"are you there", true);
        bytes.extend(client_frame(0x80 | OP_PONG, b"unasked", true));
        bytes.extend(text("after"));
        client.write_all(&bytes).await.unwrap();
        assert_eq!(ws.recv().await, ClientEvent::Text("after".to_owned()));
        let mut pong = vec![0x80 | OP_PONG, 13];
        pong.extend_from_slice(b"are you there");
        assert_eq!(read_exactly(&mut client, pong.len()).await, pong);
    }

    #[tokio::test]
    async fn the_clients_close_is_answered() {
        let (mut ws, mut client) = pair(1024);
        let close = client_frame(0x80 | OP_CLOSE, &1000u16.to_be_bytes(), true);
        client.write_all(&close).await.unwrap();
        assert_eq!(ws.recv().await, ClientEvent::Closed);
        assert_eq!(read_exactly(&mut client, 4).await, server_close(Some(1000)));
        assert_eq!(ws.recv().await, ClientEvent::Closed);
        // No second close frame.
        ws.close(1001).await;
        assert!(ws.out.is_empty());

        // An empty close is answered with an empty one; a reserved code is a violation.
        let (mut ws, mut client) = pair(1024);
        client
            .write_all(&client_frame(0x80 | OP_CLOSE, &[], true))
            .await
            .unwrap();
        assert_eq!(ws.recv().await, ClientEvent::Closed);
        assert_eq!(read_exactly(&mut client, 2).await, server_close(None));
        let (mut ws, mut client) = pair(1024);
        let close = client_frame(0x80 | OP_CLOSE, &1005u16.to_be_bytes(), true);
        client.write_all(&close).await.unwrap();
        assert_eq!(ws.recv().await, ClientEvent::Violation(1002));
    }

    #[tokio::test]
    async fn the_servers_close_waits_for_the_clients() {
        let (mut ws, mut client) = pair(1024);
        assert!(ws.send_text("bye".to_owned()));
        let answering = tokio::spawn(async move {
            let mut expected = vec![0x81, 3];
            expected.extend_from_slice(b"bye");
            expected.extend(server_close(Some(4000)));
            assert_eq!(read_exactly(&mut client, expected.len()).await, expected);
            // Frames after the server's close are read and dropped, then the close arrives.
            client.write_all(&text("late")).await.unwrap();
            let close = client_frame(0x80 | OP_CLOSE, &4000u16.to_be_bytes(), true);
            client.write_all(&close).await.unwrap();
            client
        });
        let started = std::time::Instant::now();
        ws.close(4000).await;
        assert!(
            started.elapsed() < CLOSE_WAIT,
            "returned at the client's close"
        );
        let mut client = answering.await.unwrap();
        // Nothing more was written: no answer to the client's close.
        drop(ws);
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).await.unwrap();
        assert!(rest.is_empty());
    }

    #[tokio::test]
    async fn framing_violations_close_with_1002() {
        let cases: [(&str, Vec<u8>); 6] = [
            (
                "reserved bit",
                client_frame(0x80 | 0x40 | OP_TEXT, b"x", true),
            ),
            ("reserved opcode", client_frame(0x80 | 0x3, b"x", true)),
            (
                "reserved control opcode",
                client_frame(0x80 | 0xB, b"", true),
            ),
            ("long ping", client_frame(0x80 | OP_PING, &[0; 126], true)),
            ("fragmented ping", client_frame(OP_PING, b"", true)),
            ("lone continuation", client_frame(0x80, b"x", true)),
        ];
        for (case, bytes) in cases {
            let (mut ws, mut client) = pair(1024);
            client.write_all(&bytes).await.unwrap();
            assert_eq!(ws.recv().await, ClientEvent::Violation(1002), "{case}");
        }
        let (mut ws, mut client) = pair(1024);
        let mut bytes = client_frame(OP_TEXT, b"a", true);
        bytes.extend(text("new message in the middle"));
        client.write_all(&bytes).await.unwrap();
        assert_eq!(ws.recv().await, ClientEvent::Violation(1002));
    }

    #[tokio::test]
    async fn a_violation_is_answered_with_a_close_then_a_linger() {
        let (mut ws, mut client) = pair(1024);
        client
            .write_all(&client_frame(0x80 | OP_TEXT, b"x", false))
            .await
            .unwrap();
        assert_eq!(ws.recv().await, ClientEvent::Violation(1002));
        let started = std::time::Instant::now();
        ws.close(1002).await;
        assert!(started.elapsed() >= CLOSE_WAIT / 2);
        assert_eq!(read_exactly(&mut client, 4).await, server_close(Some(1002)));
    }

    #[tokio::test]
    async fn hanging_up_ends_reading() {
        let (mut ws, client) = pair(1024);
        drop(client);
        assert_eq!(ws.recv().await, ClientEvent::Closed);
        assert!(!ws.send_text("x".to_owned()) || !ws.flush().await);
    }

    #[tokio::test]
    async fn large_frames_are_written_whole() {
        let (mut ws, mut client) = pair(1024);
        let big = "z".repeat(70_000);
        let reading = tokio::spawn(async move { read_exactly(&mut client, 70_010).await });
        assert!(ws.send_text(big));
        assert!(ws.flush().await);
        let bytes = reading.await.unwrap();
        assert_eq!(bytes[..10], [0x81, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
        assert_eq!(ws.out.capacity(), 0);
    }

    /// A xorshift generator: random enough for fuzzing, without a crate.
    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    /// Random bytes, and random mutations of valid frames, never make the decoder panic, and
    /// whatever it decodes lies within the bytes it was given.
    #[test]
    fn random_bytes_never_panic() {
        let mut random = XorShift(0x9E37_79B9_7F4A_7C15);
        for round in 0..20_000 {
            let mut bytes = match round % 3 {
                0 => {
                    let len = (random.next() % 40) as usize;
                    (0..len).map(|_| random.next() as u8).collect()
                }
                _ => {
                    let opcode = [OP_TEXT, OP_BINARY, OP_CONTINUATION, OP_PING, OP_CLOSE]
                        [(random.next() % 5) as usize];
                    let fin = if random.next() % 2 == 0 { 0x80 } else { 0 };
                    let len = (random.next() % 200) as usize;
                    let payload: Vec<u8> = (0..len).map(|_| random.next() as u8).collect();
                    let mut frame = client_frame(fin | opcode, &payload, true);
                    if round % 3 == 2 {
                        let at = (random.next() as usize) % frame.len();
                        frame[at] = random.next() as u8;
                    }
                    frame
                }
            };
            bytes.truncate(bytes.len() - (random.next() as usize % (bytes.len() + 1)) / 4);
            let mut decoder = Decoder {
                message: None,
                limit: 64,
            };
            let mut input = &bytes[..];
            while let Decoded::Frame(len, _) = decoder.decode(input) {
                assert!(len > 0 && len <= input.len());
                input = &input[len..];
            }
        }
    }

    /// The same through the socket, in random pieces: every read ends in an event, never a
    /// panic or a hang.
    #[tokio::test]
    async fn random_streams_end_cleanly() {
        let mut random = XorShift(0x2545_F491_4F6C_DD1D);
        for _ in 0..200 {
            let (mut ws, mut client) = pair(64);
            let mut bytes = Vec::new();
            for _ in 0..(random.next() % 8) {
                let first = random.next() as u8 & 0x8F;
                let len = (random.next() % 100) as usize;
                let payload: Vec<u8> = (0..len).map(|_| random.next() as u8).collect();
                bytes.extend(client_frame(first, &payload, random.next() % 8 != 0));
            }
            let garbage = (random.next() % 16) as usize;
            bytes.extend((0..garbage).map(|_| random.next() as u8));
            let pieces = (random.next() % 7 + 1) as usize;
            let feeding = tokio::spawn(async move {
                for piece in bytes.chunks(bytes.len() / pieces + 1) {
                    if client.write_all(piece).await.is_err() {
                        break;
                    }
                }
                drop(client);
            });
            loop {
                let event = tokio::time::timeout(Duration::from_secs(5), ws.recv())
                    .await
                    .expect("an event");
                if matches!(event, ClientEvent::Closed | ClientEvent::Violation(_)) {
                    break;
                }
            }
            feeding.await.unwrap();
        }
    }
}
