//! MessagePack for layer messages, byte-for-byte as Python's `msgpack.packb` writes a dict (the
//! defaults channels_redis uses: `use_bin_type=True`, insertion order kept, integers in their
//! smallest format, floats always as float64), and read back as `msgpack.unpackb(raw=False,
//! strict_map_key=True)` reads it.
//!
//! JSON has no bytes type, so a msgpack `bin` value (Python `bytes`) decodes to an array of
//! numbers 0–255. That is lossless for the content, but encoding never produces `bin`: such an
//! array goes back out as a msgpack array (a Python `list` of ints).

use serde_json::{Map, Number, Value};

/// Deepest nesting accepted when decoding (Python's msgpack allows more, but no layer message
/// needs it and it bounds the stack).
const MAX_DEPTH: usize = 512;

/// Appends `value` in msgpack-python's encoding.
pub(crate) fn encode_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.push(0xc0),
        Value::Bool(false) => out.push(0xc2),
        Value::Bool(true) => out.push(0xc3),
        Value::Number(n) => encode_number(n, out),
        Value::String(s) => encode_str(s, out),
        Value::Array(items) => {
            encode_array_header(items.len(), out);
            for item in items {
                encode_value(item, out);
            }
        }
        Value::Object(map) => {
            encode_map_header(map.len(), out);
            for (key, item) in map {
                encode_str(key, out);
                encode_value(item, out);
            }
        }
    }
}

fn encode_number(n: &Number, out: &mut Vec<u8>) {
    if let Some(u) = n.as_u64() {
        encode_uint(u, out);
    } else if let Some(i) = n.as_i64() {
        encode_int(i, out);
    } else {
        let f = n.as_f64().unwrap_or(0.0);
        out.push(0xcb);
        out.extend_from_slice(&f.to_be_bytes());
    }
}

fn encode_uint(u: u64, out: &mut Vec<u8>) {
    if u <= 0x7f {
        out.push(u as u8);
    } else if u <= 0xff {
        out.extend_from_slice(&[0xcc, u as u8]);
    } else if u <= 0xffff {
        out.push(0xcd);
        out.extend_from_slice(&(u as u16).to_be_bytes());
    } else if u <= 0xffff_ffff {
        out.push(0xce);
        out.extend_from_slice(&(u as u32).to_be_bytes());
    } else {
        out.push(0xcf);
        out.extend_from_slice(&u.to_be_bytes());
    }
}

/// A negative integer (non-negative ones go through [`encode_uint`], as in msgpack-python).
fn encode_int(i: i64, out: &mut Vec<u8>) {
    if i >= 0 {
        encode_uint(i as u64, out);
    } else if i >= -32 {
        out.push(i as u8);
    } else if i >= -0x80 {
        out.extend_from_slice(&[0xd0, i as u8]);
    } else if i >= -0x8000 {
        out.push(0xd1);
        out.extend_from_slice(&(i as i16).to_be_bytes());
    } else if i >= -0x8000_0000 {
        out.push(0xd2);
        out.extend_from_slice(&(i as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

/// Appends a string (fixstr, str8, str16 or str32).
pub(crate) fn encode_str(s: &str, out: &mut Vec<u8>) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= 0xff {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= 0xffff {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s.as_bytes());
}

/// Appends an array header for `len` elements.
pub(crate) fn encode_array_header(len: usize, out: &mut Vec<u8>) {
    if len < 16 {
        out.push(0x90 | len as u8);
    } else if len <= 0xffff {
        out.push(0xdc);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdd);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

/// Appends a map header for `len` entries.
pub(crate) fn encode_map_header(len: usize, out: &mut Vec<u8>) {
    if len < 16 {
        out.push(0x80 | len as u8);
    } else if len <= 0xffff {
        out.push(0xde);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdf);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

/// Decodes one complete msgpack value that must fill `bytes` exactly.
pub(crate) fn decode(bytes: &[u8]) -> Result<Value, String> {
    let mut reader = Reader { bytes, at: 0 };
    let value = reader.value(0)?;
    if reader.at != bytes.len() {
        return Err(format!(
            "{} bytes of trailing data after the message",
            bytes.len() - reader.at
        ));
    }
    Ok(value)
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| "truncated msgpack data".to_owned())?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn byte(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }

    fn be<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn len(&mut self, width: usize) -> Result<usize, String> {
        Ok(match width {
            1 => usize::from(self.byte()?),
            2 => usize::from(u16::from_be_bytes(self.be()?)),
            _ => u32::from_be_bytes(self.be()?) as usize,
        })
    }

    fn str(&mut self, len: usize) -> Result<String, String> {
        let bytes = self.take(len)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| "invalid UTF-8 in a msgpack str".to_owned())
    }

    fn array(&mut self, len: usize, depth: usize) -> Result<Value, String> {
        // Every element takes at least one byte.
        if len > self.bytes.len() - self.at {
            return Err("truncated msgpack data".to_owned());
        }
        let mut items = Vec::with_capacity(len);
        for _ in 0..len {
            items.push(self.value(depth + 1)?);
        }
        Ok(Value::Array(items))
    }

    fn map(&mut self, len: usize, depth: usize) -> Result<Value, String> {
        if len > self.bytes.len() - self.at {
            return Err("truncated msgpack data".to_owned());
        }
        let mut map = Map::new();
        for _ in 0..len {
            // strict_map_key=True: keys must be str (or bytes, which raw=False never yields).
            let key = match self.value(depth + 1)? {
                Value::String(key) => key,
                _ => return Err("msgpack map key is not a string".to_owned()),
            };
            let item = self.value(depth + 1)?;
            map.insert(key, item);
        }
        Ok(Value::Object(map))
    }

    fn bin(&mut self, len: usize) -> Result<Value, String> {
        let bytes = self.take(len)?;
        Ok(Value::Array(
            bytes.iter().map(|&b| Value::from(b)).collect(),
        ))
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        if depth > MAX_DEPTH {
            return Err("msgpack data nested too deeply".to_owned());
        }
        let tag = self.byte()?;
        Ok(match tag {
            0x00..=0x7f => Value::from(tag),
            0x80..=0x8f => return self.map(usize::from(tag & 0x0f), depth),
            0x90..=0x9f => return self.array(usize::from(tag & 0x0f), depth),
            0xa0..=0xbf => Value::String(self.str(usize::from(tag & 0x1f))?),
            0xc0 => Value::Null,
            0xc2 => Value::Bool(false),
            0xc3 => Value::Bool(true),
            0xc4 => {
                let len = self.len(1)?;
                return self.bin(len);
            }
            0xc5 => {
                let len = self.len(2)?;
                return self.bin(len);
            }
            0xc6 => {
                let len = self.len(4)?;
                return self.bin(len);
            }
            0xca => float(f64::from(f32::from_be_bytes(self.be()?))),
            0xcb => float(f64::from_be_bytes(self.be()?)),
            0xcc => Value::from(self.byte()?),
            0xcd => Value::from(u16::from_be_bytes(self.be()?)),
            0xce => Value::from(u32::from_be_bytes(self.be()?)),
            0xcf => Value::from(u64::from_be_bytes(self.be()?)),
            0xd0 => Value::from(i8::from_be_bytes(self.be()?)),
            0xd1 => Value::from(i16::from_be_bytes(self.be()?)),
            0xd2 => Value::from(i32::from_be_bytes(self.be()?)),
            0xd3 => Value::from(i64::from_be_bytes(self.be()?)),
            0xd9 => {
                let len = self.len(1)?;
                Value::String(self.str(len)?)
            }
            0xda => {
                let len = self.len(2)?;
                Value::String(self.str(len)?)
            }
            0xdb => {
                let len = self.len(4)?;
                Value::String(self.str(len)?)
            }
            0xdc => {
                let len = self.len(2)?;
                return self.array(len, depth);
            }
            0xdd => {
                let len = self.len(4)?;
                return self.array(len, depth);
            }
            0xde => {
                let len = self.len(2)?;
                return self.map(len, depth);
            }
            0xdf => {
                let len = self.len(4)?;
                return self.map(len, depth);
            }
            0xe0..=0xff => Value::from(tag as i8),
            0xc7..=0xc9 | 0xd4..=0xd8 => {
                return Err("msgpack extension types are not supported".to_owned());
            }
            0xc1 => return Err("invalid msgpack byte 0xc1".to_owned()),
        })
    }
}

/// A float as JSON: NaN and infinities (which JSON cannot hold) become `null`.
fn float(f: f64) -> Value {
    Number::from_f64(f).map_or(Value::Null, Value::Number)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    fn packb(value: &Value) -> String {
        let mut out = Vec::new();
        encode_value(value, &mut out);
        hex(&out)
    }

    #[test]
    fn matches_msgpack_python_vectors() {
        // From channels-redis-wire-transcript.md (msgpack-python 1.2.4 output).
        assert_eq!(
            packb(&json!({"type": "chat.message", "text": "hi", "n": 1})),
            "83a474797065ac636861742e6d657373616765a474657874a26869a16e01"
        );
        assert_eq!(
            packb(&json!({"type": "task", "i": 0})),
            "82a474797065a47461736ba16900"
        );
        assert_eq!(
            packb(
                &json!({"f": 1.5, "neg": -1, "big": 1_099_511_627_776_u64, "none": null, "b": true, "list": [1, "x"]})
            ),
            "86a166cb3ff8000000000000a36e6567ffa3626967cf0000010000000000a46e6f6e65c0a162c3a46c6973749201a178"
        );
    }

    #[test]
    fn integers_use_the_smallest_format() {
        for (n, expected) in [
            (json!(127), "7f"),
            (json!(128), "cc80"),
            (json!(255), "ccff"),
            (json!(256), "cd0100"),
            (json!(65536), "ce00010000"),
            (json!(-32), "e0"),
            (json!(-33), "d0df"),
            (json!(-129), "d1ff7f"),
            (json!(-32769), "d2ffff7fff"),
            (json!(-2_147_483_649_i64), "d3ffffffff7fffffff"),
            (json!(u64::MAX), "cfffffffffffffffff"),
        ] {
            assert_eq!(packb(&n), expected, "{n}");
            let bytes: Vec<u8> = (0..expected.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&expected[i..i + 2], 16).unwrap())
                .collect();
            assert_eq!(decode(&bytes).unwrap(), n);
        }
    }

    #[test]
    fn long_strings_arrays_and_maps_use_wider_headers() {
        let s = "x".repeat(40);
        assert!(packb(&json!(s)).starts_with("d928"));
        assert!(packb(&json!("y".repeat(300))).starts_with("da012c"));
        let arr: Vec<u32> = (0..16).collect();
        assert!(packb(&json!(arr)).starts_with("dc0010"));
        let map: Map<String, Value> = (0..16).map(|i| (i.to_string(), json!(i))).collect();
        assert!(packb(&Value::Object(map.clone())).starts_with("de0010"));
        let mut out = Vec::new();
        encode_value(&Value::Object(map.clone()), &mut out);
        assert_eq!(decode(&out).unwrap(), Value::Object(map));
    }

    #[test]
    fn round_trips_and_keeps_order() {
        let value = json!({"z": 1, "a": [1.25, -7, null, {"k": "v"}], "m": "é"});
        let mut out = Vec::new();
        encode_value(&value, &mut out);
        let back = decode(&out).unwrap();
        assert_eq!(back, value);
        assert_eq!(
            back.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["z", "a", "m"]
        );
    }

    #[test]
    fn bin_decodes_to_an_array_of_numbers() {
        assert_eq!(
            decode(&[0x81, 0xa1, b'b', 0xc4, 3, 0, 1, 0xff]).unwrap(),
            json!({"b": [0, 1, 255]})
        );
        assert_eq!(decode(&[0xca, 0x3f, 0xc0, 0, 0]).unwrap(), json!(1.5));
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        for bad in [
            &b""[..],
            &[0xc1],
            &[0x81, 0x01, 0x02],
            &[0xa3, b'a'],
            &[0xdd, 0xff, 0xff, 0xff, 0xff],
            &[0xdf, 0xff, 0xff, 0xff, 0xff],
            &[0xd4, 0, 0],
            &[0xa2, 0xff, 0xfe],
            &[0x01, 0x02],
            &[0xcb, 0, 0],
        ] {
            assert!(decode(bad).is_err(), "{bad:?}");
        }
        let deep = vec![0x91; 10_000];
        assert!(decode(&deep).is_err());
        // NaN has no JSON form.
        let mut nan = vec![0xcb];
        nan.extend_from_slice(&f64::NAN.to_be_bytes());
        assert_eq!(decode(&nan).unwrap(), Value::Null);
    }
}
