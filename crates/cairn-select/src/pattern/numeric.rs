//! Numbers as event-ruler compares them: exact decimals with at most six fractional digits,
//! within ±5.0E11.
//!
//! event-ruler turns a number's text into a `BigDecimal`, strips trailing zeros, refuses more than
//! six decimals, scales by 10^6 into a `long` (which can overflow) and refuses anything outside
//! ±5.0E11. Numbers here are those scaled integers ("micros"), so equality and ranges are exact:
//! `0.1 + 0.2` problems never arise, and `1`, `1.0` and `1e0` are the same number. A value that
//! cannot be converted is not a number as far as numeric matching goes (it can still equal a
//! pattern's literal text).

/// 5.0E11 in micros: the bound of both ends.
const LIMIT: i64 = 500_000_000_000 * MICROS;
const MICROS: i64 = 1_000_000;

/// Why a number's text has no comparable value; the messages are event-ruler's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NumberError {
    TooManyDecimals,
    /// `BigDecimal.longValueExact()` failed: an `ArithmeticException`, not a parse error.
    Overflow,
    OutOfRange,
    NotANumber,
}

impl NumberError {
    pub(crate) fn message(self) -> &'static str {
        match self {
            NumberError::TooManyDecimals => "Only values upto 6 decimals are supported",
            NumberError::Overflow => "Overflow",
            NumberError::OutOfRange => "Value must be between -5.0E11 and 5.0E11, inclusive",
            NumberError::NotANumber => "Invalid number",
        }
    }
}

/// The number a JSON number text stands for, in micros (value × 10^6).
pub(crate) fn comparable(text: &str) -> Result<i64, NumberError> {
    let (negative, rest) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(at) => (&rest[..at], parse_exponent(&rest[at + 1..])?),
        None => (rest, 0),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().chain(frac_part.bytes()).all(|b| b.is_ascii_digit())
    {
        return Err(NumberError::NotANumber);
    }
    // The significant digits, and the scale BigDecimal would give them after stripTrailingZeros.
    let digits: Vec<u8> = int_part.bytes().chain(frac_part.bytes()).map(|b| b - b'0').collect();
    let first = digits.iter().position(|&d| d != 0);
    let Some(first) = first else { return Ok(0) };
    let last = digits.iter().rposition(|&d| d != 0).unwrap_or(first);
    let significant = &digits[first..=last];
    let trailing_zeros = (digits.len() - 1 - last) as i64;
    let scale = (frac_part.len() as i64).saturating_sub(exponent).saturating_sub(trailing_zeros);
    if scale > 6 {
        return Err(NumberError::TooManyDecimals);
    }
    // significant × 10^(6 - scale) must fit a long.
    let shift = 6 - scale;
    if significant.len() as i64 + shift > 19 {
        return Err(NumberError::Overflow);
    }
    let mut value: i128 = 0;
    for &d in significant {
        value = value * 10 + i128::from(d);
    }
    for _ in 0..shift {
        value *= 10;
    }
    if negative {
        value = -value;
    }
    let value = i64::try_from(value).map_err(|_| NumberError::Overflow)?;
    if !(-LIMIT..=LIMIT).contains(&value) {
        return Err(NumberError::OutOfRange);
    }
    Ok(value)
}

fn parse_exponent(text: &str) -> Result<i64, NumberError> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(NumberError::NotANumber);
    }
    // Saturating: an exponent past ±10^15 over- or underflows whatever it multiplies anyway.
    let magnitude = digits.bytes().fold(0i64, |acc, b| acc.saturating_mul(10).saturating_add(i64::from(b - b'0')));
    let magnitude = magnitude.min(1_000_000_000_000_000);
    Ok(if negative { -magnitude } else { magnitude })
}

/// A numeric range in micros; each end open or closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct NumericRange {
    low: i64,
    low_open: bool,
    high: i64,
    high_open: bool,
}

impl NumericRange {
    /// `["<", v]` or `["<=", v]`: from -5.0E11 (closed) up to `v`.
    pub(crate) fn below(high: i64, open: bool) -> NumericRange {
        NumericRange { low: -LIMIT, low_open: false, high, high_open: open }
    }

    /// `[">", v]` or `[">=", v]`: from `v` up to 5.0E11 (closed).
    pub(crate) fn above(low: i64, open: bool) -> NumericRange {
        NumericRange { low, low_open: open, high: LIMIT, high_open: false }
    }

    /// `[">", a, "<=", b]` and the like; event-ruler refuses `a >= b`, even with both ends closed.
    pub(crate) fn between(low: i64, low_open: bool, high: i64, high_open: bool) -> Result<NumericRange, &'static str> {
        if low >= high {
            return Err("Bottom must be less than top");
        }
        Ok(NumericRange { low, low_open, high, high_open })
    }

    pub(crate) fn contains(&self, value: i64) -> bool {
        let above_low = if self.low_open { value > self.low } else { value >= self.low };
        let below_high = if self.high_open { value < self.high } else { value <= self.high };
        above_low && below_high
    }
}

#[cfg(test)]
mod tests;
