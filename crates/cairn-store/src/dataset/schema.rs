//! The columns of an Event history segment and how each is encoded in Parquet.
//!
//! | column           | type                    | encoding                  | statistics | bloom filter |
//! | ---------------- | ----------------------- | ------------------------- | ---------- | ------------ |
//! | `account`        | utf8                    | dictionary                | page       |              |
//! | `region`         | utf8                    | dictionary                | page       |              |
//! | `event_time`     | timestamp(ms, UTC)      | delta binary packed       | page       |              |
//! | `lsn`            | uint64                  | delta binary packed       | page       |              |
//! | `event_category` | utf8                    | dictionary                | chunk      |              |
//! | `event_id`       | utf8                    | plain                     |            | yes          |
//! | `event_name`     | utf8                    | dictionary                | chunk      | yes          |
//! | `read_only`      | bool, nullable          | rle                       | chunk      |              |
//! | `username`       | utf8, nullable          | dictionary                | chunk      | yes          |
//! | `access_key_id`  | utf8, nullable          | dictionary                | chunk      | yes          |
//! | `event_source`   | utf8                    | dictionary                | chunk      | yes          |
//! | `resource_types` | list<utf8>, nullable    | dictionary                | chunk      | yes          |
//! | `resource_names` | list<utf8>, nullable    | dictionary                | chunk      | yes          |
//! | `record`         | utf8                    | plain                     |            |              |
//!
//! `account` is the recipient account (the history partition), `record` the exact `CloudTrailEvent`
//! text. The lookup columns hold what `EventFields::lookup_attribute_values` yields, so an equality
//! test on a column is exactly LookupEvents' attribute match. Rows are sorted by
//! (`account`, `region`, `event_time`, `lsn`); every column is zstd-compressed.

use std::sync::{Arc, OnceLock};

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use cairn_model::event::{EventFields, LookupAttributeKey};
use parquet::arrow::ArrowSchemaConverter;
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::file::metadata::SortingColumn;
use parquet::file::properties::{BloomFilterPosition, EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

pub(crate) const ACCOUNT: usize = 0;
pub(crate) const REGION: usize = 1;
pub(crate) const EVENT_TIME: usize = 2;
pub(crate) const LSN: usize = 3;
pub(crate) const EVENT_CATEGORY: usize = 4;
pub(crate) const EVENT_ID: usize = 5;
pub(crate) const EVENT_NAME: usize = 6;
pub(crate) const READ_ONLY: usize = 7;
pub(crate) const USERNAME: usize = 8;
pub(crate) const ACCESS_KEY_ID: usize = 9;
pub(crate) const EVENT_SOURCE: usize = 10;
pub(crate) const RESOURCE_TYPES: usize = 11;
pub(crate) const RESOURCE_NAMES: usize = 12;
pub(crate) const RECORD: usize = 13;
pub(crate) const N_COLUMNS: usize = 14;

/// Each top-level column has exactly one Parquet leaf, in the same order, so these indexes are also
/// leaf (column chunk) indexes.
const NAMES: [&str; N_COLUMNS] = [
    "account",
    "region",
    "event_time",
    "lsn",
    "event_category",
    "event_id",
    "event_name",
    "read_only",
    "username",
    "access_key_id",
    "event_source",
    "resource_types",
    "resource_names",
    "record",
];

const WITH_BLOOM_FILTER: [usize; 7] =
    [EVENT_ID, EVENT_NAME, USERNAME, ACCESS_KEY_ID, EVENT_SOURCE, RESOURCE_TYPES, RESOURCE_NAMES];
const DICTIONARY_READS: [usize; 7] =
    [ACCOUNT, REGION, EVENT_CATEGORY, EVENT_NAME, USERNAME, ACCESS_KEY_ID, EVENT_SOURCE];
const WITHOUT_DICTIONARY: [usize; 4] = [EVENT_TIME, LSN, EVENT_ID, RECORD];
const PAGE_STATISTICS: [usize; 4] = [ACCOUNT, REGION, EVENT_TIME, LSN];
const NO_STATISTICS: [usize; 2] = [EVENT_ID, RECORD];

/// How segments are cut and encoded: the knobs measured for issue 3.
#[derive(Debug, Clone)]
pub struct SegmentFormat {
    /// Rows per row group (the unit of statistics and bloom filters).
    pub row_group_rows: usize,
    /// Rows per data page at most: lookups read a chunk in windows of this many rows, newest first, and
    /// skip the pages of windows they do not need.
    pub page_rows: usize,
    /// Target size of a `record` page before compression; a lookup decompresses one page per
    /// returned event at most, so smaller pages answer faster and compress a little worse.
    pub record_page_bytes: usize,
    pub zstd_level: i32,
    /// False-positive probability of each bloom filter, after folding to the values present.
    pub bloom_filter_fpp: f64,
}

impl SegmentFormat {
    pub fn new(row_group_rows: usize) -> SegmentFormat {
        // Measured on 1 M and 10 M events built from the invictus corpus (issue 3): 64 KiB record pages
        // keep a scattered page of 50 events to ~3 MB of decompression at 224 bytes per event on disk
        // (256 KiB pages: 189 bytes but 4x the decompression; zstd 9 saves 7% and halves flush speed).
        SegmentFormat {
            row_group_rows: row_group_rows.max(1),
            page_rows: row_group_rows.div_ceil(2).clamp(1, 8192),
            record_page_bytes: 64 * 1024,
            zstd_level: 3,
            bloom_filter_fpp: 0.01,
        }
    }
}

/// The Arrow schema of a segment.
pub(crate) fn schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA.get_or_init(build_schema).clone()
}

/// [`schema`] with the low-cardinality string columns as dictionaries: the Arrow types reads ask for, so
/// that dictionary-encoded pages are not expanded into strings.
pub(crate) fn read_schema() -> SchemaRef {
    static SCHEMA: OnceLock<SchemaRef> = OnceLock::new();
    SCHEMA
        .get_or_init(|| {
            let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8));
            let fields: Vec<Field> = schema()
                .fields()
                .iter()
                .enumerate()
                .map(|(index, field)| match DICTIONARY_READS.contains(&index) {
                    true => field.as_ref().clone().with_data_type(dictionary.clone()),
                    false => field.as_ref().clone(),
                })
                .collect();
            Arc::new(Schema::new(fields))
        })
        .clone()
}

fn build_schema() -> SchemaRef {
    let utf8 = |index: usize, nullable: bool| Field::new(name(index), DataType::Utf8, nullable);
    let list = |index: usize| {
        Field::new(name(index), DataType::List(Arc::new(Field::new("item", DataType::Utf8, false))), true)
    };
    Arc::new(Schema::new(vec![
        utf8(ACCOUNT, false),
        utf8(REGION, false),
        Field::new(name(EVENT_TIME), DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())), false),
        Field::new(name(LSN), DataType::UInt64, false),
        utf8(EVENT_CATEGORY, false),
        utf8(EVENT_ID, false),
        utf8(EVENT_NAME, false),
        Field::new(name(READ_ONLY), DataType::Boolean, true),
        utf8(USERNAME, true),
        utf8(ACCESS_KEY_ID, true),
        utf8(EVENT_SOURCE, false),
        list(RESOURCE_TYPES),
        list(RESOURCE_NAMES),
        utf8(RECORD, false),
    ]))
}

pub(crate) fn name(index: usize) -> &'static str {
    NAMES.get(index).copied().unwrap_or("unknown")
}

/// The column holding a lookup attribute.
pub(crate) fn attribute_column(key: LookupAttributeKey) -> usize {
    match key {
        LookupAttributeKey::EventId => EVENT_ID,
        LookupAttributeKey::EventName => EVENT_NAME,
        LookupAttributeKey::ReadOnly => READ_ONLY,
        LookupAttributeKey::Username => USERNAME,
        LookupAttributeKey::ResourceType => RESOURCE_TYPES,
        LookupAttributeKey::ResourceName => RESOURCE_NAMES,
        LookupAttributeKey::EventSource => EVENT_SOURCE,
        LookupAttributeKey::AccessKeyId => ACCESS_KEY_ID,
    }
}

/// The history partition of an event, (recipient account, region), or `None` when Event history does
/// not show it: data and network-activity events, and events without an account.
pub(crate) fn history_partition(fields: &EventFields) -> Option<(&str, &str)> {
    if !matches!(fields.event_category.as_str(), "Management" | "Insight") {
        return None;
    }
    let account = fields.recipient_account_id.as_deref().or(fields.user_identity.account_id.as_deref())?;
    Some((account, fields.aws_region.as_str()))
}

/// Whether `column` has a bloom filter.
pub(crate) fn has_bloom_filter(column: usize) -> bool {
    WITH_BLOOM_FILTER.contains(&column)
}

/// The Parquet writer settings for `format`.
pub(crate) fn writer_properties(format: &SegmentFormat) -> Result<WriterProperties, parquet::errors::ParquetError> {
    let descriptor = ArrowSchemaConverter::new().convert(&schema())?;
    let path = |index: usize| -> ColumnPath { descriptor.column(index).path().clone() };
    let level = ZstdLevel::try_new(format.zstd_level)?;
    let row_group_rows = format.row_group_rows.max(1);
    let mut builder = WriterProperties::builder()
        .set_created_by("cairn".to_owned())
        .set_compression(Compression::ZSTD(level))
        .set_data_page_row_count_limit(format.page_rows.max(1))
        .set_write_batch_size(format.page_rows.clamp(1, 1024))
        .set_max_row_group_row_count(Some(row_group_rows))
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_bloom_filter_position(BloomFilterPosition::End)
        .set_sorting_columns(Some(
            [ACCOUNT, REGION, EVENT_TIME, LSN]
                .into_iter()
                .map(|index| SortingColumn { column_idx: index as i32, descending: false, nulls_first: false })
                .collect(),
        ))
        .set_column_data_page_size_limit(path(RECORD), format.record_page_bytes.max(1024));
    for index in WITHOUT_DICTIONARY {
        builder = builder.set_column_dictionary_enabled(path(index), false);
    }
    for index in [EVENT_TIME, LSN] {
        builder = builder.set_column_encoding(path(index), Encoding::DELTA_BINARY_PACKED);
    }
    for index in PAGE_STATISTICS {
        builder = builder.set_column_statistics_enabled(path(index), EnabledStatistics::Page);
    }
    for index in NO_STATISTICS {
        builder = builder.set_column_statistics_enabled(path(index), EnabledStatistics::None);
    }
    for index in WITH_BLOOM_FILTER {
        builder = builder
            .set_column_bloom_filter_enabled(path(index), true)
            .set_column_bloom_filter_fpp(path(index), format.bloom_filter_fpp)
            .set_column_bloom_filter_max_ndv(path(index), row_group_rows as u64);
    }
    Ok(builder.build())
}
