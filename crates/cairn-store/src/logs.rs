//! The embedded CloudWatch Logs store: log groups per account and region, their streams, and each
//! stream's events, for trails' log streaming and the `logs` API.
//!
//! On disk, under the root: `ACCOUNT/REGION/<hex group name>/group.json` and one
//! `<hex stream name>.ndjson` per stream, whose first line is the stream's header and every other
//! line an event. Names are hex-encoded because stream names may hold any character but `:` and
//! `*`. Everything is loaded into memory at open; each change is appended and synced before it is
//! visible. A stream keeps at most `max_events_per_stream` events (the oldest go first, and the file
//! is rewritten once as many have gone as it keeps), so disk and memory stay bounded.

use std::collections::{BTreeMap, VecDeque};
use std::fs::{self, File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

/// A log group's identity.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupKey {
    pub account_id: String,
    pub region: String,
    pub name: String,
}

/// One stored log event (the `logs` API's `OutputLogEvent`). Times are epoch milliseconds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEvent {
    pub timestamp: i64,
    pub ingestion_time: i64,
    pub message: String,
}

/// A log group as DescribeLogGroups lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupInfo {
    pub name: String,
    pub creation_time: i64,
    pub stored_bytes: u64,
}

/// A log stream as DescribeLogStreams lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamInfo {
    pub name: String,
    pub creation_time: i64,
    pub first_event_timestamp: Option<i64>,
    pub last_event_timestamp: Option<i64>,
    pub last_ingestion_time: Option<i64>,
    pub stored_bytes: u64,
}

/// A stream's events from absolute position `first_seq` on (positions survive dropping old events,
/// so paging tokens stay valid).
#[derive(Debug, Clone)]
pub struct StreamEvents {
    pub first_seq: u64,
    pub events: Vec<LogEvent>,
}

#[derive(Debug, thiserror::Error)]
pub enum LogsError {
    #[error("The specified log {0} does not exist.")]
    NotFound(&'static str),
    #[error("The specified log {0} already exists")]
    AlreadyExists(&'static str),
    #[error("log store io: {0}")]
    Io(#[from] std::io::Error),
    #[error("log store file {path} is unreadable: {reason}")]
    Corrupt { path: PathBuf, reason: String },
}

/// Every log group of the data directory.
#[derive(Debug)]
pub struct LogGroups {
    root: PathBuf,
    max_events_per_stream: usize,
    groups: Mutex<BTreeMap<GroupKey, Group>>,
}

/// AWS keeps log events until the group's retention; cairn keeps this many per stream.
pub const DEFAULT_MAX_EVENTS_PER_STREAM: usize = 100_000;

impl LogGroups {
    /// Opens (or creates) the store under `root`, loading every group and stream.
    pub fn open(root: &Path, max_events_per_stream: usize) -> Result<LogGroups, LogsError> {
        fs::create_dir_all(root)?;
        let max_events_per_stream = max_events_per_stream.max(1);
        let mut groups = BTreeMap::new();
        for (account_id, account_dir) in subdirs(root)? {
            for (region, region_dir) in subdirs(&account_dir)? {
                for (hex_name, group_dir) in subdirs(&region_dir)? {
                    let Some(name) = unhex(&hex_name) else { continue };
                    let key = GroupKey { account_id: account_id.clone(), region: region.clone(), name };
                    groups.insert(key, Group::load(&group_dir, max_events_per_stream)?);
                }
            }
        }
        Ok(LogGroups { root: root.to_owned(), max_events_per_stream, groups: Mutex::new(groups) })
    }

    pub fn create_group(&self, key: &GroupKey, now_ms: i64) -> Result<(), LogsError> {
        let mut groups = self.lock();
        if groups.contains_key(key) {
            return Err(LogsError::AlreadyExists("group"));
        }
        let dir = self.group_dir(key);
        fs::create_dir_all(&dir)?;
        write_synced(
            &dir.join("group.json"),
            &serde_json::to_vec(&GroupHeader { creation_time: now_ms }).unwrap_or_default(),
        )?;
        groups.insert(key.clone(), Group { dir, creation_time: now_ms, streams: BTreeMap::new() });
        Ok(())
    }

    pub fn delete_group(&self, key: &GroupKey) -> Result<(), LogsError> {
        let mut groups = self.lock();
        let Some(group) = groups.remove(key) else { return Err(LogsError::NotFound("group")) };
        fs::remove_dir_all(&group.dir)?;
        Ok(())
    }

    /// The groups of an account and region whose names start with `prefix`, by name.
    pub fn groups(&self, account_id: &str, region: &str, prefix: &str) -> Vec<GroupInfo> {
        let groups = self.lock();
        groups
            .iter()
            .filter(|(k, _)| k.account_id == account_id && k.region == region && k.name.starts_with(prefix))
            .map(|(k, g)| GroupInfo {
                name: k.name.clone(),
                creation_time: g.creation_time,
                stored_bytes: g.streams.values().map(|s| s.stored_bytes).sum(),
            })
            .collect()
    }

    pub fn create_stream(&self, key: &GroupKey, stream: &str, now_ms: i64) -> Result<(), LogsError> {
        let mut groups = self.lock();
        let group = groups.get_mut(key).ok_or(LogsError::NotFound("group"))?;
        if group.streams.contains_key(stream) {
            return Err(LogsError::AlreadyExists("stream"));
        }
        group.create_stream(stream, now_ms)
    }

    /// The streams of a group whose names start with `prefix`, by name.
    pub fn streams(&self, key: &GroupKey, prefix: &str) -> Result<Vec<StreamInfo>, LogsError> {
        let groups = self.lock();
        let group = groups.get(key).ok_or(LogsError::NotFound("group"))?;
        Ok(group.streams.iter().filter(|(name, _)| name.starts_with(prefix)).map(|(name, s)| s.info(name)).collect())
    }

    /// PutLogEvents: appends `events` (timestamp, message) to an existing stream.
    pub fn put(&self, key: &GroupKey, stream: &str, events: &[(i64, String)], now_ms: i64) -> Result<(), LogsError> {
        let mut groups = self.lock();
        let group = groups.get_mut(key).ok_or(LogsError::NotFound("group"))?;
        let stream = group.streams.get_mut(stream).ok_or(LogsError::NotFound("stream"))?;
        stream.append(events, now_ms, self.max_events_per_stream)
    }

    /// Appends to `stream`, creating the group and the stream first when they are missing (what a
    /// trail's log streaming does: AWS would refuse a missing group).
    pub fn put_creating(
        &self,
        key: &GroupKey,
        stream: &str,
        events: &[(i64, String)],
        now_ms: i64,
    ) -> Result<(), LogsError> {
        match self.create_group(key, now_ms) {
            Ok(()) | Err(LogsError::AlreadyExists(_)) => {}
            Err(error) => return Err(error),
        }
        match self.create_stream(key, stream, now_ms) {
            Ok(()) | Err(LogsError::AlreadyExists(_)) => {}
            Err(error) => return Err(error),
        }
        self.put(key, stream, events, now_ms)
    }

    /// A stream's events, oldest first, with their absolute positions.
    pub fn stream_events(&self, key: &GroupKey, stream: &str) -> Result<StreamEvents, LogsError> {
        let groups = self.lock();
        let group = groups.get(key).ok_or(LogsError::NotFound("group"))?;
        let stream = group.streams.get(stream).ok_or(LogsError::NotFound("stream"))?;
        Ok(StreamEvents { first_seq: stream.first_seq, events: stream.events.iter().cloned().collect() })
    }

    /// Every event of the group's streams that `keep` accepts, as (stream, event), by timestamp.
    pub fn filter(
        &self,
        key: &GroupKey,
        streams: Option<&[String]>,
        mut keep: impl FnMut(&LogEvent) -> bool,
    ) -> Result<Vec<(String, LogEvent)>, LogsError> {
        let groups = self.lock();
        let group = groups.get(key).ok_or(LogsError::NotFound("group"))?;
        let mut found = Vec::new();
        for (name, stream) in &group.streams {
            if streams.is_some_and(|wanted| !wanted.contains(name)) {
                continue;
            }
            found.extend(stream.events.iter().filter(|e| keep(e)).map(|e| (name.clone(), e.clone())));
        }
        found.sort_by_key(|(_, e)| e.timestamp);
        Ok(found)
    }

    fn group_dir(&self, key: &GroupKey) -> PathBuf {
        self.root.join(&key.account_id).join(&key.region).join(hex::encode(&key.name))
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<GroupKey, Group>> {
        self.groups.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Debug)]
struct Group {
    dir: PathBuf,
    creation_time: i64,
    streams: BTreeMap<String, Stream>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct GroupHeader {
    creation_time: i64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct StreamHeader {
    creation_time: i64,
}

impl Group {
    fn load(dir: &Path, max_events: usize) -> Result<Group, LogsError> {
        let header_path = dir.join("group.json");
        let header: GroupHeader = serde_json::from_slice(&fs::read(&header_path)?)
            .map_err(|e| LogsError::Corrupt { path: header_path, reason: e.to_string() })?;
        let mut streams = BTreeMap::new();
        for entry in fs::read_dir(dir)? {
            let path = entry?.path();
            let Some(hex_name) = path.file_name().and_then(|n| n.to_str()).and_then(|n| n.strip_suffix(".ndjson"))
            else {
                continue;
            };
            let Some(name) = unhex(hex_name) else { continue };
            streams.insert(name, Stream::load(&path, max_events)?);
        }
        Ok(Group { dir: dir.to_owned(), creation_time: header.creation_time, streams })
    }

    fn create_stream(&mut self, name: &str, now_ms: i64) -> Result<(), LogsError> {
        let path = self.dir.join(format!("{}.ndjson", hex::encode(name)));
        let mut header = serde_json::to_vec(&StreamHeader { creation_time: now_ms }).unwrap_or_default();
        header.push(b'\n');
        write_synced(&path, &header)?;
        self.streams.insert(name.to_owned(), Stream::empty(path, now_ms));
        Ok(())
    }
}

#[derive(Debug)]
struct Stream {
    path: PathBuf,
    creation_time: i64,
    events: VecDeque<LogEvent>,
    /// Absolute position of `events[0]`.
    first_seq: u64,
    /// Events dropped from memory but still in the file.
    dropped_in_file: usize,
    last_ingestion_time: Option<i64>,
    stored_bytes: u64,
}

impl Stream {
    fn empty(path: PathBuf, creation_time: i64) -> Stream {
        Stream {
            path,
            creation_time,
            events: VecDeque::new(),
            first_seq: 0,
            dropped_in_file: 0,
            last_ingestion_time: None,
            stored_bytes: 0,
        }
    }

    fn load(path: &Path, max_events: usize) -> Result<Stream, LogsError> {
        let corrupt = |reason: String| LogsError::Corrupt { path: path.to_owned(), reason };
        let mut lines = BufReader::new(File::open(path)?).lines();
        let header = lines.next().ok_or_else(|| corrupt("no header".to_owned()))??;
        let header: StreamHeader = serde_json::from_str(&header).map_err(|e| corrupt(e.to_string()))?;
        let mut stream = Stream::empty(path.to_owned(), header.creation_time);
        for line in lines {
            let line = line?;
            // A torn last line (a crash mid-append) was never acknowledged: skip it.
            let Ok(event) = serde_json::from_str::<LogEvent>(&line) else { continue };
            stream.push(event, max_events);
        }
        stream.dropped_in_file = usize::try_from(stream.first_seq).unwrap_or(usize::MAX);
        Ok(stream)
    }

    fn push(&mut self, event: LogEvent, max_events: usize) {
        self.last_ingestion_time = Some(event.ingestion_time);
        self.stored_bytes += event.message.len() as u64;
        self.events.push_back(event);
        while self.events.len() > max_events {
            if let Some(old) = self.events.pop_front() {
                self.stored_bytes = self.stored_bytes.saturating_sub(old.message.len() as u64);
            }
            self.first_seq += 1;
            self.dropped_in_file += 1;
        }
    }

    fn append(&mut self, events: &[(i64, String)], now_ms: i64, max_events: usize) -> Result<(), LogsError> {
        let mut lines = Vec::new();
        for (timestamp, message) in events {
            let event = LogEvent { timestamp: *timestamp, ingestion_time: now_ms, message: message.clone() };
            serde_json::to_writer(&mut lines, &event).map_err(|e| LogsError::Io(e.into()))?;
            lines.push(b'\n');
        }
        let mut file = OpenOptions::new().append(true).open(&self.path)?;
        file.write_all(&lines)?;
        file.sync_data()?;
        for (timestamp, message) in events {
            self.push(LogEvent { timestamp: *timestamp, ingestion_time: now_ms, message: message.clone() }, max_events);
        }
        if self.dropped_in_file >= max_events {
            self.rewrite()?;
        }
        Ok(())
    }

    /// Writes the file again with only the events kept in memory (atomically, by rename).
    fn rewrite(&mut self) -> Result<(), LogsError> {
        let mut body = serde_json::to_vec(&StreamHeader { creation_time: self.creation_time }).unwrap_or_default();
        body.push(b'\n');
        for event in &self.events {
            serde_json::to_writer(&mut body, event).map_err(|e| LogsError::Io(e.into()))?;
            body.push(b'\n');
        }
        let temporary = self.path.with_extension("ndjson.tmp");
        write_synced(&temporary, &body)?;
        fs::rename(&temporary, &self.path)?;
        self.dropped_in_file = 0;
        Ok(())
    }

    fn info(&self, name: &str) -> StreamInfo {
        StreamInfo {
            name: name.to_owned(),
            creation_time: self.creation_time,
            first_event_timestamp: self.events.iter().map(|e| e.timestamp).min(),
            last_event_timestamp: self.events.iter().map(|e| e.timestamp).max(),
            last_ingestion_time: self.last_ingestion_time,
            stored_bytes: self.stored_bytes,
        }
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = File::create(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn subdirs(dir: &Path) -> Result<Vec<(String, PathBuf)>, LogsError> {
    let mut found = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir()
            && let Some(name) = entry.file_name().to_str()
        {
            found.push((name.to_owned(), entry.path()));
        }
    }
    Ok(found)
}

fn unhex(text: &str) -> Option<String> {
    String::from_utf8(hex::decode(text).ok()?).ok()
}

#[cfg(test)]
mod tests;
