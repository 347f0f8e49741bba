//! Which files an import reads: every file named on the command line, and under each folder (recursively, links
//! followed) the files whose names say they hold CloudTrail records. Digest files (`CloudTrail-Digest/`) and
//! anything else found in a folder are skipped and counted.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

/// Names of files read from folders (compared without case). `lines`: NDJSON by name.
const KNOWN_SUFFIXES: [(&str, bool); 6] = [
    (".json", false),
    (".json.gz", false),
    (".ndjson", true),
    (".ndjson.gz", true),
    (".jsonl", true),
    (".jsonl.gz", true),
];

/// The files to read and what was left out.
#[derive(Debug, Default)]
pub(crate) struct Discovery {
    /// In a stable order: the arguments in order, each folder's files sorted by path.
    pub(crate) files: Vec<InputFile>,
    pub(crate) skipped: Skipped,
    /// Files or folders that could not be listed, with the reason.
    pub(crate) unreadable: Vec<(PathBuf, String)>,
}

impl Discovery {
    pub(crate) fn total_bytes(&self) -> u64 {
        self.files.iter().map(|f| f.size).sum()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InputFile {
    pub(crate) path: PathBuf,
    pub(crate) size: u64,
    /// NDJSON by its name (`.ndjson`, `.jsonl`, optionally `.gz`).
    pub(crate) lines: bool,
}

/// Files found but not read.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Skipped {
    /// CloudTrail digest files.
    pub(crate) digests: u64,
    /// Files in folders whose names are not those of log files.
    pub(crate) other: u64,
}

impl Skipped {
    pub(crate) fn total(&self) -> u64 {
        self.digests + self.other
    }
}

/// A path given on the command line that does not exist.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub(crate) struct MissingPath {
    path: PathBuf,
    source: std::io::Error,
}

/// Lists the files under `paths`. Fails only when a path given does not exist; anything unreadable further down is
/// listed in [`Discovery::unreadable`].
pub(crate) fn discover(paths: &[PathBuf]) -> Result<Discovery, MissingPath> {
    let mut discovery = Discovery::default();
    let mut seen = HashSet::new();
    for path in paths {
        let metadata = std::fs::metadata(path).map_err(|source| MissingPath { path: path.clone(), source })?;
        if metadata.is_dir() {
            visit_folder(path, &mut discovery, &mut seen);
        } else if is_digest(path) {
            discovery.skipped.digests += 1;
        } else if seen.insert(identity(path)) {
            // A file named explicitly is read whatever its name; its content says what it is.
            discovery.files.push(InputFile { path: path.clone(), size: metadata.len(), lines: lines_by_name(path) });
        }
    }
    Ok(discovery)
}

fn visit_folder(folder: &Path, discovery: &mut Discovery, seen: &mut HashSet<PathBuf>) {
    for entry in WalkDir::new(folder).follow_links(true).sort_by_file_name() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let path = error.path().unwrap_or(folder).to_path_buf();
                discovery.unreadable.push((path, error.to_string()));
                continue;
            }
        };
        if entry.file_type().is_dir() {
            continue;
        }
        let path = entry.path();
        let id = identity(path);
        if seen.contains(&id) {
            continue;
        }
        if is_digest(path) {
            discovery.skipped.digests += 1;
            continue;
        }
        let Some(lines) = known_suffix(path) else {
            discovery.skipped.other += 1;
            continue;
        };
        match entry.metadata() {
            Ok(metadata) => {
                seen.insert(id);
                discovery.files.push(InputFile { path: path.to_path_buf(), size: metadata.len(), lines });
            }
            Err(error) => discovery.unreadable.push((path.to_path_buf(), error.to_string())),
        }
    }
}

/// The same file named twice (directly and through its folder, or through a link) is read once.
fn identity(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Digest files live under `CloudTrail-Digest/` and are named `…_CloudTrail-Digest_…`.
pub(crate) fn is_digest(path: &Path) -> bool {
    let in_digest_folder = path.components().any(|c| c.as_os_str() == "CloudTrail-Digest");
    let name = path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default();
    in_digest_folder || name.contains("_CloudTrail-Digest_")
}

/// `Some(lines)` when the name ends in one of [`KNOWN_SUFFIXES`].
pub(crate) fn known_suffix(path: &Path) -> Option<bool> {
    let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
    KNOWN_SUFFIXES.iter().find(|(suffix, _)| name.ends_with(suffix)).map(|(_, lines)| *lines)
}

fn lines_by_name(path: &Path) -> bool {
    known_suffix(path).unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, relative: &str, content: &str) -> PathBuf {
        let path = root.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    fn relative(root: &Path, discovery: &Discovery) -> Vec<String> {
        discovery
            .files
            .iter()
            .map(|f| f.path.strip_prefix(root).unwrap_or(&f.path).to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn the_s3_layout_yields_its_log_files_and_skips_digests_and_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let logs = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/05/01";
        write(root, &format!("{logs}/111122223333_CloudTrail_us-east-1_20240501T0000Z_b.json.gz"), "x");
        write(root, &format!("{logs}/111122223333_CloudTrail_us-east-1_20240501T0005Z_a.json.gz"), "xy");
        write(root, "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/02/e.JSON", "x");
        write(
            root,
            "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/05/01/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20240501T010000Z.json.gz",
            "x",
        );
        write(root, "AWSLogs/111122223333/CloudTrail/ConfigWritabilityCheckFile", "x");
        write(root, "notes/readme.txt", "x");
        write(root, "export/events.ndjson", "x");
        write(root, "export/more.jsonl.gz", "x");

        let found = discover(&[root.to_path_buf()]).unwrap();
        assert_eq!(
            relative(root, &found),
            [
                "AWSLogs/111122223333/CloudTrail/eu-west-1/2024/05/02/e.JSON",
                &format!("{logs}/111122223333_CloudTrail_us-east-1_20240501T0000Z_b.json.gz"),
                &format!("{logs}/111122223333_CloudTrail_us-east-1_20240501T0005Z_a.json.gz"),
                "export/events.ndjson",
                "export/more.jsonl.gz",
            ]
        );
        assert_eq!(found.skipped, Skipped { digests: 1, other: 2 });
        assert_eq!(found.files.iter().map(|f| f.lines).collect::<Vec<_>>(), [false, false, false, true, true]);
        assert_eq!(found.total_bytes(), 6);
        assert!(found.unreadable.is_empty());
    }

    #[test]
    fn a_file_named_explicitly_is_read_whatever_its_name_and_only_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let log = write(root, "events.log", "{}");
        let json = write(root, "a.json", "{}");
        let found = discover(&[log.clone(), json.clone(), root.to_path_buf(), json.clone()]).unwrap();
        assert_eq!(found.files.iter().map(|f| f.path.clone()).collect::<Vec<_>>(), [log, json]);
        assert_eq!(found.skipped, Skipped::default(), "events.log, met again in the folder, was read");
    }

    #[test]
    fn a_digest_named_explicitly_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let digest = write(dir.path(), "1_CloudTrail-Digest_us-east-1_t_us-east-1_20240501T010000Z.json.gz", "x");
        let found = discover(&[digest]).unwrap();
        assert!(found.files.is_empty());
        assert_eq!(found.skipped.digests, 1);
    }

    #[test]
    fn a_missing_path_is_an_error_that_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let error = discover(std::slice::from_ref(&missing)).unwrap_err();
        assert!(error.to_string().starts_with(&missing.display().to_string()), "{error}");
    }
}
