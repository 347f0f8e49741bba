//! A field's value array and the match expressions in it (`prefix`, `numeric`, `anything-but`,
//! ...), validated with event-ruler's messages in the order its streaming parser meets them: a
//! match expression's operand is checked before an extra member after it is noticed.

use super::case::Caseless;
use super::cidr::{parse_cidr, parse_ip};
use super::json::Json;
use super::numeric::{NumberError, NumericRange, comparable};
use super::parse::{Element, Failure, Step, parse_error};
use super::value::{AnythingBut, ValueMatcher};
use super::wildcard::Wildcard;

/// A field's value array: `["a", 1, null, {"prefix": "x"}, ...]`.
pub(super) fn value_array(items: &[Json]) -> Step<Vec<Element>> {
    let mut elements = Vec::with_capacity(items.len());
    for item in items {
        elements.push(match item {
            Json::Object(members) => match_expression(members)?,
            Json::String(s) => Element::Value(match parse_ip(s) {
                Some(ip) => ValueMatcher::ExactIp(ip),
                None => ValueMatcher::Exact(s.clone()),
            }),
            Json::Number(text) => Element::Value(number_literal(text)),
            Json::Bool(b) => Element::Value(ValueMatcher::Literal(if *b { "true" } else { "false" }.into())),
            Json::Null => Element::Value(ValueMatcher::Literal("null".into())),
            Json::Array(_) => return parse_error("Match value must be String, number, true, false, or null"),
        });
    }
    if elements.is_empty() {
        return parse_error("Empty arrays are not allowed");
    }
    Ok(elements)
}

/// A number in a value array matches numerically when it has a comparable value, and by its
/// text otherwise (event-ruler adds both; the text match adds nothing when the value exists).
fn number_literal(text: &str) -> ValueMatcher {
    match comparable(text) {
        Ok(micros) => ValueMatcher::Number(micros),
        // Events are read by serde_json, which keeps a float's shortest text rather than the
        // written one; spell the pattern's number the same way so equal texts still meet.
        Err(_) => ValueMatcher::Literal(match serde_json::from_str::<serde_json::Number>(text) {
            Ok(n) => n.to_string().into(),
            Err(_) => text.into(),
        }),
    }
}

/// `{"prefix": "x"}` and the other operators.
fn match_expression(members: &[(Box<str>, Json)]) -> Step<Element> {
    let Some((name, value)) = members.first() else {
        return parse_error("Match expression name not found");
    };
    let more_keys = members.len() > 1;
    let one_key = |matcher: ValueMatcher| -> Step<Element> {
        if more_keys {
            return parse_error("Only one key allowed in match expression");
        }
        Ok(Element::Value(matcher))
    };
    match &**name {
        "exactly" => match value {
            Json::String(s) => one_key(ValueMatcher::Exact(s.clone())),
            _ => parse_error("exact match pattern must be a string"),
        },
        "prefix" => match value {
            Json::Object(inner) => {
                let text = ignore_case_operand(inner, "Prefix", "prefix")?;
                one_key(ValueMatcher::PrefixIgnoreCase(Caseless::new(text)))
            }
            Json::String(s) => one_key(ValueMatcher::Prefix(s.clone())),
            _ => parse_error("prefix match pattern must be a string"),
        },
        "suffix" => match value {
            Json::Object(inner) => {
                let text = ignore_case_operand(inner, "Suffix", "suffix")?;
                one_key(ValueMatcher::SuffixIgnoreCase(Caseless::new(text)))
            }
            Json::String(s) => one_key(ValueMatcher::Suffix(s.clone())),
            _ => parse_error("suffix match pattern must be a string"),
        },
        "numeric" => {
            let Json::Array(items) = value else {
                return parse_error("Value of numeric must be an array.");
            };
            let matcher = numeric(items)?;
            if more_keys {
                return parse_error(TOO_MANY_ELEMENTS);
            }
            Ok(Element::Value(matcher))
        }
        "anything-but" => {
            let excluded = anything_but(value)?;
            if more_keys {
                return parse_error(TOO_MANY_ELEMENTS);
            }
            Ok(Element::Value(ValueMatcher::AnythingBut(excluded)))
        }
        "exists" => match value {
            Json::Bool(true) => one_key(ValueMatcher::Exists),
            Json::Bool(false) if more_keys => parse_error("Only one key allowed in match expression"),
            Json::Bool(false) => Ok(Element::Absent),
            _ => parse_error("exists match pattern must be either true or false."),
        },
        // event-ruler's message for a non-string CIDR really does say "prefix".
        "cidr" => match value {
            Json::String(s) => one_key(ValueMatcher::Cidr(parse_cidr(s).map_err(Failure::Fatal)?)),
            _ => parse_error("prefix match pattern must be a string"),
        },
        "equals-ignore-case" => match value {
            Json::String(s) => one_key(ValueMatcher::EqualsIgnoreCase(Caseless::new(s))),
            _ => parse_error("equals-ignore-case match pattern must be a string"),
        },
        "wildcard" => match value {
            Json::String(s) => one_key(ValueMatcher::Wildcard(Wildcard::parse(s).map_err(Failure::Parse)?)),
            _ => parse_error("wildcard match pattern must be a string"),
        },
        other => parse_error(format!("Unrecognized match type {other}")),
    }
}

/// event-ruler's message for any extra member after a numeric or anything-but expression.
const TOO_MANY_ELEMENTS: &str = "Too many elements in numeric expression";

/// `{"equals-ignore-case": "x"}` inside `prefix` or `suffix`.
fn ignore_case_operand<'j>(members: &'j [(Box<str>, Json)], title: &str, operator: &str) -> Step<&'j str> {
    let Some((name, value)) = members.first() else {
        return parse_error(format!("{title} expression name not found"));
    };
    if &**name != "equals-ignore-case" {
        return parse_error(format!("Unsupported {operator} pattern: {name}"));
    }
    let Json::String(text) = value else {
        return parse_error("equals-ignore-case match pattern must be a string");
    };
    if members.len() > 1 {
        return parse_error("Only one key allowed in match expression");
    }
    Ok(text)
}

/// A number's comparable value where a bad one is an error: the range and decimals errors are
/// parse errors, an overflow is not (`ArithmeticException` escapes event-ruler's handlers).
fn operand(text: &str) -> Step<i64> {
    comparable(text).map_err(|e| match e {
        NumberError::Overflow => Failure::Fatal(e.message().to_owned()),
        _ => Failure::Parse(e.message().to_owned()),
    })
}

/// What Jackson's `getText` shows for the token at a position of an array (`]` past its end).
fn token_text(item: Option<&Json>) -> String {
    match item {
        None => "]".to_owned(),
        Some(Json::Number(text)) => text.to_string(),
        Some(Json::String(s)) => s.to_string(),
        Some(Json::Bool(b)) => b.to_string(),
        Some(Json::Null) => "null".to_owned(),
        Some(Json::Array(_)) => "[".to_owned(),
        Some(Json::Object(_)) => "{".to_owned(),
    }
}

/// `["=", 5]`, `["<", 10]`, `[">", 0, "<=", 5]`, ...
fn numeric(items: &[Json]) -> Step<ValueMatcher> {
    let mut items = items.iter();
    let operator = match items.next() {
        Some(Json::String(op)) => op,
        other => return parse_error(format!("Invalid member in numeric match: {}", token_text(other))),
    };
    let value = items.next();
    let number = |name: &str| match value {
        Some(Json::Number(text)) => Ok(&**text),
        _ => parse_error(format!("Value of {name} must be numeric")),
    };
    match &**operator {
        "=" => {
            let text = number("equals")?;
            if items.next().is_some() {
                return parse_error(TOO_MANY_ELEMENTS);
            }
            Ok(ValueMatcher::Number(operand(text)?))
        }
        op @ ("<" | "<=") => {
            let text = number(op)?;
            if items.next().is_some() {
                return parse_error(TOO_MANY_ELEMENTS);
            }
            Ok(ValueMatcher::Numeric(NumericRange::below(operand(text)?, op == "<")))
        }
        op @ (">" | ">=") => {
            let bottom = number(op)?;
            let low_open = op == ">";
            let Some(next) = items.next() else {
                return Ok(ValueMatcher::Numeric(NumericRange::above(operand(bottom)?, low_open)));
            };
            let Json::String(top_operator) = next else {
                return parse_error(format!("Bad value in numeric range: {}", token_text(Some(next))));
            };
            let high_open = match &**top_operator {
                "<" => true,
                "<=" => false,
                other => return parse_error(format!("Bad numeric range operator: {other}")),
            };
            let Some(Json::Number(top)) = items.next() else {
                return parse_error(format!("Value of {top_operator} must be numeric"));
            };
            if items.next().is_some() {
                return parse_error("Too many terms in numeric range expression");
            }
            let range = NumericRange::between(operand(bottom)?, low_open, operand(top)?, high_open);
            Ok(ValueMatcher::Numeric(range.map_err(|m| Failure::Parse(m.to_owned()))?))
        }
        other => parse_error(format!("Unrecognized numeric range operator: {other}")),
    }
}

/// The operator inside `{"anything-but": {...}}`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Excluding {
    IgnoreCase,
    Prefixes,
    Suffixes,
    Wildcards,
}

fn anything_but(value: &Json) -> Step<AnythingBut> {
    let Json::Object(members) = value else {
        let (items, is_list) = operand_items(value)?;
        return anything_but_values(items, is_list);
    };
    let Some((name, operand)) = members.first() else {
        return parse_error("Anything-But expression name not found");
    };
    let kind = match &**name {
        "equals-ignore-case" => Excluding::IgnoreCase,
        "prefix" => Excluding::Prefixes,
        "suffix" => Excluding::Suffixes,
        "wildcard" => Excluding::Wildcards,
        other => return parse_error(format!("Unsupported anything-but pattern: {other}")),
    };
    let (items, _) = operand_items(operand)?;
    let excluded = anything_but_set(kind, items)?;
    // The extra member is only noticed once the operand has been read.
    if members.len() > 1 {
        return parse_error(TOO_MANY_ELEMENTS);
    }
    Ok(excluded)
}

/// An anything-but operand as a list, and whether it was written as one.
fn operand_items(operand: &Json) -> Step<(&[Json], bool)> {
    match operand {
        Json::Array(items) => Ok((items, true)),
        Json::String(_) | Json::Number(_) => Ok((std::slice::from_ref(operand), false)),
        _ => parse_error("Value of anything-but must be an array or single string/number value."),
    }
}

fn anything_but_set(kind: Excluding, items: &[Json]) -> Step<AnythingBut> {
    let mut texts = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Json::String(s) if s.is_empty() && matches!(kind, Excluding::Prefixes | Excluding::Suffixes) => {
                return parse_error("Null prefix/suffix not allowed");
            }
            Json::String(s) => texts.push(s.clone()),
            _ => {
                return parse_error(match kind {
                    Excluding::IgnoreCase => {
                        "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
                    }
                    Excluding::Wildcards => "wildcard match pattern must be a string",
                    Excluding::Prefixes | Excluding::Suffixes => "prefix/suffix match pattern must be a string",
                });
            }
        }
    }
    Ok(match kind {
        Excluding::IgnoreCase => AnythingBut::IgnoreCase(sorted(texts.iter().map(|t| Caseless::new(t)).collect())),
        Excluding::Prefixes => AnythingBut::Prefixes(sorted(texts)),
        Excluding::Suffixes => AnythingBut::Suffixes(sorted(texts)),
        // Wildcards are checked once the whole list is read.
        Excluding::Wildcards => AnythingBut::Wildcards(sorted(
            texts.iter().map(|t| Wildcard::parse(t)).collect::<Result<_, _>>().map_err(Failure::Parse)?,
        )),
    })
}

/// `{"anything-but": "x"}`, `{"anything-but": [1, 2]}`: all strings or all numbers.
fn anything_but_values(items: &[Json], is_list: bool) -> Step<AnythingBut> {
    let mut strings = Vec::new();
    let mut numbers = Vec::new();
    for item in items {
        match item {
            Json::String(s) => strings.push(s.clone()),
            Json::Number(text) => numbers.push(match comparable(text) {
                Ok(micros) => micros,
                // A single number's error escapes event-ruler's handlers; in a list it is
                // re-raised as a parse error, except for an overflow.
                Err(e @ NumberError::Overflow) => return Err(Failure::Fatal(e.message().to_owned())),
                Err(e) if is_list => return parse_error(e.message()),
                Err(e) => return Err(Failure::Fatal(e.message().to_owned())),
            }),
            _ => return parse_error("Inside anything but list, start|null|boolean is not supported."),
        }
    }
    match (strings.is_empty(), numbers.is_empty()) {
        (false, true) => Ok(AnythingBut::Strings(sorted(strings))),
        (true, false) => Ok(AnythingBut::Numbers(sorted(numbers))),
        _ => {
            parse_error("Inside anything but list, either all values are number or string, mixed type is not supported")
        }
    }
}

fn sorted<T: Ord>(mut values: Vec<T>) -> Vec<T> {
    values.sort();
    values.dedup();
    values
}
