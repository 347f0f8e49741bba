//! Alarms on rules: the metric-filter + alarm pattern users build on CloudTrail (CIS's unauthorized
//! calls, root usage, trail changes). An alarm rule does not forward each match; it counts its
//! matches over a sliding window and changes state when the count crosses its threshold — `ALARM`
//! once the window holds `threshold` matches, `OK` once it holds fewer — and each change goes to the
//! rule's targets as a CloudWatch "Alarm State Change" event. Time is when the dispatcher saw the
//! match (alarms are about live activity; an imported archive must not page anyone).
//!
//! A rule is an alarm when its tags say so (EventBridge's PutRule has no alarm members, and tags
//! pass through every client unchanged): `cairn:alarm:threshold` (matches, ≥ 1) and, optionally,
//! `cairn:alarm:window-seconds` (10–86,400, default 300).

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// The tag that makes a rule an alarm: how many matches in the window fire it.
pub const THRESHOLD_TAG: &str = "cairn:alarm:threshold";
/// The tag with the alarm's window, in seconds.
pub const WINDOW_TAG: &str = "cairn:alarm:window-seconds";
const DEFAULT_WINDOW_SECONDS: u32 = 300;
const WINDOW_SECONDS: std::ops::RangeInclusive<u32> = 10..=86_400;

/// When an alarm fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmSpec {
    pub threshold: u32,
    pub window_seconds: u32,
}

impl AlarmSpec {
    /// The alarm the tags `(key, value)` declare: `None` without the threshold tag, an error
    /// message for a value out of range.
    pub fn from_tags<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Option<AlarmSpec>, String> {
        let (mut threshold, mut window) = (None, None);
        for (key, value) in tags {
            match key {
                THRESHOLD_TAG => threshold = Some(value),
                WINDOW_TAG => window = Some(value),
                _ => {}
            }
        }
        let Some(threshold) = threshold else {
            return match window {
                Some(_) => Err(format!("The tag {WINDOW_TAG} needs the tag {THRESHOLD_TAG}.")),
                None => Ok(None),
            };
        };
        let threshold = threshold
            .parse::<u32>()
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| format!("The tag {THRESHOLD_TAG} must be a whole number of matches, at least 1."))?;
        let window_seconds = match window {
            None => DEFAULT_WINDOW_SECONDS,
            Some(value) => value.parse::<u32>().ok().filter(|n| WINDOW_SECONDS.contains(n)).ok_or_else(|| {
                format!(
                    "The tag {WINDOW_TAG} must be a number of seconds from {} to {}.",
                    WINDOW_SECONDS.start(),
                    WINDOW_SECONDS.end()
                )
            })?,
        };
        Ok(Some(AlarmSpec { threshold, window_seconds }))
    }
}

/// The state of an alarm (CloudWatch's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AlarmState {
    #[serde(rename = "OK")]
    Ok,
    #[serde(rename = "ALARM")]
    Alarm,
}

impl AlarmState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlarmState::Ok => "OK",
            AlarmState::Alarm => "ALARM",
        }
    }
}

/// A change of state, to tell the targets of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub from: AlarmState,
    pub to: AlarmState,
    /// Matches in the window when it changed.
    pub count: usize,
    /// When, in milliseconds since the epoch.
    pub at_ms: i64,
}

/// An alarm's live state: its matches still in the window.
#[derive(Debug, Clone)]
pub struct Alarm {
    spec: AlarmSpec,
    state: AlarmState,
    matches: VecDeque<i64>,
}

impl Alarm {
    pub fn new(spec: AlarmSpec) -> Alarm {
        Alarm { spec, state: AlarmState::Ok, matches: VecDeque::new() }
    }

    pub fn spec(&self) -> AlarmSpec {
        self.spec
    }

    pub fn state(&self) -> AlarmState {
        self.state
    }

    /// A match seen at `at_ms`: the transition to ALARM if it completes the threshold.
    pub fn record(&mut self, at_ms: i64) -> Option<Transition> {
        self.matches.push_back(at_ms);
        self.settle(at_ms)
    }

    /// The passing of time: the transition to OK once too few matches are left in the window.
    pub fn tick(&mut self, now_ms: i64) -> Option<Transition> {
        self.settle(now_ms)
    }

    fn settle(&mut self, now_ms: i64) -> Option<Transition> {
        let window_ms = i64::from(self.spec.window_seconds) * 1_000;
        while self.matches.front().is_some_and(|at| *at <= now_ms - window_ms) {
            self.matches.pop_front();
        }
        // Only the last `threshold` matches can matter.
        while self.matches.len() > self.spec.threshold as usize {
            self.matches.pop_front();
        }
        let breaching = self.matches.len() >= self.spec.threshold as usize;
        let to = if breaching { AlarmState::Alarm } else { AlarmState::Ok };
        if to == self.state {
            return None;
        }
        let transition = Transition { from: self.state, to, count: self.matches.len(), at_ms: now_ms };
        self.state = to;
        Some(transition)
    }
}

/// Where an alarm lives, for its state-change event.
#[derive(Debug, Clone, Copy)]
pub struct AlarmOf<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    /// The rule's name, which is the alarm's.
    pub name: &'a str,
    pub description: Option<&'a str>,
}

/// The state-change event of `transition`, in the shape CloudWatch sends to EventBridge
/// ("CloudWatch Alarm State Change", source `aws.cloudwatch`), so rules and receivers written for
/// CloudWatch alarms read it.
pub fn state_change_event(alarm: AlarmOf<'_>, spec: AlarmSpec, transition: Transition, id: &str) -> Value {
    let time = jiff::Timestamp::from_millisecond(transition.at_ms).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let reason = match transition.to {
        AlarmState::Alarm => format!(
            "Threshold Crossed: {} matching events within {} seconds (threshold {}).",
            transition.count, spec.window_seconds, spec.threshold
        ),
        AlarmState::Ok => format!(
            "Threshold Cleared: {} matching events within {} seconds (threshold {}).",
            transition.count, spec.window_seconds, spec.threshold
        ),
    };
    json!({
        "version": "0",
        "id": id,
        "detail-type": "CloudWatch Alarm State Change",
        "source": "aws.cloudwatch",
        "account": alarm.account_id,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "region": alarm.region,
        "resources": [format!("arn:aws:cloudwatch:{}:{}:alarm:{}", alarm.region, alarm.account_id, alarm.name)],
        "detail": {
            "alarmName": alarm.name,
            "state": {
                "value": transition.to.as_str(),
                "reason": reason,
                "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
            },
            "previousState": {"value": transition.from.as_str()},
            "configuration": {
                "description": alarm.description.unwrap_or(""),
                "threshold": spec.threshold,
                "windowSeconds": spec.window_seconds,
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000;

    fn spec(threshold: u32, window_seconds: u32) -> AlarmSpec {
        AlarmSpec { threshold, window_seconds }
    }

    #[test]
    fn n_matches_in_the_window_fire_once_then_quiet_clears() {
        let mut alarm = Alarm::new(spec(3, 60));
        assert_eq!(alarm.record(0), None);
        assert_eq!(alarm.record(10 * SECOND), None);
        let fired = alarm.record(20 * SECOND).expect("the third match fires");
        assert_eq!((fired.from, fired.to, fired.count), (AlarmState::Ok, AlarmState::Alarm, 3));
        assert_eq!(alarm.record(30 * SECOND), None, "already in ALARM: no second change");
        assert_eq!(alarm.tick(65 * SECOND), None, "three matches still within the last minute");
        let cleared = alarm.tick(91 * SECOND).expect("quiet clears it");
        assert_eq!((cleared.from, cleared.to), (AlarmState::Alarm, AlarmState::Ok));
        assert_eq!(alarm.tick(200 * SECOND), None);
    }

    #[test]
    fn matches_spread_wider_than_the_window_never_fire() {
        let mut alarm = Alarm::new(spec(2, 60));
        for minute in 0..10 {
            assert_eq!(alarm.record(minute * 61 * SECOND), None);
        }
        assert_eq!(alarm.state(), AlarmState::Ok);
    }

    #[test]
    fn tags_declare_an_alarm_or_say_what_is_wrong() {
        assert_eq!(AlarmSpec::from_tags([("team", "sec")]), Ok(None));
        assert_eq!(AlarmSpec::from_tags([(THRESHOLD_TAG, "5")]), Ok(Some(spec(5, 300))));
        assert_eq!(AlarmSpec::from_tags([(THRESHOLD_TAG, "1"), (WINDOW_TAG, "60")]), Ok(Some(spec(1, 60))));
        for bad in
            [vec![(THRESHOLD_TAG, "0")], vec![(THRESHOLD_TAG, "x")], vec![(THRESHOLD_TAG, "2"), (WINDOW_TAG, "9")]]
        {
            assert!(AlarmSpec::from_tags(bad.clone()).is_err(), "{bad:?}");
        }
        assert!(AlarmSpec::from_tags([(WINDOW_TAG, "60")]).unwrap_err().contains(THRESHOLD_TAG));
    }

    #[test]
    fn the_state_change_has_cloudwatchs_shape() {
        let alarm = AlarmOf { account_id: "111111111111", region: "us-east-1", name: "root-usage", description: None };
        let transition = Transition { from: AlarmState::Ok, to: AlarmState::Alarm, count: 1, at_ms: 1_796_638_500_000 };
        let event = state_change_event(alarm, spec(1, 300), transition, "e1");
        assert_eq!(event["detail-type"], "CloudWatch Alarm State Change");
        assert_eq!(event["source"], "aws.cloudwatch");
        assert_eq!(event["resources"][0], "arn:aws:cloudwatch:us-east-1:111111111111:alarm:root-usage");
        assert_eq!(event["detail"]["state"]["value"], "ALARM");
        assert_eq!(event["detail"]["previousState"]["value"], "OK");
        assert_eq!(event["time"], "2026-12-07T10:15:00Z");
        let matches = cairn_select::EventPattern::parse(
            r#"{"source":["aws.cloudwatch"],"detail-type":["CloudWatch Alarm State Change"],"detail":{"state":{"value":["ALARM"]}}}"#,
        )
        .map(|pattern| pattern.matches(&event));
        assert_eq!(matches, Ok(true), "a rule written for CloudWatch alarms takes it");
    }
}
