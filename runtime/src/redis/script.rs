//! Lua scripts run with `EVALSHA` (Redis keeps them in its script cache), falling back to `EVAL`
//! when the server does not know the script yet (`NOSCRIPT`: first use, restart, `SCRIPT FLUSH`).
//! `EVAL` also puts the script in the cache, so the next `EVALSHA` succeeds.

use super::resp::{Cmd, Reply};

/// A Lua script and its SHA-1 (what `EVALSHA` names it by).
pub(crate) struct Script {
    body: &'static str,
    sha: String,
}

impl Script {
    /// A script; its digest is computed here, once.
    pub(crate) fn new(body: &'static str) -> Self {
        let sha = sha1(body.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Self { body, sha }
    }

    /// `EVALSHA <sha> <numkeys>`; append the keys and arguments.
    pub(crate) fn cmd(&self, numkeys: usize) -> Cmd {
        Cmd::new("EVALSHA").arg(&self.sha).arg(numkeys.to_string())
    }

    /// The same call as `EVAL <body> ...` (for a `NOSCRIPT` reply to [`Script::cmd`]).
    pub(crate) fn as_eval(&self, mut command: Cmd) -> Cmd {
        command.set_arg(0, "EVAL");
        command.set_arg(1, self.body);
        command
    }
}

/// Whether the server did not know the script (`EVALSHA` must be retried as `EVAL`).
pub(crate) fn is_noscript(reply: &Reply) -> bool {
    matches!(reply, Reply::Error(e) if e.starts_with("NOSCRIPT"))
}

/// SHA-1 (FIPS 180-4). Only used to name scripts as Redis does, not for security.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xEFCD_AB89,
        0x98BA_DCFE,
        0x1032_5476,
        0xC3D2_E1F0,
    ];
    let mut message = data.to_vec();
    message.push(0x80);
    while message.len() % 64 != 56 {
        message.push(0);
    }
    message.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in message.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, &word) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5A82_7999),
                20..=39 => (b ^ c ^ d, 0x6ED9_EBA1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8F1B_BCDC),
                _ => (b ^ c ^ d, 0xCA62_C1D6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(word);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (state, add) in h.iter_mut().zip([a, b, c, d, e]) {
            *state = state.wrapping_add(add);
        }
    }
    let mut out = [0u8; 20];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(data: &[u8]) -> String {
        sha1(data).iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha1_matches_the_standard_vectors() {
        assert_eq!(hex(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(hex(b"abc"), "a9993e364706816aba3e25717850c26c9cd0d89d");
        assert_eq!(
            hex(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
        assert_eq!(
            hex(&[b'a'; 1_000]),
            "291e9a6c66994949b57ba5e650361e98fc36b1ba"
        );
    }

    #[test]
    fn noscript_replies_are_recognised() {
        let script = Script::new("return 1");
        assert_eq!(script.sha, "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");
        assert!(is_noscript(&Reply::Error(
            "NOSCRIPT No matching script. Please use EVAL.".to_owned()
        )));
        assert!(!is_noscript(&Reply::Error("ERR other".to_owned())));
        assert!(!is_noscript(&Reply::Int(1)));
    }
}
