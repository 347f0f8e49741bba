//! Per-minute counts of every series, by event time, with the counts of each attribution value.
//!
//! A series keeps its minute counts in day chunks (1,440 counters), allocated on a day's first event,
//! so a rarely used API costs a chunk per active day. Attribution values are interned; their counts
//! are kept per minute for [`Counters::recent_minutes`] (the span an insight's own averages need)
//! and per day for as long as minute counts are kept (the baseline's). An event counts in the minute
//! of its `eventTime` whenever it arrives; a minute older than what is kept is dropped.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::key::{Dimension, Observation, SeriesKey};

/// Minutes in a day.
pub const DAY: i64 = 1_440;

/// Counts of attribution values: (dimension, interned value, count).
type ValueCounts = Vec<(Dimension, u32, u32)>;

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Series {
    /// Day (minutes since the epoch / 1440) → the day's minute counts.
    days: BTreeMap<i64, Box<[u32]>>,
    /// Day → that day's total.
    day_totals: BTreeMap<i64, u64>,
    /// Minute → attribution counts, for recent minutes.
    minute_values: BTreeMap<i64, ValueCounts>,
    /// Day → attribution counts.
    day_values: BTreeMap<i64, ValueCounts>,
    /// Five-minute period (minute / 5) → count, kept [`FIVE_MINUTE_DAYS`].
    five_minutes: BTreeMap<i64, u64>,
    /// Hour (minute / 60) → count, kept [`HOUR_DAYS`].
    hours: BTreeMap<i64, u64>,
}

/// Days of five-minute counts kept (ListInsightsMetricData's retention for 300-second periods).
pub const FIVE_MINUTE_DAYS: i64 = 63;
/// Days of hourly counts kept (ListInsightsMetricData's retention for 3600-second periods).
pub const HOUR_DAYS: i64 = 90;

/// All series' counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Counters {
    #[serde(with = "as_pairs")]
    series: HashMap<SeriesKey, Series>,
    values: Vec<String>,
    value_ids: HashMap<String, u32>,
    /// Days of minute counts kept behind the newest minute seen.
    keep_days: i64,
    /// Minutes of per-minute attribution counts kept behind the newest minute seen.
    recent_minutes: i64,
    newest_minute: Option<i64>,
}

impl Counters {
    /// Counters that keep `keep_days` days of counts and `recent_minutes` minutes of per-minute
    /// attributions.
    pub fn new(keep_days: i64, recent_minutes: i64) -> Counters {
        Counters {
            series: HashMap::new(),
            values: Vec::new(),
            value_ids: HashMap::new(),
            keep_days: keep_days.max(1),
            recent_minutes: recent_minutes.max(1),
            newest_minute: None,
        }
    }

    /// Counts `n` events of `observation`.
    pub fn add(&mut self, observation: &Observation, n: u32) {
        if let Some(newest) = self.newest_minute
            && observation.minute < newest - HOUR_DAYS.max(self.keep_days) * DAY
        {
            return;
        }
        let ids: Vec<(Dimension, u32)> =
            observation.attributions.iter().map(|(dimension, value)| (*dimension, self.intern(value))).collect();
        let keep_recent = self.newest_minute.is_none_or(|newest| observation.minute >= newest - self.recent_minutes);
        let keep_minutes = self.newest_minute.is_none_or(|newest| observation.minute >= newest - self.keep_days * DAY);
        let series = self.series.entry(observation.key.clone()).or_default();
        *series.hours.entry(observation.minute.div_euclid(60)).or_default() += u64::from(n);
        *series.five_minutes.entry(observation.minute.div_euclid(5)).or_default() += u64::from(n);
        if !keep_minutes {
            return;
        }
        let day = observation.minute.div_euclid(DAY);
        let slot = observation.minute.rem_euclid(DAY) as usize;
        let chunk = series.days.entry(day).or_insert_with(|| vec![0; DAY as usize].into_boxed_slice());
        chunk[slot] = chunk[slot].saturating_add(n);
        *series.day_totals.entry(day).or_default() += u64::from(n);
        for (dimension, id) in ids {
            bump(series.day_values.entry(day).or_default(), dimension, id, n);
            if keep_recent {
                bump(series.minute_values.entry(observation.minute).or_default(), dimension, id, n);
            }
        }
        if self.newest_minute.is_none_or(|newest| observation.minute > newest) {
            self.newest_minute = Some(observation.minute);
            self.prune();
        }
    }

    fn intern(&mut self, value: &str) -> u32 {
        if let Some(id) = self.value_ids.get(value) {
            return *id;
        }
        let id = u32::try_from(self.values.len()).unwrap_or(u32::MAX);
        self.values.push(value.to_owned());
        self.value_ids.insert(value.to_owned(), id);
        id
    }

    /// Drops what is older than what is kept (on a day boundary, so at most once a day's worth).
    fn prune(&mut self) {
        let Some(newest) = self.newest_minute else { return };
        let first_day = (newest - self.keep_days * DAY).div_euclid(DAY);
        let first_recent = newest - self.recent_minutes;
        let first_hour = (newest - HOUR_DAYS * DAY).div_euclid(60);
        let first_five = (newest - FIVE_MINUTE_DAYS * DAY).div_euclid(5);
        for series in self.series.values_mut() {
            if series.hours.first_key_value().is_some_and(|(hour, _)| *hour < first_hour) {
                series.hours = series.hours.split_off(&first_hour);
            }
            if series.five_minutes.first_key_value().is_some_and(|(five, _)| *five < first_five) {
                series.five_minutes = series.five_minutes.split_off(&first_five);
            }
            if series.days.first_key_value().is_some_and(|(day, _)| *day < first_day) {
                series.days = series.days.split_off(&first_day);
                series.day_totals = series.day_totals.split_off(&first_day);
                series.day_values = series.day_values.split_off(&first_day);
            }
            if series.minute_values.first_key_value().is_some_and(|(minute, _)| *minute < first_recent - 60) {
                series.minute_values = series.minute_values.split_off(&first_recent);
            }
        }
        self.series.retain(|_, series| !series.hours.is_empty());
    }

    /// Every series with counts.
    pub fn keys(&self) -> impl Iterator<Item = &SeriesKey> {
        self.series.keys()
    }

    /// Events of `key` in `minute`.
    pub fn count(&self, key: &SeriesKey, minute: i64) -> u32 {
        let Some(series) = self.series.get(key) else { return 0 };
        series.days.get(&minute.div_euclid(DAY)).map_or(0, |chunk| chunk[minute.rem_euclid(DAY) as usize])
    }

    /// Events of `key` in the minutes `from..to`.
    pub fn sum(&self, key: &SeriesKey, from: i64, to: i64) -> u64 {
        let Some(series) = self.series.get(key) else { return 0 };
        let mut total = 0;
        let mut minute = from;
        while minute < to {
            let day = minute.div_euclid(DAY);
            let day_end = ((day + 1) * DAY).min(to);
            match series.days.get(&day) {
                Some(_) if minute == day * DAY && day_end == (day + 1) * DAY => {
                    total += series.day_totals.get(&day).copied().unwrap_or(0);
                }
                Some(chunk) => {
                    let (start, end) = ((minute - day * DAY) as usize, (day_end - day * DAY) as usize);
                    total += chunk[start..end].iter().map(|c| u64::from(*c)).sum::<u64>();
                }
                None => {}
            }
            minute = day_end;
        }
        total
    }

    /// The non-zero counts of `key` per period of `period` minutes (1, 5 or 60) whose start is in
    /// `from..to`, oldest first, as (period start minute, count).
    pub fn points(&self, key: &SeriesKey, period: i64, from: i64, to: i64) -> Vec<(i64, u64)> {
        let Some(series) = self.series.get(key) else { return Vec::new() };
        let buckets = |map: &BTreeMap<i64, u64>, size: i64| -> Vec<(i64, u64)> {
            let (first, last) =
                (from.div_euclid(size) + i64::from(from.rem_euclid(size) != 0), (to - 1).div_euclid(size));
            if first > last {
                return Vec::new();
            }
            map.range(first..=last)
                .filter(|(_, count)| **count > 0)
                .map(|(bucket, count)| (bucket * size, *count))
                .collect()
        };
        match period {
            60 => buckets(&series.hours, 60),
            5 => buckets(&series.five_minutes, 5),
            _ => {
                // Only the minutes kept can count: the range is cut to them.
                let first_kept = series.days.first_key_value().map_or(to, |(day, _)| day * DAY);
                let last_kept = series.days.last_key_value().map_or(from, |(day, _)| (day + 1) * DAY);
                (from.max(first_kept)..to.min(last_kept))
                    .filter_map(|minute| {
                        let count = self.count(key, minute);
                        (count > 0).then_some((minute, u64::from(count)))
                    })
                    .collect()
            }
        }
    }

    /// The `limit` most frequent values of `dimension` for `key` in the minutes `from..to`, each
    /// with its count, most frequent first (ties by value). Minute counts are used where they are
    /// kept; older minutes are counted by whole days.
    pub fn top_values(
        &self,
        key: &SeriesKey,
        dimension: Dimension,
        from: i64,
        to: i64,
        limit: usize,
    ) -> Vec<(String, u64)> {
        let Some(series) = self.series.get(key) else { return Vec::new() };
        let mut counts: HashMap<u32, u64> = HashMap::new();
        if from >= to {
            return Vec::new();
        }
        let recent_from = series.minute_values.first_key_value().map_or(to, |(minute, _)| (*minute).clamp(from, to));
        if recent_from > from && recent_from.div_euclid(DAY) > from.div_euclid(DAY) {
            // Whole days before the day minute counts begin in (never counting a minute twice).
            let (first_day, last_day) = (from.div_euclid(DAY), recent_from.div_euclid(DAY) - 1);
            for (_, values) in series.day_values.range(first_day..=last_day) {
                for (dim, id, count) in values {
                    if *dim == dimension {
                        *counts.entry(*id).or_default() += u64::from(*count);
                    }
                }
            }
        }
        for (_, values) in series.minute_values.range(recent_from..to) {
            for (dim, id, count) in values {
                if *dim == dimension {
                    *counts.entry(*id).or_default() += u64::from(*count);
                }
            }
        }
        let mut ranked: Vec<(String, u64)> =
            counts.into_iter().filter_map(|(id, count)| Some((self.values.get(id as usize)?.clone(), count))).collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        ranked.truncate(limit);
        ranked
    }
}

/// Adds `n` to the count of (`dimension`, `id`) in `values`.
fn bump(values: &mut ValueCounts, dimension: Dimension, id: u32, n: u32) {
    match values.iter_mut().find(|(dim, value, _)| *dim == dimension && *value == id) {
        Some((_, _, count)) => *count = count.saturating_add(n),
        None => values.push((dimension, id, n)),
    }
}

/// A map with structured keys as a list of pairs (JSON objects need string keys).
pub(crate) mod as_pairs {
    use std::collections::HashMap;
    use std::hash::Hash;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<K: Serialize, V: Serialize, S: Serializer>(
        map: &HashMap<K, V>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(map.iter())
    }

    pub(crate) fn deserialize<'de, K, V, D>(deserializer: D) -> Result<HashMap<K, V>, D::Error>
    where
        K: Deserialize<'de> + Eq + Hash,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(deserializer)?.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::InsightType;

    fn key() -> SeriesKey {
        SeriesKey {
            account_id: "1".into(),
            region: "r".into(),
            insight_type: InsightType::ApiCallRate,
            event_source: "ec2.amazonaws.com".into(),
            event_name: "RunInstances".into(),
            error_code: None,
        }
    }

    fn at(minute: i64, user: &str) -> Observation {
        Observation { key: key(), minute, attributions: vec![(Dimension::UserIdentityArn, user.to_owned())] }
    }

    #[test]
    fn counts_sum_across_days_and_late_events_land_in_their_minute() {
        let mut counters = Counters::new(8, 120);
        counters.add(&at(10, "a"), 2);
        counters.add(&at(DAY + 5, "b"), 3);
        counters.add(&at(3 * DAY, "a"), 1);
        counters.add(&at(12, "a"), 4); // late
        assert_eq!(counters.count(&key(), 12), 4);
        assert_eq!(counters.sum(&key(), 0, 4 * DAY), 10);
        assert_eq!(counters.sum(&key(), 0, DAY), 6);
        assert_eq!(counters.sum(&key(), 11, DAY + 6), 7);
        assert_eq!(counters.sum(&key(), 13, DAY + 5), 0);
    }

    #[test]
    fn old_days_are_dropped_and_attributions_rank_by_count() {
        let mut counters = Counters::new(2, 60);
        counters.add(&at(0, "old"), 9);
        for minute in 0..5 {
            counters.add(&at(3 * DAY + minute, "bob"), 1);
        }
        counters.add(&at(3 * DAY + 4, "ann"), 5);
        assert_eq!(counters.count(&key(), 0), 0, "more than two days behind the newest");
        counters.add(&at(0, "old"), 9);
        assert_eq!(counters.sum(&key(), 0, DAY), 0, "too late to count");
        let top = counters.top_values(&key(), Dimension::UserIdentityArn, 3 * DAY, 3 * DAY + 5, 5);
        assert_eq!(top, [("ann".to_owned(), 5), ("bob".to_owned(), 5)]);
        let first = counters.top_values(&key(), Dimension::UserIdentityArn, 3 * DAY, 3 * DAY + 1, 5);
        assert_eq!(first, [("bob".to_owned(), 1)]);
        // Ranges that end before they start, or before the kept minutes begin, are empty, not a panic.
        assert!(counters.top_values(&key(), Dimension::UserIdentityArn, 3 * DAY + 5, 3 * DAY, 5).is_empty());
        assert!(counters.top_values(&key(), Dimension::UserIdentityArn, 3 * DAY - 10, 3 * DAY - 5, 5).is_empty());
        assert!(counters.top_values(&key(), Dimension::UserAgent, 0, 4 * DAY, 5).is_empty());
    }

    #[test]
    fn points_per_minute_five_minutes_and_hour() {
        let mut counters = Counters::new(2, 60);
        for (minute, n) in [(0, 1), (4, 2), (5, 3), (61, 4)] {
            counters.add(&at(minute, "u"), n);
        }
        assert_eq!(counters.points(&key(), 1, 0, 120), [(0, 1), (4, 2), (5, 3), (61, 4)]);
        assert_eq!(counters.points(&key(), 5, 0, 120), [(0, 3), (5, 3), (60, 4)]);
        assert_eq!(counters.points(&key(), 60, 0, 120), [(0, 6), (60, 4)]);
        assert_eq!(counters.points(&key(), 60, 1, 120), [(60, 4)], "periods start inside the range");
        // Old minutes leave the minute counts first, the hourly ones last.
        counters.add(&at(10 * DAY, "u"), 1);
        assert_eq!(counters.points(&key(), 1, 0, 120), []);
        assert_eq!(counters.points(&key(), 60, 0, 120), [(0, 6), (60, 4)]);
        counters.add(&at(5, "u"), 1);
        assert_eq!(counters.points(&key(), 60, 0, 60), [(0, 7)], "a late event still counts by the hour");
    }
}
