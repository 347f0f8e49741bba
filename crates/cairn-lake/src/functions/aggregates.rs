//! Aggregate functions with Trino semantics.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BooleanArray, Int64Array};
use datafusion::arrow::compute::{SortOptions, cast, sort_to_indices};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::utils::format_state_name;
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, EmitTo, GroupsAccumulator, Signature, Volatility,
};

pub(super) fn udafs() -> Vec<AggregateUDF> {
    vec![
        AggregateUDF::from(BigintResult::new(
            datafusion::functions_aggregate::approx_distinct::approx_distinct_udaf().as_ref().clone(),
        )),
        AggregateUDF::from(CountIf::new()),
        AggregateUDF::from(ByExtreme::new(true)),
        AggregateUDF::from(ByExtreme::new(false)),
    ]
}

// ---------------------------------------------------------------------------------------------
// BIGINT results for DataFusion aggregates returning UInt64 (approx_distinct)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, PartialEq, Eq, Hash)]
struct BigintResult {
    inner: AggregateUDF,
}

impl BigintResult {
    fn new(inner: AggregateUDF) -> Self {
        BigintResult { inner }
    }
}

impl AggregateUDFImpl for BigintResult {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }
    fn signature(&self) -> &Signature {
        self.inner.signature()
    }
    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn is_nullable(&self) -> bool {
        self.inner.is_nullable()
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(CastAccumulator(self.inner.accumulator(args)?)))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        self.inner.state_fields(args)
    }
    fn groups_accumulator_supported(&self, args: AccumulatorArgs) -> bool {
        self.inner.groups_accumulator_supported(args)
    }
    fn create_groups_accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(CastGroupsAccumulator(self.inner.create_groups_accumulator(args)?)))
    }
    fn default_value(&self, _data_type: &DataType) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(0)))
    }
}

#[derive(Debug)]
struct CastAccumulator(Box<dyn Accumulator>);

impl Accumulator for CastAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0.update_batch(values)
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        self.0.evaluate()?.cast_to(&DataType::Int64)
    }
    fn size(&self) -> usize {
        self.0.size()
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.0.state()
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.0.merge_batch(states)
    }
    fn retract_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        self.0.retract_batch(values)
    }
    fn supports_retract_batch(&self) -> bool {
        self.0.supports_retract_batch()
    }
}

struct CastGroupsAccumulator(Box<dyn GroupsAccumulator>);

impl GroupsAccumulator for CastGroupsAccumulator {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.0.update_batch(values, group_indices, opt_filter, total_num_groups)
    }
    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(cast(&self.0.evaluate(emit_to)?, &DataType::Int64)?)
    }
    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        self.0.state(emit_to)
    }
    fn merge_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], total_num_groups: usize) -> Result<()> {
        self.0.merge_batch(values, group_indices, total_num_groups)
    }
    fn convert_to_state(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        self.0.convert_to_state(values, opt_filter)
    }
    fn size(&self) -> usize {
        self.0.size()
    }
}

// ---------------------------------------------------------------------------------------------
// count_if(boolean) → bigint
// ---------------------------------------------------------------------------------------------

#[derive(Debug, PartialEq, Eq, Hash)]
struct CountIf {
    signature: Signature,
}

impl CountIf {
    fn new() -> Self {
        CountIf { signature: Signature::exact(vec![DataType::Boolean], Volatility::Immutable) }
    }
}

impl AggregateUDFImpl for CountIf {
    fn name(&self) -> &str {
        "count_if"
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }
    fn is_nullable(&self) -> bool {
        false
    }
    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(CountIfAccumulator(0)))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(vec![Arc::new(Field::new(format_state_name(args.name, "count"), DataType::Int64, false))])
    }
    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }
    fn create_groups_accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(CountIfGroups(Vec::new())))
    }
    fn default_value(&self, _data_type: &DataType) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(0)))
    }
}

fn booleans(a: &ArrayRef) -> Result<&BooleanArray> {
    match a.as_boolean_opt() {
        Some(b) => Ok(b),
        None => exec_err!("count_if expects a boolean argument, got {}", a.data_type()),
    }
}

fn int64s(a: &ArrayRef) -> Result<&Int64Array> {
    match a.as_primitive_opt() {
        Some(b) => Ok(b),
        None => exec_err!("count_if: unexpected state type {}", a.data_type()),
    }
}

#[derive(Debug)]
struct CountIfAccumulator(i64);

impl Accumulator for CountIfAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        if let Some(v) = values.first() {
            self.0 += booleans(v)?.true_count() as i64;
        }
        Ok(())
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(ScalarValue::Int64(Some(self.0)))
    }
    fn size(&self) -> usize {
        size_of::<Self>()
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![ScalarValue::Int64(Some(self.0))])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        if let Some(s) = states.first() {
            self.0 += int64s(s)?.iter().flatten().sum::<i64>();
        }
        Ok(())
    }
}

struct CountIfGroups(Vec<i64>);

impl CountIfGroups {
    fn add(&mut self, group_indices: &[usize], total: usize, mut delta: impl FnMut(usize) -> i64) {
        if self.0.len() < total {
            self.0.resize(total, 0);
        }
        for (row, g) in group_indices.iter().enumerate() {
            if let Some(c) = self.0.get_mut(*g) {
                *c += delta(row);
            }
        }
    }
}

fn passes(filter: Option<&BooleanArray>, row: usize) -> bool {
    filter.is_none_or(|f| f.is_valid(row) && f.value(row))
}

impl GroupsAccumulator for CountIfGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        let Some(v) = values.first() else {
            return Ok(());
        };
        let b = booleans(v)?;
        self.add(group_indices, total_num_groups, |row| {
            i64::from(passes(opt_filter, row) && b.is_valid(row) && b.value(row))
        });
        Ok(())
    }
    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        Ok(Arc::new(Int64Array::from(emit_to.take_needed(&mut self.0))))
    }
    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        Ok(vec![self.evaluate(emit_to)?])
    }
    fn merge_batch(&mut self, values: &[ArrayRef], group_indices: &[usize], total_num_groups: usize) -> Result<()> {
        let Some(v) = values.first() else {
            return Ok(());
        };
        let c = int64s(v)?;
        self.add(group_indices, total_num_groups, |row| if c.is_valid(row) { c.value(row) } else { 0 });
        Ok(())
    }
    fn convert_to_state(&self, values: &[ArrayRef], opt_filter: Option<&BooleanArray>) -> Result<Vec<ArrayRef>> {
        let Some(v) = values.first() else {
            return exec_err!("count_if expects one argument");
        };
        let b = booleans(v)?;
        let out: Int64Array = (0..b.len())
            .map(|row| Some(i64::from(passes(opt_filter, row) && b.is_valid(row) && b.value(row))))
            .collect();
        Ok(vec![Arc::new(out)])
    }
    fn size(&self) -> usize {
        self.0.capacity() * size_of::<i64>()
    }
}

// ---------------------------------------------------------------------------------------------
// max_by(x, y) / min_by(x, y)
// ---------------------------------------------------------------------------------------------

#[derive(Debug, PartialEq, Eq, Hash)]
struct ByExtreme {
    max: bool,
    signature: Signature,
}

impl ByExtreme {
    fn new(max: bool) -> Self {
        ByExtreme { max, signature: Signature::any(2, Volatility::Immutable) }
    }
}

impl AggregateUDFImpl for ByExtreme {
    fn name(&self) -> &str {
        if self.max { "max_by" } else { "min_by" }
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        match arg_types.first() {
            Some(t) => Ok(t.clone()),
            None => exec_err!("{} expects two arguments", self.name()),
        }
    }
    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        let [x, y] = args.expr_fields else {
            return exec_err!("{} expects two arguments", self.name());
        };
        Ok(Box::new(ByExtremeAccumulator {
            max: self.max,
            x: ScalarValue::try_from(x.data_type())?,
            y: ScalarValue::try_from(y.data_type())?,
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let [x, y] = args.input_fields else {
            return exec_err!("{} expects two arguments", self.name());
        };
        Ok(vec![
            Arc::new(Field::new(format_state_name(args.name, "value"), x.data_type().clone(), true)),
            Arc::new(Field::new(format_state_name(args.name, "key"), y.data_type().clone(), true)),
        ])
    }
}

#[derive(Debug)]
struct ByExtremeAccumulator {
    max: bool,
    x: ScalarValue,
    y: ScalarValue,
}

impl ByExtremeAccumulator {
    fn update(&mut self, xs: &ArrayRef, ys: &ArrayRef) -> Result<()> {
        if ys.len() == ys.null_count() {
            return Ok(());
        }
        let options = SortOptions { descending: self.max, nulls_first: false };
        let best = sort_to_indices(ys.as_ref(), Some(options), Some(1))?;
        if best.is_empty() || best.is_null(0) {
            return Ok(());
        }
        let i = best.value(0) as usize;
        if ys.is_null(i) {
            return Ok(());
        }
        let y = ScalarValue::try_from_array(ys, i)?;
        let better = if self.y.is_null() {
            true
        } else {
            match y.partial_cmp(&self.y) {
                Some(std::cmp::Ordering::Greater) => self.max,
                Some(std::cmp::Ordering::Less) => !self.max,
                _ => false,
            }
        };
        if better {
            self.x = ScalarValue::try_from_array(xs, i)?;
            self.y = y;
        }
        Ok(())
    }
}

impl Accumulator for ByExtremeAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        match values {
            [x, y] => self.update(x, y),
            _ => exec_err!("max_by/min_by expect two arguments"),
        }
    }
    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(self.x.clone())
    }
    fn size(&self) -> usize {
        size_of::<Self>() + self.x.size() + self.y.size()
    }
    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.x.clone(), self.y.clone()])
    }
    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.update_batch(states)
    }
}
