//! What Insights counts: each management event becomes at most two observations, one of the API's
//! call rate (write calls) and one of its error rate (calls that failed), each with the values of
//! the dimensions its insight events attribute (spec/formats.md §5.2).

use cairn_model::event::EventFields;
use serde::{Deserialize, Serialize};

/// The two kinds of Insights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum InsightType {
    /// Write management calls per minute.
    ApiCallRate,
    /// Management calls that returned one error code, per minute.
    ApiErrorRate,
}

impl InsightType {
    pub const ALL: [InsightType; 2] = [InsightType::ApiCallRate, InsightType::ApiErrorRate];

    pub fn as_str(self) -> &'static str {
        match self {
            InsightType::ApiCallRate => "ApiCallRateInsight",
            InsightType::ApiErrorRate => "ApiErrorRateInsight",
        }
    }

    pub fn parse(name: &str) -> Option<InsightType> {
        InsightType::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The dimensions an insight of this type attributes, in AWS's order.
    pub fn dimensions(self) -> &'static [Dimension] {
        match self {
            InsightType::ApiCallRate => &[Dimension::UserIdentityArn, Dimension::UserAgent, Dimension::ErrorCode],
            InsightType::ApiErrorRate => &[Dimension::UserIdentityArn, Dimension::UserAgent],
        }
    }
}

/// An attribution dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Dimension {
    UserIdentityArn,
    UserAgent,
    /// The call's error code, `"null"` for a call that succeeded (AWS's spelling).
    ErrorCode,
}

impl Dimension {
    pub fn as_str(self) -> &'static str {
        match self {
            Dimension::UserIdentityArn => "userIdentityArn",
            Dimension::UserAgent => "userAgent",
            Dimension::ErrorCode => "errorCode",
        }
    }
}

/// One rate Insights follows: an API of one account and region, and for error rates one error code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SeriesKey {
    pub account_id: String,
    pub region: String,
    pub insight_type: InsightType,
    pub event_source: String,
    pub event_name: String,
    /// ApiErrorRateInsight only.
    pub error_code: Option<String>,
    /// For Insights on data events, the trail whose data events are counted (data events reach
    /// Insights through a trail's selectors); `None` for management events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trail: Option<String>,
}

impl SeriesKey {
    pub fn as_ref(&self) -> SeriesRef<'_> {
        SeriesRef {
            account_id: &self.account_id,
            region: &self.region,
            insight_type: self.insight_type,
            event_source: &self.event_source,
            event_name: &self.event_name,
            error_code: self.error_code.as_deref(),
            trail: self.trail.as_deref(),
        }
    }

    /// `Management`, or `Data` for a trail's data-event series (`sourceEventCategory`).
    pub fn source_category(&self) -> &'static str {
        if self.trail.is_some() { "Data" } else { "Management" }
    }
}

/// A [`SeriesKey`] borrowing its text. Its fields are the key's, in the key's order, so both hash
/// alike and a map of keys is searched with a `SeriesRef` without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SeriesRef<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub insight_type: InsightType,
    pub event_source: &'a str,
    pub event_name: &'a str,
    pub error_code: Option<&'a str>,
    pub trail: Option<&'a str>,
}

impl SeriesRef<'_> {
    pub fn to_key(&self) -> SeriesKey {
        SeriesKey {
            account_id: self.account_id.to_owned(),
            region: self.region.to_owned(),
            insight_type: self.insight_type,
            event_source: self.event_source.to_owned(),
            event_name: self.event_name.to_owned(),
            error_code: self.error_code.map(str::to_owned),
            trail: self.trail.map(str::to_owned),
        }
    }
}

impl hashbrown::Equivalent<SeriesKey> for SeriesRef<'_> {
    fn equivalent(&self, key: &SeriesKey) -> bool {
        *self == key.as_ref()
    }
}

/// One event's contribution to one series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observation {
    pub key: SeriesKey,
    /// The minute of the event's time, in minutes since the epoch.
    pub minute: i64,
    /// A value per dimension of the key's type, in [`InsightType::dimensions`] order.
    pub attributions: Vec<(Dimension, String)>,
}

impl Observation {
    pub fn as_ref(&self) -> ObservationRef<'_> {
        let mut attributions = [(Dimension::UserIdentityArn, ""); 3];
        for (slot, (dimension, value)) in attributions.iter_mut().zip(&self.attributions) {
            *slot = (*dimension, value.as_str());
        }
        ObservationRef {
            key: self.key.as_ref(),
            minute: self.minute,
            attributions,
            n_attributions: self.attributions.len().min(3),
        }
    }
}

/// An [`Observation`] borrowing its text (from the event that made it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObservationRef<'a> {
    pub key: SeriesRef<'a>,
    pub minute: i64,
    attributions: [(Dimension, &'a str); 3],
    n_attributions: usize,
}

impl ObservationRef<'_> {
    /// A value per dimension of the key's type, in [`InsightType::dimensions`] order.
    pub fn attributions(&self) -> &[(Dimension, &str)] {
        &self.attributions[..self.n_attributions]
    }

    pub fn to_observation(&self) -> Observation {
        Observation {
            key: self.key.to_key(),
            minute: self.minute,
            attributions: self
                .attributions()
                .iter()
                .map(|(dimension, value)| (*dimension, (*value).to_owned()))
                .collect(),
        }
    }
}

/// What Insights reads of a management event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Call<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub event_source: &'a str,
    pub event_name: &'a str,
    /// `eventTime`, in seconds since the epoch.
    pub event_time: i64,
    pub read_only: Option<bool>,
    pub error_code: Option<&'a str>,
    pub user_arn: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    /// The trail a data event is counted for; `None` for a management event.
    pub trail: Option<&'a str>,
}

/// The observations `event` makes: management events with an account only (see [`observations_of`]).
pub fn observations(event: &EventFields) -> Vec<Observation> {
    call_of(event).map(|call| observations_of(&call)).unwrap_or_default()
}

/// What Insights reads of `event`: management events with an account only.
pub fn call_of(event: &EventFields) -> Option<Call<'_>> {
    read_call(event, "Management", None)
}

/// What Insights reads of the data event `event` for the trail `trail`, which logs it and asked for
/// Insights on data events.
pub fn data_call_of<'a>(event: &'a EventFields, trail: &'a str) -> Option<Call<'a>> {
    read_call(event, "Data", Some(trail))
}

/// The call `event` is, if it is of `category` and names its account (`recipientAccountId`, else
/// `userIdentity.accountId`, as trails group events).
fn read_call<'a>(event: &'a EventFields, category: &str, trail: Option<&'a str>) -> Option<Call<'a>> {
    if event.event_category != category {
        return None;
    }
    let account_id = event.recipient_account_id.as_deref().or(event.user_identity.account_id.as_deref())?;
    Some(Call {
        account_id,
        region: &event.aws_region,
        event_source: &event.event_source,
        event_name: &event.event_name,
        event_time: event.event_time.as_second(),
        read_only: event.read_only,
        error_code: event.error_code.as_deref(),
        user_arn: event.user_identity.arn.as_deref(),
        user_agent: event.user_agent.as_deref(),
        trail,
    })
}

/// The calls of a batch, each distinct call of a minute once with how many times it was made.
/// Identical calls in one minute make identical observations, and most calls repeat one (a burst is
/// one API from one user and agent), so a batch is reduced to its distinct calls, borrowing their
/// text, and each is counted once.
#[derive(Debug, Default)]
pub struct Tally<'a> {
    calls: hashbrown::HashMap<Call<'a>, u32>,
}

impl<'a> Tally<'a> {
    /// Tallies `event`, if it makes an observation.
    pub fn add(&mut self, event: &'a EventFields) {
        if let Some(call) = call_of(event) {
            self.add_call(call);
        }
    }

    /// Tallies the data event `event` for the trail `trail`.
    pub fn add_data(&mut self, event: &'a EventFields, trail: &'a str) {
        if let Some(call) = data_call_of(event, trail) {
            self.add_call(call);
        }
    }

    /// Tallies `call`, if it makes an observation.
    pub fn add_call(&mut self, mut call: Call<'a>) {
        if call.trail.is_none() && call.read_only != Some(false) && call.error_code.is_none() {
            return;
        }
        call.event_time = call.event_time.div_euclid(60) * 60;
        *self.calls.entry(call).or_default() += 1;
    }

    /// Each observation the tallied calls make, with the number of calls that made it.
    pub fn observations(&self) -> impl Iterator<Item = (ObservationRef<'a>, u32)> + '_ {
        self.calls.iter().flat_map(|(call, n)| observation_refs(call).map(move |observation| (observation, *n)))
    }
}

/// The observations a call makes: a management write call, or any data call, counts toward its
/// API's call rate, a failed call (read or write) toward its error rate.
pub fn observations_of(call: &Call<'_>) -> Vec<Observation> {
    observation_refs(call).map(|observation| observation.to_observation()).collect()
}

/// [`observations_of`], borrowing the call's text.
pub fn observation_refs<'a>(call: &Call<'a>) -> impl Iterator<Item = ObservationRef<'a>> + use<'a> {
    let minute = call.event_time.div_euclid(60);
    let text = |value: Option<&'a str>| value.unwrap_or("null");
    let key = |insight_type, error_code| SeriesRef {
        account_id: call.account_id,
        region: call.region,
        insight_type,
        event_source: call.event_source,
        event_name: call.event_name,
        error_code,
        trail: call.trail,
    };
    let counts_calls = call.trail.is_some() || call.read_only == Some(false);
    let calls = counts_calls.then(|| ObservationRef {
        key: key(InsightType::ApiCallRate, None),
        minute,
        attributions: [
            (Dimension::UserIdentityArn, text(call.user_arn)),
            (Dimension::UserAgent, text(call.user_agent)),
            (Dimension::ErrorCode, text(call.error_code)),
        ],
        n_attributions: 3,
    });
    let errors = call.error_code.map(|code| ObservationRef {
        key: key(InsightType::ApiErrorRate, Some(code)),
        minute,
        attributions: [
            (Dimension::UserIdentityArn, text(call.user_arn)),
            (Dimension::UserAgent, text(call.user_agent)),
            (Dimension::ErrorCode, ""),
        ],
        n_attributions: 2,
    });
    calls.into_iter().chain(errors)
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_model::event::EventRecord;

    fn fields(json: &str) -> EventFields {
        EventRecord::parse(json.as_bytes()).unwrap().fields().clone()
    }

    const BASE: &str = r#""eventVersion":"1.11","eventTime":"2026-12-07T10:15:42Z","awsRegion":"us-east-1","eventID":"e1","eventType":"AwsApiCall","recipientAccountId":"111111111111","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111111111111:user/alice","accountId":"111111111111"},"userAgent":"aws-cli/2","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","eventCategory":"Management""#;

    #[test]
    fn a_failed_write_counts_toward_both_rates() {
        let event = fields(&format!(r#"{{{BASE},"readOnly":false,"errorCode":"AccessDenied"}}"#));
        let found = observations(&event);
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].key.insight_type, InsightType::ApiCallRate);
        assert_eq!(found[0].minute, 1_796_638_500 / 60);
        assert_eq!(found[0].attributions[2], (Dimension::ErrorCode, "AccessDenied".to_owned()));
        assert_eq!(found[1].key.error_code.as_deref(), Some("AccessDenied"));
        assert_eq!(found[1].attributions.len(), 2);
    }

    #[test]
    fn reads_count_only_when_they_fail_and_data_events_never() {
        assert!(observations(&fields(&format!(r#"{{{BASE},"readOnly":true}}"#))).is_empty());
        let failed = observations(&fields(&format!(r#"{{{BASE},"readOnly":true,"errorCode":"Throttling"}}"#)));
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].key.insight_type, InsightType::ApiErrorRate);
        let data = BASE.replace(r#""eventCategory":"Management""#, r#""eventCategory":"Data""#);
        assert!(observations(&fields(&format!(r#"{{{data},"readOnly":false}}"#))).is_empty());
        let success = observations(&fields(&format!(r#"{{{BASE},"readOnly":false}}"#)));
        assert_eq!(success[0].attributions[2], (Dimension::ErrorCode, "null".to_owned()));
    }

    #[test]
    fn a_tally_counts_each_distinct_call_of_a_minute_once_with_its_multiplicity() {
        let write = |time: &str, user: &str| {
            fields(&format!(r#"{{{BASE},"readOnly":false}}"#).replace("10:15:42", time).replace("alice", user))
        };
        let events = [
            write("10:15:42", "alice"),
            write("10:15:03", "alice"),
            write("10:15:59", "bob"),
            write("10:16:00", "alice"),
            fields(&format!(r#"{{{BASE},"readOnly":true}}"#)),
        ];
        let mut tally = Tally::default();
        for event in &events {
            tally.add(event);
        }
        let mut found: Vec<(i64, String, u32)> = tally
            .observations()
            .map(|(observation, n)| (observation.minute, observation.attributions()[0].1.to_owned(), n))
            .collect();
        found.sort();
        let minute = 1_796_638_500 / 60;
        let arn = |user: &str| format!("arn:aws:iam::111111111111:user/{user}");
        assert_eq!(found, [(minute, arn("alice"), 2), (minute, arn("bob"), 1), (minute + 1, arn("alice"), 1)]);
    }
}
