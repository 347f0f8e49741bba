//! Trino's JSON functions over JSON text.
//!
//! Trino has a `JSON` type; here JSON values are UTF-8 strings holding JSON text, so
//! `json_extract(json_parse(x), '$.a')` and `json_extract(x, '$.a')` behave the same. Paths use
//! Trino's JSONPath subset: `$`, `.key`, `["key"]`, `[n]`.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanBuilder, Int64Builder, ListBuilder, MapBuilder, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Float64Type, Int64Type};
use datafusion::common::{Result, exec_datafusion_err, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use serde_json::Value;

use super::{Strs, check_arity, int_coercion, invoke, is_string, string_coercion};

pub(super) fn udfs() -> Vec<ScalarUDF> {
    [
        Kind::Extract,
        Kind::ExtractScalar,
        Kind::Parse,
        Kind::Format,
        Kind::IsScalar,
        Kind::ArrayLength,
        Kind::ArrayContains,
        Kind::ArrayGet,
        Kind::Size,
        Kind::CastVarchar,
        Kind::CastMap,
        Kind::CastArray,
    ]
    .into_iter()
    .map(|k| ScalarUDF::from(JsonFn::new(k)))
    .collect()
}

/// One step of a JSON path: an object key or array index (Trino applies either to both).
type PathStep = String;

/// Parses Trino's JSONPath subset.
pub(crate) fn parse_path(path: &str) -> Result<Vec<PathStep>> {
    let invalid = || exec_datafusion_err!("Invalid JSON path: '{path}'");
    let chars: Vec<char> = path.trim().chars().collect();
    if chars.first() != Some(&'$') {
        return Err(invalid());
    }
    let mut steps = Vec::new();
    let mut i = 1;
    while i < chars.len() {
        match chars[i] {
            '.' => {
                i += 1;
                let start = i;
                while i < chars.len() && chars[i] != '.' && chars[i] != '[' {
                    i += 1;
                }
                let key: String = chars[start..i].iter().collect();
                if key.is_empty() || key.chars().any(char::is_whitespace) {
                    return Err(invalid());
                }
                steps.push(key);
            }
            '[' => {
                i += 1;
                match chars.get(i) {
                    Some(&q) if q == '"' || q == '\'' => {
                        i += 1;
                        let mut key = String::new();
                        loop {
                            match chars.get(i) {
                                None => return Err(invalid()),
                                Some('\\') if chars.get(i + 1).is_some() => {
                                    key.push(chars[i + 1]);
                                    i += 2;
                                }
                                Some(&c) if c == q => {
                                    i += 1;
                                    break;
                                }
                                Some(&c) => {
                                    key.push(c);
                                    i += 1;
                                }
                            }
                        }
                        steps.push(key);
                    }
                    _ => {
                        let start = i;
                        while i < chars.len() && chars[i] != ']' {
                            i += 1;
                        }
                        let key: String = chars[start..i].iter().collect::<String>();
                        let key = key.trim().to_string();
                        if key.is_empty() {
                            return Err(invalid());
                        }
                        steps.push(key);
                    }
                }
                if chars.get(i) != Some(&']') {
                    return Err(invalid());
                }
                i += 1;
            }
            _ => return Err(invalid()),
        }
    }
    Ok(steps)
}

fn walk<'v>(mut v: &'v Value, steps: &[PathStep]) -> Option<&'v Value> {
    for s in steps {
        v = match v {
            Value::Object(m) => m.get(s.as_str())?,
            Value::Array(a) => a.get(s.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

/// Text of a JSON scalar as Trino's `json_extract_scalar` returns it.
fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

fn parse(text: &str) -> Option<Value> {
    serde_json::from_str(text).ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Extract,
    ExtractScalar,
    Parse,
    Format,
    IsScalar,
    ArrayLength,
    ArrayContains,
    ArrayGet,
    Size,
    /// `CAST(json AS varchar)`, for statement rewriting.
    CastVarchar,
    /// `CAST(json AS map(varchar, json))`, for statement rewriting.
    CastMap,
    /// `CAST(json AS array(json))`, for statement rewriting.
    CastArray,
}

fn map_type() -> DataType {
    MapBuilder::new(None, StringBuilder::new(), StringBuilder::new()).finish().data_type().clone()
}

fn list_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

/// JSON text of a member, JSON null as SQL NULL.
fn member_text(v: &Value) -> Result<Option<String>> {
    match v {
        Value::Null => Ok(None),
        other => serde_json::to_string(other).map(Some).map_err(|e| exec_datafusion_err!("cannot serialise JSON: {e}")),
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct JsonFn {
    kind: Kind,
    signature: Signature,
}

impl JsonFn {
    fn new(kind: Kind) -> Self {
        JsonFn { kind, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

/// Compiles the path of row `i`, reusing the previous one when the text is unchanged.
struct PathCache<'a> {
    last: Option<(&'a str, Vec<PathStep>)>,
}

impl<'a> PathCache<'a> {
    fn get(&mut self, p: &'a str) -> Result<&[PathStep]> {
        if self.last.as_ref().is_none_or(|(s, _)| *s != p) {
            self.last = Some((p, parse_path(p)?));
        }
        Ok(self.last.as_ref().map(|(_, s)| s.as_slice()).unwrap_or(&[]))
    }
}

impl ScalarUDFImpl for JsonFn {
    fn name(&self) -> &str {
        match self.kind {
            Kind::Extract => "json_extract",
            Kind::ExtractScalar => "json_extract_scalar",
            Kind::Parse => "json_parse",
            Kind::Format => "json_format",
            Kind::IsScalar => "is_json_scalar",
            Kind::ArrayLength => "json_array_length",
            Kind::ArrayContains => "json_array_contains",
            Kind::ArrayGet => "json_array_get",
            Kind::Size => "json_size",
            Kind::CastVarchar => "json_cast_varchar",
            Kind::CastMap => "json_cast_map",
            Kind::CastArray => "json_cast_array",
        }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        match self.kind {
            Kind::Extract | Kind::ExtractScalar | Kind::Size => {
                check_arity(name, t.len(), 2, 2)?;
                Ok(vec![string_coercion(&t[0], name)?, string_coercion(&t[1], name)?])
            }
            Kind::Parse
            | Kind::Format
            | Kind::IsScalar
            | Kind::ArrayLength
            | Kind::CastVarchar
            | Kind::CastMap
            | Kind::CastArray => {
                check_arity(name, t.len(), 1, 1)?;
                Ok(vec![string_coercion(&t[0], name)?])
            }
            Kind::ArrayGet => {
                check_arity(name, t.len(), 2, 2)?;
                Ok(vec![string_coercion(&t[0], name)?, int_coercion(&t[1], name)?])
            }
            Kind::ArrayContains => {
                check_arity(name, t.len(), 2, 2)?;
                let value = match &t[1] {
                    DataType::Boolean => DataType::Boolean,
                    d if d.is_integer() => DataType::Int64,
                    d if d.is_numeric() => DataType::Float64,
                    d if is_string(d) => d.clone(),
                    DataType::Null => DataType::Utf8,
                    other => {
                        return plan_err!("json_array_contains: unsupported value type {other}");
                    }
                };
                Ok(vec![string_coercion(&t[0], name)?, value])
            }
        }
    }
    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            Kind::Extract | Kind::ExtractScalar | Kind::Parse | Kind::Format | Kind::ArrayGet => DataType::Utf8,
            Kind::IsScalar | Kind::ArrayContains => DataType::Boolean,
            Kind::ArrayLength | Kind::Size => DataType::Int64,
            Kind::CastVarchar => DataType::Utf8,
            Kind::CastMap => map_type(),
            Kind::CastArray => list_type(),
        })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let kind = self.kind;
        let name = self.name();
        invoke(&args, |a, rows| {
            let json = Strs::new(&a[0], name)?;
            match kind {
                Kind::Extract | Kind::ExtractScalar => {
                    let paths = Strs::new(&a[1], name)?;
                    let mut cache = PathCache { last: None };
                    let mut b = StringBuilder::with_capacity(rows, rows * 16);
                    for i in 0..rows {
                        let (Some(j), Some(p)) = (json.get(i), paths.get(i)) else {
                            b.append_null();
                            continue;
                        };
                        let steps = cache.get(p)?;
                        let found = parse(j).and_then(|v| {
                            let hit = walk(&v, steps)?;
                            if kind == Kind::Extract { serde_json::to_string(hit).ok() } else { scalar_text(hit) }
                        });
                        b.append_option(found);
                    }
                    Ok(Arc::new(b.finish()) as ArrayRef)
                }
                Kind::Size => {
                    let paths = Strs::new(&a[1], name)?;
                    let mut cache = PathCache { last: None };
                    let mut b = Int64Builder::with_capacity(rows);
                    for i in 0..rows {
                        let (Some(j), Some(p)) = (json.get(i), paths.get(i)) else {
                            b.append_null();
                            continue;
                        };
                        let steps = cache.get(p)?;
                        let size = parse(j).and_then(|v| {
                            Some(match walk(&v, steps)? {
                                Value::Object(m) => m.len() as i64,
                                Value::Array(a) => a.len() as i64,
                                _ => 0,
                            })
                        });
                        b.append_option(size);
                    }
                    Ok(Arc::new(b.finish()) as ArrayRef)
                }
                Kind::Parse | Kind::Format => {
                    let mut b = StringBuilder::with_capacity(rows, rows * 16);
                    for i in 0..rows {
                        match json.get(i) {
                            None => b.append_null(),
                            Some(j) => {
                                let mut v: Value = serde_json::from_str(j)
                                    .map_err(|_| exec_datafusion_err!("Cannot convert '{j}' to JSON"))?;
                                if kind == Kind::Parse {
                                    v.sort_all_objects();
                                }
                                let text = serde_json::to_string(&v)
                                    .map_err(|e| exec_datafusion_err!("{name}: cannot serialise JSON: {e}"))?;
                                b.append_value(text);
                            }
                        }
                    }
                    Ok(Arc::new(b.finish()) as ArrayRef)
                }
                Kind::IsScalar => {
                    let mut b = BooleanBuilder::with_capacity(rows);
                    for i in 0..rows {
                        match json.get(i) {
                            None => b.append_null(),
                            Some(j) => {
                                let v = parse(j).ok_or_else(|| exec_datafusion_err!("Invalid JSON value: {j}"))?;
                                b.append_value(!matches!(v, Value::Array(_) | Value::Object(_)));
                            }
                        }
                    }
                    Ok(Arc::new(b.finish()) as ArrayRef)
                }
                Kind::ArrayLength => {
                    let mut b = Int64Builder::with_capacity(rows);
                    for i in 0..rows {
                        let len = json.get(i).and_then(parse).and_then(|v| match v {
                            Value::Array(a) => Some(a.len() as i64),
                            _ => None,
                        });
                        b.append_option(len);
                    }
                    Ok(Arc::new(b.finish()) as ArrayRef)
                }
                Kind::ArrayGet => {
                    let idx = a[1].as_primitive::<Int64Type>();
                    let mut b = StringBuilder::with_capacity(rows, rows * 16);
                    for i in 0..rows {
                        let (Some(j), true) = (json.get(i), idx.is_valid(i)) else {
                            b.append_null();
                            continue;
                        };
                        b.append_option(array_get(j, idx.value(i)));
                    }
                    Ok(Arc::new(b.finish()) as ArrayRef)
                }
                Kind::ArrayContains => array_contains(&json, &a[1], rows),
                Kind::CastVarchar => {
                    let mut b = StringBuilder::with_capacity(rows, rows * 16);
                    for i in 0..rows {
                        let text = match json.get(i) {
                            None => None,
                            Some(j) => match parse(j) {
                                Some(v @ (Value::Array(_) | Value::Object(_))) => {
                                    return exec_err!("Cannot cast '{v}' to varchar");
                                }
                                Some(v) => scalar_text(&v),
                                None => return exec_err!("Cannot convert '{j}' to JSON"),
                            },
                        };
                        b.append_option(text);
                    }
                    Ok(Arc::new(b.finish()) as ArrayRef)
                }
                Kind::CastMap => {
                    let mut b = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
                    for i in 0..rows {
                        let Some(j) = json.get(i) else {
                            b.append(false)?;
                            continue;
                        };
                        match parse(j) {
                            Some(Value::Object(m)) => {
                                for (k, v) in &m {
                                    b.keys().append_value(k);
                                    b.values().append_option(member_text(v)?);
                                }
                                b.append(true)?;
                            }
                            Some(Value::Null) => b.append(false)?,
                            _ => return exec_err!("Cannot cast '{j}' to map(varchar, json)"),
                        }
                    }
                    Ok(Arc::new(b.finish()) as ArrayRef)
                }
                Kind::CastArray => {
                    let mut b = ListBuilder::new(StringBuilder::new());
                    for i in 0..rows {
                        let Some(j) = json.get(i) else {
                            b.append(false);
                            continue;
                        };
                        match parse(j) {
                            Some(Value::Array(items)) => {
                                for v in &items {
                                    b.values().append_option(member_text(v)?);
                                }
                                b.append(true);
                            }
                            Some(Value::Null) => b.append(false),
                            _ => return exec_err!("Cannot cast '{j}' to array(json)"),
                        }
                    }
                    Ok(Arc::new(b.finish()) as ArrayRef)
                }
            }
        })
    }
}

/// Presto/Trino `json_array_get`: zero-based, negative from the end; scalar elements are
/// returned as their text (strings unquoted), containers as JSON, JSON null as NULL.
fn array_get(json: &str, index: i64) -> Option<String> {
    let Value::Array(items) = parse(json)? else {
        return None;
    };
    let len = items.len() as i64;
    let pos = if index < 0 { len.checked_add(index)? } else { index };
    if pos < 0 || pos >= len {
        return None;
    }
    match items.get(usize::try_from(pos).ok()?)? {
        v @ (Value::Array(_) | Value::Object(_)) => serde_json::to_string(v).ok(),
        other => scalar_text(other),
    }
}

fn array_contains(json: &Strs<'_>, value: &ArrayRef, rows: usize) -> Result<ArrayRef> {
    enum Needle<'a> {
        Bool(&'a datafusion::arrow::array::BooleanArray),
        Int(&'a datafusion::arrow::array::Int64Array),
        Float(&'a datafusion::arrow::array::Float64Array),
        Str(Strs<'a>),
    }
    let needle = match value.data_type() {
        DataType::Boolean => Needle::Bool(value.as_boolean()),
        DataType::Int64 => Needle::Int(value.as_primitive::<Int64Type>()),
        DataType::Float64 => Needle::Float(value.as_primitive::<Float64Type>()),
        d if is_string(d) || d.is_null() => Needle::Str(Strs::new(value, "json_array_contains")?),
        other => return exec_err!("json_array_contains: unsupported value type {other}"),
    };
    let mut b = BooleanBuilder::with_capacity(rows);
    for i in 0..rows {
        let Some(j) = json.get(i) else {
            b.append_null();
            continue;
        };
        let Some(Value::Array(items)) = parse(j) else {
            b.append_null();
            continue;
        };
        let found = match &needle {
            Needle::Bool(a) => a.is_valid(i).then(|| {
                let x = a.value(i);
                items.iter().any(|v| v.as_bool() == Some(x))
            }),
            Needle::Int(a) => a.is_valid(i).then(|| {
                let x = a.value(i);
                items.iter().any(|v| v.as_i64() == Some(x))
            }),
            Needle::Float(a) => a.is_valid(i).then(|| {
                let x = a.value(i);
                x.is_finite() && items.iter().any(|v| v.is_f64() && v.as_f64() == Some(x))
            }),
            Needle::Str(s) => s.get(i).map(|x| items.iter().any(|v| v.as_str() == Some(x))),
        };
        b.append_option(found);
    }
    Ok(Arc::new(b.finish()))
}
