//! Tests of `json`: what the pattern reader keeps that `serde_json::Value` would not.
use super::*;

fn object(text: &str) -> Vec<(Box<str>, Json)> {
    match read_object(text) {
        Ok(Json::Object(members)) => members,
        other => panic!("{text}: {other:?}"),
    }
}

#[test]
fn repeated_keys_and_number_texts_are_kept() {
    let members = object(r#"{"a": [1.50, -3e2, 0], "a": {"b": null}, "c": [true, false, "x\"\u00e9\ud83d\ude00"]}"#);
    assert_eq!(members.len(), 3);
    assert_eq!(
        members[0],
        (
            "a".into(),
            Json::Array(vec![Json::Number("1.50".into()), Json::Number("-3e2".into()), Json::Number("0".into())])
        )
    );
    assert_eq!(members[1], ("a".into(), Json::Object(vec![("b".into(), Json::Null)])));
    assert_eq!(members[2].1, Json::Array(vec![Json::Bool(true), Json::Bool(false), Json::String("x\"é😀".into())]));
}

#[test]
fn reading_stops_after_the_top_level_object() {
    assert_eq!(object(r#"  {"a": [1]} trailing } garbage"#).len(), 1);
}

#[test]
fn documents_not_starting_with_an_object_are_not_objects() {
    for text in ["", "   ", "[1]", "\"x\"", "1", "null", "x"] {
        assert_eq!(read_object(text), Err(ReadError::NotAnObject), "{text:?}");
    }
}

#[test]
fn malformed_objects_say_where() {
    for (text, expected) in [
        (r#"{"a": [1, }"#, "Unexpected character ('}' (code 125)): expected a JSON value at line 1, column 11"),
        ("{\"a\":\n [01]}", "Invalid numeric value: Leading zeroes not allowed at line 2, column 4"),
        (
            r#"{"a" [1]}"#,
            "Unexpected character ('[' (code 91)): expected a colon to separate field name and value at line 1, column 6",
        ),
        (r#"{"a": [1]"#, "Unexpected end-of-input: expected comma to separate Object entries at line 1, column 10"),
        (r#"{"a": [tru]}"#, "Unexpected character ('t' (code 116)): expected a JSON value at line 1, column 8"),
        (r#"{"a": ["\q"]}"#, "Unrecognized character escape at line 1, column 10"),
        (
            r#"{"a": [1.]}"#,
            "Unexpected character (']' (code 93)): expected digit after decimal point at line 1, column 10",
        ),
    ] {
        assert_eq!(read_object(text), Err(ReadError::Syntax(expected.to_owned())), "{text}");
    }
}

#[test]
fn nesting_is_bounded() {
    let deep = format!("{}{}", "{\"a\":".repeat(300), "}".repeat(300));
    assert!(matches!(read_object(&deep), Err(ReadError::Syntax(m)) if m.starts_with("Nesting deeper than 256 levels")));
}

#[test]
fn values_convert_as_their_text_would_read() {
    let value = serde_json::json!({"a": [1, 2.5, "s", null, true], "b": {"c": []}});
    assert_eq!(from_value(&value), read_object(&value.to_string()).expect("serde_json writes JSON"));
}
