//! What an import shows while it runs: a progress bar on stderr (drawn only on a terminal: files, events, MB/s of
//! input, ETA), the first refused records and failed files as `FILE: record N: reason` lines, and, with
//! `--errors`, every refusal and failure as one NDJSON line.
//!
//! Reading threads report each file once it is read; the tallies here are what the summary prints.

use std::fs::File;
use std::io::{BufWriter, Write as _};
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{HumanCount, ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;

/// Refused records shown on stderr; the rest are counted. Failed files are always shown: they are few, and
/// each loses a whole file.
const SHOWN: u64 = 10;

const BAR_TEMPLATE: &str =
    "{spinner} {elapsed_precise} [{wide_bar}] {percent:>3}% · {msg} · {decimal_bytes_per_sec} · ETA {eta}";

/// A record that was not imported: its 1-based position in its file, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    pub(crate) record: usize,
    pub(crate) reason: String,
}

/// What became of one file.
#[derive(Debug)]
pub(crate) enum FileReport<'a> {
    /// Read: `accepted` records go on to the store, `refused` do not.
    Read { accepted: usize, refused: &'a [Refusal] },
    /// A digest file, recognised by its content.
    Digest,
    /// Not readable as a whole.
    Failed { reason: String },
}

/// Tallies over every file reported.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tallies {
    pub(crate) files_read: u64,
    pub(crate) files_failed: u64,
    /// Digest files recognised by content (those recognised by name never reach the reader).
    pub(crate) digests: u64,
    pub(crate) bytes: u64,
    pub(crate) accepted: u64,
    pub(crate) refused: u64,
}

/// Where reports go; shared by the reading threads.
pub(crate) struct Reporter {
    bar: ProgressBar,
    n_files: u64,
    state: Mutex<State>,
}

struct State {
    tallies: Tallies,
    n_shown: u64,
    errors: Option<ErrorsFile>,
}

struct ErrorsFile {
    writer: BufWriter<File>,
    // The first write that failed; the file is abandoned from there.
    failure: Option<std::io::Error>,
}

/// One line of the `--errors` file. `record` is null for a failed file.
#[derive(Serialize)]
struct ErrorLine<'a> {
    file: &'a str,
    record: Option<usize>,
    reason: &'a str,
}

impl Reporter {
    /// `errors`: the `--errors` file, created (or emptied) now. `draw`: show the progress bar.
    pub(crate) fn new(
        n_files: u64,
        n_bytes: u64,
        errors: Option<&Path>,
        draw: bool,
    ) -> Result<Reporter, std::io::Error> {
        let errors = match errors {
            Some(path) => Some(ErrorsFile { writer: BufWriter::new(File::create(path)?), failure: None }),
            None => None,
        };
        let bar = if draw {
            let bar = ProgressBar::with_draw_target(Some(n_bytes), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template(BAR_TEMPLATE)
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        } else {
            ProgressBar::hidden()
        };
        let reporter =
            Reporter { bar, n_files, state: Mutex::new(State { tallies: Tallies::default(), n_shown: 0, errors }) };
        reporter.bar.set_message(reporter.message(&Tallies::default()));
        Ok(reporter)
    }

    /// Records what became of `file` (`n_bytes` long as found).
    pub(crate) fn file(&self, file: &Path, n_bytes: u64, report: FileReport<'_>) {
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let state = &mut *state;
        state.tallies.bytes += n_bytes;
        let name = file.display().to_string();
        match report {
            FileReport::Read { accepted, refused } => {
                state.tallies.files_read += 1;
                state.tallies.accepted += accepted as u64;
                state.tallies.refused += refused.len() as u64;
                for refusal in refused {
                    if state.n_shown < SHOWN {
                        state.n_shown += 1;
                        self.bar.suspend(|| eprintln!("{name}: record {}: {}", refusal.record, refusal.reason));
                    }
                    if let Some(errors) = state.errors.as_mut() {
                        errors.write(&ErrorLine { file: &name, record: Some(refusal.record), reason: &refusal.reason });
                    }
                }
            }
            FileReport::Digest => state.tallies.digests += 1,
            FileReport::Failed { reason } => {
                state.tallies.files_failed += 1;
                self.bar.suspend(|| eprintln!("{name}: {reason}"));
                if let Some(errors) = state.errors.as_mut() {
                    errors.write(&ErrorLine { file: &name, record: None, reason: &reason });
                }
            }
        }
        self.bar.set_message(self.message(&state.tallies));
        self.bar.inc(n_bytes);
    }

    /// Removes the bar and closes the errors file. Returns the tallies, and the errors file's failure if
    /// writing it failed.
    pub(crate) fn finish(&self) -> (Tallies, Option<std::io::Error>) {
        self.bar.finish_and_clear();
        let mut state = self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let failure = state.errors.take().and_then(ErrorsFile::close);
        let hidden = state.tallies.refused.saturating_sub(state.n_shown);
        if hidden > 0 {
            eprintln!("… and {hidden} more refused records (--errors FILE lists them all)");
        }
        (state.tallies, failure)
    }

    fn message(&self, tallies: &Tallies) -> String {
        let done = tallies.files_read + tallies.files_failed + tallies.digests;
        format!("{}/{} files · {} events", HumanCount(done), HumanCount(self.n_files), HumanCount(tallies.accepted))
    }
}

impl ErrorsFile {
    fn write(&mut self, line: &ErrorLine<'_>) {
        if self.failure.is_some() {
            return;
        }
        let written = serde_json::to_writer(&mut self.writer, line)
            .map_err(std::io::Error::from)
            .and_then(|()| self.writer.write_all(b"\n"));
        if let Err(error) = written {
            self.failure = Some(error);
        }
    }

    fn close(mut self) -> Option<std::io::Error> {
        if self.failure.is_none()
            && let Err(error) = self.writer.flush()
        {
            self.failure = Some(error);
        }
        self.failure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_and_failure_goes_to_the_errors_file_as_ndjson() {
        let dir = tempfile::tempdir().unwrap();
        let errors = dir.path().join("errors.ndjson");
        let reporter = Reporter::new(3, 30, Some(&errors), false).unwrap();
        let refused: Vec<Refusal> =
            (1..=12).map(|n| Refusal { record: n * 2, reason: format!("missing field eventTime ({n})") }).collect();
        reporter.file(Path::new("a.json"), 10, FileReport::Read { accepted: 5, refused: &refused });
        reporter.file(Path::new("b.json.gz"), 10, FileReport::Failed { reason: "not a valid gzip file".to_owned() });
        reporter.file(Path::new("c.json"), 10, FileReport::Digest);
        let (tallies, failure) = reporter.finish();
        assert!(failure.is_none());
        assert_eq!(
            tallies,
            Tallies { files_read: 1, files_failed: 1, digests: 1, bytes: 30, accepted: 5, refused: 12 }
        );
        let lines: Vec<serde_json::Value> =
            std::fs::read_to_string(&errors).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
        assert_eq!(lines.len(), 13);
        assert_eq!(
            lines[0],
            serde_json::json!({"file": "a.json", "record": 2, "reason": "missing field eventTime (1)"})
        );
        assert_eq!(
            lines[12],
            serde_json::json!({"file": "b.json.gz", "record": null, "reason": "not a valid gzip file"})
        );
    }

    #[test]
    fn the_message_counts_files_and_events() {
        let reporter = Reporter::new(2_000, 1, None, false).unwrap();
        let tallies =
            Tallies { files_read: 1_200, files_failed: 2, digests: 3, accepted: 1_234_567, ..Tallies::default() };
        assert_eq!(reporter.message(&tallies), "1,205/2,000 files · 1,234,567 events");
    }
}
