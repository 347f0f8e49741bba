//! Tests of `numeric`: event-ruler's decimal semantics.
use super::*;

#[test]
fn texts_become_exact_micros() {
    for (text, micros) in [
        ("0", 0),
        ("-0", 0),
        ("0.000", 0),
        ("1", 1_000_000),
        ("1.0", 1_000_000),
        ("1e0", 1_000_000),
        ("1.500", 1_500_000),
        ("301.8", 301_800_000),
        ("3.018e2", 301_800_000),
        ("-2.5", -2_500_000),
        ("0.000001", 1),
        ("1E-6", 1),
        ("100e-8", 1),
        ("123456789012", 123_456_789_012_000_000),
        ("5e11", 500_000_000_000_000_000),
        ("-5e11", -500_000_000_000_000_000),
        ("1.2300000000000", 1_230_000),
    ] {
        assert_eq!(comparable(text), Ok(micros), "{text}");
    }
}

#[test]
fn texts_without_a_comparable_value_say_why_as_event_ruler_does() {
    for (text, error) in [
        ("0.1234567", NumberError::TooManyDecimals),
        ("1e-7", NumberError::TooManyDecimals),
        ("85.4202380952", NumberError::TooManyDecimals),
        ("8.82145e-5", NumberError::TooManyDecimals),
        ("500000000000.000001", NumberError::OutOfRange),
        ("6e11", NumberError::OutOfRange),
        ("-1666275403000.0", NumberError::OutOfRange),
        ("1e13", NumberError::Overflow),
        ("12345678901234.5", NumberError::Overflow),
        ("1e999999999999999999999", NumberError::Overflow),
        ("1e-999999999999999999999", NumberError::TooManyDecimals),
        ("abc", NumberError::NotANumber),
        ("1e", NumberError::NotANumber),
    ] {
        assert_eq!(comparable(text), Err(error), "{text}");
    }
    assert_eq!(NumberError::OutOfRange.message(), "Value must be between -5.0E11 and 5.0E11, inclusive");
    assert_eq!(NumberError::TooManyDecimals.message(), "Only values upto 6 decimals are supported");
}

#[test]
fn ranges_respect_open_and_closed_ends() {
    let m = |text: &str| comparable(text).expect("a number");
    let range = NumericRange::between(m("0"), true, m("5"), false).expect("0 < 5");
    assert!(!range.contains(m("0")));
    assert!(range.contains(m("0.000001")));
    assert!(range.contains(m("5")));
    assert!(!range.contains(m("5.000001")));

    let below = NumericRange::below(m("10"), true);
    assert!(below.contains(m("-5e11")));
    assert!(below.contains(m("9.999999")));
    assert!(!below.contains(m("10")));
    assert!(NumericRange::below(m("10"), false).contains(m("10")));

    let above = NumericRange::above(m("1.08"), false);
    assert!(above.contains(m("1.08")));
    assert!(above.contains(m("5e11")));
    assert!(!NumericRange::above(m("1.08"), true).contains(m("1.08")));
}

#[test]
fn a_range_must_have_room_in_it() {
    assert_eq!(NumericRange::between(5, false, 5, false), Err("Bottom must be less than top"));
    assert_eq!(NumericRange::between(6, true, 5, true), Err("Bottom must be less than top"));
}
