//! A store's committed Parquet segments as one DataFusion table, read with the text types queries
//! want.
//!
//! A `ListingTable` would do, but it reads each file's Arrow schema from the file, and DataFusion only
//! turns top-level text into `Utf8View`: a nested member such as `userIdentity.arn` was decoded as
//! `Utf8`, copying every value's bytes out of the page dictionary (most of the time of a query that
//! groups by it). Here every segment is declared with the schema cairn wrote it with, every text
//! member `Utf8View` (`engine::scan_schema`), so the Parquet reader builds views into the dictionary instead
//! and no file's schema is parsed per query. Scans, pruning and filter pushdown are DataFusion's own
//! (`ParquetFormat`), with the session's footer cache.

use std::sync::Arc;

use arrow_schema::{DataType, SchemaRef};
use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::stats::Precision;
use datafusion::common::{ColumnStatistics, ScalarValue, Statistics};
use datafusion::datasource::TableType;
use datafusion::datasource::file_format::FileFormat as _;
use datafusion::datasource::file_format::parquet::ParquetFormat;
use datafusion::datasource::listing::PartitionedFile;
use datafusion::datasource::physical_plan::{FileGroup, FileScanConfigBuilder};
use datafusion::datasource::table_schema::TableSchema;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::object_store::ObjectStoreUrl;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::empty::EmptyExec;
use object_store::ObjectMeta;
use object_store::path::Path;

use crate::schema::EVENT_TIME;
use crate::store::SegmentFile;

/// The segments `files`, all of `schema` (the scan schema), scanned with `format`.
#[derive(Debug)]
pub(crate) struct SegmentTable {
    schema: SchemaRef,
    files: Vec<SegmentFile>,
    format: ParquetFormat,
}

impl SegmentTable {
    pub(crate) fn new(schema: SchemaRef, files: Vec<SegmentFile>, format: ParquetFormat) -> Self {
        SegmentTable { schema, files, format }
    }

    fn partitioned(&self, file: &SegmentFile) -> Result<PartitionedFile> {
        // A data directory given as a relative path names its segments relatively.
        let location = std::path::absolute(&file.path)
            .map_err(|error| error.to_string())
            .and_then(|path| Path::from_absolute_path(path).map_err(|error| error.to_string()))
            .map_err(|error| DataFusionError::Execution(format!("segment {}: {error}", file.path.display())))?;
        let meta =
            ObjectMeta { location, last_modified: Default::default(), size: file.n_bytes, e_tag: None, version: None };
        Ok(PartitionedFile::new_from_meta(meta)
            .with_arrow_schema(self.schema.clone())
            .with_statistics(Arc::new(self.statistics_of(file))))
    }

    /// What the manifest knows of a segment: its event time range, which lets a scan skip the files a
    /// time filter rules out without opening them.
    fn statistics_of(&self, file: &SegmentFile) -> Statistics {
        let mut statistics = Statistics::new_unknown(&self.schema);
        if let Ok(index) = self.schema.index_of(EVENT_TIME)
            && let Some(column) = statistics.column_statistics.get_mut(index)
            && let DataType::Timestamp(_, zone) = self.schema.field(index).data_type()
        {
            let at = |ms: i64| Precision::Inexact(ScalarValue::TimestampMillisecond(Some(ms), zone.clone()));
            *column = ColumnStatistics {
                min_value: at(file.min_event_time_ms),
                max_value: at(file.max_event_time_ms),
                ..ColumnStatistics::new_unknown()
            };
        }
        statistics
    }
}

#[async_trait]
impl TableProvider for SegmentTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        // The scan prunes and, when the session says so, filters rows; the filter above stays exact.
        Ok(vec![TableProviderFilterPushDown::Inexact; filters.len()])
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if self.files.is_empty() {
            let schema = match projection {
                Some(indices) => Arc::new(self.schema.project(indices)?),
                None => self.schema.clone(),
            };
            return Ok(Arc::new(EmptyExec::new(schema)));
        }
        let files = self.files.iter().map(|file| self.partitioned(file)).collect::<Result<Vec<_>>>()?;
        let groups = FileGroup::new(files).split_files(state.config().target_partitions());
        let source = self.format.file_source(TableSchema::from(self.schema.clone()));
        let config = FileScanConfigBuilder::new(ObjectStoreUrl::local_filesystem(), source)
            .with_file_groups(groups)
            .with_projection_indices(projection.cloned())?
            .with_limit(limit)
            .build();
        self.format.create_physical_plan(state, config).await
    }
}
