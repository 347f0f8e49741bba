//! Planning and running Lake SQL on DataFusion.
//!
//! A query gets its own [`SessionContext`] with the Trino functions ([`crate::functions`]) and one
//! table per event data store it names: a view over the store's Parquet segments (a `SegmentTable`
//! of exactly the committed files) unioned with its in-memory tail, filtered to the retention window
//! so that expired events are invisible even before the sweeper removes them. Queries start from one
//! prepared session state, so the functions are registered once per process.

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Fields, Schema, SchemaRef};
use cairn_model::{ApiError, ErrorCode};
use cairn_store::dataset::Snapshot;
use datafusion::catalog::{
    CatalogProvider, CatalogProviderList, MemTable, MemoryCatalogProvider, MemoryCatalogProviderList,
    MemorySchemaProvider,
};
use datafusion::common::ScalarValue;
use datafusion::common::TableReference;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::error::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::physical_plan::{ExecutionPlan, collect};
use datafusion::prelude::{DataFrame, SessionConfig, SessionContext, col, lit};

use crate::schema::{EVENT_JSON, EVENT_TIME};
use crate::segment_table::SegmentTable;
use crate::sql::clean;
use crate::store::{SegmentFile, TableData};

/// One store as a query sees it.
#[derive(Debug, Clone)]
pub struct StoreTable {
    pub id: String,
    pub data: TableData,
    /// Events before this time (ms since the epoch) are past the store's retention.
    pub retention_cutoff_ms: i64,
}

/// A planned query: the DataFrame and the names its columns get in results.
pub struct Planned {
    pub frame: DataFrame,
    pub columns: Vec<String>,
    /// Events in the stores' in-memory tails, which a scan reads without Parquet metrics.
    pub tail_rows: u64,
    /// The snapshots of the stores' segments the plan reads; hold them until it has run.
    pub pins: Vec<Snapshot>,
    /// Whether scans filter rows before decoding the other columns (see [`plan_over`]).
    pub late_materialised: bool,
}

/// What running a query produced.
#[derive(Debug)]
pub struct Executed {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub events_scanned: u64,
    pub events_matched: u64,
    pub bytes_scanned: u64,
}

/// Plans `sql` (already [`crate::sql::prepare`]d) over `tables`, choosing how the scans filter.
///
/// Filter pushdown (late materialisation) decodes the filter columns first and the other columns only
/// for rows that pass; it pays when a query reads wide columns (the record text, the maps, lists) that
/// most rows then skip. For a query of narrow columns only it costs more than it saves: the filter
/// columns are decoded twice and a row selection is built per page. Measured on 10 M events
/// (`cairn query --repeat 11`, medians): without it errors by code took 50 ms instead of 70, one user's
/// activity 86 instead of 126, distinct IPs per user 402 instead of 595; with it console logins without
/// MFA (a map filter) took 428 ms instead of 647, one eventID (the record text) 38 instead of 125. So
/// it is on exactly when the query names a wide column.
///
/// The plan keeps the tables' snapshots ([`Planned::pins`]) and counts their tail rows.
pub fn plan_over(tables: Vec<StoreTable>, sql: &str) -> Result<Planned, ApiError> {
    let wide: HashSet<&str> = tables.iter().flat_map(|t| wide_columns(&t.data.schema)).collect();
    let (frame, late_materialised) = match plan(&session(&tables, true)?, sql)? {
        frame if names_any(frame.logical_plan(), &wide) => (frame, true),
        _ => (plan(&session(&tables, false)?, sql)?, false),
    };
    let columns = output_names(frame.logical_plan());
    let tail_rows = tables.iter().flat_map(|t| &t.data.tail).map(|b| b.num_rows() as u64).sum();
    let pins = tables.into_iter().filter_map(|t| t.data.pin).collect();
    Ok(Planned { frame, columns, tail_rows, pins, late_materialised })
}

/// The columns whose values are large or nested collections: the record text, and maps and lists
/// (at the top or directly in a struct).
fn wide_columns(schema: &SchemaRef) -> impl Iterator<Item = &str> {
    let collection = |t: &DataType| matches!(t, DataType::Map(..) | DataType::List(_) | DataType::LargeList(_));
    schema
        .fields()
        .iter()
        .filter(move |f| {
            f.name() == EVENT_JSON
                || collection(f.data_type())
                || matches!(f.data_type(), DataType::Struct(children) if children.iter().any(|c| collection(c.data_type())))
        })
        .map(|f| f.name().as_str())
}

/// Whether any expression of `plan` refers to a column named in `names` (`SELECT *` is expanded to
/// every column when planned).
fn names_any(plan: &LogicalPlan, names: &HashSet<&str>) -> bool {
    let mut found = false;
    let _ = plan.apply_with_subqueries(|node| {
        found = node.expressions().iter().any(|e| e.column_refs().iter().any(|c| names.contains(c.name.as_str())));
        Ok(if found { TreeNodeRecursion::Stop } else { TreeNodeRecursion::Continue })
    });
    found
}

/// A session with the Lake functions and `tables` registered under their IDs; `pushdown` says
/// whether Parquet scans filter rows before decoding the other columns.
fn session(tables: &[StoreTable], pushdown: bool) -> Result<SessionContext, ApiError> {
    let mut state = base_state().clone();
    state.config_mut().options_mut().execution.parquet.pushdown_filters = pushdown;
    state.table_options_mut().parquet.global.pushdown_filters = pushdown;
    // The base's catalog is shared by every clone; each query registers its tables in its own.
    state.register_catalog_list(Arc::new(fresh_catalogs().map_err(internal)?));
    let ctx = SessionContext::new_with_state(state);
    for table in tables {
        register_store(&ctx, table).map_err(internal)?;
    }
    Ok(ctx)
}

/// The session every query starts from: the configuration and the Trino functions, prepared once
/// (registering the functions rebuilds the function registry, which costs more than a small query).
/// Clones share its runtime, so the Parquet metadata cache serves every query.
fn base_state() -> &'static SessionState {
    static BASE: OnceLock<SessionState> = OnceLock::new();
    BASE.get_or_init(|| {
        let mut config = SessionConfig::new()
            .with_information_schema(false)
            .with_target_partitions(std::thread::available_parallelism().map_or(2, |n| n.get()));
        let parquet = &mut config.options_mut().execution.parquet;
        // Late materialisation (chosen per query: `plan_over`) evaluates the cheapest predicate first.
        parquet.reorder_filters = true;
        let state = SessionStateBuilder::new()
            .with_config(config)
            .with_default_features()
            .with_physical_optimizer_rule(Arc::new(crate::count_by_text::CountByText))
            .build();
        let ctx = SessionContext::new_with_state(state);
        crate::functions::register(&ctx);
        ctx.state()
    })
}

/// An empty catalog list holding the default catalog and schema that unqualified names resolve to.
fn fresh_catalogs() -> Result<MemoryCatalogProviderList, DataFusionError> {
    let options = &base_state().config().options().catalog;
    let catalog = MemoryCatalogProvider::new();
    catalog.register_schema(&options.default_schema, Arc::new(MemorySchemaProvider::new()))?;
    let catalogs = MemoryCatalogProviderList::new();
    catalogs.register_catalog(options.default_catalog.clone(), Arc::new(catalog));
    Ok(catalogs)
}

fn register_store(ctx: &SessionContext, table: &StoreTable) -> Result<(), DataFusionError> {
    let cutoff_ms = table.retention_cutoff_ms;
    let cutoff = lit(ScalarValue::TimestampMillisecond(Some(cutoff_ms), Some("UTC".into())));
    let within = col(EVENT_TIME).gt_eq(cutoff);
    let schema = scan_schema(&table.data.schema);
    // The tail is small and recent: filtering it always costs little.
    let tail = table.data.tail.iter().map(|batch| as_scanned(batch, &schema)).collect::<Result<Vec<_>, _>>()?;
    let tail = Arc::new(MemTable::try_new(schema.clone(), vec![tail])?);
    let mut frame = ctx.read_table(tail)?.filter(within.clone())?;
    // Segments wholly inside the retention window need no filter (the common case, which then
    // reads no event time column); those wholly outside are left out; only a segment that
    // straddles the cutoff is filtered.
    let (whole, straddling): (Vec<&SegmentFile>, Vec<&SegmentFile>) = table
        .data
        .files
        .iter()
        .filter(|file| file.max_event_time_ms >= cutoff_ms)
        .partition(|file| file.min_event_time_ms >= cutoff_ms);
    if !whole.is_empty() {
        frame = segments(ctx, &schema, &whole)?.union(frame)?;
    }
    if !straddling.is_empty() {
        frame = segments(ctx, &schema, &straddling)?.filter(within)?.union(frame)?;
    }
    ctx.register_table(TableReference::bare(table.id.as_str()), frame.into_view())?;
    Ok(())
}

/// The store's schema as queries read it: text columns and text members of structs as `Utf8View`,
/// which the Parquet reader fills without copying each value and DataFusion groups and compares
/// fastest. Maps and lists keep `Utf8` (the map and array functions are written for it).
fn scan_schema(schema: &SchemaRef) -> SchemaRef {
    retyped(schema, &DataType::Utf8, &DataType::Utf8View)
}

/// `schema` with every column or struct member of type `from` of type `to`.
fn retyped(schema: &SchemaRef, from: &DataType, to: &DataType) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|field| field.as_ref().clone().with_data_type(retype(field.data_type(), from, to)))
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

fn retype(data_type: &DataType, from: &DataType, to: &DataType) -> DataType {
    match data_type {
        DataType::Struct(members) => DataType::Struct(
            members
                .iter()
                .map(|member| member.as_ref().clone().with_data_type(retype(member.data_type(), from, to)))
                .collect::<Fields>(),
        ),
        other if other == from => to.clone(),
        other => other.clone(),
    }
}

/// `batch` cast to `schema` (the same columns, other types).
fn as_scanned(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch, DataFusionError> {
    let columns = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(column, field)| datafusion::arrow::compute::cast(column, field.data_type()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// A batch a scan produced, with its text columns back in the stored `Utf8` (what exports write).
pub fn as_stored(batch: &RecordBatch) -> Result<RecordBatch, DataFusionError> {
    as_scanned(batch, &retyped(&batch.schema(), &DataType::Utf8View, &DataType::Utf8))
}

/// A table of exactly `files`, with the session's Parquet options (filter pushdown).
fn segments(ctx: &SessionContext, schema: &SchemaRef, files: &[&SegmentFile]) -> Result<DataFrame, DataFusionError> {
    let format = ParquetFormat::default().with_options(ctx.copied_table_options().parquet);
    let files = files.iter().map(|file| (*file).clone()).collect();
    ctx.read_table(Arc::new(SegmentTable::new(schema.clone(), files, format)))
}

/// Plans `sql` (already [`crate::sql::prepare`]d) in `ctx`. Any error is the statement's fault.
fn plan(ctx: &SessionContext, sql: &str) -> Result<DataFrame, ApiError> {
    // Planning reads no data (every table is registered with its schema), so it completes without
    // waiting on I/O and can run on the caller's thread.
    let frame = futures::executor::block_on(ctx.sql(sql)).map_err(|error| {
        let described = describe(&error);
        let message = match unknown_table(&described) {
            Some(table) => format!(
                "The query reads {table}, which is not an event data store of this account and region; name a store's ID after FROM."
            ),
            None => format!("The query statement is not valid: {described}"),
        };
        ApiError::new(ErrorCode::InvalidQueryStatement, message)
    })?;
    Ok(frame)
}

/// Runs a planned query to completion and reads its statistics from the plan's metrics.
pub async fn execute(frame: DataFrame, tail_rows: u64) -> Result<Executed, String> {
    let task: Arc<TaskContext> = Arc::new(frame.task_ctx());
    let physical = frame.create_physical_plan().await.map_err(|e| describe(&e))?;
    let schema = physical.schema();
    let batches = collect(physical.clone(), task).await.map_err(|e| describe(&e))?;
    let mut totals = Totals::default();
    walk(physical.as_ref(), &mut totals);
    let scanned = totals.scanned + tail_rows;
    Ok(Executed {
        schema,
        batches,
        events_scanned: scanned,
        events_matched: if totals.saw_filter { totals.matched.min(scanned) } else { scanned },
        bytes_scanned: totals.bytes,
    })
}

#[derive(Default)]
struct Totals {
    scanned: u64,
    matched: u64,
    bytes: u64,
    saw_filter: bool,
}

/// Scans count what they read; the filters directly above them count what matched.
fn walk(plan: &dyn ExecutionPlan, totals: &mut Totals) {
    let name = plan.name();
    if name == "DataSourceExec" {
        // Only Parquet scans report bytes; memory scans (the tails) are counted by the caller.
        if let Some(metrics) = plan.metrics()
            && let Some(bytes) = metrics.sum_by_name("bytes_scanned")
        {
            totals.scanned += metrics.output_rows().unwrap_or(0) as u64;
            totals.bytes += bytes.as_usize() as u64;
        }
        return;
    }
    if name == "FilterExec" && plan.children().iter().all(|child| reads_directly(child.as_ref())) {
        totals.saw_filter = true;
        totals.matched += plan.metrics().and_then(|m| m.output_rows()).unwrap_or(0) as u64;
    }
    for child in plan.children() {
        walk(child.as_ref(), totals);
    }
}

fn reads_directly(plan: &dyn ExecutionPlan) -> bool {
    match plan.name() {
        "DataSourceExec" => true,
        "CoalesceBatchesExec" | "RepartitionExec" | "UnionExec" | "CooperativeExec" | "ProjectionExec" => {
            plan.children().iter().all(|child| reads_directly(child.as_ref()))
        }
        _ => false,
    }
}

/// The result column names, as CloudTrail Lake gives them: an alias, a column's name, the last
/// field of a nested member (`userIdentity.arn` → `arn`), else `_col<N>` (Trino's name for an
/// unnamed expression).
fn output_names(plan: &LogicalPlan) -> Vec<String> {
    let schema_names: Vec<String> = plan.schema().fields().iter().map(|f| f.name().clone()).collect();
    let Some(exprs) = projection_of(plan) else { return schema_names };
    if exprs.len() != schema_names.len() {
        return schema_names;
    }
    exprs.iter().enumerate().map(|(index, expr)| name_of(expr).unwrap_or_else(|| format!("_col{index}"))).collect()
}

fn projection_of(plan: &LogicalPlan) -> Option<&Vec<Expr>> {
    match plan {
        LogicalPlan::Projection(projection) => Some(&projection.expr),
        LogicalPlan::Sort(_) | LogicalPlan::Limit(_) | LogicalPlan::Distinct(_) | LogicalPlan::SubqueryAlias(_) => {
            plan.inputs().first().and_then(|input| projection_of(input))
        }
        _ => None,
    }
}

fn name_of(expr: &Expr) -> Option<String> {
    match expr {
        Expr::Alias(alias) => Some(alias.name.clone()),
        // An aggregate's output (`count(DISTINCT t.x)`) is unnamed in Trino: `_colN`.
        Expr::Column(column) if column.name.contains('(') => None,
        Expr::Column(column) => Some(last_segment(&column.name).to_owned()),
        Expr::ScalarFunction(function) if function.func.name() == "get_field" => match function.args.last() {
            Some(Expr::Literal(ScalarValue::Utf8(Some(field)), _)) => Some(field.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// `t.useridentity[arn]` → `arn`; `t.eventname` → `eventname`: a computed column's name without its
/// table and parents.
fn last_segment(name: &str) -> &str {
    if let Some(inner) = name.strip_suffix(']')
        && let Some((_, field)) = inner.rsplit_once('[')
    {
        return field.trim_matches(|c| c == '\'' || c == '"');
    }
    name.rsplit_once('.').map_or(name, |(_, last)| last)
}

/// The table a "table '…' not found" planning error names, without the default catalog and schema.
fn unknown_table(message: &str) -> Option<String> {
    let rest = message.strip_prefix("table '")?;
    let (name, _) = rest.split_once("' not found")?;
    Some(name.trim_start_matches("datafusion.public.").to_owned())
}

/// A DataFusion error as a user reads it: the innermost message, without the engine's prefixes.
pub fn describe(error: &DataFusionError) -> String {
    let text = match error.find_root() {
        DataFusionError::SQL(parser, _) => parser.to_string(),
        DataFusionError::Plan(message) => message.clone(),
        DataFusionError::SchemaError(schema, _) => schema.to_string(),
        DataFusionError::NotImplemented(message) => format!("not supported: {message}"),
        DataFusionError::Execution(message) => message.clone(),
        other => other.to_string(),
    };
    clean(text.lines().next().unwrap_or(""))
}

fn internal(error: DataFusionError) -> ApiError {
    ApiError::new(ErrorCode::InternalFailure, format!("The query engine could not start: {}", describe(&error)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::StoreKind;

    fn planned(kind: StoreKind, sql: &str) -> Planned {
        let data = TableData { schema: kind.schema(), files: Vec::new(), tail: Vec::new(), pin: None };
        let table = StoreTable { id: "eds1".to_owned(), data, retention_cutoff_ms: 0 };
        plan_over(vec![table], sql).unwrap()
    }

    #[test]
    fn scans_filter_late_only_for_queries_of_wide_columns() {
        for narrow in [
            "SELECT errorCode, COUNT(*) FROM eds1 WHERE errorCode IS NOT NULL GROUP BY errorCode",
            "SELECT userIdentity.arn, COUNT(DISTINCT sourceIPAddress) FROM eds1 GROUP BY userIdentity.arn",
            "SELECT eventTime, eventName FROM eds1 WHERE eventTime > '2026-01-01 00:00:00' ORDER BY eventTime",
        ] {
            assert!(!planned(StoreKind::CloudTrail, narrow).late_materialised, "{narrow}");
        }
        for wide in [
            "SELECT eventJson FROM eds1 WHERE eventID = 'x'",
            "SELECT * FROM eds1 WHERE eventName = 'x'",
            "SELECT eventTime FROM eds1 WHERE element_at(additionalEventData, 'MFAUsed') = 'No'",
            "SELECT eventTime FROM eds1 WHERE eventName IN (SELECT eventName FROM eds1 WHERE cardinality(resources) > 1)",
        ] {
            assert!(planned(StoreKind::CloudTrail, wide).late_materialised, "{wide}");
        }
        assert!(
            planned(StoreKind::Activity, "SELECT eventData.uid FROM eds1 WHERE eventTime > now()").late_materialised
        );
    }
}
