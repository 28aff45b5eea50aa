//! channels_redis' consistent hashing: which of the configured hosts holds a key.

/// The shard of `value` among `ring_size` hosts, as channels_redis' `_consistent_hash`: the low
/// 12 bits of the CRC-32 (zlib) of the UTF-8 bytes, scaled to the ring. Hosts are numbered in
/// the order they were configured, so every peer must list them in the same order.
pub fn consistent_hash(value: &str, ring_size: usize) -> usize {
    if ring_size <= 1 {
        return 0;
    }
    let bucket = crc32fast::hash(value.as_bytes()) & 0xFFF;
    // Python: int(bucket / (4096 / float(ring_size))); exact in f64 for these magnitudes.
    let index = (f64::from(bucket) / (4096.0 / ring_size as f64)) as usize;
    index.min(ring_size - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_transcript_vectors() {
        // (name, ring2, ring3, ring4) from channels-redis-wire-transcript.md section 2.
        for (name, r2, r3, r4) in [
            ("chat_room", 1, 2, 3),
            ("lobby", 0, 1, 1),
            ("room_1", 0, 0, 0),
            ("room_2", 0, 0, 0),
            ("worker.tasks", 1, 2, 3),
            ("specific.0123456789abcdef0123456789abcdef!", 0, 1, 1),
            ("asgi__group__chat_room", 1, 2, 3),
        ] {
            assert_eq!(consistent_hash(name, 2), r2, "{name}");
            assert_eq!(consistent_hash(name, 3), r3, "{name}");
            assert_eq!(consistent_hash(name, 4), r4, "{name}");
            assert_eq!(consistent_hash(name, 1), 0);
        }
        assert_eq!(crc32fast::hash(b"chat_room"), 0xd403_ccda);
    }
}
