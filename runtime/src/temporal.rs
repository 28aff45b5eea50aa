//! pydantic's lax `datetime`, `date` and `time` validation, for the slow path's error report.
//!
//! pydantic parses with `speedate`; this module follows the same steps in the same order, so that it
//! accepts the same strings (RFC 3339 with `T`/`t`/`_`/space separators, date-only strings for
//! datetimes, unix timestamps as numbers or numeric strings) and reports the same first error.

use serde_json::Value;

/// A `speedate::ParseError`, printed as pydantic prints it (its documentation string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ParseError {
    TooShort,
    ExtraCharacters,
    InvalidCharDateTimeSep,
    InvalidCharDateSep,
    DateNotExact,
    InvalidCharYear,
    InvalidCharMonth,
    InvalidCharDay,
    InvalidCharTimeSep,
    InvalidCharHour,
    InvalidCharMinute,
    InvalidCharSecond,
    InvalidCharTzSign,
    InvalidCharTzHour,
    InvalidCharTzMinute,
    OutOfRangeTzMinute,
    OutOfRangeTz,
    OutOfRangeMonth,
    OutOfRangeDay,
    OutOfRangeHour,
    OutOfRangeMinute,
    OutOfRangeSecond,
    SecondFractionMissing,
    DateTooSmall,
    DateTooLarge,
    TimeTooLarge,
}

impl ParseError {
    fn message(self) -> &'static str {
        use ParseError::*;
        match self {
            TooShort => "input is too short",
            ExtraCharacters => "unexpected extra characters at the end of the input",
            InvalidCharDateTimeSep => "invalid datetime separator, expected `T`, `t`, `_` or space",
            InvalidCharDateSep => "invalid date separator, expected `-`",
            DateNotExact => "Timestamp is not an exact date",
            InvalidCharYear => "invalid character in year",
            InvalidCharMonth => "invalid character in month",
            InvalidCharDay => "invalid character in day",
            InvalidCharTimeSep => "invalid time separator, expected `:`",
            InvalidCharHour => "invalid character in hour",
            InvalidCharMinute => "invalid character in minute",
            InvalidCharSecond => "invalid character in second",
            InvalidCharTzSign => "invalid timezone sign",
            InvalidCharTzHour => "invalid timezone hour",
            InvalidCharTzMinute => "invalid timezone minute",
            OutOfRangeTzMinute => "timezone minute value is outside expected range of 0-59",
            OutOfRangeTz => "timezone offset must be less than 24 hours",
            OutOfRangeMonth => "month value is outside expected range of 1-12",
            OutOfRangeDay => "day value is outside expected range",
            OutOfRangeHour => "hour value is outside expected range of 0-23",
            OutOfRangeMinute => "minute value is outside expected range of 0-59",
            OutOfRangeSecond => "second value is outside expected range of 0-59",
            SecondFractionMissing => "second fraction digits missing after `.`",
            DateTooSmall => "dates before 1600 are not supported as unix timestamps",
            DateTooLarge => "dates after 9999 are not supported as unix timestamps",
            TimeTooLarge => "numeric times may not exceed 86,399 seconds",
        }
    }
}

type Result<T> = std::result::Result<T, ParseError>;

/// Above this magnitude a timestamp is in milliseconds.
const MS_WATERSHED: i64 = 20_000_000_000;
/// 9999-12-31T23:59:59 as a unix timestamp.
const UNIX_9999: i64 = 253_402_300_799;
/// 0000-01-01T00:00:00 as a unix timestamp.
const UNIX_0000: i64 = -62_167_219_200;

fn digit(b: &[u8], i: usize, error: ParseError) -> Result<u8> {
    match b.get(i) {
        Some(c) if c.is_ascii_digit() => Ok(c - b'0'),
        _ => Err(error),
    }
}

/// `YYYY-MM-DD` at the start of `b`; no check of what follows.
fn date_partial(b: &[u8]) -> Result<()> {
    use ParseError::*;
    if b.len() < 10 {
        return Err(TooShort);
    }
    let mut year: u32 = 0;
    for i in 0..4 {
        year = year * 10 + u32::from(digit(b, i, InvalidCharYear)?);
    }
    if b[4] != b'-' {
        return Err(InvalidCharDateSep);
    }
    let month = digit(b, 5, InvalidCharMonth)? * 10 + digit(b, 6, InvalidCharMonth)?;
    if b[7] != b'-' {
        return Err(InvalidCharDateSep);
    }
    let day = digit(b, 8, InvalidCharDay)? * 10 + digit(b, 9, InvalidCharDay)?;
    let max_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        _ => return Err(OutOfRangeMonth),
    };
    if day < 1 || day > max_days {
        return Err(OutOfRangeDay);
    }
    Ok(())
}

/// `speedate`'s integer parser: an optional sign and at least one digit, no overflow.
fn int_parse(b: &[u8]) -> Option<i64> {
    let (negative, digits) = match b {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        rest => (false, rest),
    };
    if digits.is_empty() {
        return None;
    }
    let mut value: i64 = 0;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(i64::from(d - b'0'))?;
    }
    Some(if negative { -value } else { value })
}

/// A number as `speedate` reads a timestamp: an integer, or a float.
enum Number {
    Int(i64),
    Float(f64),
}

fn number_parse(b: &[u8]) -> Option<Number> {
    // `speedate::float_parse_bytes`: `[+-]digit digits* [. digits*]`, the integer part within `i64`.
    let (negative, digits) = match b {
        [b'-', rest @ ..] if !rest.is_empty() => (true, rest),
        [b'+', rest @ ..] if !rest.is_empty() => (false, rest),
        rest => (false, rest),
    };
    if !digits.first()?.is_ascii_digit() {
        return None;
    }
    let mut int_part: i64 = 0;
    let mut rest = digits.iter();
    let mut found_dot = false;
    for &d in rest.by_ref() {
        match d {
            b'0'..=b'9' => int_part = int_part.checked_mul(10)?.checked_add(i64::from(d - b'0'))?,
            b'.' => {
                found_dot = true;
                break;
            }
            _ => return None,
        }
    }
    if !found_dot {
        return Some(Number::Int(if negative { -int_part } else { int_part }));
    }
    let mut value = int_part as f64;
    let mut divisor = 10_f64;
    for &d in rest {
        if !d.is_ascii_digit() {
            return None;
        }
        value += f64::from(d - b'0') / divisor;
        divisor *= 10.0;
    }
    Some(Number::Float(if negative { -value } else { value }))
}

/// Splits a timestamp in seconds or milliseconds into (seconds, microseconds).
fn watershed(timestamp: i64) -> Result<(i64, u32)> {
    let magnitude = timestamp.checked_abs().ok_or(ParseError::DateTooSmall)?;
    if magnitude <= MS_WATERSHED {
        return Ok((timestamp, 0));
    }
    let mut seconds = timestamp / 1_000;
    let mut micros = (timestamp % 1_000) * 1_000;
    if micros < 0 {
        seconds -= 1;
        micros += 1_000_000;
    }
    Ok((seconds, micros as u32))
}

fn check_range(seconds: i64) -> Result<()> {
    if seconds < UNIX_0000 {
        Err(ParseError::DateTooSmall)
    } else if seconds > UNIX_9999 {
        Err(ParseError::DateTooLarge)
    } else {
        Ok(())
    }
}

/// A datetime from a timestamp; returns whether its time of day is exactly midnight.
fn datetime_from_timestamp(timestamp: i64, micros: u32) -> Result<bool> {
    let (mut seconds, extra) = watershed(timestamp)?;
    let mut total = micros.checked_add(extra).ok_or(ParseError::TimeTooLarge)?;
    if total >= 1_000_000 {
        seconds = seconds
            .checked_add(i64::from(total / 1_000_000))
            .ok_or(ParseError::TimeTooLarge)?;
        total %= 1_000_000;
    }
    check_range(seconds)?;
    Ok(seconds.rem_euclid(86_400) == 0 && total == 0)
}

fn datetime_from_float(timestamp: f64) -> Result<bool> {
    let normalized = if timestamp.abs() > MS_WATERSHED as f64 {
        timestamp / 1_000.0
    } else {
        timestamp
    };
    let seconds = normalized.floor();
    if !(-1e15..=1e15).contains(&seconds) {
        return Err(if seconds < 0.0 {
            ParseError::DateTooSmall
        } else {
            ParseError::DateTooLarge
        });
    }
    let micros = ((normalized - seconds) * 1_000_000.0).round() as u32;
    datetime_from_timestamp(seconds as i64, micros)
}

/// `Date::parse_bytes`: exactly `YYYY-MM-DD`, or an integer timestamp at midnight.
fn date_parse(b: &[u8]) -> Result<()> {
    let rfc = date_partial(b).and(if b.len() > 10 {
        Err(ParseError::ExtraCharacters)
    } else {
        Ok(())
    });
    match rfc {
        Ok(()) => Ok(()),
        Err(error) => match int_parse(b) {
            Some(timestamp) => {
                let (seconds, micros) = watershed(timestamp)?;
                check_range(seconds)?;
                if seconds.rem_euclid(86_400) != 0 || micros != 0 {
                    return Err(ParseError::DateNotExact);
                }
                Ok(())
            }
            None => Err(error),
        },
    }
}

/// `Time::parse_bytes_offset`: `HH:MM[:SS[.ffffff]][Z|±HH[:]MM]` from `offset` to the end; returns
/// whether the time is exactly midnight.
fn time_parse(b: &[u8], offset: usize) -> Result<bool> {
    use ParseError::*;
    if b.len().saturating_sub(offset) < 5 {
        return Err(TooShort);
    }
    let hour = digit(b, offset, InvalidCharHour)? * 10 + digit(b, offset + 1, InvalidCharHour)?;
    if b[offset + 2] != b':' {
        return Err(InvalidCharTimeSep);
    }
    let minute =
        digit(b, offset + 3, InvalidCharMinute)? * 10 + digit(b, offset + 4, InvalidCharMinute)?;
    if hour > 23 {
        return Err(OutOfRangeHour);
    }
    if minute > 59 {
        return Err(OutOfRangeMinute);
    }
    let mut position = offset + 5;
    let mut second = 0;
    let mut fraction_zero = true;
    if b.get(position) == Some(&b':') {
        second = digit(b, offset + 6, InvalidCharSecond)? * 10
            + digit(b, offset + 7, InvalidCharSecond)?;
        if second > 59 {
            return Err(OutOfRangeSecond);
        }
        position = offset + 8;
        if matches!(b.get(position), Some(b'.' | b',')) {
            position += 1;
            let digits_start = position;
            while b.get(position).is_some_and(u8::is_ascii_digit) {
                if b[position] != b'0' && position - digits_start < 6 {
                    fraction_zero = false;
                }
                position += 1;
            }
            if position == digits_start {
                return Err(SecondFractionMissing);
            }
        }
    }
    if let Some(&sign) = b.get(position) {
        position += 1;
        if sign != b'Z' && sign != b'z' {
            match sign {
                b'+' | b'-' => {}
                // U+2212 MINUS SIGN
                0xe2 if b.get(position) == Some(&0x88) && b.get(position + 1) == Some(&0x92) => {
                    position += 2
                }
                _ => return Err(InvalidCharTzSign),
            }
            let h = i32::from(digit(b, position, InvalidCharTzHour)?) * 10
                + i32::from(digit(b, position + 1, InvalidCharTzHour)?);
            let m1 = match b.get(position + 2) {
                Some(b':') => {
                    position += 3;
                    digit(b, position, InvalidCharTzMinute)?
                }
                Some(c) if c.is_ascii_digit() => {
                    position += 2;
                    c - b'0'
                }
                _ => return Err(InvalidCharTzMinute),
            };
            let m2 = digit(b, position + 1, InvalidCharTzMinute)?;
            let minute_seconds = i32::from(m1) * 600 + i32::from(m2) * 60;
            if minute_seconds >= 3600 {
                return Err(OutOfRangeTzMinute);
            }
            if h * 3600 + minute_seconds >= 24 * 3600 {
                return Err(OutOfRangeTz);
            }
            position += 2;
        }
    }
    if b.len() > position {
        return Err(ExtraCharacters);
    }
    Ok(hour == 0 && minute == 0 && second == 0 && fraction_zero)
}

/// `DateTime::parse_bytes`: RFC 3339-ish, or a numeric timestamp. Returns whether the time is midnight.
fn datetime_parse(b: &[u8]) -> Result<bool> {
    let rfc = date_partial(b).and_then(|()| {
        if !matches!(b.get(10), Some(b'T' | b't' | b' ' | b'_')) {
            return Err(ParseError::InvalidCharDateTimeSep);
        }
        time_parse(b, 11)
    });
    match rfc {
        Ok(midnight) => Ok(midnight),
        Err(error) => match number_parse(b) {
            Some(Number::Int(int)) => datetime_from_timestamp(int, 0),
            Some(Number::Float(float)) => datetime_from_float(float),
            None => Err(error),
        },
    }
}

/// An error as (type, message).
pub(crate) type Failure = (&'static str, String);

/// pydantic's lax `datetime`.
pub(crate) fn check_datetime(value: &Value) -> Option<Failure> {
    let parsing = |e: ParseError| {
        (
            "datetime_parsing",
            format!("Input should be a valid datetime, {}", e.message()),
        )
    };
    match value {
        Value::String(s) => {
            let b = s.as_bytes();
            if datetime_parse(b).is_ok() {
                return None;
            }
            date_parse(b).err().map(|e| {
                (
                    "datetime_from_date_parsing",
                    format!("Input should be a valid datetime or date, {}", e.message()),
                )
            })
        }
        Value::Number(n) => {
            let result = match n.as_i64() {
                Some(int) => datetime_from_timestamp(int, 0),
                None => match n.as_f64() {
                    Some(f) if f.is_nan() => {
                        return Some((
                            "datetime_parsing",
                            "Input should be a valid datetime, NaN values not permitted".into(),
                        ));
                    }
                    Some(f) => datetime_from_float(f),
                    None => Err(ParseError::DateTooLarge),
                },
            };
            result.err().map(parsing)
        }
        _ => Some(("datetime_type", "Input should be a valid datetime".into())),
    }
}

const INEXACT: &str = "Datetimes provided to dates should have zero time - e.g. be exact dates";

/// pydantic's lax `date`.
pub(crate) fn check_date(value: &Value) -> Option<Failure> {
    let from_datetime = |result: Result<bool>| match result {
        Ok(true) => None,
        Ok(false) => Some(("date_from_datetime_inexact", INEXACT.to_owned())),
        Err(e) => Some((
            "date_from_datetime_parsing",
            format!("Input should be a valid date or datetime, {}", e.message()),
        )),
    };
    match value {
        Value::String(s) => {
            let b = s.as_bytes();
            if date_parse(b).is_ok() {
                return None;
            }
            from_datetime(datetime_parse(b))
        }
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(int), _) => from_datetime(datetime_from_timestamp(int, 0)),
            (None, Some(f)) if f.is_finite() => from_datetime(datetime_from_float(f)),
            _ => Some((
                "date_from_datetime_parsing",
                "Input should be a valid date or datetime, NaN values not permitted".into(),
            )),
        },
        _ => Some(("date_type", "Input should be a valid date".into())),
    }
}

/// pydantic's lax `time`.
pub(crate) fn check_time(value: &Value) -> Option<Failure> {
    let parsing = |message: &str| {
        (
            "time_parsing",
            format!("Input should be in a valid time format, {message}"),
        )
    };
    match value {
        Value::String(s) => time_parse(s.as_bytes(), 0)
            .err()
            .map(|e| parsing(e.message())),
        Value::Number(n) => {
            let seconds = match (n.as_i64(), n.as_f64()) {
                (Some(int), _) => int as f64,
                (None, Some(f)) if f.is_nan() => return Some(parsing("NaN values not permitted")),
                (None, Some(f)) => f.floor(),
                _ => f64::INFINITY,
            };
            if seconds < 0.0 {
                Some(parsing("time in seconds should be positive"))
            } else if seconds >= 86_400.0 {
                Some(parsing(ParseError::TimeTooLarge.message()))
            } else {
                None
            }
        }
        _ => Some(("time_type", "Input should be a valid time".into())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn msg(result: Option<Failure>) -> Option<String> {
        result.map(|(kind, msg)| format!("{kind}: {msg}"))
    }

    #[test]
    fn datetimes_like_pydantic() {
        // Expected values from pydantic 2.13 (`TypeAdapter(datetime).validate_python(json.loads(...))`).
        for ok in [
            "2024-01-01",
            "2024-01-01T10:00:00Z",
            "2024-01-01 10:00",
            "2024-01-01T10:00:00.123456789Z",
            "20240101",
            "1.5",
            "1700000000",
        ] {
            assert_eq!(check_datetime(&json!(ok)), None, "{ok}");
        }
        assert_eq!(check_datetime(&json!(1_700_000_000)), None);
        let cases = [
            (
                "x",
                "datetime_from_date_parsing: Input should be a valid datetime or date, input is too short",
            ),
            (
                "2024-13-01",
                "datetime_from_date_parsing: Input should be a valid datetime or date, month value is outside expected range of 1-12",
            ),
            (
                "2024-01-01T25:00:00",
                "datetime_from_date_parsing: Input should be a valid datetime or date, unexpected extra characters at the end of the input",
            ),
            (
                "2024-02-30",
                "datetime_from_date_parsing: Input should be a valid datetime or date, day value is outside expected range",
            ),
            (
                "2024/01/01",
                "datetime_from_date_parsing: Input should be a valid datetime or date, invalid date separator, expected `-`",
            ),
            (
                "2024-1-1",
                "datetime_from_date_parsing: Input should be a valid datetime or date, input is too short",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(
                msg(check_datetime(&json!(input))).as_deref(),
                Some(expected),
                "{input}"
            );
        }
        assert_eq!(
            msg(check_datetime(&json!(null))).as_deref(),
            Some("datetime_type: Input should be a valid datetime")
        );
        assert_eq!(
            msg(check_datetime(&json!(true))).as_deref(),
            Some("datetime_type: Input should be a valid datetime")
        );
    }

    #[test]
    fn dates_and_times_like_pydantic() {
        assert_eq!(check_date(&json!("2024-01-01")), None);
        assert_eq!(check_date(&json!("2024-01-01T00:00:00")), None);
        assert_eq!(
            msg(check_date(&json!("2024-01-01T10:00:00"))).as_deref(),
            Some(&*format!("date_from_datetime_inexact: {INEXACT}"))
        );
        assert_eq!(
            msg(check_date(&json!(1))).as_deref(),
            Some(&*format!("date_from_datetime_inexact: {INEXACT}"))
        );
        assert_eq!(
            msg(check_date(&json!("x"))).as_deref(),
            Some(
                "date_from_datetime_parsing: Input should be a valid date or datetime, input is too short"
            )
        );
        assert_eq!(
            msg(check_date(&json!(null))).as_deref(),
            Some("date_type: Input should be a valid date")
        );
        assert_eq!(check_time(&json!("10:00")), None);
        assert_eq!(check_time(&json!("10:00:00Z")), None);
        assert_eq!(check_time(&json!(1)), None);
        assert_eq!(
            msg(check_time(&json!("25:00"))).as_deref(),
            Some(
                "time_parsing: Input should be in a valid time format, hour value is outside expected range of 0-23"
            )
        );
        assert_eq!(
            msg(check_time(&json!("10"))).as_deref(),
            Some("time_parsing: Input should be in a valid time format, input is too short")
        );
        assert_eq!(
            msg(check_time(&json!(null))).as_deref(),
            Some("time_type: Input should be a valid time")
        );
    }
}
