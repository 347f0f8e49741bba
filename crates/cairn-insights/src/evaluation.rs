//! The evaluation harness: weeks of simulated API traffic with known anomalies, run through the
//! counters and the detector minute by minute, and scored.
//!
//! Traffic: several write APIs, each with its own volume (0.5 to 60 calls a minute at the daily peak,
//! log-uniform), a daily cycle peaking at 14:00 UTC, quieter weekends, a lognormal wobble per
//! quarter hour on top of Poisson counts, a few users with their own user agents, and 1–5% of calls
//! failing with one of two error codes. After the learning period, anomalies are injected at random
//! times, each on one API:
//!
//! * **burst**: one new user adds `f` × max(usual rate, mean rate) calls a minute, `f` in 5–20, for
//!   5–60 minutes;
//! * **ramp**: extra calls grow linearly to `f` × max(usual, mean) over 15–60 minutes; its onset is
//!   the minute the extra reaches 5×;
//! * **drop**: in busy hours of busy APIs (usual rate ≥ 10 a minute) calls fall to at most a fifth
//!   for 10–60 minutes;
//! * **error storm**: one new user's calls fail with `ThrottlingException`, `f` × the mean error
//!   rate but at least 2 a minute, for 5–60 minutes.
//!
//! Scoring: an anomaly is detected when a Start on its series (the error rate of its code for an
//! error storm, the call rate otherwise) falls between 3 minutes before it and 3 after it; the delay
//! is the minute the detector decided minus the onset (never below 0). A Start that overlaps no
//! anomaly of its API is a false start. For bursts and error storms, the attribution is right when
//! the Start names the injected user first.

use std::collections::BTreeMap;
use std::time::Instant;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::counters::{Counters, DAY};
use crate::detector::{Config, Detector, Direction, Finding, State};
use crate::key::{Dimension, InsightType, Observation, SeriesKey};

/// What to simulate.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub seed: u64,
    /// Days of traffic before the first anomaly (the detector's learning period).
    pub learning_days: i64,
    /// Days of traffic with anomalies, judged.
    pub evaluated_days: i64,
    pub apis: usize,
    /// Anomalies injected per API per evaluated week.
    pub anomalies_per_api_week: usize,
    pub config: Config,
}

impl Default for Scenario {
    fn default() -> Scenario {
        Scenario {
            seed: 7,
            learning_days: 7,
            evaluated_days: 14,
            apis: 6,
            anomalies_per_api_week: 6,
            config: Config::default(),
        }
    }
}

/// The kinds of anomaly injected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Kind {
    Burst,
    Ramp,
    Drop,
    ErrorStorm,
}

/// One injected anomaly.
#[derive(Debug, Clone, Serialize)]
pub struct Injected {
    pub api: usize,
    pub kind: Kind,
    pub start: i64,
    pub end: i64,
    /// When it became at least 5× (or a fifth of) usual.
    pub onset: i64,
    pub factor: f64,
    pub user: Option<String>,
}

/// Detection of one kind of anomaly.
#[derive(Debug, Clone, Serialize)]
pub struct KindScore {
    pub kind: Kind,
    pub injected: usize,
    pub detected: usize,
    pub max_delay_minutes: i64,
}

/// How the detector did.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub seed: u64,
    pub apis: usize,
    pub learning_days: i64,
    pub evaluated_days: i64,
    pub events: u64,
    pub injected: usize,
    pub detected: usize,
    pub recall: f64,
    pub starts: usize,
    pub false_starts: usize,
    pub precision: f64,
    /// False Starts per API per evaluated week.
    pub false_starts_per_api_week: f64,
    pub mean_delay_minutes: f64,
    pub median_delay_minutes: i64,
    pub p90_delay_minutes: i64,
    pub max_delay_minutes: i64,
    /// Detected anomalies decided within two minutes of their onset.
    pub within_two_minutes: f64,
    pub attribution_checked: usize,
    pub attribution_right: usize,
    pub by_kind: Vec<KindScore>,
    /// Wall time of counting and detection over the whole simulation.
    pub seconds: f64,
}

/// The usual rate (calls a minute) drops are injected at, at least.
const DROP_MIN_RATE: f64 = 10.0;
const ACCOUNT: &str = "111111111111";
const REGION: &str = "us-east-1";
const APIS: &[(&str, &str)] = &[
    ("ec2.amazonaws.com", "RunInstances"),
    ("iam.amazonaws.com", "CreateAccessKey"),
    ("s3.amazonaws.com", "PutBucketPolicy"),
    ("lambda.amazonaws.com", "UpdateFunctionCode20150331v2"),
    ("kms.amazonaws.com", "CreateGrant"),
    ("dynamodb.amazonaws.com", "UpdateTable"),
    ("ssm.amazonaws.com", "PutParameter"),
    ("sqs.amazonaws.com", "SetQueueAttributes"),
];
const ERROR_CODES: [&str; 2] = ["AccessDenied", "ValidationException"];
const AGENTS: [&str; 4] = ["aws-cli/2.22.4", "Boto3/1.35.80", "aws-sdk-java/2.29.0", "console.amazonaws.com"];

/// One simulated API.
struct Api {
    source: &'static str,
    name: &'static str,
    peak: f64,
    error_share: f64,
    /// (user ARN, user agent, share of calls).
    users: Vec<(String, &'static str, f64)>,
}

impl Api {
    fn key(&self, insight_type: InsightType, error_code: Option<&str>) -> SeriesKey {
        SeriesKey {
            account_id: ACCOUNT.to_owned(),
            region: REGION.to_owned(),
            insight_type,
            event_source: self.source.to_owned(),
            event_name: self.name.to_owned(),
            error_code: error_code.map(str::to_owned),
            trail: None,
        }
    }
}

/// The usual shape of traffic at `minute`, as a fraction of the peak.
fn seasonal(minute: i64) -> f64 {
    let hour = minute.rem_euclid(DAY) as f64 / 60.0;
    let daily = 0.1 + 0.9 * (-(hour - 14.0).powi(2) / (2.0 * 3.0f64.powi(2))).exp();
    // The epoch began on a Thursday: days 2 and 3 of each week are the weekend.
    let weekend = matches!(minute.div_euclid(DAY).rem_euclid(7), 2 | 3);
    daily * if weekend { 0.35 } else { 1.0 }
}

/// The mean of [`seasonal`] over a week.
fn seasonal_mean() -> f64 {
    (0..7 * DAY).step_by(5).map(seasonal).sum::<f64>() / (7 * DAY / 5) as f64
}

fn poisson(rng: &mut StdRng, lambda: f64) -> u32 {
    if lambda <= 0.0 {
        return 0;
    }
    if lambda < 30.0 {
        let limit = (-lambda).exp();
        let (mut k, mut product) = (0u32, rng.random::<f64>());
        while product > limit {
            k += 1;
            product *= rng.random::<f64>();
        }
        return k;
    }
    let normal = (-2.0 * rng.random::<f64>().max(f64::MIN_POSITIVE).ln()).sqrt()
        * (2.0 * std::f64::consts::PI * rng.random::<f64>()).cos();
    (lambda + lambda.sqrt() * normal).round().max(0.0) as u32
}

fn apis(rng: &mut StdRng, count: usize) -> Vec<Api> {
    (0..count)
        .map(|i| {
            let (source, name) = APIS[i % APIS.len()];
            let n_users = rng.random_range(2..=5);
            let weights: Vec<f64> = (0..n_users).map(|u| 1.0 / (u as f64 + 1.0)).collect();
            let total: f64 = weights.iter().sum();
            Api {
                source,
                name,
                peak: 0.5 * 120f64.powf(rng.random::<f64>()),
                error_share: rng.random_range(0.01..0.05),
                users: weights
                    .iter()
                    .enumerate()
                    .map(|(u, w)| {
                        (format!("arn:aws:iam::{ACCOUNT}:user/user-{i}-{u}"), AGENTS[(i + u) % AGENTS.len()], w / total)
                    })
                    .collect(),
            }
        })
        .collect()
}

/// Picks anomalies for every API in the evaluated days, at least six hours apart on one API.
fn inject(rng: &mut StdRng, apis: &[Api], scenario: &Scenario) -> Vec<Injected> {
    let first = scenario.learning_days * DAY;
    let last = (scenario.learning_days + scenario.evaluated_days) * DAY;
    let per_api = (scenario.anomalies_per_api_week as f64 * scenario.evaluated_days as f64 / 7.0).round() as usize;
    let kinds = [Kind::Burst, Kind::Ramp, Kind::Drop, Kind::ErrorStorm];
    let mean = seasonal_mean();
    let mut injected = Vec::new();
    for (index, api) in apis.iter().enumerate() {
        let mut placed: Vec<Injected> = Vec::new();
        let mut attempts = 0;
        // Drops only where the API is busy enough for one to mean something.
        let kinds: Vec<Kind> =
            kinds.iter().copied().filter(|kind| *kind != Kind::Drop || api.peak * 0.9 >= DROP_MIN_RATE).collect();
        while placed.len() < per_api && attempts < 10_000 {
            attempts += 1;
            let kind = kinds[(placed.len() + index) % kinds.len()];
            let start = rng.random_range(first + 60..last - 120);
            let minutes = match kind {
                Kind::Ramp => rng.random_range(15..=60),
                Kind::Drop => rng.random_range(10..=60),
                Kind::Burst | Kind::ErrorStorm => rng.random_range(5..=60),
            };
            if kind == Kind::Drop && (api.peak * seasonal(start) < 10.0 || api.peak * seasonal(start + minutes) < 10.0)
            {
                continue;
            }
            if kind == Kind::Drop && api.peak * mean < 1.0 {
                continue;
            }
            if placed.iter().any(|other| (other.start - start).abs() < 6 * 60) {
                continue;
            }
            let factor = match kind {
                Kind::Drop => rng.random_range(0.0..0.2),
                _ => rng.random_range(5.0..20.0),
            };
            let onset = match kind {
                // The minute the ramp's extra reaches 5× usual.
                Kind::Ramp => start + ((5.0 / factor) * minutes as f64).ceil() as i64 - 1,
                _ => start,
            };
            let user = matches!(kind, Kind::Burst | Kind::ErrorStorm)
                .then(|| format!("arn:aws:iam::{ACCOUNT}:user/intruder-{index}-{}", placed.len()));
            placed.push(Injected { api: index, kind, start, end: start + minutes, onset, factor, user });
        }
        injected.extend(placed);
    }
    injected.sort_by_key(|anomaly| anomaly.start);
    injected
}

/// Simulates `scenario` and scores the detector on it.
pub fn evaluate(scenario: &Scenario) -> Report {
    let mut rng = StdRng::seed_from_u64(scenario.seed);
    let apis = apis(&mut rng, scenario.apis);
    let injected = inject(&mut rng, &apis, scenario);
    let config = Config { learning_minutes: scenario.learning_days * DAY, ..scenario.config.clone() };
    let mut counters = Counters::new(scenario.learning_days + 1, DAY);
    let mut detector = Detector::new(config, 0);
    let end = (scenario.learning_days + scenario.evaluated_days) * DAY;
    let mean = seasonal_mean();
    let mut wobble = vec![1.0; apis.len()];
    let mut findings = Vec::new();
    let mut events = 0u64;
    let started = Instant::now();
    for minute in 0..end {
        for (index, api) in apis.iter().enumerate() {
            if minute % 15 == 0 {
                let normal = (-2.0 * rng.random::<f64>().max(f64::MIN_POSITIVE).ln()).sqrt()
                    * (2.0 * std::f64::consts::PI * rng.random::<f64>()).cos();
                wobble[index] = (0.2 * normal).exp();
            }
            let usual = api.peak * seasonal(minute) * wobble[index];
            let level = usual.max(api.peak * mean);
            let mut rate = usual;
            let mut intruder: Option<(&str, f64, bool)> = None;
            for anomaly in injected.iter().filter(|a| a.api == index && (a.start..a.end).contains(&minute)) {
                match anomaly.kind {
                    Kind::Burst => {
                        intruder = Some((anomaly.user.as_deref().unwrap_or(""), anomaly.factor * level, false))
                    }
                    Kind::Ramp => {
                        let progress = (minute - anomaly.start + 1) as f64 / (anomaly.end - anomaly.start) as f64;
                        rate += anomaly.factor * progress * level;
                    }
                    Kind::Drop => rate = usual * anomaly.factor,
                    Kind::ErrorStorm => {
                        let errors = (anomaly.factor * api.peak * mean * api.error_share).max(2.0);
                        intruder = Some((anomaly.user.as_deref().unwrap_or(""), errors, true));
                    }
                }
            }
            for (user, agent, share) in &api.users {
                let calls = rate * share;
                events += emit(&mut counters, &mut rng, api, minute, user, agent, calls, api.error_share);
            }
            if let Some((user, calls, failing)) = intruder {
                events += emit(
                    &mut counters,
                    &mut rng,
                    api,
                    minute,
                    user,
                    "python-requests/2.32",
                    calls,
                    if failing { 1.0 } else { 0.0 },
                );
            }
        }
        findings.extend(detector.advance(&counters, minute));
    }
    let seconds = started.elapsed().as_secs_f64();
    score(scenario, &apis, &injected, &findings, events, seconds)
}

/// Counts one user's calls of one minute: `calls` a minute on average, `error_share` of them
/// failing (with `ThrottlingException` when all fail, one of [`ERROR_CODES`] otherwise).
#[allow(clippy::too_many_arguments)]
fn emit(
    counters: &mut Counters,
    rng: &mut StdRng,
    api: &Api,
    minute: i64,
    user: &str,
    agent: &str,
    calls: f64,
    error_share: f64,
) -> u64 {
    let ok = poisson(rng, calls * (1.0 - error_share));
    let mut total = u64::from(ok);
    let attributions = |code: &str| {
        vec![
            (Dimension::UserIdentityArn, user.to_owned()),
            (Dimension::UserAgent, agent.to_owned()),
            (Dimension::ErrorCode, code.to_owned()),
        ]
    };
    if ok > 0 {
        counters.add(
            &Observation { key: api.key(InsightType::ApiCallRate, None), minute, attributions: attributions("null") },
            ok,
        );
    }
    let codes: &[(&str, f64)] = if error_share >= 1.0 {
        &[("ThrottlingException", 1.0)]
    } else {
        &[(ERROR_CODES[0], 0.7), (ERROR_CODES[1], 0.3)]
    };
    for (code, share) in codes {
        let failed = poisson(rng, calls * error_share * share);
        if failed == 0 {
            continue;
        }
        total += u64::from(failed);
        counters.add(
            &Observation { key: api.key(InsightType::ApiCallRate, None), minute, attributions: attributions(code) },
            failed,
        );
        let mut by_user = attributions(code);
        by_user.truncate(2);
        counters.add(
            &Observation { key: api.key(InsightType::ApiErrorRate, Some(code)), minute, attributions: by_user },
            failed,
        );
    }
    total
}

fn score(
    scenario: &Scenario,
    apis: &[Api],
    injected: &[Injected],
    findings: &[Finding],
    events: u64,
    seconds: f64,
) -> Report {
    let starts: Vec<&Finding> = findings.iter().filter(|f| f.state == State::Start).collect();
    let api_of =
        |key: &SeriesKey| apis.iter().position(|api| api.source == key.event_source && api.name == key.event_name);
    let near = |finding: &Finding, anomaly: &Injected| (anomaly.start - 3..=anomaly.end + 3).contains(&finding.minute);
    let series_of = |anomaly: &Injected| match anomaly.kind {
        Kind::ErrorStorm => apis[anomaly.api].key(InsightType::ApiErrorRate, Some("ThrottlingException")),
        _ => apis[anomaly.api].key(InsightType::ApiCallRate, None),
    };
    let mut by_kind: BTreeMap<Kind, KindScore> = BTreeMap::new();
    let (mut detected, mut delays, mut attribution_checked, mut attribution_right) = (0, Vec::new(), 0, 0);
    for anomaly in injected {
        let series = series_of(anomaly);
        let hit = starts.iter().find(|f| {
            f.key == series && near(f, anomaly) && (f.direction == Direction::Drop) == (anomaly.kind == Kind::Drop)
        });
        let entry = by_kind.entry(anomaly.kind).or_insert(KindScore {
            kind: anomaly.kind,
            injected: 0,
            detected: 0,
            max_delay_minutes: 0,
        });
        entry.injected += 1;
        let Some(hit) = hit else { continue };
        detected += 1;
        entry.detected += 1;
        let delay = (hit.decided_at - anomaly.onset).max(0);
        entry.max_delay_minutes = entry.max_delay_minutes.max(delay);
        delays.push(delay);
        if let Some(user) = &anomaly.user {
            attribution_checked += 1;
            let named = hit
                .attributions
                .iter()
                .find(|a| a.dimension == Dimension::UserIdentityArn)
                .and_then(|a| a.insight.first())
                .is_some_and(|(value, _)| value == user);
            attribution_right += usize::from(named);
        }
    }
    let false_starts =
        starts.iter().filter(|f| !injected.iter().any(|a| Some(a.api) == api_of(&f.key) && near(f, a))).count();
    let weeks = scenario.evaluated_days as f64 / 7.0;
    let ratio = |a: usize, b: usize| if b == 0 { 1.0 } else { a as f64 / b as f64 };
    Report {
        seed: scenario.seed,
        apis: apis.len(),
        learning_days: scenario.learning_days,
        evaluated_days: scenario.evaluated_days,
        events,
        injected: injected.len(),
        detected,
        recall: ratio(detected, injected.len()),
        starts: starts.len(),
        false_starts,
        precision: ratio(starts.len() - false_starts, starts.len()),
        false_starts_per_api_week: false_starts as f64 / (apis.len() as f64 * weeks),
        mean_delay_minutes: if delays.is_empty() {
            0.0
        } else {
            delays.iter().sum::<i64>() as f64 / delays.len() as f64
        },
        median_delay_minutes: percentile(&delays, 0.5),
        p90_delay_minutes: percentile(&delays, 0.9),
        max_delay_minutes: delays.iter().copied().max().unwrap_or(0),
        within_two_minutes: ratio(delays.iter().filter(|delay| **delay <= 2).count(), delays.len()),
        attribution_checked,
        attribution_right,
        by_kind: by_kind.into_values().collect(),
        seconds,
    }
}

/// The `q` quantile of `values` (nearest rank); 0 for none.
fn percentile(values: &[i64], q: f64) -> i64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1));
    sorted.get(rank - 1).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A short run of the harness (the full one is `cairn bench insights`): the targets hold.
    #[test]
    fn a_short_simulation_meets_the_targets() {
        let scenario = Scenario {
            learning_days: 7,
            evaluated_days: 3,
            apis: 4,
            anomalies_per_api_week: 14,
            ..Scenario::default()
        };
        let report = evaluate(&scenario);
        assert!(report.injected >= 16, "{report:#?}");
        assert!(report.recall >= 0.9, "{report:#?}");
        assert!(report.precision >= 0.9, "{report:#?}");
        assert!(report.within_two_minutes >= 0.8, "{report:#?}");
        assert_eq!(report.attribution_right, report.attribution_checked, "{report:#?}");
    }

    #[test]
    fn the_daily_cycle_peaks_in_the_afternoon_and_weekends_are_quieter() {
        assert!(seasonal(14 * 60) > 3.0 * seasonal(3 * 60));
        assert!(seasonal(14 * 60) > seasonal(2 * DAY + 14 * 60), "day 2 is a Saturday");
        let mut rng = StdRng::seed_from_u64(1);
        let mean = (0..10_000).map(|_| f64::from(poisson(&mut rng, 4.0))).sum::<f64>() / 10_000.0;
        assert!((mean - 4.0).abs() < 0.1, "{mean}");
        let mean = (0..10_000).map(|_| f64::from(poisson(&mut rng, 80.0))).sum::<f64>() / 10_000.0;
        assert!((mean - 80.0).abs() < 0.5, "{mean}");
    }
}
