//! Map and array functions with Trino semantics.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, BooleanBuilder, Int64Builder, ListArray, StringBuilder, UInt64Array,
    new_null_array,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::compute::kernels::cmp::eq;
use datafusion::arrow::compute::take;
use datafusion::arrow::datatypes::{DataType, FieldRef, Int64Type};
use datafusion::arrow::row::{RowConverter, SortField};
use datafusion::common::{Result, exec_datafusion_err, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};

use super::{Strs, check_arity, int_coercion, invoke, string_coercion};

pub(super) fn udfs() -> Vec<ScalarUDF> {
    [
        Kind::ElementAt,
        Kind::Cardinality,
        Kind::Contains,
        Kind::Slice,
        Kind::ArrayDistinct,
        Kind::Reverse,
        Kind::ArrayPosition,
    ]
    .into_iter()
    .map(|k| ScalarUDF::from(CollectionFn::new(k)))
    .collect()
}

/// Lists of any flavour are handled as `List` (i32 offsets); DataFusion casts the others.
fn list_coercion(dt: &DataType) -> Option<DataType> {
    match dt {
        DataType::List(_) => Some(dt.clone()),
        DataType::LargeList(f) | DataType::FixedSizeList(f, _) | DataType::ListView(f) => {
            Some(DataType::List(Arc::clone(f)))
        }
        _ => None,
    }
}

fn list_item(dt: &DataType) -> Option<&FieldRef> {
    match dt {
        DataType::List(f) => Some(f),
        _ => None,
    }
}

fn map_key_value(dt: &DataType) -> Option<(DataType, DataType)> {
    if let DataType::Map(entries, _) = dt
        && let DataType::Struct(fields) = entries.data_type()
        && fields.len() == 2
    {
        return Some((fields[0].data_type().clone(), fields[1].data_type().clone()));
    }
    None
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    ElementAt,
    Cardinality,
    Contains,
    Slice,
    ArrayDistinct,
    Reverse,
    ArrayPosition,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct CollectionFn {
    kind: Kind,
    signature: Signature,
    aliases: Vec<String>,
}

impl CollectionFn {
    fn new(kind: Kind) -> Self {
        let aliases = match kind {
            Kind::ArrayDistinct => vec!["list_distinct".to_string()],
            _ => vec![],
        };
        CollectionFn { kind, signature: Signature::user_defined(Volatility::Immutable), aliases }
    }
}

/// For every list entry, the row it belongs to (used to line up per-row needles with entries).
fn entry_rows(offsets: &[i32]) -> UInt64Array {
    let mut v =
        Vec::with_capacity(offsets.last().zip(offsets.first()).map(|(l, f)| (l - f).max(0) as usize).unwrap_or(0));
    for (row, w) in offsets.windows(2).enumerate() {
        for _ in w[0]..w[1] {
            v.push(row as u64);
        }
    }
    UInt64Array::from(v)
}

/// `eq` between every entry value (from `first`) and the needle of its row, as a plain vector.
fn entry_matches(values: &ArrayRef, offsets: &[i32], needle: &ArrayRef) -> Result<(Vec<bool>, usize)> {
    let first = offsets.first().copied().unwrap_or(0).max(0) as usize;
    let last = offsets.last().copied().unwrap_or(0).max(0) as usize;
    let slice = values.slice(first, last.saturating_sub(first));
    let rows = entry_rows(offsets);
    let expanded = take(needle.as_ref(), &rows, None)?;
    let m: BooleanArray = eq(&slice, &expanded)?;
    Ok(((0..m.len()).map(|i| m.is_valid(i) && m.value(i)).collect(), first))
}

impl ScalarUDFImpl for CollectionFn {
    fn name(&self) -> &str {
        match self.kind {
            Kind::ElementAt => "element_at",
            Kind::Cardinality => "cardinality",
            Kind::Contains => "contains",
            Kind::Slice => "slice",
            Kind::ArrayDistinct => "array_distinct",
            Kind::Reverse => "reverse",
            Kind::ArrayPosition => "array_position",
        }
    }
    fn aliases(&self) -> &[String] {
        &self.aliases
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let name = self.name();
        match self.kind {
            Kind::ElementAt => {
                check_arity(name, t.len(), 2, 2)?;
                if let Some((k, _)) = map_key_value(&t[0]) {
                    return Ok(vec![t[0].clone(), k]);
                }
                match list_coercion(&t[0]) {
                    Some(l) => Ok(vec![l, int_coercion(&t[1], name)?]),
                    None if t[0].is_null() => Ok(vec![t[0].clone(), t[1].clone()]),
                    None => plan_err!("element_at expects a map or an array, got {}", t[0]),
                }
            }
            Kind::Cardinality | Kind::ArrayDistinct => {
                check_arity(name, t.len(), 1, 1)?;
                if map_key_value(&t[0]).is_some() && self.kind == Kind::Cardinality {
                    return Ok(vec![t[0].clone()]);
                }
                match list_coercion(&t[0]) {
                    Some(l) => Ok(vec![l]),
                    None if t[0].is_null() => Ok(vec![t[0].clone()]),
                    None => plan_err!("{name} expects an array, got {}", t[0]),
                }
            }
            Kind::Contains | Kind::ArrayPosition => {
                check_arity(name, t.len(), 2, 2)?;
                if let Some(l) = list_coercion(&t[0]) {
                    let item = list_item(&l).map(|f| f.data_type().clone());
                    return Ok(vec![l, item.unwrap_or(DataType::Null)]);
                }
                if self.kind == Kind::ArrayPosition {
                    return plan_err!("array_position expects an array, got {}", t[0]);
                }
                Ok(vec![string_coercion(&t[0], name)?, string_coercion(&t[1], name)?])
            }
            Kind::Slice => {
                check_arity(name, t.len(), 3, 3)?;
                match list_coercion(&t[0]) {
                    Some(l) => Ok(vec![l, int_coercion(&t[1], name)?, int_coercion(&t[2], name)?]),
                    None => plan_err!("slice expects an array, got {}", t[0]),
                }
            }
            Kind::Reverse => {
                check_arity(name, t.len(), 1, 1)?;
                match list_coercion(&t[0]) {
                    Some(l) => Ok(vec![l]),
                    None => Ok(vec![string_coercion(&t[0], name)?]),
                }
            }
        }
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        let first = t.first().cloned().unwrap_or(DataType::Null);
        Ok(match self.kind {
            Kind::ElementAt => {
                if let Some((_, v)) = map_key_value(&first) {
                    v
                } else if let Some(f) = list_item(&first) {
                    f.data_type().clone()
                } else {
                    DataType::Null
                }
            }
            Kind::Cardinality | Kind::ArrayPosition => DataType::Int64,
            Kind::Contains => DataType::Boolean,
            Kind::Slice | Kind::ArrayDistinct => first,
            Kind::Reverse => {
                if list_item(&first).is_some() {
                    first
                } else {
                    DataType::Utf8
                }
            }
        })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let kind = self.kind;
        let ret = args.return_type().clone();
        invoke(&args, |a, rows| {
            if a[0].data_type().is_null() {
                return Ok(new_null_array(&ret, rows));
            }
            match kind {
                Kind::ElementAt => {
                    if matches!(a[0].data_type(), DataType::Map(_, _)) {
                        map_element_at(&a[0], &a[1])
                    } else {
                        list_element_at(&a[0], &a[1])
                    }
                }
                Kind::Cardinality => cardinality(&a[0]),
                Kind::Contains => {
                    if matches!(a[0].data_type(), DataType::List(_)) {
                        list_contains(&a[0], &a[1], false)
                    } else {
                        string_contains(&a[0], &a[1], rows)
                    }
                }
                Kind::ArrayPosition => list_contains(&a[0], &a[1], true),
                Kind::Slice => slice(&a[0], &a[1], &a[2]),
                Kind::ArrayDistinct => distinct(&a[0]),
                Kind::Reverse => {
                    if matches!(a[0].data_type(), DataType::List(_)) {
                        reverse_list(&a[0])
                    } else {
                        let s = Strs::new(&a[0], "reverse")?;
                        let mut b = StringBuilder::with_capacity(rows, rows * 8);
                        for i in 0..rows {
                            b.append_option(s.get(i).map(|v| v.chars().rev().collect::<String>()));
                        }
                        Ok(Arc::new(b.finish()) as ArrayRef)
                    }
                }
            }
        })
    }
}

fn as_list(a: &ArrayRef) -> Result<&ListArray> {
    a.as_list_opt::<i32>().ok_or_else(|| exec_datafusion_err!("expected an array, got {}", a.data_type()))
}

/// Rebuilds a list column from per-row index lists into `values`.
fn list_from_indices(list: &ListArray, per_row: impl Fn(usize, usize, usize) -> Result<Vec<u64>>) -> Result<ArrayRef> {
    let offsets = list.value_offsets();
    let mut idx: Vec<u64> = Vec::new();
    let mut lengths = Vec::with_capacity(list.len());
    for row in 0..list.len() {
        if list.is_null(row) {
            lengths.push(0);
            continue;
        }
        let start = offsets[row].max(0) as usize;
        let end = offsets[row + 1].max(0) as usize;
        let picked = per_row(row, start, end)?;
        lengths.push(picked.len());
        idx.extend(picked);
    }
    let values = take(list.values().as_ref(), &UInt64Array::from(idx), None)?;
    let field = match list.data_type() {
        DataType::List(f) => Arc::clone(f),
        other => return exec_err!("expected an array, got {other}"),
    };
    Ok(Arc::new(ListArray::try_new(field, OffsetBuffer::from_lengths(lengths), values, list.nulls().cloned())?))
}

fn list_element_at(arr: &ArrayRef, index: &ArrayRef) -> Result<ArrayRef> {
    let list = as_list(arr)?;
    let index = index.as_primitive::<Int64Type>();
    let offsets = list.value_offsets();
    let mut idx: Vec<Option<u64>> = Vec::with_capacity(list.len());
    for row in 0..list.len() {
        if list.is_null(row) || index.is_null(row) {
            idx.push(None);
            continue;
        }
        let start = i64::from(offsets[row]);
        let len = i64::from(offsets[row + 1]) - start;
        let i = index.value(row);
        let pos = match i {
            0 => return exec_err!("SQL array indices start at 1"),
            i if i > 0 => (i <= len).then(|| i - 1),
            i => (len + i >= 0).then(|| len + i),
        };
        idx.push(pos.map(|p| (start + p) as u64));
    }
    Ok(take(list.values().as_ref(), &UInt64Array::from(idx), None)?)
}

fn map_element_at(arr: &ArrayRef, key: &ArrayRef) -> Result<ArrayRef> {
    let map = arr.as_map();
    let offsets = map.value_offsets();
    let (matches, base) = entry_matches(map.keys(), offsets, key)?;
    let mut idx: Vec<Option<u64>> = Vec::with_capacity(map.len());
    for row in 0..map.len() {
        if map.is_null(row) || key.is_null(row) {
            idx.push(None);
            continue;
        }
        let (s, e) = (offsets[row].max(0) as usize, offsets[row + 1].max(0) as usize);
        let hit = (s..e).find(|j| matches.get(j - base).copied().unwrap_or(false));
        idx.push(hit.map(|j| j as u64));
    }
    Ok(take(map.values().as_ref(), &UInt64Array::from(idx), None)?)
}

fn cardinality(arr: &ArrayRef) -> Result<ArrayRef> {
    let offsets: &[i32] = match arr.data_type() {
        DataType::Map(_, _) => arr.as_map().value_offsets(),
        _ => as_list(arr)?.value_offsets(),
    };
    let mut b = Int64Builder::with_capacity(arr.len());
    for row in 0..arr.len() {
        if arr.is_null(row) {
            b.append_null();
        } else {
            b.append_value(i64::from(offsets[row + 1] - offsets[row]));
        }
    }
    Ok(Arc::new(b.finish()))
}

/// `contains(array, x)` (or, with `position`, Trino's `array_position`).
fn list_contains(arr: &ArrayRef, needle: &ArrayRef, position: bool) -> Result<ArrayRef> {
    let list = as_list(arr)?;
    let offsets = list.value_offsets();
    let values = list.values();
    let (matches, base) = entry_matches(values, offsets, needle)?;
    let mut bools = BooleanBuilder::with_capacity(list.len());
    let mut ints = Int64Builder::with_capacity(list.len());
    for row in 0..list.len() {
        if list.is_null(row) || needle.is_null(row) {
            bools.append_null();
            ints.append_null();
            continue;
        }
        let (s, e) = (offsets[row].max(0) as usize, offsets[row + 1].max(0) as usize);
        let hit = (s..e).find(|j| matches.get(j - base).copied().unwrap_or(false));
        match hit {
            Some(j) => {
                bools.append_value(true);
                ints.append_value((j - s + 1) as i64);
            }
            None => {
                if (s..e).any(|j| values.is_null(j)) {
                    bools.append_null();
                } else {
                    bools.append_value(false);
                }
                ints.append_value(0);
            }
        }
    }
    if position { Ok(Arc::new(ints.finish())) } else { Ok(Arc::new(bools.finish())) }
}

fn string_contains(s: &ArrayRef, sub: &ArrayRef, rows: usize) -> Result<ArrayRef> {
    let s = Strs::new(s, "contains")?;
    let sub = Strs::new(sub, "contains")?;
    let out: BooleanArray = (0..rows)
        .map(|i| match (s.get(i), sub.get(i)) {
            (Some(a), Some(b)) => Some(a.contains(b)),
            _ => None,
        })
        .collect();
    Ok(Arc::new(out))
}

fn slice(arr: &ArrayRef, start: &ArrayRef, length: &ArrayRef) -> Result<ArrayRef> {
    let list = as_list(arr)?;
    let start = start.as_primitive::<Int64Type>();
    let length = length.as_primitive::<Int64Type>();
    let mut nulls = Vec::with_capacity(list.len());
    for row in 0..list.len() {
        nulls.push(list.is_valid(row) && start.is_valid(row) && length.is_valid(row));
        if !nulls[row] {
            continue;
        }
        if start.value(row) == 0 {
            return exec_err!("SQL array indices start at 1");
        }
        if length.value(row) < 0 {
            return exec_err!("length must be greater than or equal to 0");
        }
    }
    let out = list_from_indices(list, |row, s, e| {
        if !nulls[row] {
            return Ok(vec![]);
        }
        let len = (e - s) as i64;
        let st = start.value(row);
        let from = if st > 0 { st - 1 } else { len + st };
        if from < 0 || from >= len {
            return Ok(vec![]);
        }
        let to = from.saturating_add(length.value(row)).min(len);
        Ok((from..to).map(|k| (s as i64 + k) as u64).collect())
    })?;
    // Rows whose start or length was NULL become NULL.
    let out_list = out.as_list::<i32>();
    let merged = datafusion::arrow::buffer::NullBuffer::from(nulls);
    Ok(Arc::new(ListArray::try_new(
        match out_list.data_type() {
            DataType::List(f) => Arc::clone(f),
            other => return exec_err!("expected an array, got {other}"),
        },
        out_list.offsets().clone(),
        Arc::clone(out_list.values()),
        Some(merged),
    )?))
}

fn distinct(arr: &ArrayRef) -> Result<ArrayRef> {
    let list = as_list(arr)?;
    let values = list.values();
    let converter = RowConverter::new(vec![SortField::new(values.data_type().clone())])?;
    let rows = converter.convert_columns(&[Arc::clone(values)])?;
    list_from_indices(list, |_, s, e| {
        let mut seen = HashSet::new();
        Ok((s..e).filter(|j| seen.insert(rows.row(*j))).map(|j| j as u64).collect())
    })
}

fn reverse_list(arr: &ArrayRef) -> Result<ArrayRef> {
    let list = as_list(arr)?;
    list_from_indices(list, |_, s, e| Ok((s..e).rev().map(|j| j as u64).collect()))
}
