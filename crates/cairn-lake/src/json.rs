//! A JSON value whose strings borrow from the text it was parsed from, for building Lake columns.
//!
//! Converting records to columns reads every member of every record once; `serde_json::Value` would
//! allocate a `String` for every key and value and a map for every object only to drop them a moment
//! later (a fifth of `cairn import`'s time went to the allocator). Here a string is copied only when it
//! holds an escape, and an object is a `Vec` of members in the order written.
//!
//! It reads what `serde_json::Value` (with `preserve_order`) reads, and [`Json::to_string`] writes the
//! same text: a member repeated within one object keeps its first position and its last value.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Number;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json<'a> {
    Null,
    Bool(bool),
    Number(Number),
    Str(Cow<'a, str>),
    Array(Vec<Json<'a>>),
    Object(Vec<(Cow<'a, str>, Json<'a>)>),
}

impl<'a> Json<'a> {
    /// Parses `text`, which must be one JSON value.
    pub(crate) fn parse(text: &'a str) -> Result<Json<'a>, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The compact JSON text, as `serde_json::Value::to_string` writes it.
    pub(crate) fn to_json_text(&self) -> String {
        // Serializing strings, numbers and vectors into a String cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Json<'de>, D::Error> {
        deserializer.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(value.into()))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Json<'de>, E> {
        // JSON text has no NaN or infinity; serde_json reads an overflowing literal as null too.
        Ok(Number::from_f64(value).map_or(Json::Null, Json::Number))
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Borrowed(value)))
    }

    fn visit_str<E>(self, value: &str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(value.to_owned())))
    }

    fn visit_string<E>(self, value: String) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(value)))
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_none<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Json<'de>, D::Error> {
        Json::deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut elements = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(element) = seq.next_element()? {
            elements.push(element);
        }
        Ok(Json::Array(elements))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut members = Members::default();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            let value = map.next_value()?;
            members.insert(key, value);
        }
        Ok(Json::Object(members.entries))
    }
}

/// An object's members as they are read; a repeated key replaces the earlier value in place.
#[derive(Default)]
struct Members<'a> {
    entries: Vec<(Cow<'a, str>, Json<'a>)>,
    /// Positions by key, built only once an object is large enough that a linear search would cost.
    index: Option<HashMap<Cow<'a, str>, usize>>,
}

impl<'a> Members<'a> {
    const LINEAR: usize = 16;

    fn insert(&mut self, key: Cow<'a, str>, value: Json<'a>) {
        let found = match &mut self.index {
            Some(index) => index.get(&key).copied(),
            None => self.entries.iter().position(|(existing, _)| *existing == key),
        };
        if let Some(position) = found {
            self.entries[position].1 = value;
            return;
        }
        if let Some(index) = &mut self.index {
            index.insert(key.clone(), self.entries.len());
        } else if self.entries.len() == Self::LINEAR {
            let mut index: HashMap<Cow<'a, str>, usize> =
                self.entries.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)).collect();
            index.insert(key.clone(), self.entries.len());
            self.index = Some(index);
        }
        self.entries.push((key, value));
    }
}

/// Reads an object key, borrowing it when it has no escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Cow<'de, str>, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(value))
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => serializer.serialize_unit(),
            Json::Bool(value) => serializer.serialize_bool(*value),
            Json::Number(value) => value.serialize(serializer),
            Json::Str(value) => serializer.serialize_str(value),
            Json::Array(elements) => {
                let mut seq = serializer.serialize_seq(Some(elements.len()))?;
                for element in elements {
                    seq.serialize_element(element)?;
                }
                seq.end()
            }
            Json::Object(members) => {
                let mut map = serializer.serialize_map(Some(members.len()))?;
                for (key, value) in members {
                    map.serialize_entry(key, value)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads and writes `text` both ways and checks they agree.
    fn same_as_serde_json(text: &str) {
        let ours = Json::parse(text).map(|value| value.to_json_text());
        let theirs = serde_json::from_str::<serde_json::Value>(text).map(|value| value.to_string());
        match (ours, theirs) {
            (Ok(ours), Ok(theirs)) => assert_eq!(ours, theirs, "{text}"),
            (Err(_), Err(_)) => {}
            (ours, theirs) => panic!("{text}: ours {ours:?}, serde_json {theirs:?}"),
        }
    }

    #[test]
    fn reads_and_writes_what_serde_json_does() {
        let many_keys: String =
            format!("{{{}}}", (0..40).map(|i| format!(r#""k{}":{i}"#, i % 25)).collect::<Vec<_>>().join(","));
        for text in [
            r#"{"b":1,"a":[true,false,null],"c":{"x":"y\n\"z\""},"d":-0.5,"e":1e300}"#,
            r#"{"overflow":1e400}"#,
            r#"{"a":1,"b":2,"a":3}"#,
            r#"{"\u00e9t\u00e9":"caf\u00e9","plain":"\ud83d\ude00"}"#,
            r#"[18446744073709551615,-9223372036854775808,1.0,2.5e-3,0]"#,
            r#""just a string""#,
            many_keys.as_str(),
            r#"{"a":}"#,
            r#"{"a":1"#,
            "",
        ] {
            same_as_serde_json(text);
        }
    }

    #[test]
    fn strings_without_escapes_are_borrowed() {
        let text = r#"{"name":"plain","quoted":"a\"b"}"#;
        let Json::Object(members) = Json::parse(text).unwrap() else { panic!("an object") };
        assert!(matches!(&members[0].0, Cow::Borrowed("name")));
        assert!(matches!(&members[0].1, Json::Str(Cow::Borrowed("plain"))));
        assert!(matches!(&members[1].1, Json::Str(Cow::Owned(s)) if s == "a\"b"));
    }

    #[test]
    fn a_repeated_key_keeps_its_place_and_the_last_value_in_large_objects_too() {
        let text = format!("{{{}}}", (0..30).map(|i| format!(r#""k{}":{i}"#, i % 20)).collect::<Vec<_>>().join(","));
        let Json::Object(members) = Json::parse(&text).unwrap() else { panic!("an object") };
        assert_eq!(members.len(), 20);
        assert_eq!(members[3], (Cow::Borrowed("k3"), Json::Number(23.into())));
        assert_eq!(members[19], (Cow::Borrowed("k19"), Json::Number(19.into())));
    }
}
