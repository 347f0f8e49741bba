//! Per-minute counts of every series, by event time, with the counts of each attribution value.
//!
//! A series keeps its minute counts in day chunks (1,440 counters), allocated on a day's first event,
//! so a rarely used API costs a chunk per active day. Attribution values are interned; their counts
//! are kept per minute for [`Counters::recent_minutes`] (the span an insight's own averages need)
//! and per day for as long as minute counts are kept (the baseline's). An event counts in the minute
//! of its `eventTime` whenever it arrives; a minute older than what is kept is dropped.

use std::collections::{BTreeMap, HashMap};

use crate::key::{Dimension, Observation, SeriesKey};

/// Minutes in a day.
pub const DAY: i64 = 1_440;

/// Counts of attribution values: (dimension, interned value) → count.
type ValueCounts = HashMap<(Dimension, u32), u32>;

#[derive(Debug, Default, Clone)]
struct Series {
    /// Day (minutes since the epoch / 1440) → the day's minute counts.
    days: BTreeMap<i64, Box<[u32]>>,
    /// Day → that day's total.
    day_totals: BTreeMap<i64, u64>,
    /// Minute → attribution counts, for recent minutes.
    minute_values: BTreeMap<i64, ValueCounts>,
    /// Day → attribution counts.
    day_values: BTreeMap<i64, ValueCounts>,
}

/// All series' counts.
#[derive(Debug, Clone)]
pub struct Counters {
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
            && observation.minute < newest - self.keep_days * DAY
        {
            return;
        }
        let ids: Vec<(Dimension, u32)> =
            observation.attributions.iter().map(|(dimension, value)| (*dimension, self.intern(value))).collect();
        let keep_recent = self.newest_minute.is_none_or(|newest| observation.minute >= newest - self.recent_minutes);
        let series = self.series.entry(observation.key.clone()).or_default();
        let day = observation.minute.div_euclid(DAY);
        let slot = observation.minute.rem_euclid(DAY) as usize;
        let chunk = series.days.entry(day).or_insert_with(|| vec![0; DAY as usize].into_boxed_slice());
        chunk[slot] = chunk[slot].saturating_add(n);
        *series.day_totals.entry(day).or_default() += u64::from(n);
        for id in ids {
            let daily = series.day_values.entry(day).or_default().entry(id).or_default();
            *daily = daily.saturating_add(n);
            if keep_recent {
                let recent = series.minute_values.entry(observation.minute).or_default().entry(id).or_default();
                *recent = recent.saturating_add(n);
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
        for series in self.series.values_mut() {
            if series.days.first_key_value().is_some_and(|(day, _)| *day < first_day) {
                series.days = series.days.split_off(&first_day);
                series.day_totals = series.day_totals.split_off(&first_day);
                series.day_values = series.day_values.split_off(&first_day);
            }
            if series.minute_values.first_key_value().is_some_and(|(minute, _)| *minute < first_recent - 60) {
                series.minute_values = series.minute_values.split_off(&first_recent);
            }
        }
        self.series.retain(|_, series| !series.days.is_empty());
    }

    /// The newest minute any event fell in.
    pub fn newest_minute(&self) -> Option<i64> {
        self.newest_minute
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
        let recent_from = series.minute_values.first_key_value().map_or(to, |(minute, _)| (*minute).max(from));
        if recent_from > from {
            // Whole days before the day minute counts begin in (never counting a minute twice).
            let (first_day, last_day) = (from.div_euclid(DAY), recent_from.div_euclid(DAY) - 1);
            for (_, values) in series.day_values.range(first_day..=last_day) {
                for ((dim, id), count) in values {
                    if *dim == dimension {
                        *counts.entry(*id).or_default() += u64::from(*count);
                    }
                }
            }
        }
        for (_, values) in series.minute_values.range(recent_from..to) {
            for ((dim, id), count) in values {
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
        assert!(counters.top_values(&key(), Dimension::UserAgent, 0, 4 * DAY, 5).is_empty());
    }
}
