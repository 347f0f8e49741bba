//! The detector on hand-made series: bursts, drops, noise, the learning period and daily seasonality.

use super::*;
use crate::key::{InsightType, Observation};

fn key() -> SeriesKey {
    SeriesKey {
        account_id: "111111111111".into(),
        region: "us-east-1".into(),
        insight_type: InsightType::ApiCallRate,
        event_source: "ec2.amazonaws.com".into(),
        event_name: "RunInstances".into(),
        error_code: None,
        trail: None,
    }
}

fn add(counters: &mut Counters, minute: i64, user: &str, n: u32) {
    if n == 0 {
        return;
    }
    let attributions = vec![
        (Dimension::UserIdentityArn, user.to_owned()),
        (Dimension::UserAgent, "aws-cli/2".to_owned()),
        (Dimension::ErrorCode, "null".to_owned()),
    ];
    counters.add(&Observation { key: key(), minute, attributions }, n);
}

/// A small deterministic generator: counts that wobble around `mean` (xorshift).
struct Wobble(u64);

impl Wobble {
    fn next(&mut self, mean: f64) -> u32 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        let unit = (self.0 % 1_000) as f64 / 1_000.0;
        (mean * (0.6 + 0.8 * unit)).round() as u32
    }
}

fn flat(learning_minutes: i64) -> Config {
    Config { learning_minutes, ..Config::default() }
}

/// Runs minute by minute from 0 to `end`, feeding `traffic(minute)`, judging each minute as it ends.
fn run(config: Config, end: i64, mut traffic: impl FnMut(&mut Counters, i64)) -> Vec<Finding> {
    let mut counters = Counters::new(8, 24 * 60);
    let mut detector = Detector::new(config, 0);
    let mut found = Vec::new();
    for minute in 0..end {
        traffic(&mut counters, minute);
        found.extend(detector.advance(&counters, minute));
    }
    found
}

#[test]
fn a_burst_by_one_user_starts_within_the_window_and_ends_when_it_stops() {
    let mut wobble = Wobble(7);
    let found = run(flat(120), 240, |counters, minute| {
        add(counters, minute, "arn:aws:iam::111111111111:user/alice", wobble.next(2.0));
        if (150..160).contains(&minute) {
            add(counters, minute, "arn:aws:iam::111111111111:user/mallory", 20);
        }
    });
    assert_eq!(found.len(), 2, "{found:#?}");
    let (start, end) = (&found[0], &found[1]);
    assert_eq!((start.state, start.direction, start.minute), (State::Start, Direction::Spike, 150));
    assert!(start.decided_at - 150 <= 2, "decided at {}", start.decided_at);
    assert_eq!((end.state, end.minute, end.insight_duration), (State::End, 160, 10));
    assert!((start.baseline_average - 2.0).abs() < 0.5, "{}", start.baseline_average);
    assert!(end.insight_average > 18.0, "{}", end.insight_average);
    let users = &end.attributions[0];
    assert_eq!(users.dimension, Dimension::UserIdentityArn);
    assert_eq!(users.insight[0].0, "arn:aws:iam::111111111111:user/mallory");
    assert!((users.insight[0].1 - 20.0).abs() < 1e-9);
    assert_eq!(users.baseline[0].0, "arn:aws:iam::111111111111:user/alice", "mallory was not in the baseline");
    assert_eq!(users.baseline.len(), 1);
    assert_eq!(end.attributions.len(), 3, "user ARN, user agent and error code for a call rate");
}

#[test]
fn a_drop_to_nothing_is_an_insight_too() {
    let mut wobble = Wobble(11);
    let found = run(flat(120), 240, |counters, minute| {
        if !(170..185).contains(&minute) {
            add(counters, minute, "u", wobble.next(20.0));
        }
    });
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!((found[0].direction, found[0].minute), (Direction::Drop, 170));
    assert!(found[0].decided_at <= 172);
    assert_eq!((found[1].state, found[1].minute), (State::End, 185));
    assert_eq!(found[1].insight_average, 0.0);
}

#[test]
fn steady_noise_and_quiet_series_raise_nothing() {
    let mut wobble = Wobble(3);
    let found = run(flat(120), 2_000, |counters, minute| {
        add(counters, minute, "busy", wobble.next(40.0));
        if minute % 97 == 0 {
            add(counters, minute, "rare", 1);
        }
    });
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn nothing_is_judged_during_the_learning_period() {
    let found = run(flat(120), 200, |counters, minute| {
        let n = if (10..20).contains(&minute) { 50 } else { 1 };
        add(counters, minute, "u", n);
    });
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn a_busy_hour_that_recurs_daily_is_normal_but_the_same_volume_at_night_is_not() {
    let day = DAY;
    let busy = |minute: i64| (12 * 60..13 * 60).contains(&minute.rem_euclid(day));
    let mut wobble = Wobble(5);
    let found = run(Config { learning_minutes: 3 * day, ..Config::default() }, 4 * day, |counters, minute| {
        let mean = if busy(minute) { 30.0 } else { 1.0 };
        add(counters, minute, "u", wobble.next(mean));
        if minute == 3 * day + 3 * 60 {
            for late in 0..10 {
                add(counters, minute + late, "night-owl", 30);
            }
        }
    });
    let starts: Vec<&Finding> = found.iter().filter(|f| f.state == State::Start).collect();
    assert_eq!(starts.len(), 1, "{found:#?}");
    assert_eq!(starts[0].minute, 3 * day + 3 * 60);
    assert_eq!(starts[0].baseline_duration, 3 * day);
    assert!(starts[0].expected_rate < 2.0, "the night's expectation, not the day's mean");
}
