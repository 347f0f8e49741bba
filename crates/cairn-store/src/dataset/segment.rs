//! One opened segment: its footer, partition directory and bloom filters cached in memory, and the
//! reads LookupEvents and compaction make from it.
//!
//! A lookup reads a segment in two steps (`read_keys`, then `read_records`): first the cheap columns
//! (event time, LSN, the one lookup attribute, the category when a chunk mixes categories) of the rows
//! of one partition chunk, to find the keys that match; then the record text of only the rows that
//! make the page. Row selections and the page index keep both reads to the pages that hold those rows.
//!
//! A segment that cannot be read as a valid segment is *broken*: it is logged once, counted, and
//! skipped by every later read, so the rest of the dataset keeps answering.

use std::ops::Range;
use std::sync::{Arc, OnceLock};

use arrow_array::cast::AsArray;
use arrow_array::types::{TimestampMillisecondType, UInt64Type};
use arrow_array::{Array, RecordBatch};
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::ParquetRecordBatchStreamBuilder;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, RowSelection};
use parquet::bloom_filter::Sbbf;
use parquet::errors::ParquetError;
use parquet::file::metadata::PageIndexPolicy;
use tokio::sync::OnceCell;

use super::SegmentKind;
use super::directory::{self, Chunk};
use super::manifest::SegmentEntry;
use super::matcher::{Equals, Matcher};
use super::object_reader::ObjectReader;
use super::schema::{self, EVENT_CATEGORY, EVENT_TIME, LSN, N_COLUMNS, RECORD};
use super::{DatasetError, EventKey};

/// Rows per Arrow batch when reading.
const READ_BATCH_ROWS: usize = 8192;

/// What the rows of one chunk must match to be hits.
#[derive(Debug, Clone)]
pub(crate) struct RowFilter {
    /// Inclusive key bounds.
    pub(crate) low: EventKey,
    pub(crate) high: EventKey,
    pub(crate) insights: bool,
    pub(crate) attribute: AttributeFilter,
}

/// The lookup attribute as a test on one column.
#[derive(Debug, Clone)]
pub(crate) enum AttributeFilter {
    Any,
    /// A string column (or list of strings) equal to (containing) `value`.
    Text {
        column: usize,
        value: String,
    },
    ReadOnly(bool),
}

/// A matching row: its key and where it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit {
    pub(crate) key: EventKey,
    pub(crate) row_group: usize,
    /// Counted from the start of the row group.
    pub(crate) row: usize,
}

/// Why a read of a segment failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The object is not what the manifest says; the segment is now marked broken.
    Corrupt(String),
    /// The object is gone: a newer manifest dropped it (compaction, retention).
    Vanished,
    Io(DatasetError),
}

#[derive(Debug)]
struct Readable {
    metadata: ArrowReaderMetadata,
    chunks: Vec<Chunk>,
}

/// An opened segment. Cheap to share; everything read from its footer stays in memory.
pub(crate) struct Segment {
    entry: SegmentEntry,
    path: Path,
    store: Arc<dyn ObjectStore>,
    readable: Option<Readable>,
    // Invariant: set at most once, to why the segment is unreadable; never cleared.
    broken: OnceLock<String>,
    // Per column: the bloom filter of each row group, loaded on the first lookup by that column.
    blooms: [OnceCell<Arc<Vec<Option<Sbbf>>>>; N_COLUMNS],
}

impl std::fmt::Debug for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Segment")
            .field("id", &self.entry.id)
            .field("broken", &self.broken.get())
            .finish_non_exhaustive()
    }
}

impl Segment {
    /// Opens the segment `entry` names, reading and checking its footer. A segment that fails the checks
    /// is returned broken (and logged); only I/O failures are errors.
    pub(crate) async fn open(
        store: Arc<dyn ObjectStore>,
        entry: SegmentEntry,
        kind: &SegmentKind,
    ) -> Result<Segment, DatasetError> {
        let path = Path::from(entry.path.as_str());
        let readable = match store.head(&path).await {
            Ok(meta) if meta.size != entry.n_bytes => {
                Err(format!("the object has {} bytes, the manifest says {}", meta.size, entry.n_bytes))
            }
            Ok(_) => {
                let mut reader = ObjectReader::new(Arc::clone(&store), path.clone(), entry.n_bytes);
                match ArrowReaderMetadata::load_async(&mut reader, reader_options()).await {
                    Ok(metadata) => check(&entry, metadata, kind),
                    Err(error) => match io_error(&error) {
                        Some(_) => return Err(DatasetError::object_store(&path, error)),
                        None => Err(format!("unreadable footer: {error}")),
                    },
                }
            }
            Err(object_store::Error::NotFound { .. }) => Err("the object is missing".to_owned()),
            Err(error) => return Err(DatasetError::ObjectStore { path: path.to_string(), source: error }),
        };
        Ok(Segment::new(store, entry, path, readable))
    }

    /// A segment just written: its footer is read from `bytes` instead of the store.
    pub(crate) fn from_bytes(
        store: Arc<dyn ObjectStore>,
        entry: SegmentEntry,
        bytes: &Bytes,
        kind: &SegmentKind,
    ) -> Result<Segment, DatasetError> {
        let metadata = ArrowReaderMetadata::load(bytes, reader_options()).map_err(DatasetError::encode)?;
        let readable = check(&entry, metadata, kind).map_err(DatasetError::Encode)?;
        let path = Path::from(entry.path.as_str());
        Ok(Segment::new(store, entry, path, Ok(readable)))
    }

    fn new(
        store: Arc<dyn ObjectStore>,
        entry: SegmentEntry,
        path: Path,
        readable: Result<Readable, String>,
    ) -> Segment {
        let broken = OnceLock::new();
        let readable = match readable {
            Ok(readable) => Some(readable),
            Err(reason) => {
                tracing::error!(segment = %path, %reason, "history segment is corrupt; lookups skip it");
                let _ = broken.set(reason);
                None
            }
        };
        Segment { entry, path, store, readable, broken, blooms: std::array::from_fn(|_| OnceCell::new()) }
    }

    pub(crate) fn entry(&self) -> &SegmentEntry {
        &self.entry
    }

    /// Why the segment is unreadable, if it is.
    pub(crate) fn broken(&self) -> Option<&str> {
        self.broken.get().map(String::as_str)
    }

    /// The error that reports the segment unreadable, if it is.
    pub(crate) fn broken_error(&self) -> Option<DatasetError> {
        Some(self.corrupt(self.broken()?.to_owned()))
    }

    /// A [`DatasetError::CorruptSegment`] naming this segment.
    pub(crate) fn corrupt(&self, reason: String) -> DatasetError {
        DatasetError::CorruptSegment { id: self.entry.id, path: self.entry.path.clone(), reason }
    }

    /// The partition chunks; none when the segment is broken.
    pub(crate) fn chunks(&self) -> &[Chunk] {
        match (&self.readable, self.broken.get()) {
            (Some(readable), None) => &readable.chunks,
            _ => &[],
        }
    }

    /// Reports damage found by a reader outside this module (a record that does not parse).
    pub(crate) fn report_corrupt(&self, reason: String) -> ReadError {
        self.mark_broken(reason)
    }

    /// Marks the segment broken (once) and returns the read error that says so.
    fn mark_broken(&self, reason: String) -> ReadError {
        if self.broken.set(reason.clone()).is_ok() {
            tracing::error!(segment = %self.path, %reason, "history segment is corrupt; lookups skip it");
        }
        ReadError::Corrupt(format!("segment {}: {reason}", self.path))
    }

    fn readable(&self) -> Result<&Readable, ReadError> {
        match (&self.readable, self.broken.get()) {
            (Some(readable), None) => Ok(readable),
            (_, reason) => Err(ReadError::Corrupt(format!("segment {}: {}", self.path, reason.map_or("", |r| r)))),
        }
    }

    /// Whether row group `row_group` may hold `value` in `column` (false only when its bloom filter says no).
    pub(crate) async fn may_contain(&self, row_group: usize, column: usize, value: &str) -> Result<bool, ReadError> {
        if !schema::has_bloom_filter(column) {
            return Ok(true);
        }
        let Some(cell) = self.blooms.get(column) else {
            return Ok(true);
        };
        let filters = cell.get_or_try_init(|| self.load_blooms(column)).await?;
        Ok(match filters.get(row_group) {
            Some(Some(filter)) => filter.check(value),
            _ => true,
        })
    }

    async fn load_blooms(&self, column: usize) -> Result<Arc<Vec<Option<Sbbf>>>, ReadError> {
        let readable = self.readable()?;
        let row_groups = readable.metadata.metadata().row_groups();
        let mut ranges = Vec::new();
        let mut slots = Vec::with_capacity(row_groups.len());
        for row_group in row_groups {
            let chunk = row_group.columns().get(column);
            let range = chunk.and_then(|c| Some((c.bloom_filter_offset()?, c.bloom_filter_length()?)));
            match range.and_then(|(offset, length)| Some((u64::try_from(offset).ok()?, u64::try_from(length).ok()?))) {
                Some((offset, length)) if offset.saturating_add(length) <= self.entry.n_bytes => {
                    slots.push(Some(ranges.len()));
                    ranges.push(offset..offset + length);
                }
                _ => slots.push(None),
            }
        }
        let fetched = self.get_ranges(&ranges).await?;
        let mut filters = Vec::with_capacity(slots.len());
        for slot in slots {
            let filter = match slot.and_then(|index| fetched.get(index)) {
                Some(bytes) => Some(
                    Sbbf::from_bytes(bytes).map_err(|error| self.mark_broken(format!("bad bloom filter: {error}")))?,
                ),
                None => None,
            };
            filters.push(filter);
        }
        Ok(Arc::new(filters))
    }

    async fn get_ranges(&self, ranges: &[Range<u64>]) -> Result<Vec<Bytes>, ReadError> {
        match self.store.get_ranges(&self.path, ranges).await {
            Ok(bytes) => Ok(bytes),
            Err(error) => Err(self.classify_io(error).await),
        }
    }

    /// The hits among rows `rows` (counted from the start of the row group; inside `chunk`, one of
    /// [`Segment::chunks`]), in ascending key order, and, when `need_lowest` or when every row is read
    /// anyway, the key of the first row (the lowest: a chunk is sorted by key).
    ///
    /// The attribute and category columns are read first; the key columns only for the rows that pass.
    pub(crate) async fn read_keys(
        &self,
        chunk: &Chunk,
        rows: Range<usize>,
        filter: &RowFilter,
        need_lowest: bool,
    ) -> Result<(Vec<Hit>, Option<EventKey>), ReadError> {
        let (first_row, n_rows) = (rows.start, rows.len());
        let passing = self.passing_rows(chunk, rows, filter).await?;
        let (offsets, lowest_only) = match passing {
            None => ((0..n_rows).collect::<Vec<_>>(), false),
            Some(mut passing) => {
                let lowest_only = need_lowest && passing.first() != Some(&0) && n_rows > 0;
                if lowest_only {
                    passing.insert(0, 0);
                }
                (passing, lowest_only)
            }
        };
        if offsets.is_empty() {
            return Ok((Vec::new(), None));
        }
        let ranges = offsets.iter().map(|offset| first_row + offset..first_row + offset + 1);
        let batches = self.read(chunk.row_group, &[EVENT_TIME, LSN], ranges).await?;
        let mut hits = Vec::with_capacity(offsets.len());
        let mut lowest = None;
        let mut index = 0;
        for batch in &batches {
            let corrupt = |what: &str| self.mark_broken(format!("column {what} has the wrong type"));
            let times = column(batch, EVENT_TIME)
                .and_then(|c| c.as_primitive_opt::<TimestampMillisecondType>())
                .ok_or_else(|| corrupt("event_time"))?;
            let lsns =
                column(batch, LSN).and_then(|c| c.as_primitive_opt::<UInt64Type>()).ok_or_else(|| corrupt("lsn"))?;
            for row in 0..batch.num_rows() {
                let key = EventKey { event_time_ms: times.value(row), lsn: lsns.value(row) };
                let Some(offset) = offsets.get(index) else {
                    return Err(self.mark_broken(format!("row group {} has more rows than selected", chunk.row_group)));
                };
                if index == 0 && *offset == 0 {
                    lowest = Some(key);
                }
                if !(index == 0 && lowest_only) && filter.low <= key && key <= filter.high {
                    hits.push(Hit { key, row_group: chunk.row_group, row: first_row + offset });
                }
                index += 1;
            }
        }
        if index != offsets.len() {
            return Err(self.mark_broken(format!("row group {} has fewer rows than its directory", chunk.row_group)));
        }
        Ok((hits, lowest))
    }

    /// The offsets (from `rows.start`) of the rows that pass the attribute and category tests, or `None`
    /// when there is nothing to test.
    async fn passing_rows(
        &self,
        chunk: &Chunk,
        rows: Range<usize>,
        filter: &RowFilter,
    ) -> Result<Option<Vec<usize>>, ReadError> {
        let mixed_categories = chunk.n_insights != 0 && chunk.n_insights != chunk.n_rows;
        let attribute_column = match &filter.attribute {
            AttributeFilter::Any => None,
            AttributeFilter::Text { column, .. } => Some(*column),
            AttributeFilter::ReadOnly(_) => Some(schema::READ_ONLY),
        };
        if attribute_column.is_none() && !mixed_categories {
            return Ok(None);
        }
        let mut columns = Vec::new();
        if mixed_categories {
            columns.push(EVENT_CATEGORY);
        }
        columns.extend(attribute_column);
        let n_rows = rows.len();
        let batches = self.read(chunk.row_group, &columns, std::iter::once(rows)).await?;
        let mut passing = Vec::new();
        let mut offset = 0;
        for batch in &batches {
            let corrupt = |what: &str| self.mark_broken(format!("column {what} has the wrong type"));
            let insight = match mixed_categories {
                true => Some(
                    column(batch, EVENT_CATEGORY)
                        .and_then(|c| Equals::new(c, "Insight"))
                        .ok_or_else(|| corrupt("event_category"))?,
                ),
                false => None,
            };
            let matcher = Matcher::new(&filter.attribute, attribute_column.and_then(|c| column(batch, c)))
                .ok_or_else(|| corrupt("attribute"))?;
            if !matcher.is_impossible() {
                let category_ok = |row: usize| insight.as_ref().is_none_or(|i| i.at(row) == filter.insights);
                passing.extend(
                    (0..batch.num_rows())
                        .filter(|row| category_ok(*row) && matcher.matches(*row))
                        .map(|row| offset + row),
                );
            }
            offset += batch.num_rows();
        }
        if offset != n_rows {
            return Err(self.mark_broken(format!("row group {} has fewer rows than its directory", chunk.row_group)));
        }
        Ok(Some(passing))
    }

    /// The (LSN, record text) of `rows` (ascending, counted from the start of `row_group`).
    pub(crate) async fn read_records(&self, row_group: usize, rows: &[usize]) -> Result<Vec<(u64, String)>, ReadError> {
        let ranges = rows.iter().map(|row| *row..row + 1);
        let batches = self.read(row_group, &[LSN, RECORD], ranges).await?;
        let records =
            texts(&batches).ok_or_else(|| self.mark_broken("record columns have the wrong type".to_owned()))?;
        if records.len() != rows.len() {
            return Err(self.mark_broken(format!("row group {row_group} has fewer rows than expected")));
        }
        Ok(records)
    }

    /// The (LSN, record text) of rows `rows` of row group `row_group`, in history order (for compaction).
    pub(crate) async fn read_rows(
        &self,
        row_group: usize,
        rows: Range<usize>,
    ) -> Result<Vec<(u64, String)>, ReadError> {
        let n_rows = rows.len();
        let batches = self.read(row_group, &[LSN, RECORD], std::iter::once(rows)).await?;
        let records =
            texts(&batches).ok_or_else(|| self.mark_broken("record columns have the wrong type".to_owned()))?;
        if records.len() != n_rows {
            return Err(self.mark_broken(format!("row group {row_group} has fewer rows than expected")));
        }
        Ok(records)
    }

    pub(crate) fn n_row_groups(&self) -> usize {
        self.readable.as_ref().map_or(0, |r| r.metadata.metadata().num_row_groups())
    }

    pub(crate) fn row_group_rows(&self, row_group: usize) -> usize {
        let metadata = self.readable.as_ref().map(|r| r.metadata.metadata());
        let row_group = metadata.and_then(|m| m.row_groups().get(row_group));
        row_group.map_or(0, |rg| usize::try_from(rg.num_rows()).unwrap_or(0))
    }

    async fn read(
        &self,
        row_group: usize,
        columns: &[usize],
        rows: impl Iterator<Item = Range<usize>>,
    ) -> Result<Vec<RecordBatch>, ReadError> {
        let readable = self.readable()?;
        let n_rows = self.row_group_rows(row_group);
        let reader = ObjectReader::new(Arc::clone(&self.store), self.path.clone(), self.entry.n_bytes);
        let mask = ProjectionMask::leaves(readable.metadata.parquet_schema(), columns.iter().copied());
        let stream = ParquetRecordBatchStreamBuilder::new_with_metadata(reader, readable.metadata.clone())
            .with_row_groups(vec![row_group])
            .with_projection(mask)
            .with_row_selection(RowSelection::from_consecutive_ranges(rows, n_rows))
            .with_batch_size(READ_BATCH_ROWS)
            .build();
        let result = match stream {
            Ok(stream) => stream.try_collect::<Vec<_>>().await,
            Err(error) => Err(error),
        };
        match result {
            Ok(batches) => Ok(batches),
            Err(error) => match io_error(&error) {
                Some(_) => Err(self.classify_io(error).await),
                None => Err(self.mark_broken(format!("row group {row_group}: {error}"))),
            },
        }
    }

    /// Tells a vanished object and a truncated one from a failing store.
    async fn classify_io(&self, error: impl std::fmt::Display) -> ReadError {
        match self.store.head(&self.path).await {
            Err(object_store::Error::NotFound { .. }) => ReadError::Vanished,
            Ok(meta) if meta.size != self.entry.n_bytes => self
                .mark_broken(format!("the object has {} bytes, the manifest says {}", meta.size, self.entry.n_bytes)),
            _ => ReadError::Io(DatasetError::object_store(&self.path, error)),
        }
    }
}

fn reader_options() -> ArrowReaderOptions {
    ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Required)
}

/// Checks that a footer is a segment of `kind` matching its manifest entry, and reads a history
/// segment's directory.
fn check(entry: &SegmentEntry, metadata: ArrowReaderMetadata, kind: &SegmentKind) -> Result<Readable, String> {
    let schema = match kind {
        SegmentKind::History => schema::schema(),
        SegmentKind::Plain(schema) => Arc::clone(schema),
    };
    let fields_match = metadata.schema().fields().len() == schema.fields().len()
        && metadata
            .schema()
            .fields()
            .iter()
            .zip(schema.fields())
            .all(|(found, expected)| found.name() == expected.name() && found.data_type() == expected.data_type());
    if !fields_match {
        return Err("the columns are not those the dataset holds".to_owned());
    }
    let file = metadata.metadata().file_metadata();
    if u64::try_from(file.num_rows()).ok() != Some(entry.n_rows) {
        return Err(format!("the file has {} rows, the manifest says {}", file.num_rows(), entry.n_rows));
    }
    if matches!(kind, SegmentKind::Plain(_)) {
        return Ok(Readable { metadata, chunks: Vec::new() });
    }
    let row_group_rows: Vec<usize> = metadata
        .metadata()
        .row_groups()
        .iter()
        .map(|rg| usize::try_from(rg.num_rows()).unwrap_or(usize::MAX))
        .collect();
    let text = file
        .key_value_metadata()
        .and_then(|entries| entries.iter().find(|kv| kv.key == directory::DIRECTORY_KEY))
        .and_then(|kv| kv.value.as_deref())
        .ok_or("the partition directory is missing")?;
    let chunks = directory::decode(text, &row_group_rows)?;
    // Reads use the same footer with string columns decoded as dictionaries.
    let metadata = ArrowReaderMetadata::try_new(
        Arc::clone(metadata.metadata()),
        reader_options().with_schema(schema::read_schema()),
    )
    .map_err(|error| format!("the columns cannot be read as dictionaries: {error}"))?;
    Ok(Readable { metadata, chunks })
}

/// The object-store error inside a Parquet error, if that is what it is.
fn io_error(error: &ParquetError) -> Option<&object_store::Error> {
    match error {
        ParquetError::External(inner) => inner.downcast_ref::<object_store::Error>(),
        _ => None,
    }
}

fn column(batch: &RecordBatch, index: usize) -> Option<&dyn Array> {
    batch.column_by_name(schema::name(index)).map(|array| array.as_ref())
}

fn texts(batches: &[RecordBatch]) -> Option<Vec<(u64, String)>> {
    let mut out = Vec::new();
    for batch in batches {
        let lsns = column(batch, LSN)?.as_primitive_opt::<UInt64Type>()?;
        let records = column(batch, RECORD)?.as_string_opt::<i32>()?;
        out.extend((0..batch.num_rows()).map(|i| (lsns.value(i), records.value(i).to_owned())));
    }
    Some(out)
}
