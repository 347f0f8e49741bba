//! A widget's query statement as text: its `?` placeholders, the event data stores it names, and the
//! statement a refresh runs once the placeholders hold values.
//!
//! A placeholder is a bare `?` or a string literal that is exactly `'?'` (AWS asks for the quoted form
//! where the value is compared with `eventTime`); the widget's `QueryParameters` fill them in order.
//! `$StartTime$`, `$EndTime$` and `$Period$` may also stand in the statement itself, inside a literal
//! or alone. Everything inside other literals, quoted identifiers and comments is left as written.

use cairn_model::{ApiError, ErrorCode};

/// The parameter names a custom dashboard's widgets may use (spec/api.md §1.10).
pub(crate) const PARAMETER_NAMES: [&str; 3] = ["$StartTime$", "$EndTime$", "$Period$"];

/// The values a refresh gives the named parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParameterValues {
    /// A Lake timestamp, `YYYY-MM-DD HH:MM:SS`.
    pub(crate) start_time: String,
    /// A Lake timestamp, `YYYY-MM-DD HH:MM:SS`.
    pub(crate) end_time: String,
    /// A `date_trunc` unit: `minute`, `hour`, `day`, ...
    pub(crate) period: String,
}

impl ParameterValues {
    /// The value of a named parameter (`$StartTime$`, ...), if it is one.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        match name {
            "$StartTime$" => Some(&self.start_time),
            "$EndTime$" => Some(&self.end_time),
            "$Period$" => Some(&self.period),
            _ => None,
        }
    }
}

/// How many placeholders `statement` has.
pub(crate) fn placeholder_count(statement: &str) -> usize {
    segments(statement).iter().filter(|s| matches!(s, Segment::Placeholder { .. })).count()
}

/// The IDs (lowercase) of the event data stores `statement` names, in order of first mention: every
/// word outside literals and comments shaped like a store ID.
pub(crate) fn store_ids(statement: &str) -> Vec<String> {
    let mut ids: Vec<String> = Vec::new();
    for segment in segments(statement) {
        if let Segment::Word(word) = segment
            && is_store_id_shaped(word)
        {
            let id = word.to_ascii_lowercase();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    ids
}

/// `statement` with its placeholders filled from `parameters` (in order) and the named parameters
/// replaced by `values`. The counts were checked when the widget was saved; a mismatch here is an
/// `InvalidQueryStatementException` all the same.
pub(crate) fn substitute(statement: &str, parameters: &[String], values: &ParameterValues) -> Result<String, ApiError> {
    let mut out = String::with_capacity(statement.len() + 64);
    let n_parameters = parameters.len();
    let mut parameters = parameters.iter();
    for segment in segments(statement) {
        match segment {
            Segment::Placeholder { quoted } => {
                let Some(parameter) = parameters.next() else {
                    return Err(count_mismatch(placeholder_count(statement), n_parameters));
                };
                match (values.get(parameter), quoted) {
                    (Some(value), _) => push_literal(&mut out, value),
                    (None, true) => push_literal(&mut out, parameter),
                    // A bare `?` takes a literal parameter as SQL text (`LIMIT ?` with `10`).
                    (None, false) => out.push_str(parameter),
                }
            }
            Segment::Literal(text) => {
                let mut replaced = text.to_owned();
                for name in PARAMETER_NAMES {
                    if let Some(value) = values.get(name) {
                        replaced = replaced.replace(name, &value.replace('\'', "''"));
                    }
                }
                out.push_str(&replaced);
            }
            Segment::Word(word) => match values.get(word) {
                Some(value) => push_literal(&mut out, value),
                None => out.push_str(word),
            },
            Segment::Verbatim(text) => out.push_str(text),
        }
    }
    if parameters.next().is_some() {
        return Err(count_mismatch(placeholder_count(statement), n_parameters));
    }
    Ok(out)
}

/// The error for a statement whose placeholders and parameters do not pair up.
pub(crate) fn count_mismatch(n_placeholders: usize, n_parameters: usize) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidQueryStatement,
        format!(
            "The query statement has {n_placeholders} '?' placeholders but {n_parameters} QueryParameters; \
             give one parameter for each placeholder."
        ),
    )
}

/// Whether `word` has the shape of an event data store ID (a UUID).
pub(crate) fn is_store_id_shaped(word: &str) -> bool {
    let mut n_parts = 0;
    for (part, len) in word.split('-').zip([8, 4, 4, 4, 12]) {
        if part.len() != len || !part.bytes().all(|b| b.is_ascii_hexdigit()) {
            return false;
        }
        n_parts += 1;
    }
    n_parts == 5 && word.split('-').count() == 5
}

fn push_literal(out: &mut String, value: &str) {
    out.push('\'');
    out.push_str(&value.replace('\'', "''"));
    out.push('\'');
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment<'a> {
    /// A bare `?`, or the literal `'?'`.
    Placeholder { quoted: bool },
    /// Any other single-quoted literal, quotes included.
    Literal(&'a str),
    /// A run of letters, digits, `_`, `-` and `$` (as the Lake reads store IDs).
    Word(&'a str),
    /// Everything else: quoted identifiers, comments, operators, spaces.
    Verbatim(&'a str),
}

/// Splits `sql` into segments, keeping every byte.
fn segments(sql: &str) -> Vec<Segment<'_>> {
    let bytes = sql.as_bytes();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'$';
    let mut out = Vec::new();
    let mut i = 0;
    let mut verbatim_start = 0;
    while let Some(&b) = bytes.get(i) {
        let next = bytes.get(i + 1).copied();
        let (segment, end) = match b {
            b'\'' => {
                let end = end_of_quoted(bytes, i, b'\'');
                let text = sql.get(i..end).unwrap_or_default();
                if text == "'?'" {
                    (Some(Segment::Placeholder { quoted: true }), end)
                } else {
                    (Some(Segment::Literal(text)), end)
                }
            }
            b'"' | b'`' => (None, end_of_quoted(bytes, i, b)),
            b'-' if next == Some(b'-') => (None, position_from(bytes, i, b'\n')),
            b'/' if next == Some(b'*') => {
                let end = sql.get(i + 2..).and_then(|rest| rest.find("*/")).map_or(bytes.len(), |at| i + 2 + at + 2);
                (None, end)
            }
            b'?' => (Some(Segment::Placeholder { quoted: false }), i + 1),
            _ if is_word(b) && b != b'-' => {
                let mut end = i;
                while let Some(&c) = bytes.get(end) {
                    // `--` starts a comment even inside a run.
                    if !is_word(c) || (c == b'-' && bytes.get(end + 1) == Some(&b'-')) {
                        break;
                    }
                    end += 1;
                }
                (Some(Segment::Word(sql.get(i..end).unwrap_or_default())), end)
            }
            _ => (None, i + 1),
        };
        if let Some(segment) = segment {
            if verbatim_start < i {
                out.push(Segment::Verbatim(sql.get(verbatim_start..i).unwrap_or_default()));
            }
            out.push(segment);
            verbatim_start = end;
        }
        i = end;
    }
    if verbatim_start < bytes.len() {
        out.push(Segment::Verbatim(sql.get(verbatim_start..).unwrap_or_default()));
    }
    out
}

/// The index just past the quoted text starting at `start` (a doubled quote is an escaped one).
fn end_of_quoted(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start + 1;
    while let Some(&b) = bytes.get(i) {
        if b == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn position_from(bytes: &[u8], start: usize, needle: u8) -> usize {
    bytes.get(start..).and_then(|rest| rest.iter().position(|b| *b == needle)).map_or(bytes.len(), |at| start + at)
}
