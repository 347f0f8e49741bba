//! Row tests on decoded columns: a lookup attribute's equality, and the event category.
//!
//! String columns are read as dictionaries where Parquet stored them so (`schema::read_schema`), so a
//! test compares the wanted value with each dictionary entry once and then only compares keys.

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, BooleanArray, Int32Array, ListArray, StringArray};

use super::segment::AttributeFilter;

/// Equality of a string column with one value.
pub(crate) enum Equals<'a> {
    Plain(&'a StringArray, &'a str),
    /// Dictionary keys, and the keys whose entry equals the value.
    Dictionary(&'a Int32Array, Vec<i32>),
}

impl<'a> Equals<'a> {
    /// `None` if `array` is neither a string nor a string-dictionary column.
    pub(crate) fn new(array: &'a dyn Array, value: &'a str) -> Option<Equals<'a>> {
        if let Some(strings) = array.as_string_opt::<i32>() {
            return Some(Equals::Plain(strings, value));
        }
        let dictionary = array.as_dictionary_opt::<Int32Type>()?;
        let entries = dictionary.values().as_string_opt::<i32>()?;
        let matching = (0..entries.len())
            .filter(|i| entries.is_valid(*i) && entries.value(*i) == value)
            .filter_map(|i| i32::try_from(i).ok())
            .collect();
        Some(Equals::Dictionary(dictionary.keys(), matching))
    }

    pub(crate) fn at(&self, index: usize) -> bool {
        match self {
            Equals::Plain(strings, value) => strings.is_valid(index) && strings.value(index) == *value,
            Equals::Dictionary(keys, matching) => keys.is_valid(index) && matching.contains(&keys.value(index)),
        }
    }

    /// Whether no row can be equal (the value is not in the dictionary).
    pub(crate) fn is_impossible(&self) -> bool {
        matches!(self, Equals::Dictionary(_, matching) if matching.is_empty())
    }
}

/// A lookup attribute as a test on its column.
pub(crate) enum Matcher<'a> {
    Any,
    Text(Equals<'a>),
    List(&'a StringArray, &'a [i32], &'a ListArray, &'a str),
    Bool(&'a BooleanArray, bool),
}

impl<'a> Matcher<'a> {
    /// The matcher of `attribute` over `array` (the attribute's column); `None` if the column has the
    /// wrong type or is missing.
    pub(crate) fn new(attribute: &'a AttributeFilter, array: Option<&'a dyn Array>) -> Option<Matcher<'a>> {
        Some(match (attribute, array) {
            (AttributeFilter::Any, _) => Matcher::Any,
            (AttributeFilter::Text { value, .. }, Some(array)) => match array.as_list_opt::<i32>() {
                Some(lists) => {
                    Matcher::List(lists.values().as_string_opt::<i32>()?, lists.value_offsets(), lists, value)
                }
                None => Matcher::Text(Equals::new(array, value)?),
            },
            (AttributeFilter::ReadOnly(wanted), Some(array)) => Matcher::Bool(array.as_boolean_opt()?, *wanted),
            (_, None) => return None,
        })
    }

    /// Whether no row can match (skips the per-row loop).
    pub(crate) fn is_impossible(&self) -> bool {
        matches!(self, Matcher::Text(equals) if equals.is_impossible())
    }

    pub(crate) fn matches(&self, index: usize) -> bool {
        match self {
            Matcher::Any => true,
            Matcher::Text(equals) => equals.at(index),
            Matcher::List(strings, offsets, lists, value) => {
                if lists.is_null(index) {
                    return false;
                }
                let (Some(&start), Some(&end)) = (offsets.get(index), offsets.get(index + 1)) else {
                    return false;
                };
                let (Ok(start), Ok(end)) = (usize::try_from(start), usize::try_from(end)) else {
                    return false;
                };
                (start..end.min(strings.len())).any(|i| strings.is_valid(i) && strings.value(i) == *value)
            }
            Matcher::Bool(flags, wanted) => flags.is_valid(index) && flags.value(index) == *wanted,
        }
    }
}
