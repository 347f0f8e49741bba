//! The most common Lake query shape, `SELECT col, COUNT(*) … GROUP BY col` over a low-cardinality text
//! column (event name, event source, error code, region), counted the way a columnar engine counts
//! dictionary codes.
//!
//! DataFusion hashes every row's string to group it. But the Parquet reader builds the `Utf8View` values of
//! a dictionary-encoded page by copying the dictionary's views, so rows with the same value carry the same
//! 16-byte view, and equal views always mean equal strings (a short value is inline in its view; a long one
//! points at the same bytes). [`CountByTextExec`] therefore counts views, which costs a hash of one `u128` a
//! row, and looks at the strings only once per distinct view and batch. It replaces the partial aggregate of
//! such queries ([`CountByText`], a physical optimizer rule); the final aggregate above it merges the
//! partitions' counts as before, so results are exactly DataFusion's.

use std::fmt;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, StringViewArray};
use arrow_schema::{DataType, SchemaRef};
use datafusion::common::HashMap;
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::config::ConfigOptions;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{Column, Literal};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::aggregates::{AggregateExec, AggregateMode};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, PlanProperties};
use futures::StreamExt as _;

/// Columns with few distinct values, whose counts fit in memory whatever the store's size.
const LOW_CARDINALITY: &[&str] =
    &["eventname", "eventsource", "awsregion", "errorcode", "eventtype", "eventcategory", "eventversion"];

/// Replaces the partial aggregate of `COUNT(*) … GROUP BY <a low-cardinality text column>` with
/// [`CountByTextExec`].
#[derive(Debug, Default)]
pub(crate) struct CountByText;

impl PhysicalOptimizerRule for CountByText {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(aggregate) = node.downcast_ref::<AggregateExec>() else { return Ok(Transformed::no(node)) };
            match counted_column(aggregate) {
                Some(column) => Ok(Transformed::yes(Arc::new(CountByTextExec::new(aggregate, column)))),
                None => Ok(Transformed::no(node)),
            }
        })
        .data()
    }

    fn name(&self) -> &str {
        "count_by_text"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// The input column a partial aggregate groups on, if it is one this operator can take: one group
/// (no grouping sets), a `Utf8View` column of [`LOW_CARDINALITY`], and only `COUNT(*)`s (no DISTINCT,
/// FILTER or ORDER BY, no limit).
fn counted_column(aggregate: &AggregateExec) -> Option<usize> {
    if *aggregate.mode() != AggregateMode::Partial || aggregate.limit_options().is_some() {
        return None;
    }
    let group_by = aggregate.group_expr();
    let [(expr, _)] = group_by.expr() else { return None };
    if !group_by.is_single() || !group_by.null_expr().is_empty() {
        return None;
    }
    let column = expr.downcast_ref::<Column>()?;
    let input = aggregate.input_schema();
    let field = input.fields().get(column.index())?;
    if field.data_type() != &DataType::Utf8View || !LOW_CARDINALITY.contains(&field.name().as_str()) {
        return None;
    }
    let counts_rows = aggregate.aggr_expr().iter().all(|function| {
        function.fun().name() == "count"
            && !function.is_distinct()
            && function.order_bys().is_empty()
            && function.expressions().iter().all(is_non_null_literal)
    });
    let unfiltered = aggregate.filter_expr().iter().all(Option::is_none);
    (counts_rows && unfiltered).then_some(column.index())
}

fn is_non_null_literal(expr: &Arc<dyn PhysicalExpr>) -> bool {
    expr.downcast_ref::<Literal>().is_some_and(|literal| !literal.value().is_null())
}

/// Counts rows per value of one `Utf8View` column, emitting the partial aggregate's rows (the value,
/// then one count per `COUNT(*)`) at the end of each partition.
#[derive(Debug)]
pub(crate) struct CountByTextExec {
    input: Arc<dyn ExecutionPlan>,
    column: usize,
    n_counts: usize,
    properties: Arc<PlanProperties>,
}

impl CountByTextExec {
    fn new(aggregate: &AggregateExec, column: usize) -> CountByTextExec {
        CountByTextExec::with_input(aggregate.input().clone(), aggregate.schema(), column, aggregate.aggr_expr().len())
    }

    fn with_input(input: Arc<dyn ExecutionPlan>, schema: SchemaRef, column: usize, n_counts: usize) -> Self {
        let properties = PlanProperties::new(
            datafusion::physical_expr::EquivalenceProperties::new(schema),
            input.output_partitioning().clone(),
            EmissionType::Final,
            Boundedness::Bounded,
        );
        CountByTextExec { input, column, n_counts, properties: Arc::new(properties) }
    }
}

impl DisplayAs for CountByTextExec {
    fn fmt_as(&self, _format: DisplayFormatType, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountByTextExec: column={}", self.input.schema().field(self.column).name())
    }
}

impl ExecutionPlan for CountByTextExec {
    fn name(&self) -> &str {
        "CountByTextExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        let [input] = <[_; 1]>::try_from(children)
            .map_err(|_| DataFusionError::Internal("CountByTextExec takes one input".to_owned()))?;
        Ok(Arc::new(CountByTextExec::with_input(input, self.schema(), self.column, self.n_counts)))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let mut input = self.input.execute(partition, context)?;
        let (schema, column, n_counts) = (self.schema(), self.column, self.n_counts);
        let output = schema.clone();
        let counted = futures::stream::once(async move {
            let mut counts = Counts::default();
            while let Some(batch) = input.next().await {
                let batch = batch?;
                let values = batch
                    .column(column)
                    .as_string_view_opt()
                    .ok_or_else(|| DataFusionError::Internal("CountByTextExec expects a Utf8View column".to_owned()))?;
                counts.add(values);
            }
            counts.into_batch(&output, n_counts)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, counted)))
    }
}

/// Rows per value; NULL counted apart.
#[derive(Debug, Default)]
struct Counts {
    by_value: HashMap<String, i64>,
    nulls: i64,
}

impl Counts {
    /// Distinct views a batch may have before it is counted by string instead: a filter's output is
    /// compacted into new buffers, after which every long value has a view of its own.
    fn view_limit(rows: usize) -> usize {
        (rows / 8).max(1024)
    }

    fn add(&mut self, values: &StringViewArray) {
        // Per distinct view: its first row (to read the string once) and its rows.
        let mut by_view: HashMap<u128, (usize, i64)> = HashMap::new();
        let limit = Self::view_limit(values.len());
        let mut by_string_from = None;
        for (row, view) in values.views().iter().enumerate() {
            if values.is_null(row) {
                self.nulls += 1;
                continue;
            }
            by_view.entry(*view).or_insert((row, 0)).1 += 1;
            if by_view.len() > limit {
                by_string_from = Some(row + 1);
                break;
            }
        }
        for (row, n) in by_view.into_values() {
            self.add_value(values.value(row), n);
        }
        if let Some(start) = by_string_from {
            let mut by_string: HashMap<&str, i64> = HashMap::new();
            for row in start..values.len() {
                if values.is_null(row) {
                    self.nulls += 1;
                } else {
                    *by_string.entry(values.value(row)).or_default() += 1;
                }
            }
            for (value, n) in by_string {
                self.add_value(value, n);
            }
        }
    }

    fn add_value(&mut self, value: &str, n: i64) {
        match self.by_value.get_mut(value) {
            Some(total) => *total += n,
            None => {
                self.by_value.insert(value.to_owned(), n);
            }
        }
    }

    fn into_batch(self, schema: &SchemaRef, n_counts: usize) -> Result<RecordBatch> {
        let mut keys: Vec<Option<String>> = Vec::with_capacity(self.by_value.len() + 1);
        let mut counts: Vec<i64> = Vec::with_capacity(self.by_value.len() + 1);
        for (value, n) in self.by_value {
            keys.push(Some(value));
            counts.push(n);
        }
        if self.nulls > 0 {
            keys.push(None);
            counts.push(self.nulls);
        }
        let keys: ArrayRef = Arc::new(StringViewArray::from_iter(keys));
        let counts: ArrayRef = Arc::new(Int64Array::from(counts));
        let columns = std::iter::once(keys).chain(std::iter::repeat_n(counts, n_counts)).collect();
        Ok(RecordBatch::try_new(schema.clone(), columns)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_views_and_equal_strings_are_counted_together() {
        let long = "DescribeInstancesWithALongName";
        // Two arrays: the same long value in different buffers, short values inline, and NULLs.
        let first = StringViewArray::from(vec![Some(long), Some("Decrypt"), None, Some(long), Some("Decrypt")]);
        let second = StringViewArray::from(vec![Some(long), None, Some("AssumeRole")]);
        let mut counts = Counts::default();
        counts.add(&first);
        counts.add(&second);
        assert_eq!(counts.by_value.get(long), Some(&3));
        assert_eq!(counts.by_value.get("Decrypt"), Some(&2));
        assert_eq!(counts.by_value.get("AssumeRole"), Some(&1));
        assert_eq!(counts.nulls, 2);
    }

    #[test]
    fn values_that_share_no_views_are_counted_by_string() {
        // Built row by row, each long value has its own bytes and so its own view, as after a filter.
        let rows = 5000;
        let long = |i: usize| format!("ErrorCodeNumber{}WithALongName", i % 3);
        let values = StringViewArray::from_iter((0..rows).map(|i| (i % 10 != 0).then(|| long(i))));
        let mut counts = Counts::default();
        counts.add(&values);
        let expected = |k: usize| (0..rows).filter(|i| i % 10 != 0 && i % 3 == k).count() as i64;
        for k in 0..3 {
            assert_eq!(counts.by_value.get(&long(k)), Some(&expected(k)), "{}", long(k));
        }
        assert_eq!(counts.by_value.len(), 3);
        assert_eq!(counts.nulls, (rows / 10) as i64);
    }
}
