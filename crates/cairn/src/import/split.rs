//! An input file's bytes → the text of each record in it, byte for byte.
//!
//! Understands CloudTrail log files (`{"Records":[…]}`, pretty or compact), JSON arrays of records, and NDJSON
//! (one record, or one `{"Records":…}` object, per line), gzip-compressed or not (told by the magic bytes, not the
//! name). The file is scanned once: records are sliced out of the text, never re-serialised. A line of NDJSON that
//! is not JSON is a refused record; a file that is not JSON at all, or not gzip although it starts like gzip, is a
//! failed file. Whether a record is a valid CloudTrail record is for the caller to check.

use std::fmt;
use std::io::Read as _;
use std::ops::Range;

use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

#[cfg(test)]
mod tests;

/// Why a whole file could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FileFailure {
    #[error("cannot read the file: {0}")]
    Read(std::io::Error),
    #[error("not a valid gzip file: {0}")]
    Gzip(std::io::Error),
    #[error("not UTF-8 text (invalid byte at offset {0})")]
    NotUtf8(usize),
    #[error("not valid JSON: {0}")]
    NotJson(serde_json::Error),
}

/// The records of one file, in order: the span of each record's text, or why the value at that place is not one.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Split {
    pub(crate) pieces: Vec<Piece>,
    /// The file is a CloudTrail digest file (`CloudTrail-Digest/`), not a log file.
    pub(crate) digest: bool,
}

/// One record's place in a file.
pub(crate) type Piece = Result<Range<usize>, String>;

/// The file's text: gunzipped when it starts with the gzip magic bytes (any number of members), a leading
/// byte-order mark dropped.
pub(crate) fn decode(bytes: Vec<u8>) -> Result<String, FileFailure> {
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        // CloudTrail compresses about tenfold; reserving for that avoids most regrowth.
        let mut text = Vec::with_capacity(bytes.len().saturating_mul(10));
        flate2::read::MultiGzDecoder::new(bytes.as_slice()).read_to_end(&mut text).map_err(FileFailure::Gzip)?;
        text
    } else {
        bytes
    };
    let mut text = String::from_utf8(bytes).map_err(|e| FileFailure::NotUtf8(e.utf8_error().valid_up_to()))?;
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// Splits `text` into records. `lines` says the file is NDJSON by its name (`.ndjson`, `.jsonl`); a file that
/// turns out to hold one JSON value per line is read as NDJSON anyway.
pub(crate) fn split(text: &str, lines: bool) -> Result<Split, FileFailure> {
    let mut out = Split::default();
    let mut stream = serde_json::Deserializer::from_str(text).into_iter::<Top<'_>>();
    let mut n_values = 0usize;
    loop {
        let start = skip_whitespace(text, stream.byte_offset());
        match stream.next() {
            None => return Ok(out),
            Some(Ok(top)) => {
                let end = stream.byte_offset();
                if n_values == 0 && matches!(top, Top::Object { digest: true }) && only_whitespace(&text[end..]) {
                    out.digest = true;
                    return Ok(out);
                }
                n_values += 1;
                out.take(text, top, start..end);
            }
            Some(Err(error)) => {
                if lines || n_values > 0 || looks_line_delimited(&text[start..]) {
                    split_lines(text, start, &mut out);
                    return Ok(out);
                }
                return Err(FileFailure::NotJson(error));
            }
        }
    }
}

impl Split {
    /// Adds the records of one top-level value spanning `span`.
    fn take(&mut self, text: &str, top: Top<'_>, span: Range<usize>) {
        match top {
            Top::Records(records) | Top::Array(records) => {
                self.pieces.extend(records.into_iter().map(|raw| Ok(span_of(text, raw.get()))))
            }
            Top::Object { .. } => self.pieces.push(Ok(span)),
            Top::RecordsNot(kind) => self.pieces.push(Err(format!("Records is {kind}, not an array of records"))),
            Top::Scalar(kind) => self.pieces.push(Err(format!("a JSON {kind}, not a record"))),
        }
    }
}

/// NDJSON from byte `from` on: each non-blank line is one value, parsed on its own.
fn split_lines(text: &str, from: usize, out: &mut Split) {
    let mut offset = from;
    for line in text[from..].split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim_matches(is_json_whitespace);
        if trimmed.is_empty() {
            continue;
        }
        let start = start + (line.len() - line.trim_start_matches(is_json_whitespace).len());
        match serde_json::from_str::<Top<'_>>(trimmed) {
            Ok(top) => out.take(text, top, start..start + trimmed.len()),
            Err(error) => out.pieces.push(Err(format!("not valid JSON: {error}"))),
        }
    }
}

/// Whether the text from a value that failed to parse is line-delimited after all: its first or second non-blank
/// line is a JSON value on its own (a bad first line of NDJSON, or a good one followed by a bad one).
fn looks_line_delimited(rest: &str) -> bool {
    let mut lines = rest.lines().map(|l| l.trim_matches(is_json_whitespace)).filter(|l| !l.is_empty());
    let mut first_two = [lines.next(), lines.next()];
    if first_two[1].is_none() {
        // One line only: a single (broken) value, not NDJSON.
        first_two[0] = None;
    }
    first_two.into_iter().flatten().any(|line| serde_json::from_str::<IgnoredAny>(line).is_ok())
}

fn is_json_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

fn only_whitespace(text: &str) -> bool {
    text.chars().all(is_json_whitespace)
}

fn skip_whitespace(text: &str, from: usize) -> usize {
    text.len() - text[from..].trim_start_matches(is_json_whitespace).len()
}

/// Where `part` (a slice of `text`) lies in `text`.
fn span_of(text: &str, part: &str) -> Range<usize> {
    let start = part.as_ptr() as usize - text.as_ptr() as usize;
    start..start + part.len()
}

/// One top-level JSON value of a file, read in a single pass: the record texts of a log file or array are kept
/// as raw slices, and an object that is neither a log file nor a digest is taken to be a record.
#[derive(Debug)]
enum Top<'a> {
    /// `{"Records": […]}`.
    Records(Vec<&'a RawValue>),
    /// `{"Records": x}` with `x` not an array.
    RecordsNot(&'static str),
    /// `[…]`: an array of records.
    Array(Vec<&'a RawValue>),
    /// Any other object: one record, or (with `digest`) a digest file's body.
    Object { digest: bool },
    /// A string, number, boolean or null.
    Scalar(&'static str),
}

impl<'de: 'a, 'a> Deserialize<'de> for Top<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TopVisitor)
    }
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top<'de>, A::Error> {
        let mut records = None;
        let mut digest = false;
        while let Some(key) = map.next_key::<Key>()? {
            match key {
                Key::Records => records = Some(map.next_value::<RecordsValue<'de>>()?),
                Key::DigestOnly => {
                    digest = true;
                    map.next_value::<IgnoredAny>()?;
                }
                Key::Other => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(match records {
            Some(RecordsValue::Array(records)) => Top::Records(records),
            Some(RecordsValue::Not(kind)) => Top::RecordsNot(kind),
            None => Top::Object { digest },
        })
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Top<'de>, A::Error> {
        Ok(Top::Array(raw_elements(seq)?))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Top<'de>, E> {
        Ok(Top::Scalar("boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Top<'de>, E> {
        Ok(Top::Scalar("number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Top<'de>, E> {
        Ok(Top::Scalar("number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Top<'de>, E> {
        Ok(Top::Scalar("number"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Top<'de>, E> {
        Ok(Top::Scalar("string"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Top<'de>, E> {
        Ok(Top::Scalar("null"))
    }
}

fn raw_elements<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Vec<&'de RawValue>, A::Error> {
    let mut elements = Vec::with_capacity(seq.size_hint().unwrap_or(0));
    while let Some(element) = seq.next_element::<&'de RawValue>()? {
        elements.push(element);
    }
    Ok(elements)
}

/// The member names that decide what a top-level object is.
enum Key {
    Records,
    /// A member only digest files have.
    DigestOnly,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Key, E> {
        Ok(match name {
            "Records" => Key::Records,
            "digestS3Object" | "digestPublicKeyFingerprint" => Key::DigestOnly,
            _ => Key::Other,
        })
    }
}

/// The value of `Records`: the raw records, or what it was instead of an array.
enum RecordsValue<'a> {
    Array(Vec<&'a RawValue>),
    Not(&'static str),
}

impl<'de: 'a, 'a> Deserialize<'de> for RecordsValue<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(RecordsVisitor)
    }
}

struct RecordsVisitor;

impl<'de> Visitor<'de> for RecordsVisitor {
    type Value = RecordsValue<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<RecordsValue<'de>, A::Error> {
        Ok(RecordsValue::Array(raw_elements(seq)?))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RecordsValue<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(RecordsValue::Not("an object"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<RecordsValue<'de>, E> {
        Ok(RecordsValue::Not("a boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<RecordsValue<'de>, E> {
        Ok(RecordsValue::Not("a number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<RecordsValue<'de>, E> {
        Ok(RecordsValue::Not("a number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<RecordsValue<'de>, E> {
        Ok(RecordsValue::Not("a number"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<RecordsValue<'de>, E> {
        Ok(RecordsValue::Not("a string"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<RecordsValue<'de>, E> {
        Ok(RecordsValue::Not("null"))
    }
}
