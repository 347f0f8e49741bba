//! A segment's partition directory: where each (account, region) run of rows sits, per row group.
//!
//! # Format (version 1)
//!
//! Stored in the Parquet footer as the key-value metadata entry `cairn.history.directory`, a JSON object
//! `{"format_version": 1, "chunks": [...]}`. Each chunk is the run of one (account, region) inside one
//! row group, in file order (rows are sorted by account, region, event time, LSN):
//!
//! ```json
//! {"account": "111111111111", "region": "us-east-1", "row_group": 0, "first_row": 0, "n_rows": 4096,
//!  "min_time_ms": 1700000000000, "max_time_ms": 1700000500000, "max_lsn": 9000, "n_insights": 0}
//! ```
//!
//! `first_row` counts from the start of the row group. LookupEvents reads a chunk's rows only when its
//! account and region match and its time range meets the query; `n_insights` skips chunks without
//! Insights events for `EventCategory=insight` and the category column for chunks without any.

use serde::{Deserialize, Serialize};

/// The key-value metadata key of the directory.
pub(crate) const DIRECTORY_KEY: &str = "cairn.history.directory";
const DIRECTORY_FORMAT_VERSION: u32 = 1;

/// One (account, region) run of rows inside one row group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Chunk {
    pub(crate) account: String,
    pub(crate) region: String,
    pub(crate) row_group: usize,
    pub(crate) first_row: usize,
    pub(crate) n_rows: usize,
    pub(crate) min_time_ms: i64,
    pub(crate) max_time_ms: i64,
    pub(crate) max_lsn: u64,
    pub(crate) n_insights: usize,
}

#[derive(Debug, Serialize, Deserialize)]
struct Directory {
    format_version: u32,
    chunks: Vec<Chunk>,
}

pub(crate) fn encode(chunks: Vec<Chunk>) -> String {
    let directory = Directory { format_version: DIRECTORY_FORMAT_VERSION, chunks };
    // Plain strings and numbers always serialize.
    serde_json::to_string(&directory).unwrap_or_default()
}

/// Reads a directory and checks it against the row groups it describes (`row_group_rows[i]` is the
/// row count of row group `i`): chunks in order, inside their row group, covering every row.
pub(crate) fn decode(text: &str, row_group_rows: &[usize]) -> Result<Vec<Chunk>, String> {
    let directory: Directory =
        serde_json::from_str(text).map_err(|error| format!("malformed partition directory: {error}"))?;
    if directory.format_version != DIRECTORY_FORMAT_VERSION {
        return Err(format!("partition directory format {} is not supported", directory.format_version));
    }
    let mut expected_row_group = 0;
    let mut expected_first_row = 0;
    for chunk in &directory.chunks {
        if chunk.row_group != expected_row_group || chunk.first_row != expected_first_row {
            if chunk.row_group == expected_row_group + 1
                && chunk.first_row == 0
                && row_group_rows.get(expected_row_group) == Some(&expected_first_row)
            {
                expected_row_group += 1;
            } else {
                return Err(format!("partition directory has a gap before row group {}", chunk.row_group));
            }
        }
        let end = chunk.first_row.checked_add(chunk.n_rows).filter(|_| chunk.n_rows > 0);
        match (end, row_group_rows.get(chunk.row_group)) {
            (Some(end), Some(&rows)) if end <= rows => expected_first_row = end,
            _ => return Err(format!("partition directory overruns row group {}", chunk.row_group)),
        }
    }
    let n_row_groups = row_group_rows.iter().filter(|rows| **rows > 0).count();
    let covered = directory.chunks.is_empty()
        || (expected_row_group + 1 == n_row_groups
            && row_group_rows.get(expected_row_group) == Some(&expected_first_row));
    if !covered || (directory.chunks.is_empty() && n_row_groups > 0) {
        return Err("partition directory does not cover every row".to_owned());
    }
    Ok(directory.chunks)
}
