//! Trino-semantics SQL functions for CloudTrail Lake queries.
//!
//! CloudTrail Lake speaks Trino's dialect. [`register`] installs the functions below into a
//! DataFusion [`SessionContext`], replacing DataFusion built-ins of the same name where the
//! semantics differ (for example `element_at` on maps, `split_part` out of range, `concat` with
//! NULL, `regexp_replace` back-references, `date_format` MySQL specifiers).
//!
//! Families:
//! - [`datetime`]: `date_add`, `date_diff`, field extraction (`year` .. `millisecond`, ISO
//!   `week`/`day_of_week`), `date_part`/`EXTRACT`, ISO 8601 conversions, unix time, MySQL and Joda
//!   formatting/parsing.
//! - [`json`]: the legacy Trino JSON functions over JSON text (`json_extract`, ...).
//! - [`maps`]: `element_at`, `cardinality`, `contains`, `slice`, array helpers.
//! - [`strings`]: regular expressions with Java replacement syntax, `split`, `replace`, `substr`,
//!   `concat`, URL functions, `if`.
//! - [`aggregates`]: `approx_distinct` as BIGINT, `count_if`, `arbitrary`, `max_by`/`min_by`, ...
//!
//! JSON values are represented as UTF-8 text (Trino's `JSON` type has no Arrow counterpart).

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, LargeStringArray, StringArray, StringViewArray,
};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::execution::FunctionRegistry;
use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult};
use datafusion::logical_expr::{AggregateUDF, ColumnarValue, Expr, ScalarFunctionArgs, ScalarUDF};
use datafusion::prelude::SessionContext;

mod aggregates;
mod datetime;
mod json;
mod maps;
mod strings;

#[cfg(test)]
mod tests;

/// Registers every Trino-compatible function on `ctx`, overriding same-named DataFusion
/// built-ins whose semantics differ from Trino's.
pub fn register(ctx: &SessionContext) {
    // Installing the planner rebuilds the session state, which re-registers every function
    // (aliases in arbitrary order), so it comes before the overrides below.
    install_syntax_planner(ctx);
    for udf in scalar_udfs() {
        ctx.register_udf(udf);
    }
    for udaf in aggregate_udfs() {
        ctx.register_udaf(udaf);
    }
    register_builtin_aliases(ctx);
}

/// The scalar functions [`register`] installs (useful for a `SessionState` builder).
pub fn scalar_udfs() -> Vec<ScalarUDF> {
    let mut v = Vec::new();
    v.extend(datetime::udfs());
    v.extend(json::udfs());
    v.extend(maps::udfs());
    v.extend(strings::udfs());
    v
}

/// The aggregate functions [`register`] installs, not counting aliases of built-ins.
pub fn aggregate_udfs() -> Vec<AggregateUDF> {
    aggregates::udafs()
}

/// Trino names for DataFusion built-ins whose semantics already match.
fn register_builtin_aliases(ctx: &SessionContext) {
    let scalar_aliases: [(&str, &[&'static str]); 2] =
        [("generate_series", &["sequence"]), ("levenshtein", &["levenshtein_distance"])];
    for (builtin, aliases) in scalar_aliases {
        if let Ok(f) = ctx.udf(builtin) {
            ctx.register_udf(f.as_ref().clone().with_aliases(aliases.iter().copied()));
        }
    }
    let aggregate_aliases: [(&str, &[&'static str]); 3] =
        [("any_value", &["arbitrary"]), ("bool_and", &["every"]), ("approx_percentile_cont", &["approx_percentile"])];
    for (builtin, aliases) in aggregate_aliases {
        if let Ok(f) = ctx.udaf(builtin) {
            ctx.register_udaf(f.as_ref().clone().with_aliases(aliases.iter().copied()));
        }
    }
    let lambda_aliases: [(&str, &[&'static str]); 2] =
        [("array_transform", &["transform"]), ("array_filter", &["filter"])];
    for (builtin, aliases) in lambda_aliases {
        if let Ok(f) = ctx.higher_order_function(builtin) {
            let f = f.as_ref().clone().with_aliases(aliases.iter().copied());
            ctx.register_higher_order_function(Arc::new(f));
        }
    }
}

/// `EXTRACT(field FROM x)` and `SUBSTRING(s FROM i FOR n)` are planned by DataFusion's expression
/// planners straight to its built-in functions; a planner placed ahead of them routes that syntax
/// to the Trino versions (ISO day of week, negative substring positions).
fn install_syntax_planner(ctx: &SessionContext) {
    let state = ctx.state_ref();
    let mut guard = state.write();
    let mut planners: Vec<Arc<dyn ExprPlanner>> = vec![Arc::new(TrinoSyntaxPlanner {
        date_part: Arc::new(datetime::date_part_udf()),
        substr: Arc::new(strings::substr_udf()),
    })];
    planners.extend(guard.expr_planners().iter().cloned());
    *guard = SessionStateBuilder::new_from_existing(guard.clone()).with_expr_planners(planners).build();
}

#[derive(Debug)]
struct TrinoSyntaxPlanner {
    date_part: Arc<ScalarUDF>,
    substr: Arc<ScalarUDF>,
}

impl ExprPlanner for TrinoSyntaxPlanner {
    fn plan_extract(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Ok(PlannerResult::Planned(Expr::ScalarFunction(ScalarFunction::new_udf(Arc::clone(&self.date_part), args))))
    }

    fn plan_substring(&self, args: Vec<Expr>) -> Result<PlannerResult<Vec<Expr>>> {
        Ok(PlannerResult::Planned(Expr::ScalarFunction(ScalarFunction::new_udf(Arc::clone(&self.substr), args))))
    }
}

// ---------------------------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------------------------

/// Evaluates `f` over the arguments as arrays. When every argument is a scalar the arrays have
/// one row and the result is returned as a scalar.
pub(crate) fn invoke(
    args: &ScalarFunctionArgs,
    f: impl FnOnce(&[ArrayRef], usize) -> Result<ArrayRef>,
) -> Result<ColumnarValue> {
    let all_scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    let rows = if all_scalar { 1 } else { args.number_rows };
    let arrays = args.args.iter().map(|a| a.to_array(rows)).collect::<Result<Vec<_>>>()?;
    let out = f(&arrays, rows)?;
    if out.len() != rows {
        return exec_err!("internal: function produced {} rows for {} input rows", out.len(), rows);
    }
    if all_scalar {
        Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?))
    } else {
        Ok(ColumnarValue::Array(out))
    }
}

/// Read access to any of Arrow's UTF-8 string array layouts (or an all-NULL column).
#[derive(Clone, Copy)]
pub(crate) enum Strs<'a> {
    Utf8(&'a StringArray),
    Large(&'a LargeStringArray),
    View(&'a StringViewArray),
    Null,
}

impl<'a> Strs<'a> {
    pub(crate) fn new(array: &'a ArrayRef, function: &str) -> Result<Self> {
        Ok(match array.data_type() {
            DataType::Utf8 => Strs::Utf8(array.as_string::<i32>()),
            DataType::LargeUtf8 => Strs::Large(array.as_string::<i64>()),
            DataType::Utf8View => Strs::View(array.as_string_view()),
            DataType::Null => Strs::Null,
            other => return exec_err!("{function}: expected a string argument, got {other}"),
        })
    }

    pub(crate) fn get(&self, i: usize) -> Option<&'a str> {
        match self {
            Strs::Utf8(a) => (i < a.len() && a.is_valid(i)).then(|| a.value(i)),
            Strs::Large(a) => (i < a.len() && a.is_valid(i)).then(|| a.value(i)),
            Strs::View(a) => (i < a.len() && a.is_valid(i)).then(|| a.value(i)),
            Strs::Null => None,
        }
    }
}

/// NULL conditions count as false.
pub(crate) fn nulls_as_false(b: &BooleanArray) -> BooleanArray {
    match b.nulls() {
        Some(n) => BooleanArray::new(b.values() & n.inner(), None),
        None => b.clone(),
    }
}

pub(crate) fn is_string(dt: &DataType) -> bool {
    matches!(dt, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// Coercion target for an argument that must be a string: strings stay as they are, NULL and
/// other scalar types become `Utf8` (DataFusion inserts the cast).
pub(crate) fn string_coercion(dt: &DataType, function: &str) -> Result<DataType> {
    match dt {
        d if is_string(d) => Ok(d.clone()),
        DataType::Dictionary(_, v) if is_string(v) => Ok(v.as_ref().clone()),
        DataType::Null
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(_, _)
        | DataType::Decimal256(_, _) => Ok(DataType::Utf8),
        other => datafusion::common::plan_err!("{function}: expected a string argument, got {other}"),
    }
}

/// Coercion target for an argument that must be an integer (Trino `bigint`).
pub(crate) fn int_coercion(dt: &DataType, function: &str) -> Result<DataType> {
    match dt {
        DataType::Null
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64 => Ok(DataType::Int64),
        d if is_string(d) => Ok(DataType::Int64),
        other => datafusion::common::plan_err!("{function}: expected an integer argument, got {other}"),
    }
}

/// Checks the number of arguments against an inclusive range, as a planning error.
pub(crate) fn check_arity(function: &str, got: usize, min: usize, max: usize) -> Result<()> {
    if got < min || got > max {
        if min == max {
            return datafusion::common::plan_err!("{function} expects {min} argument(s), got {got}");
        }
        return datafusion::common::plan_err!("{function} expects {min} to {max} arguments, got {got}");
    }
    Ok(())
}
