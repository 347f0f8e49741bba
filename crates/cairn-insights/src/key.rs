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

/// What Insights reads of a management event.
#[derive(Debug, Clone, Copy)]
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
}

/// The observations `event` makes: management events with an account only (see [`observations_of`]).
pub fn observations(event: &EventFields) -> Vec<Observation> {
    if event.event_category != "Management" {
        return Vec::new();
    }
    let Some(account_id) = event.recipient_account_id.as_deref().or(event.user_identity.account_id.as_deref()) else {
        return Vec::new();
    };
    observations_of(&Call {
        account_id,
        region: &event.aws_region,
        event_source: &event.event_source,
        event_name: &event.event_name,
        event_time: event.event_time.as_second(),
        read_only: event.read_only,
        error_code: event.error_code.as_deref(),
        user_arn: event.user_identity.arn.as_deref(),
        user_agent: event.user_agent.as_deref(),
    })
}

/// The observations a management call makes: a write call counts toward its API's call rate, a
/// failed call (read or write) toward its error rate.
pub fn observations_of(call: &Call<'_>) -> Vec<Observation> {
    let minute = call.event_time.div_euclid(60);
    let text = |value: Option<&str>| value.unwrap_or("null").to_owned();
    let key = |insight_type, error_code: Option<&str>| SeriesKey {
        account_id: call.account_id.to_owned(),
        region: call.region.to_owned(),
        insight_type,
        event_source: call.event_source.to_owned(),
        event_name: call.event_name.to_owned(),
        error_code: error_code.map(str::to_owned),
    };
    let mut found = Vec::new();
    if call.read_only == Some(false) {
        found.push(Observation {
            key: key(InsightType::ApiCallRate, None),
            minute,
            attributions: vec![
                (Dimension::UserIdentityArn, text(call.user_arn)),
                (Dimension::UserAgent, text(call.user_agent)),
                (Dimension::ErrorCode, text(call.error_code)),
            ],
        });
    }
    if let Some(code) = call.error_code {
        found.push(Observation {
            key: key(InsightType::ApiErrorRate, Some(code)),
            minute,
            attributions: vec![
                (Dimension::UserIdentityArn, text(call.user_arn)),
                (Dimension::UserAgent, text(call.user_agent)),
            ],
        });
    }
    found
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
}
