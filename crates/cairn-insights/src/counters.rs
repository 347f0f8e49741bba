//! Per-minute counts of every series, by event time, with the counts of each attribution value.
//!
//! A series keeps its counts in day chunks, allocated on a day's first event, so a rarely used API
//! costs a chunk per active day: the day's minute counts (1,440), five-minute counts (288, from
//! which hourly counts are summed), total and attribution counts. Counting an event finds its day
//! once and its minute's attributions once. Attribution values are interned; their counts are kept
//! per minute for the `recent_minutes` the counters were made with (the span an insight's own
//! averages need) and per day for as long as minute counts are kept (the baseline's). An event
//! counts in the minute of its `eventTime` whenever it arrives; a minute older than what is kept is
//! dropped.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::key::{Dimension, Observation, ObservationRef, SeriesKey};

/// Minutes in a day.
pub const DAY: i64 = 1_440;
/// Five-minute periods in a day.
const FIVES: usize = 288;

/// Counts of attribution values: (dimension, interned value, count), sorted by (dimension, value)
/// so a count is found by binary search (a busy API's day has thousands of user agents).
type ValueCounts = Vec<(Dimension, u32, u32)>;

/// One day of a series.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Day {
    /// Counts per minute of the day; empty once the day is older than minute counts are kept.
    minutes: Box<[u32]>,
    /// The total of `minutes`.
    total: u64,
    /// Counts per five minutes of the day, kept as long as hourly counts are.
    fives: Box<[u32]>,
    /// Attribution counts of the day, sorted; empty once `minutes` is.
    #[serde(deserialize_with = "sorted_counts")]
    values: ValueCounts,
}

impl Day {
    fn new(with_minutes: bool) -> Day {
        Day {
            minutes: if with_minutes { vec![0; DAY as usize].into_boxed_slice() } else { Box::default() },
            total: 0,
            fives: vec![0; FIVES].into_boxed_slice(),
            values: Vec::new(),
        }
    }
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Series {
    /// Day (minutes since the epoch / 1440) → its counts.
    days: BTreeMap<i64, Day>,
    /// Minute → attribution counts, for recent minutes.
    #[serde(deserialize_with = "sorted_values")]
    minute_values: BTreeMap<i64, ValueCounts>,
}

/// Days of five-minute counts kept (ListInsightsMetricData's retention for 300-second periods).
pub const FIVE_MINUTE_DAYS: i64 = 63;
/// Days of hourly counts kept (ListInsightsMetricData's retention for 3600-second periods).
pub const HOUR_DAYS: i64 = 90;

/// All series' counts.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Counters {
    #[serde(with = "as_pairs")]
    series: hashbrown::HashMap<SeriesKey, Series>,
    values: Vec<String>,
    value_ids: hashbrown::HashMap<String, u32>,
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
            series: hashbrown::HashMap::new(),
            values: Vec::new(),
            value_ids: hashbrown::HashMap::new(),
            keep_days: keep_days.max(1),
            recent_minutes: recent_minutes.max(1),
            newest_minute: None,
        }
    }

    /// Counts `n` events of `observation`.
    pub fn add(&mut self, observation: &Observation, n: u32) {
        self.add_ref(observation.as_ref(), n);
    }

    /// Counts `n` events of `observation`; a known series and known values allocate nothing.
    pub fn add_ref(&mut self, observation: ObservationRef<'_>, n: u32) {
        let minute = observation.minute;
        if let Some(newest) = self.newest_minute
            && minute < newest - HOUR_DAYS.max(self.keep_days) * DAY
        {
            return;
        }
        let keep_recent = self.newest_minute.is_none_or(|newest| minute >= newest - self.recent_minutes);
        let keep_minutes = self.newest_minute.is_none_or(|newest| minute >= newest - self.keep_days * DAY);
        // Interned before the series is borrowed; at most three dimensions, so no allocation.
        let mut ids = [(Dimension::UserIdentityArn, 0); 3];
        let attributions = observation.attributions();
        for (slot, (dimension, value)) in ids.iter_mut().zip(attributions) {
            *slot = (*dimension, self.intern(value));
        }
        let ids = &ids[..attributions.len()];
        let series = match self.series.get_mut(&observation.key) {
            Some(series) => series,
            None => self.series.entry(observation.key.to_key()).or_default(),
        };
        let (day, slot) = (minute.div_euclid(DAY), minute.rem_euclid(DAY) as usize);
        let counts = series.days.entry(day).or_insert_with(|| Day::new(keep_minutes));
        if let Some(five) = counts.fives.get_mut(slot / 5) {
            *five = five.saturating_add(n);
        }
        if keep_minutes && let Some(count) = counts.minutes.get_mut(slot) {
            *count = count.saturating_add(n);
            counts.total += u64::from(n);
            for (dimension, id) in ids {
                bump(&mut counts.values, *dimension, *id, n);
            }
            if keep_recent {
                let recent = series.minute_values.entry(minute).or_default();
                for (dimension, id) in ids {
                    bump(recent, *dimension, *id, n);
                }
            }
        }
        if self.newest_minute.is_none_or(|newest| minute > newest) {
            // Pruning visits every series, so it runs when the newest minute enters a new hour.
            let new_hour = self.newest_minute.is_none_or(|newest| minute.div_euclid(60) > newest.div_euclid(60));
            self.newest_minute = Some(minute);
            if new_hour {
                self.prune();
            }
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

    /// Drops what is older than what is kept (minute counts by whole days, recent attributions an
    /// hour late).
    fn prune(&mut self) {
        let Some(newest) = self.newest_minute else { return };
        let first_minute_day = (newest - self.keep_days * DAY).div_euclid(DAY);
        let first_day = (newest - HOUR_DAYS * DAY).div_euclid(DAY);
        let first_recent = newest - self.recent_minutes;
        for series in self.series.values_mut() {
            if series.days.first_key_value().is_some_and(|(day, _)| *day < first_day) {
                series.days = series.days.split_off(&first_day);
            }
            for (_, day) in series.days.range_mut(..first_minute_day) {
                if !day.minutes.is_empty() {
                    (day.minutes, day.total, day.values) = (Box::default(), 0, Vec::new());
                }
            }
            if series.minute_values.first_key_value().is_some_and(|(minute, _)| *minute < first_recent - 60) {
                series.minute_values = series.minute_values.split_off(&first_recent);
            }
        }
        self.series.retain(|_, series| !series.days.is_empty());
    }

    /// Every series with counts.
    pub fn keys(&self) -> impl Iterator<Item = &SeriesKey> {
        self.series.keys()
    }

    /// Events of `key` in `minute`.
    pub fn count(&self, key: &SeriesKey, minute: i64) -> u32 {
        let Some(series) = self.series.get(key) else { return 0 };
        let day = series.days.get(&minute.div_euclid(DAY));
        day.and_then(|day| day.minutes.get(minute.rem_euclid(DAY) as usize)).copied().unwrap_or(0)
    }

    /// Events of `key` in the minutes `from..to` (minutes no longer kept count as none).
    pub fn sum(&self, key: &SeriesKey, from: i64, to: i64) -> u64 {
        let Some(series) = self.series.get(key) else { return 0 };
        let mut total = 0;
        let mut minute = from;
        while minute < to {
            let day = minute.div_euclid(DAY);
            let day_end = ((day + 1) * DAY).min(to);
            if let Some(counts) = series.days.get(&day) {
                if minute == day * DAY && day_end == (day + 1) * DAY {
                    total += counts.total;
                } else {
                    let (start, end) = ((minute - day * DAY) as usize, (day_end - day * DAY) as usize);
                    total +=
                        counts.minutes.get(start..end).unwrap_or_default().iter().map(|c| u64::from(*c)).sum::<u64>();
                }
            }
            minute = day_end;
        }
        total
    }

    /// The non-zero counts of `key` per period of `period` minutes (1, 5 or 60) whose start is in
    /// `from..to`, oldest first, as (period start minute, count).
    pub fn points(&self, key: &SeriesKey, period: i64, from: i64, to: i64) -> Vec<(i64, u64)> {
        let Some(series) = self.series.get(key) else { return Vec::new() };
        let size = period.clamp(1, 60);
        let (first, last) = (from.div_euclid(size) + i64::from(from.rem_euclid(size) != 0), (to - 1).div_euclid(size));
        if first > last {
            return Vec::new();
        }
        // Five-minute counts are served for fewer days than hourly ones.
        let kept_from = match (size, self.newest_minute) {
            (5, Some(newest)) => newest - FIVE_MINUTE_DAYS * DAY,
            _ => i64::MIN,
        };
        let mut points: Vec<(i64, u64)> = Vec::new();
        for (day, counts) in series.days.range((first * size).div_euclid(DAY)..=(last * size).div_euclid(DAY)) {
            let (buckets, per): (&[u32], i64) = if size == 1 { (&counts.minutes, 1) } else { (&counts.fives, 5) };
            for (i, count) in buckets.iter().enumerate() {
                let start = day * DAY + i as i64 * per;
                let bucket = start.div_euclid(size);
                if *count == 0 || bucket < first || bucket > last || start < kept_from {
                    continue;
                }
                match points.last_mut() {
                    Some((at, total)) if *at == bucket * size => *total += u64::from(*count),
                    _ => points.push((bucket * size, u64::from(*count))),
                }
            }
        }
        points
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
            for (_, day) in series.days.range(first_day..=last_day) {
                for (dim, id, count) in &day.values {
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
    match values.binary_search_by(|(dim, value, _)| (*dim, *value).cmp(&(dimension, id))) {
        Ok(at) => values[at].2 = values[at].2.saturating_add(n),
        Err(at) => values.insert(at, (dimension, id, n)),
    }
}

/// Attribution counts as saved, sorted again: [`bump`] relies on the order, which a state file
/// does not guarantee.
fn sorted_counts<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<ValueCounts, D::Error> {
    let mut values = ValueCounts::deserialize(deserializer)?;
    values.sort_unstable_by_key(|(dimension, value, _)| (*dimension, *value));
    Ok(values)
}

/// [`sorted_counts`] for each minute's counts.
fn sorted_values<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<BTreeMap<i64, ValueCounts>, D::Error> {
    let mut map = BTreeMap::<i64, ValueCounts>::deserialize(deserializer)?;
    for values in map.values_mut() {
        values.sort_unstable_by_key(|(dimension, value, _)| (*dimension, *value));
    }
    Ok(map)
}

/// A map with structured keys as a list of pairs (JSON objects need string keys).
pub(crate) mod as_pairs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub(crate) fn serialize<'a, M, K, V, S>(map: &'a M, serializer: S) -> Result<S::Ok, S::Error>
    where
        &'a M: IntoIterator<Item = (&'a K, &'a V)>,
        K: Serialize + 'a,
        V: Serialize + 'a,
        S: Serializer,
    {
        serializer.collect_seq(map)
    }

    pub(crate) fn deserialize<'de, M, K, V, D>(deserializer: D) -> Result<M, D::Error>
    where
        M: FromIterator<(K, V)>,
        K: Deserialize<'de>,
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
            trail: None,
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
        counters.add(&at(70 * DAY, "u"), 1);
        assert_eq!(counters.points(&key(), 5, 0, 120), [], "five-minute counts are kept 63 days");
        assert_eq!(counters.points(&key(), 60, 0, 120), [(0, 7), (60, 4)], "hourly ones 90");
        counters.add(&at(91 * DAY, "u"), 1);
        assert_eq!(counters.points(&key(), 60, 0, 120), []);
    }
}
