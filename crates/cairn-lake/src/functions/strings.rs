//! String and regular-expression functions with Trino semantics.
//!
//! Regular expressions are evaluated by DataFusion's regex functions (Rust `regex` syntax, which
//! covers the Java syntax CloudTrail queries use except look-around and back-references); this
//! module adapts Trino's calling conventions: `$1` replacement references, replace-all, group
//! extraction.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, ListBuilder, StringBuilder, new_null_array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::compute::kernels::zip::zip;
use datafusion::arrow::datatypes::{DataType, Field, Int64Type};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{Result, ScalarValue, exec_datafusion_err, exec_err, plan_err};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, when,
};

use super::{Strs, check_arity, int_coercion, invoke, nulls_as_false, string_coercion};

pub(super) fn udfs() -> Vec<ScalarUDF> {
    let mut v: Vec<ScalarUDF> = [
        Kind::RegexpExtract,
        Kind::RegexpReplace,
        Kind::Split,
        Kind::SplitPart,
        Kind::Replace,
        Kind::Concat,
        Kind::Substr,
    ]
    .into_iter()
    .map(|k| ScalarUDF::from(StringFn::new(k)))
    .collect();
    v.push(ScalarUDF::from(IfFn::new()));
    v
}

/// The Trino `substr`, also used for `SUBSTRING(s FROM i FOR n)`.
pub(super) fn substr_udf() -> ScalarUDF {
    ScalarUDF::from(StringFn::new(Kind::Substr))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    RegexpExtract,
    RegexpReplace,
    Split,
    SplitPart,
    Replace,
    Concat,
    Substr,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct StringFn {
    kind: Kind,
    signature: Signature,
    aliases: Vec<String>,
}

impl StringFn {
    fn new(kind: Kind) -> Self {
        let aliases = match kind {
            Kind::Substr => vec!["substring".to_string()],
            _ => vec![],
        };
        StringFn { kind, signature: Signature::user_defined(Volatility::Immutable), aliases }
    }
}

fn is_list(dt: &DataType) -> bool {
    matches!(dt, DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(_, _))
}

impl ScalarUDFImpl for StringFn {
    fn name(&self) -> &str {
        match self.kind {
            Kind::RegexpExtract => "regexp_extract",
            Kind::RegexpReplace => "regexp_replace",
            Kind::Split => "split",
            Kind::SplitPart => "split_part",
            Kind::Replace => "replace",
            Kind::Concat => "concat",
            Kind::Substr => "substr",
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
        let (min, max) = match self.kind {
            Kind::RegexpExtract => (2, 3),
            Kind::RegexpReplace | Kind::Replace => (2, 3),
            Kind::Split => (2, 3),
            Kind::SplitPart => (3, 3),
            Kind::Concat => (1, usize::MAX),
            Kind::Substr => (2, 3),
        };
        check_arity(name, t.len(), min, max)?;
        // Everything that is not a string is an integer position, count or group.
        let int_at = |i: usize| match self.kind {
            Kind::RegexpExtract => i == 2,
            Kind::Split => i == 2,
            Kind::SplitPart => i == 2,
            Kind::Substr => i >= 1,
            _ => false,
        };
        if self.kind == Kind::Concat && t.iter().any(is_list) {
            let Some(common) = type_union_resolution(t) else {
                return plan_err!("concat: cannot concatenate arrays of types {t:?}");
            };
            return Ok(vec![common; t.len()]);
        }
        t.iter()
            .enumerate()
            .map(|(i, d)| if int_at(i) { int_coercion(d, name) } else { string_coercion(d, name) })
            .collect()
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(match self.kind {
            Kind::Split => DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
            Kind::Concat if t.first().is_some_and(is_list) => t[0].clone(),
            _ => DataType::Utf8,
        })
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        match self.kind {
            Kind::RegexpReplace => return regexp_replace(&args),
            Kind::RegexpExtract => return regexp_extract(&args),
            Kind::Concat if args.arg_fields.first().is_some_and(|f| is_list(f.data_type())) => {
                let udf = datafusion::functions_nested::concat::array_concat_udf();
                let ret = args.return_type().clone();
                return call_udf(&udf, args.args, args.number_rows, ret, &args.config_options);
            }
            _ => {}
        }
        let kind = self.kind;
        invoke(&args, |a, rows| match kind {
            Kind::Split => split(a, rows),
            Kind::SplitPart => split_part(a, rows),
            Kind::Replace => replace(a, rows),
            Kind::Concat => concat(a, rows),
            Kind::Substr => substr(a, rows),
            Kind::RegexpExtract | Kind::RegexpReplace => {
                exec_err!("internal: regular expressions are dispatched above")
            }
        })
    }
}

fn string_out(rows: usize, mut f: impl FnMut(usize) -> Result<Option<String>>) -> Result<ArrayRef> {
    let mut b = StringBuilder::with_capacity(rows, rows * 16);
    for i in 0..rows {
        b.append_option(f(i)?);
    }
    Ok(Arc::new(b.finish()))
}

fn split(a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let s = Strs::new(&a[0], "split")?;
    let d = Strs::new(&a[1], "split")?;
    let limit = a.get(2).map(|l| l.as_primitive::<Int64Type>());
    let mut b = ListBuilder::new(StringBuilder::new());
    for i in 0..rows {
        let (Some(s), Some(d)) = (s.get(i), d.get(i)) else {
            b.append_null();
            continue;
        };
        if d.is_empty() {
            return exec_err!("The delimiter may not be the empty string");
        }
        let parts: Vec<&str> = match limit {
            Some(l) if l.is_null(i) => {
                b.append_null();
                continue;
            }
            Some(l) => {
                let n = l.value(i);
                if n <= 0 {
                    return exec_err!("Limit must be positive");
                }
                s.splitn(usize::try_from(n).unwrap_or(usize::MAX), d).collect()
            }
            None => s.split(d).collect(),
        };
        for p in parts {
            b.values().append_value(p);
        }
        b.append(true);
    }
    Ok(Arc::new(b.finish()))
}

fn split_part(a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let s = Strs::new(&a[0], "split_part")?;
    let d = Strs::new(&a[1], "split_part")?;
    let idx = a[2].as_primitive::<Int64Type>();
    string_out(rows, |i| {
        let (Some(s), Some(d), true) = (s.get(i), d.get(i), idx.is_valid(i)) else {
            return Ok(None);
        };
        let n = idx.value(i);
        if n < 1 {
            return exec_err!("Index must be greater than zero");
        }
        let n = usize::try_from(n - 1).unwrap_or(usize::MAX);
        if d.is_empty() {
            return Ok((n == 0).then(|| s.to_string()));
        }
        Ok(s.split(d).nth(n).map(str::to_string))
    })
}

fn replace(a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let s = Strs::new(&a[0], "replace")?;
    let from = Strs::new(&a[1], "replace")?;
    let to = a.get(2).map(|r| Strs::new(r, "replace")).transpose()?;
    string_out(rows, |i| {
        let (Some(s), Some(from)) = (s.get(i), from.get(i)) else {
            return Ok(None);
        };
        let to = match &to {
            Some(t) => match t.get(i) {
                Some(t) => t,
                None => return Ok(None),
            },
            None => "",
        };
        Ok(Some(s.replace(from, to)))
    })
}

fn concat(a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let parts = a.iter().map(|x| Strs::new(x, "concat")).collect::<Result<Vec<_>>>()?;
    string_out(rows, |i| {
        let mut out = String::new();
        for p in &parts {
            match p.get(i) {
                Some(v) => out.push_str(v),
                None => return Ok(None),
            }
        }
        Ok(Some(out))
    })
}

fn substr(a: &[ArrayRef], rows: usize) -> Result<ArrayRef> {
    let s = Strs::new(&a[0], "substr")?;
    let start = a[1].as_primitive::<Int64Type>();
    let len = a.get(2).map(|l| l.as_primitive::<Int64Type>());
    string_out(rows, |i| {
        let (Some(s), true) = (s.get(i), start.is_valid(i)) else {
            return Ok(None);
        };
        let length = match len {
            Some(l) if l.is_null(i) => return Ok(None),
            Some(l) => Some(l.value(i)),
            None => None,
        };
        let st = start.value(i);
        if st == 0 {
            return Ok(Some(String::new()));
        }
        let n = s.chars().count() as i64;
        let from = if st > 0 { st - 1 } else { n + st };
        if from < 0 || from >= n {
            return Ok(Some(String::new()));
        }
        let take = match length {
            Some(l) if l <= 0 => return Ok(Some(String::new())),
            Some(l) => usize::try_from(l).unwrap_or(usize::MAX),
            None => usize::MAX,
        };
        Ok(Some(s.chars().skip(usize::try_from(from).unwrap_or(usize::MAX)).take(take).collect()))
    })
}

// ---------------------------------------------------------------------------------------------
// Regular expressions, delegated to DataFusion's regexp_like / regexp_replace
// ---------------------------------------------------------------------------------------------

fn call_udf(
    udf: &ScalarUDF,
    args: Vec<ColumnarValue>,
    rows: usize,
    ret: DataType,
    config: &Arc<ConfigOptions>,
) -> Result<ColumnarValue> {
    let arg_fields =
        args.iter().enumerate().map(|(i, a)| Arc::new(Field::new(format!("arg{i}"), a.data_type(), true))).collect();
    udf.invoke_with_args(ScalarFunctionArgs {
        args,
        arg_fields,
        number_rows: rows,
        return_field: Arc::new(Field::new(udf.name(), ret, true)),
        config_options: Arc::clone(config),
    })
}

/// Casts a string argument to `Utf8`, keeping scalars scalar.
fn utf8(v: &ColumnarValue) -> Result<ColumnarValue> {
    Ok(match v {
        ColumnarValue::Scalar(s) => ColumnarValue::Scalar(s.cast_to(&DataType::Utf8)?),
        ColumnarValue::Array(a) => ColumnarValue::Array(cast(a, &DataType::Utf8)?),
    })
}

/// Applies `f` to every value of a string argument (pattern or replacement), keeping scalars
/// scalar. `f` also sees the pattern of the same row when given.
fn map_strings(
    v: &ColumnarValue,
    rows: usize,
    mut f: impl FnMut(usize, &str) -> Result<String>,
) -> Result<ColumnarValue> {
    match v {
        ColumnarValue::Scalar(s) => {
            let s = s.cast_to(&DataType::Utf8)?;
            Ok(ColumnarValue::Scalar(match s {
                ScalarValue::Utf8(Some(x)) => ScalarValue::Utf8(Some(f(0, &x)?)),
                _ => ScalarValue::Utf8(None),
            }))
        }
        ColumnarValue::Array(a) => {
            let strs = Strs::new(a, "regexp")?;
            let mut b = StringBuilder::with_capacity(rows, rows * 8);
            for i in 0..a.len() {
                match strs.get(i) {
                    Some(x) => b.append_value(f(i, x)?),
                    None => b.append_null(),
                }
            }
            Ok(ColumnarValue::Array(Arc::new(b.finish())))
        }
    }
}

/// The pattern of row `i` as text (`None` when NULL).
fn pattern_at(v: &ColumnarValue, i: usize) -> Result<Option<String>> {
    match v {
        ColumnarValue::Scalar(s) => match s.cast_to(&DataType::Utf8)? {
            ScalarValue::Utf8(x) => Ok(x),
            _ => Ok(None),
        },
        ColumnarValue::Array(a) => Ok(Strs::new(a, "regexp")?.get(i).map(str::to_string)),
    }
}

/// Number of capturing groups in a pattern (Rust/Java syntax).
fn count_groups(p: &str) -> usize {
    let b = p.as_bytes();
    let (mut i, mut n, mut in_class) = (0, 0, false);
    while i < b.len() {
        match b[i] {
            b'\\' => i += 1,
            b'[' if !in_class => in_class = true,
            b']' if in_class => in_class = false,
            b'(' if !in_class => {
                let plain = b.get(i + 1) != Some(&b'?');
                let python_named = b.get(i + 2) == Some(&b'P') && b.get(i + 3) == Some(&b'<');
                let named = b.get(i + 2) == Some(&b'<') && !matches!(b.get(i + 3), Some(b'=') | Some(b'!'));
                if plain || python_named || named {
                    n += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    n
}

/// Java-style replacement (`$1`, `${name}`, `\$`) to Rust `regex` syntax.
fn java_replacement(r: &str, groups: usize) -> Result<String> {
    let c: Vec<char> = r.chars().collect();
    let mut out = String::with_capacity(r.len() + 4);
    let mut i = 0;
    while i < c.len() {
        match c[i] {
            '\\' => {
                i += 1;
                match c.get(i) {
                    Some('$') => out.push_str("$$"),
                    Some(&x) => out.push(x),
                    None => return exec_err!("character to be escaped is missing"),
                }
                i += 1;
            }
            '$' => {
                i += 1;
                match c.get(i) {
                    Some('{') => {
                        let end = c[i..]
                            .iter()
                            .position(|x| *x == '}')
                            .ok_or_else(|| exec_datafusion_err!("named capturing group is missing trailing '}}'"))?;
                        let name: String = c[i + 1..i + end].iter().collect();
                        if name.is_empty() {
                            return exec_err!("named capturing group has 0 length name");
                        }
                        out.push_str(&format!("${{{name}}}"));
                        i += end + 1;
                    }
                    Some(d) if d.is_ascii_digit() => {
                        let mut g = d.to_digit(10).unwrap_or(0) as usize;
                        if g > groups {
                            return exec_err!("No group {g}");
                        }
                        i += 1;
                        while let Some(n) = c.get(i).and_then(|x| x.to_digit(10)) {
                            let next = g * 10 + n as usize;
                            if next > groups {
                                break;
                            }
                            g = next;
                            i += 1;
                        }
                        out.push_str(&format!("${{{g}}}"));
                    }
                    _ => return exec_err!("Illegal group reference"),
                }
            }
            x => {
                out.push(x);
                i += 1;
            }
        }
    }
    Ok(out)
}

fn regexp_replace(args: &ScalarFunctionArgs) -> Result<ColumnarValue> {
    let rows = args.number_rows;
    let s = utf8(&args.args[0])?;
    let pattern = utf8(&args.args[1])?;
    let replacement = match args.args.get(2) {
        Some(r) => map_strings(r, rows, |i, r| {
            let p = pattern_at(&pattern, i)?.unwrap_or_default();
            java_replacement(r, count_groups(&p))
        })?,
        None => ColumnarValue::Scalar(ScalarValue::Utf8(Some(String::new()))),
    };
    let flags = ColumnarValue::Scalar(ScalarValue::Utf8(Some("g".to_string())));
    let udf = datafusion::functions::regex::regexp_replace();
    call_udf(&udf, vec![s, pattern, replacement, flags], rows, DataType::Utf8, &args.config_options)
}

fn regexp_extract(args: &ScalarFunctionArgs) -> Result<ColumnarValue> {
    let rows = args.number_rows;
    let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let n = if all_scalar { 1 } else { rows };
    let s = utf8(&args.args[0])?;
    let pattern = utf8(&args.args[1])?;
    let group = match args.args.get(2) {
        Some(g) => g.to_array(n)?,
        None => Arc::new(datafusion::arrow::array::Int64Array::from(vec![0; n])),
    };
    let group = group.as_primitive::<Int64Type>();
    // `\A.*?(?:p)` finds the leftmost match of `p`; the whole string is replaced by the group.
    let mut wrapped = StringBuilder::with_capacity(n, n * 16);
    let mut repl = StringBuilder::with_capacity(n, n * 4);
    for i in 0..n {
        match (pattern_at(&pattern, i)?, group.is_valid(i)) {
            (Some(p), true) => {
                let g = group.value(i);
                let groups = count_groups(&p);
                if g < 0 || g as usize > groups {
                    return exec_err!("Pattern has {groups} groups. Cannot access group {g}");
                }
                if g == 0 {
                    wrapped.append_value(format!("(?s)\\A.*?({p}).*\\z"));
                    repl.append_value("${1}");
                } else {
                    wrapped.append_value(format!("(?s)\\A.*?(?:{p}).*\\z"));
                    repl.append_value(format!("${{{g}}}"));
                }
            }
            _ => {
                wrapped.append_null();
                repl.append_null();
            }
        }
    }
    let to_cv = |a: ArrayRef| -> Result<ColumnarValue> {
        Ok(if all_scalar {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&a, 0)?)
        } else {
            ColumnarValue::Array(a)
        })
    };
    let wrapped = to_cv(Arc::new(wrapped.finish()))?;
    let repl = to_cv(Arc::new(repl.finish()))?;
    let like = datafusion::functions::regex::regexp_like();
    let matched = call_udf(&like, vec![s.clone(), pattern], n, DataType::Boolean, &args.config_options)?.to_array(n)?;
    let replace = datafusion::functions::regex::regexp_replace();
    let replaced = call_udf(&replace, vec![s, wrapped, repl], n, DataType::Utf8, &args.config_options)?.to_array(n)?;
    let replaced = cast(&replaced, &DataType::Utf8)?;
    let matched = nulls_as_false(matched.as_boolean());
    let none = new_null_array(&DataType::Utf8, n);
    let out = zip(&matched, &replaced, &none)?;
    to_cv(out)
}

// ---------------------------------------------------------------------------------------------
// if(condition, true_value[, false_value])
// ---------------------------------------------------------------------------------------------

#[derive(Debug, PartialEq, Eq, Hash)]
struct IfFn {
    signature: Signature,
}

impl IfFn {
    fn new() -> Self {
        IfFn { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for IfFn {
    fn name(&self) -> &str {
        "if"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        check_arity("if", t.len(), 2, 3)?;
        let common = type_union_resolution(&t[1..])
            .ok_or_else(|| exec_datafusion_err!("if: incompatible branch types {:?}", &t[1..]))?;
        let mut v = vec![DataType::Boolean];
        v.extend(std::iter::repeat_n(common, t.len() - 1));
        Ok(v)
    }
    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(t.get(1).cloned().unwrap_or(DataType::Null))
    }
    fn simplify(&self, args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        // Rewritten to CASE so that only the selected branch is evaluated.
        if args.len() != 3 {
            return Ok(ExprSimplifyResult::Original(args));
        }
        let mut it = args.into_iter();
        let (Some(cond), Some(then), Some(otherwise)) = (it.next(), it.next(), it.next()) else {
            return exec_err!("if expects 2 or 3 arguments");
        };
        Ok(ExprSimplifyResult::Simplified(when(cond, then).otherwise(otherwise)?))
    }
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let ret = args.return_type().clone();
        invoke(&args, |a, rows| {
            let cond = a[0].as_boolean_opt().ok_or_else(|| exec_datafusion_err!("if: condition must be boolean"))?;
            let cond: BooleanArray = nulls_as_false(cond);
            let otherwise = match a.get(2) {
                Some(o) => Arc::clone(o),
                None => new_null_array(&ret, rows),
            };
            Ok(zip(&cond, &a[1], &otherwise)?)
        })
    }
}
