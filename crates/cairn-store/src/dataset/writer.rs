//! Writing one segment: events pushed in history order (account, region, event time, LSN) become a
//! Parquet object in memory, with the partition directory (`directory.rs`) in its footer.
//!
//! Memory stays bounded by one Arrow batch of rows plus the compressed pages of the open row group:
//! rows are handed to the Parquet writer every [`BATCH_ROWS`] rows or [`BATCH_TEXT_BYTES`] of record text.

use std::sync::Arc;

use arrow_array::builder::{BooleanBuilder, ListBuilder, StringBuilder, TimestampMillisecondBuilder, UInt64Builder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field};
use bytes::Bytes;
use cairn_model::event::{EventRecord, LookupAttributeKey};
use parquet::arrow::ArrowWriter;
use parquet::file::metadata::KeyValue;

use super::DatasetError;
use super::directory::{self, Chunk};
use super::schema::{self, SegmentFormat, history_partition};
use crate::wal::Lsn;

const BATCH_ROWS: usize = 4096;
const BATCH_TEXT_BYTES: usize = 32 * 1024 * 1024;

/// A segment written to memory, ready to be stored.
#[derive(Debug, Clone)]
pub struct WrittenSegment {
    pub bytes: Bytes,
    pub n_rows: u64,
    pub min_event_time_ms: i64,
    pub max_event_time_ms: i64,
    pub min_lsn: Lsn,
    pub max_lsn: Lsn,
    /// See [`super::SegmentEntry::origins`].
    pub origins: Vec<String>,
}

/// Builds one segment from events pushed in history order.
pub struct SegmentWriter {
    row_group_rows: usize,
    writer: ArrowWriter<Vec<u8>>,
    batch: BatchBuilder,
    row_group: usize,
    n_rows_in_row_group: usize,
    chunks: Vec<Chunk>,
    // Invariant: the (event time, LSN) of the last row pushed, within the last chunk's partition.
    last_key: (i64, u64),
    n_rows: u64,
    min_time_ms: i64,
    min_lsn: u64,
    max_lsn: u64,
}

impl std::fmt::Debug for SegmentWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SegmentWriter").field("n_rows", &self.n_rows).finish_non_exhaustive()
    }
}

impl SegmentWriter {
    pub fn new(format: &SegmentFormat) -> Result<SegmentWriter, DatasetError> {
        let properties = schema::writer_properties(format).map_err(DatasetError::encode)?;
        let writer =
            ArrowWriter::try_new(Vec::new(), schema::schema(), Some(properties)).map_err(DatasetError::encode)?;
        Ok(SegmentWriter {
            row_group_rows: format.row_group_rows.max(1),
            writer,
            batch: BatchBuilder::default(),
            row_group: 0,
            n_rows_in_row_group: 0,
            chunks: Vec::new(),
            last_key: (i64::MIN, 0),
            n_rows: 0,
            min_time_ms: i64::MAX,
            min_lsn: u64::MAX,
            max_lsn: 0,
        })
    }

    /// Rows pushed so far.
    pub fn n_rows(&self) -> u64 {
        self.n_rows
    }

    /// Appends one event. It must show in history and come after the previous one in history order.
    pub fn push(&mut self, lsn: Lsn, record: &EventRecord) -> Result<(), DatasetError> {
        let fields = record.fields();
        let Some((account, region)) = history_partition(fields) else {
            return Err(DatasetError::Encode(format!("the event at lsn {lsn} is not shown in history")));
        };
        let key = (fields.event_time.as_millisecond(), lsn.0);
        let is_insight = fields.event_category == "Insight";
        let same_chunk = match self.chunks.last_mut() {
            Some(chunk) if chunk.account == account && chunk.region == region => {
                if key <= self.last_key {
                    return Err(out_of_order(lsn));
                }
                if chunk.row_group == self.row_group {
                    chunk.n_rows += 1;
                    chunk.max_time_ms = key.0;
                    chunk.max_lsn = chunk.max_lsn.max(lsn.0);
                    chunk.n_insights += usize::from(is_insight);
                    true
                } else {
                    false
                }
            }
            Some(chunk) if (account, region) < (chunk.account.as_str(), chunk.region.as_str()) => {
                return Err(out_of_order(lsn));
            }
            _ => false,
        };
        if !same_chunk {
            self.chunks.push(Chunk {
                account: account.to_owned(),
                region: region.to_owned(),
                row_group: self.row_group,
                first_row: self.n_rows_in_row_group,
                n_rows: 1,
                min_time_ms: key.0,
                max_time_ms: key.0,
                max_lsn: lsn.0,
                n_insights: usize::from(is_insight),
            });
        }
        self.last_key = key;
        self.n_rows += 1;
        self.min_time_ms = self.min_time_ms.min(key.0);
        self.min_lsn = self.min_lsn.min(lsn.0);
        self.max_lsn = self.max_lsn.max(lsn.0);
        self.batch.append(account, region, lsn, record);
        self.n_rows_in_row_group += 1;
        let row_group_full = self.n_rows_in_row_group == self.row_group_rows;
        if row_group_full || self.batch.n_rows >= BATCH_ROWS || self.batch.text_bytes >= BATCH_TEXT_BYTES {
            self.write_batch()?;
        }
        if row_group_full {
            self.writer.flush().map_err(DatasetError::encode)?;
            self.row_group += 1;
            self.n_rows_in_row_group = 0;
        }
        Ok(())
    }

    /// Closes the file: the last row group, the directory and the footer. `None` if no row was pushed.
    pub fn finish(mut self) -> Result<Option<WrittenSegment>, DatasetError> {
        if self.n_rows == 0 {
            return Ok(None);
        }
        self.write_batch()?;
        let max_time_ms = self.chunks.iter().map(|chunk| chunk.max_time_ms).max().unwrap_or(self.min_time_ms);
        self.writer.append_key_value_metadata(KeyValue::new(
            directory::DIRECTORY_KEY.to_owned(),
            directory::encode(std::mem::take(&mut self.chunks)),
        ));
        let bytes = self.writer.into_inner().map_err(DatasetError::encode)?;
        Ok(Some(WrittenSegment {
            bytes: Bytes::from(bytes),
            n_rows: self.n_rows,
            min_event_time_ms: self.min_time_ms,
            max_event_time_ms: max_time_ms,
            min_lsn: Lsn(self.min_lsn),
            max_lsn: Lsn(self.max_lsn),
            origins: Vec::new(),
        }))
    }

    fn write_batch(&mut self) -> Result<(), DatasetError> {
        if self.batch.n_rows == 0 {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch).finish()?;
        self.writer.write(&batch).map_err(DatasetError::encode)
    }
}

fn out_of_order(lsn: Lsn) -> DatasetError {
    DatasetError::Encode(format!("the event at lsn {lsn} is out of history order"))
}

/// Column builders for one batch of rows.
struct BatchBuilder {
    account: StringBuilder,
    region: StringBuilder,
    event_time: TimestampMillisecondBuilder,
    lsn: UInt64Builder,
    event_category: StringBuilder,
    event_id: StringBuilder,
    event_name: StringBuilder,
    read_only: BooleanBuilder,
    username: StringBuilder,
    access_key_id: StringBuilder,
    event_source: StringBuilder,
    resource_types: ListBuilder<StringBuilder>,
    resource_names: ListBuilder<StringBuilder>,
    record: StringBuilder,
    n_rows: usize,
    text_bytes: usize,
}

impl Default for BatchBuilder {
    fn default() -> BatchBuilder {
        let list = || ListBuilder::new(StringBuilder::new()).with_field(Field::new("item", DataType::Utf8, false));
        BatchBuilder {
            account: StringBuilder::new(),
            region: StringBuilder::new(),
            event_time: TimestampMillisecondBuilder::new().with_timezone("UTC"),
            lsn: UInt64Builder::new(),
            event_category: StringBuilder::new(),
            event_id: StringBuilder::new(),
            event_name: StringBuilder::new(),
            read_only: BooleanBuilder::new(),
            username: StringBuilder::new(),
            access_key_id: StringBuilder::new(),
            event_source: StringBuilder::new(),
            resource_types: list(),
            resource_names: list(),
            record: StringBuilder::new(),
            n_rows: 0,
            text_bytes: 0,
        }
    }
}

impl BatchBuilder {
    fn append(&mut self, account: &str, region: &str, lsn: Lsn, record: &EventRecord) {
        let fields = record.fields();
        self.account.append_value(account);
        self.region.append_value(region);
        self.event_time.append_value(fields.event_time.as_millisecond());
        self.lsn.append_value(lsn.0);
        self.event_category.append_value(&fields.event_category);
        self.event_id.append_value(&fields.event_id);
        self.event_name.append_value(&fields.event_name);
        self.read_only.append_option(fields.read_only);
        self.username.append_option(fields.username());
        self.access_key_id.append_option(fields.access_key_id());
        self.event_source.append_value(&fields.event_source);
        for (builder, key) in [
            (&mut self.resource_types, LookupAttributeKey::ResourceType),
            (&mut self.resource_names, LookupAttributeKey::ResourceName),
        ] {
            let mut values = fields.lookup_attribute_values(key).peekable();
            if values.peek().is_none() {
                builder.append_null();
            } else {
                for value in values {
                    builder.values().append_value(value);
                }
                builder.append(true);
            }
        }
        self.record.append_value(record.text());
        self.n_rows += 1;
        self.text_bytes += record.text().len();
    }

    fn finish(mut self) -> Result<RecordBatch, DatasetError> {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.account.finish()),
            Arc::new(self.region.finish()),
            Arc::new(self.event_time.finish()),
            Arc::new(self.lsn.finish()),
            Arc::new(self.event_category.finish()),
            Arc::new(self.event_id.finish()),
            Arc::new(self.event_name.finish()),
            Arc::new(self.read_only.finish()),
            Arc::new(self.username.finish()),
            Arc::new(self.access_key_id.finish()),
            Arc::new(self.event_source.finish()),
            Arc::new(self.resource_types.finish()),
            Arc::new(self.resource_names.finish()),
            Arc::new(self.record.finish()),
        ];
        RecordBatch::try_new(schema::schema(), columns).map_err(|error| DatasetError::Encode(error.to_string()))
    }
}
