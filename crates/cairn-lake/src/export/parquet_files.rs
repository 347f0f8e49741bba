//! The Parquet form of an export: the store's rows in its Lake schema, sorted by event time, in files
//! of at most [`PARQUET_ROWS_PER_FILE`] rows with zstd compression. Each file is written under a
//! temporary name, synced and then renamed, so a crash never leaves a truncated `.parquet` file.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::{EnabledStatistics, WriterProperties};

use super::{Export, ExportError};

/// Rows per exported Parquet file at most.
pub const PARQUET_ROWS_PER_FILE: usize = 1_000_000;
/// Rows per row group: what the writer buffers before compressing a group out.
const ROW_GROUP_ROWS: usize = 64 * 1024;

/// What a Parquet export wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParquetWritten {
    pub n_events: u64,
    pub files: Vec<PathBuf>,
    pub n_bytes: u64,
}

impl Export {
    /// Writes the selected events into `dir` as `events-00000.parquet`, `events-00001.parquet`, … of at
    /// most `rows_per_file` rows. The same selection gives the same names, so a re-run overwrites.
    pub async fn write_parquet(&self, dir: &Path, rows_per_file: usize) -> Result<ParquetWritten, ExportError> {
        let mut files =
            ParquetFiles { dir, rows_per_file: rows_per_file.max(1), open: None, written: Default::default() };
        self.for_each_batch(|batch| files.write(batch)).await?;
        files.finish()
    }
}

struct OpenFile {
    temp: PathBuf,
    path: PathBuf,
    writer: ArrowWriter<File>,
    n_rows: usize,
}

struct ParquetFiles<'a> {
    dir: &'a Path,
    rows_per_file: usize,
    open: Option<OpenFile>,
    written: ParquetWritten,
}

fn encode_error(error: impl std::fmt::Display) -> ExportError {
    ExportError::Encode(error.to_string())
}

fn write_error(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError + '_ {
    move |source| ExportError::Write { path: path.to_path_buf(), source }
}

impl ParquetFiles<'_> {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), ExportError> {
        let mut offset = 0;
        while offset < batch.num_rows() {
            let mut file = match self.open.take() {
                Some(file) => file,
                None => self.create(batch.schema())?,
            };
            let n = (self.rows_per_file - file.n_rows).min(batch.num_rows() - offset);
            file.writer.write(&batch.slice(offset, n)).map_err(encode_error)?;
            file.n_rows += n;
            offset += n;
            if file.n_rows >= self.rows_per_file {
                self.close(file)?;
            } else {
                self.open = Some(file);
            }
        }
        Ok(())
    }

    fn create(&self, schema: SchemaRef) -> Result<OpenFile, ExportError> {
        let name = format!("events-{:05}.parquet", self.written.files.len());
        let path = self.dir.join(&name);
        let temp = self.dir.join(format!(".{name}.tmp"));
        let file = File::create(&temp).map_err(write_error(&temp))?;
        let properties = WriterProperties::builder()
            .set_created_by("cairn".to_owned())
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).map_err(encode_error)?))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .set_statistics_enabled(EnabledStatistics::Page)
            .build();
        let writer = ArrowWriter::try_new(file, schema, Some(properties)).map_err(encode_error)?;
        Ok(OpenFile { temp, path, writer, n_rows: 0 })
    }

    fn close(&mut self, open: OpenFile) -> Result<(), ExportError> {
        let file = open.writer.into_inner().map_err(encode_error)?;
        file.sync_all().map_err(write_error(&open.temp))?;
        drop(file);
        std::fs::rename(&open.temp, &open.path).map_err(write_error(&open.path))?;
        self.written.n_bytes += std::fs::metadata(&open.path).map_err(write_error(&open.path))?.len();
        self.written.n_events += open.n_rows as u64;
        self.written.files.push(open.path);
        Ok(())
    }

    fn finish(mut self) -> Result<ParquetWritten, ExportError> {
        if let Some(open) = self.open.take() {
            self.close(open)?;
        }
        // The renames are durable once the directory is.
        File::open(self.dir).and_then(|dir| dir.sync_all()).map_err(write_error(self.dir))?;
        Ok(self.written)
    }
}
