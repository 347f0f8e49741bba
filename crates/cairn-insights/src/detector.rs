//! The detector: when a series' per-minute rate leaves what its history predicts, a Start finding;
//! when it returns, an End finding. ARCHITECTURE.md ("Insights") gives the rationale; in short:
//!
//! * **Expected rate.** With at least two days of learning, the median over the previous days (up to
//!   seven) of the 10-minute mean rate at the same time of day, weekdays compared with weekdays and
//!   weekends with weekends (UTC) when the learning period has such a day: seasonal by day and week,
//!   and robust to one odd day. Times up to [`Config::seasonal_half_window`] minutes earlier or later count as
//!   the same, so the usual rate is a range: a spike must exceed its top, a drop fall below its
//!   bottom. With less learning, the mean over the learning period. Minutes of past insights of the
//!   series are left out either way. Never below one event per learning period.
//! * **Decision.** Every minute, the last [`Config::window_minutes`] minutes are compared with the
//!   expected count `E`. A spike starts when the count `O` is at least [`Config::ratio`] × `E`, at
//!   least [`Config::min_count`], and `P(Poisson(E) ≥ O)` ≤ [`Config::significance`]: the ratio keeps
//!   busy APIs from alerting on noise, the tail probability keeps quiet ones from alerting on a
//!   handful of calls. A drop starts when `O ≤ E / ratio`, `P(Poisson(E) ≤ O)` ≤ the significance
//!   and the expected rate is at least [`Config::min_drop_rate`].
//! * **End.** The expected rate is frozen at the start; the insight ends when the window returns
//!   within [`Config::end_ratio`] of it. Its `eventTime` is the minute after the last unusual one.
//! * No series is judged before the learning period has been observed.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::counters::{Counters, DAY, as_pairs};
use crate::key::{Dimension, SeriesKey};
use crate::stats::{lower_tail, median, upper_tail};

/// Detector settings; [`Config::default`] is what a deployment runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// The baseline window and learning period, in minutes (AWS: seven days).
    pub learning_minutes: i64,
    /// Minutes each decision looks at.
    pub window_minutes: i64,
    /// How many times the expected count (or a fraction 1/ratio of it) is unusual.
    pub ratio: f64,
    /// How improbable, under the expected rate, an unusual count must be.
    pub significance: f64,
    /// The fewest events in a window that can start a spike.
    pub min_count: u64,
    /// The lowest expected rate (per minute) whose drop is reported.
    pub min_drop_rate: f64,
    /// An insight ends when the window is back within this factor of the expected count.
    pub end_ratio: f64,
    /// How many minutes earlier or later than usual activity may come and still be usual.
    pub seasonal_half_window: i64,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            learning_minutes: 7 * DAY,
            window_minutes: 3,
            ratio: 3.0,
            significance: 1e-5,
            min_count: 4,
            min_drop_rate: 5.0,
            end_ratio: 2.0,
            seasonal_half_window: 15,
        }
    }
}

/// Which end of an insight a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Start,
    End,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Start => "Start",
            State::End => "End",
        }
    }
}

/// Whether the rate rose or fell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Direction {
    Spike,
    Drop,
}

/// The most frequent values of one dimension, with their average per minute.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribution {
    pub dimension: Dimension,
    pub insight: Vec<(String, f64)>,
    pub baseline: Vec<(String, f64)>,
}

/// A Start or End of unusual activity, with what its insight event reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    pub key: SeriesKey,
    pub state: State,
    pub direction: Direction,
    /// The insight event's `eventTime`: the first unusual minute (Start) or the first usual one
    /// after the insight (End), in minutes since the epoch.
    pub minute: i64,
    /// The minute whose end the decision was made at.
    pub decided_at: i64,
    pub start_minute: i64,
    /// Events per minute over the baseline window before the start (AWS's `baseline.average`).
    pub baseline_average: f64,
    /// Start: events in the first minute; End: per minute over the whole insight.
    pub insight_average: f64,
    pub insight_duration: i64,
    pub baseline_duration: i64,
    /// The seasonal expected rate the decision compared with.
    pub expected_rate: f64,
    pub attributions: Vec<Attribution>,
}

/// An insight that started and has not ended.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Active {
    start: i64,
    direction: Direction,
    expected: f64,
    baseline_average: f64,
    baseline: Vec<(Dimension, Vec<(String, f64)>)>,
}

/// Attribution values an insight event lists per dimension.
const TOP_VALUES: usize = 5;

/// The detector's state over all series: what it has judged and which insights are open.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Detector {
    config: Config,
    observed_since: i64,
    evaluated_through: Option<i64>,
    #[serde(with = "as_pairs")]
    active: HashMap<SeriesKey, Active>,
    /// Per series: (hour, mean rate over the learning period before it), to skip quiet series fast.
    #[serde(skip)]
    means: HashMap<SeriesKey, (i64, f64)>,
    /// Per series: the minutes of its insights within the learning period, which baselines skip.
    #[serde(with = "as_pairs")]
    past: HashMap<SeriesKey, Vec<(i64, i64)>>,
}

impl Detector {
    /// A detector that has observed events since `observed_since` (minutes since the epoch).
    pub fn new(config: Config, observed_since: i64) -> Detector {
        Detector {
            config,
            observed_since,
            evaluated_through: None,
            active: HashMap::new(),
            means: HashMap::new(),
            past: HashMap::new(),
        }
    }

    /// Takes `config` (a restart with other settings), keeping what was learned.
    pub fn reconfigure(&mut self, config: Config) {
        self.config = config;
        self.means.clear();
    }

    /// Judges every minute after the last one judged, up to and including `through`, for every
    /// series; the findings in the order they were decided.
    pub fn advance(&mut self, counters: &Counters, through: i64) -> Vec<Finding> {
        let first_judged = self.observed_since + self.config.learning_minutes + self.config.window_minutes - 1;
        let from = self.evaluated_through.map_or(first_judged, |done| done + 1).max(first_judged);
        let keys: BTreeSet<SeriesKey> = counters.keys().chain(self.active.keys()).cloned().collect();
        let mut found = Vec::new();
        for key in &keys {
            for minute in from..=through {
                self.step(counters, key, minute, &mut found);
            }
        }
        if through >= from {
            self.evaluated_through = Some(through);
        }
        found.sort_by(|a, b| a.decided_at.cmp(&b.decided_at).then_with(|| a.key.cmp(&b.key)));
        found
    }

    fn step(&mut self, counters: &Counters, key: &SeriesKey, minute: i64, found: &mut Vec<Finding>) {
        let mean = self.learning_mean(counters, key, minute);
        let config = &self.config;
        let window_start = minute - config.window_minutes + 1;
        let observed = counters.sum(key, window_start, minute + 1);
        if let Some(active) = self.active.get(key) {
            let expected = active.expected * config.window_minutes as f64;
            let back = match active.direction {
                Direction::Spike => (observed as f64) < config.end_ratio * expected,
                Direction::Drop => (observed as f64) > expected / config.end_ratio,
            };
            if back {
                let active = active.clone();
                self.active.remove(key);
                let end = self.end(counters, key, &active, minute);
                let forget_before = minute - self.config.learning_minutes - DAY;
                let past = self.past.entry(key.clone()).or_default();
                past.retain(|(_, until)| *until > forget_before);
                past.push((active.start, end.minute));
                found.push(end);
            }
            return;
        }
        let could_spike = observed >= config.min_count;
        let could_drop = mean * config.ratio >= config.min_drop_rate;
        if !could_spike && !could_drop {
            return;
        }
        let usual = self.expected(counters, key, window_start);
        let minutes = config.window_minutes as f64;
        let (high, low) = (usual.high * minutes, usual.low * minutes);
        let (direction, rate) = if could_spike
            && observed as f64 >= config.ratio * high
            && upper_tail(high, observed) <= config.significance
        {
            (Direction::Spike, usual.high)
        } else if usual.low >= config.min_drop_rate
            && observed as f64 <= low / config.ratio
            && lower_tail(low, observed) <= config.significance
        {
            (Direction::Drop, usual.low)
        } else {
            return;
        };
        let unusual = |count: u32| match direction {
            Direction::Spike => f64::from(count) >= (config.ratio * rate).max(1.0),
            Direction::Drop => f64::from(count) <= rate / config.ratio,
        };
        let start = (window_start..=minute).find(|m| unusual(counters.count(key, *m))).unwrap_or(window_start);
        let learning = config.learning_minutes;
        let baseline = key
            .insight_type
            .dimensions()
            .iter()
            .map(|dimension| (*dimension, averages(counters, key, *dimension, start - learning, start)))
            .collect();
        let active = Active {
            start,
            direction,
            expected: rate,
            baseline_average: counters.sum(key, start - learning, start) as f64 / learning as f64,
            baseline,
        };
        found.push(self.finding(counters, key, &active, State::Start, start, start + 1, minute));
        self.active.insert(key.clone(), active);
    }

    fn end(&self, counters: &Counters, key: &SeriesKey, active: &Active, minute: i64) -> Finding {
        let config = &self.config;
        let still_unusual = |count: u32| match active.direction {
            Direction::Spike => f64::from(count) >= config.end_ratio * active.expected,
            Direction::Drop => f64::from(count) <= active.expected / config.end_ratio,
        };
        let last = (active.start..=minute).rev().find(|m| still_unusual(counters.count(key, *m)));
        let end = last.map_or(active.start + 1, |m| m + 1);
        self.finding(counters, key, active, State::End, end, end, minute)
    }

    /// A finding of `state` at `minute`, with the insight's averages over `active.start..until`.
    #[allow(clippy::too_many_arguments)]
    fn finding(
        &self,
        counters: &Counters,
        key: &SeriesKey,
        active: &Active,
        state: State,
        minute: i64,
        until: i64,
        decided_at: i64,
    ) -> Finding {
        let span = (until - active.start).max(1);
        let attributions = active
            .baseline
            .iter()
            .map(|(dimension, baseline)| Attribution {
                dimension: *dimension,
                insight: averages(counters, key, *dimension, active.start, active.start + span),
                baseline: baseline.clone(),
            })
            .collect();
        Finding {
            key: key.clone(),
            state,
            direction: active.direction,
            minute,
            decided_at,
            start_minute: active.start,
            baseline_average: active.baseline_average,
            insight_average: counters.sum(key, active.start, active.start + span) as f64 / span as f64,
            insight_duration: match state {
                State::Start => decided_at - active.start + 1,
                State::End => span,
            },
            baseline_duration: self.config.learning_minutes,
            expected_rate: active.expected,
            attributions,
        }
    }

    /// The mean rate over the learning period before the hour of `minute` (cached per hour).
    fn learning_mean(&mut self, counters: &Counters, key: &SeriesKey, minute: i64) -> f64 {
        let hour = minute.div_euclid(60);
        if let Some((cached_hour, mean)) = self.means.get(key)
            && *cached_hour == hour
        {
            return *mean;
        }
        let end = hour * 60;
        let learning = self.config.learning_minutes;
        let mean = counters.sum(key, end - learning, end) as f64 / learning as f64;
        self.means.insert(key.clone(), (hour, mean));
        mean
    }

    /// The range of rates (events per minute) expected for the window starting at `window_start`.
    fn expected(&self, counters: &Counters, key: &SeriesKey, window_start: i64) -> Expected {
        let config = &self.config;
        let floor = 1.0 / config.learning_minutes as f64;
        let days = config.learning_minutes / DAY;
        if days < 2 {
            // The mean over the learning period, leaving out the minutes of past insights.
            let (from, to) = (window_start - config.learning_minutes, window_start);
            let (mut total, mut minutes) = (counters.sum(key, from, to), to - from);
            for (start, end) in self.past.get(key).map(Vec::as_slice).unwrap_or_default() {
                let (start, end) = ((*start).max(from), (*end).min(to));
                if start < end {
                    total -= counters.sum(key, start, end).min(total);
                    minutes -= end - start;
                }
            }
            let rate = if minutes > 0 { total as f64 / minutes as f64 } else { floor };
            return Expected { low: rate.max(floor), high: rate.max(floor) };
        }
        let (half, width) = (config.seasonal_half_window, SMOOTHING_MINUTES);
        // The smoothed rate of each previous day at each shift of the window's time of day.
        let shifts = (2 * half + 1) as usize;
        let mut by_shift: Vec<Vec<f64>> = vec![Vec::new(); shifts];
        let today = window_start.div_euclid(DAY);
        let previous: Vec<i64> = (1..=days.min(7)).collect();
        let span = 2 * half + width;
        let past = self.past.get(key).map(Vec::as_slice).unwrap_or_default();
        // A previous day's window that held an insight does not teach what is usual.
        let clean = |ago: &i64| {
            let first = window_start - ago * DAY - half - width / 2;
            !past.iter().any(|(start, end)| *start < first + span && first < *end)
        };
        let alike = |ago: &i64| is_weekend(today - ago) == is_weekend(today);
        let chosen: Vec<i64> = [
            previous.iter().copied().filter(|ago| alike(ago) && clean(ago)).collect::<Vec<_>>(),
            previous.iter().copied().filter(|ago| clean(ago)).collect(),
            previous.clone(),
        ]
        .into_iter()
        .find(|days| !days.is_empty())
        .unwrap_or_default();
        for day in chosen {
            let first = window_start - day * DAY - half - width / 2;
            let mut prefix = Vec::with_capacity(span as usize + 1);
            prefix.push(0u64);
            for minute in first..first + span {
                let last = prefix.last().copied().unwrap_or(0);
                prefix.push(last + u64::from(counters.count(key, minute)));
            }
            for (shift, rates) in by_shift.iter_mut().enumerate() {
                let total = prefix[shift + width as usize] - prefix[shift];
                rates.push(total as f64 / width as f64);
            }
        }
        let medians: Vec<f64> = by_shift.iter_mut().map(|rates| median(rates)).collect();
        let low = medians.iter().copied().fold(f64::INFINITY, f64::min);
        let high = medians.iter().copied().fold(0.0, f64::max);
        Expected { low: low.max(floor), high: high.max(floor) }
    }
}

/// Whether the day `day` (days since the epoch, a Thursday) is a Saturday or Sunday, UTC.
fn is_weekend(day: i64) -> bool {
    matches!((day + 3).rem_euclid(7), 5 | 6)
}

/// Minutes each seasonal rate is averaged over.
const SMOOTHING_MINUTES: i64 = 10;

/// What a window's rate is compared with: the lowest and highest usual rate near its time of day
/// (equal without seasonality). A spike must clear the highest, a drop fall below the lowest, so
/// activity that comes a little early or late is not unusual.
#[derive(Debug, Clone, Copy)]
struct Expected {
    low: f64,
    high: f64,
}

/// The [`TOP_VALUES`] most frequent values of `dimension` in `from..to`, as averages per minute.
fn averages(counters: &Counters, key: &SeriesKey, dimension: Dimension, from: i64, to: i64) -> Vec<(String, f64)> {
    let minutes = (to - from).max(1) as f64;
    counters
        .top_values(key, dimension, from, to, TOP_VALUES)
        .into_iter()
        .map(|(value, count)| (value, count as f64 / minutes))
        .collect()
}

#[cfg(test)]
mod tests;
