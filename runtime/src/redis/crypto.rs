//! Fernet tokens keyed as channels_redis keys them (`symmetric_encryption_keys`).
//!
//! Each configured key `k` becomes the Fernet key `urlsafe_b64encode(sha256(k))`: the first 16
//! bytes of the digest sign (HMAC-SHA256), the last 16 encrypt (AES-128-CBC, PKCS#7). A token is
//! the URL-safe base64 (padded) of `0x80 | timestamp (u64 BE) | IV (16) | ciphertext | HMAC (32)`.
//! The first key encrypts; decryption tries every key (Python's `MultiFernet`) and rejects
//! tokens older than the TTL, or more than 60 s in the future.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type Encryptor = cbc::Encryptor<aes::Aes128>;
type Decryptor = cbc::Decryptor<aes::Aes128>;

const VERSION: u8 = 0x80;
/// Fernet's tolerance for tokens stamped in the future.
const MAX_CLOCK_SKEW: u64 = 60;

/// One Fernet key.
#[derive(Clone)]
struct Key {
    signing: [u8; 16],
    encryption: [u8; 16],
}

/// The keys of a layer: the first encrypts, all decrypt.
#[derive(Clone)]
pub(crate) struct MultiFernet {
    keys: Vec<Key>,
}

impl std::fmt::Debug for MultiFernet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        write!(f, "MultiFernet({} keys)", self.keys.len())
    }
}

impl MultiFernet {
    /// Derives the Fernet keys from channels_redis-style secrets; `None` for no secrets.
    pub(crate) fn new(secrets: &[String]) -> Option<Self> {
        if secrets.is_empty() {
            return None;
        }
        let keys = secrets
            .iter()
            .map(|secret| {
                let digest = Sha256::digest(secret.as_bytes());
                let mut signing = [0; 16];
                let mut encryption = [0; 16];
                signing.copy_from_slice(&digest[..16]);
                encryption.copy_from_slice(&digest[16..]);
                Key {
                    signing,
                    encryption,
                }
            })
            .collect();
        Some(Self { keys })
    }

    /// A token for `plaintext`, made with the first key at time `now` (seconds since the epoch).
    pub(crate) fn encrypt(&self, plaintext: &[u8], now: u64) -> Result<Vec<u8>, String> {
        let key = self.keys.first().ok_or("no encryption key")?;
        let mut iv = [0u8; 16];
        getrandom::fill(&mut iv).map_err(|e| format!("no randomness for the IV: {e}"))?;
        let ciphertext = Encryptor::new(&key.encryption.into(), &iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(plaintext);
        let mut token = Vec::with_capacity(1 + 8 + 16 + ciphertext.len() + 32);
        token.push(VERSION);
        token.extend_from_slice(&now.to_be_bytes());
        token.extend_from_slice(&iv);
        token.extend_from_slice(&ciphertext);
        let mut mac = Hmac::<Sha256>::new_from_slice(&key.signing)
            .map_err(|_| "bad signing key length".to_owned())?;
        mac.update(&token);
        token.extend_from_slice(&mac.finalize().into_bytes());
        Ok(URL_SAFE.encode(token).into_bytes())
    }

    /// The plaintext of `token`, if one of the keys made it, it is at most `ttl` seconds old
    /// (when given) and not stamped too far in the future.
    pub(crate) fn decrypt(
        &self,
        token: &[u8],
        ttl: Option<u64>,
        now: u64,
    ) -> Result<Vec<u8>, String> {
        let raw = URL_SAFE
            .decode(token)
            .map_err(|_| "invalid Fernet token: not URL-safe base64".to_owned())?;
        if raw.len() < 1 + 8 + 16 + 16 + 32 || raw[0] != VERSION || (raw.len() - 57) % 16 != 0 {
            return Err("invalid Fernet token: bad version or length".to_owned());
        }
        let mut stamp = [0u8; 8];
        stamp.copy_from_slice(&raw[1..9]);
        let timestamp = u64::from_be_bytes(stamp);
        let (signed, tag) = raw.split_at(raw.len() - 32);
        for key in &self.keys {
            let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&key.signing) else {
                continue;
            };
            mac.update(signed);
            if mac.verify_slice(tag).is_err() {
                continue;
            }
            if let Some(ttl) = ttl {
                if timestamp.saturating_add(ttl) < now {
                    return Err("invalid Fernet token: expired".to_owned());
                }
            }
            if now.saturating_add(MAX_CLOCK_SKEW) < timestamp {
                return Err("invalid Fernet token: from the future".to_owned());
            }
            let mut iv = [0u8; 16];
            iv.copy_from_slice(&signed[9..25]);
            return Decryptor::new(&key.encryption.into(), &iv.into())
                .decrypt_padded_vec_mut::<Pkcs7>(&signed[25..])
                .map_err(|_| "invalid Fernet token: bad padding".to_owned());
        }
        Err("invalid Fernet token: signed with none of the keys".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_keys_as_channels_redis() {
        // channels-redis-wire-transcript.md section 4: the key for "secret".
        let fernet = MultiFernet::new(&["secret".to_owned()]).unwrap();
        let key = &fernet.keys[0];
        let hex = |b: &[u8]| b.iter().map(|b| format!("{b:02x}")).collect::<String>();
        assert_eq!(hex(&key.signing), "2bb80d537b1da3e38bd30361aa855686");
        assert_eq!(hex(&key.encryption), "bde0eacd7162fef6a25fe97bf527a25b");
        let mut both = key.signing.to_vec();
        both.extend_from_slice(&key.encryption);
        assert_eq!(
            URL_SAFE.encode(both),
            "K7gNU3sdo-OL0wNhqoVWhr3g6s1xYv72ol_pe_Unols="
        );
        assert!(MultiFernet::new(&[]).is_none());
    }

    #[test]
    fn decrypts_a_python_token() {
        // The token recorded in the transcript (made by Python's Fernet at 1795829409).
        let fernet = MultiFernet::new(&["secret".to_owned()]).unwrap();
        let token = b"gAAAAABrCi6hVyJ3eV-t_PCohMO2nFRN5X5eaccFQkYqKY330iAjD7A3m8-y_i1Naw2gWBxnmhyDb8MP7Fgjfjjlb6tOZ5iJFKkHWuo7djV7bM4lKOVUswQ=";
        let plain = fernet.decrypt(token, Some(70), 1_795_829_410).unwrap();
        assert_eq!(
            crate::redis::msgpack::decode(&plain).unwrap(),
            serde_json::json!({"type": "chat.message", "text": "hi"})
        );
        assert!(fernet.decrypt(token, Some(70), 1_795_829_500).is_err());
        assert!(fernet.decrypt(token, None, 1_895_829_500).is_ok());
        assert!(fernet.decrypt(token, None, 1_795_829_000).is_err());
        let other = MultiFernet::new(&["other".to_owned()]).unwrap();
        assert!(other.decrypt(token, None, 1_795_829_410).is_err());
    }

    #[test]
    fn round_trips_with_rotation() {
        let old = MultiFernet::new(&["old".to_owned()]).unwrap();
        let rotated = MultiFernet::new(&["new".to_owned(), "old".to_owned()]).unwrap();
        let token = old.encrypt(b"payload", 1000).unwrap();
        assert_eq!(rotated.decrypt(&token, Some(10), 1005).unwrap(), b"payload");
        let fresh = rotated.encrypt(b"", 1000).unwrap();
        assert_eq!(rotated.decrypt(&fresh, None, 1000).unwrap(), b"");
        assert!(old.decrypt(&fresh, None, 1000).is_err());
        for bad in [&b""[..], b"!!!!", b"gAAAAA==", &fresh[..fresh.len() - 4]] {
            assert!(rotated.decrypt(bad, None, 1000).is_err());
        }
    }
}
