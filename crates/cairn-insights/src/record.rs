//! Insight events: a [`Finding`] as the CloudTrail record AWS writes (spec/formats.md §5.1), key for
//! key. IDs are derived from the finding, so judging the same events again gives the same records.

use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::detector::Finding;
use crate::key::InsightType;

/// The `eventVersion` of insight events.
pub const INSIGHT_EVENT_VERSION: &str = "1.11";

/// The namespace of insight events' derived IDs.
const NAMESPACE: Uuid = Uuid::from_u128(0x6361_6972_6e2d_696e_7369_6768_7473_0001);

/// The `sharedEventID` of the insight `finding` belongs to: the same for its Start and End.
pub fn shared_event_id(finding: &Finding) -> Uuid {
    let key = &finding.key;
    let name = format!(
        "{}|{}|{}|{}|{}|{}|{}",
        key.account_id,
        key.region,
        key.insight_type.as_str(),
        key.event_source,
        key.event_name,
        key.error_code.as_deref().unwrap_or(""),
        finding.start_minute
    );
    Uuid::new_v5(&NAMESPACE, name.as_bytes())
}

/// `finding` as an insight event record (compact JSON).
pub fn insight_record(finding: &Finding) -> String {
    let shared = shared_event_id(finding);
    let event_id = Uuid::new_v5(&shared, finding.state.as_str().as_bytes());
    let key = &finding.key;
    let mut details = Map::new();
    details.insert("state".into(), json!(finding.state.as_str()));
    details.insert("eventSource".into(), json!(key.event_source));
    details.insert("eventName".into(), json!(key.event_name));
    details.insert("insightType".into(), json!(key.insight_type.as_str()));
    if key.insight_type == InsightType::ApiErrorRate
        && let Some(code) = &key.error_code
    {
        details.insert("errorCode".into(), json!(code));
    }
    details.insert("sourceEventCategory".into(), json!(key.source_category()));
    if let Some(trail) = &key.trail {
        details.insert("insightSource".into(), json!(trail));
    }
    let attributions: Vec<Value> = finding
        .attributions
        .iter()
        .map(|attribution| {
            let values = |values: &[(String, f64)]| -> Vec<Value> {
                values.iter().map(|(value, average)| json!({ "value": value, "average": number(*average) })).collect()
            };
            json!({
                "attribute": attribution.dimension.as_str(),
                "insight": values(&attribution.insight),
                "baseline": values(&attribution.baseline),
            })
        })
        .collect();
    details.insert(
        "insightContext".into(),
        json!({
            "statistics": {
                "baseline": { "average": number(finding.baseline_average) },
                "insight": { "average": number(finding.insight_average) },
                "insightDuration": finding.insight_duration,
                "baselineDuration": finding.baseline_duration,
            },
            "attributions": attributions,
        }),
    );
    let event_time = jiff::Timestamp::from_second(finding.minute * 60)
        .map(|at| at.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    let record = json!({
        "eventVersion": INSIGHT_EVENT_VERSION,
        "eventTime": event_time,
        "awsRegion": key.region,
        "eventID": event_id.to_string(),
        "eventType": "AwsCloudTrailInsight",
        "recipientAccountId": key.account_id,
        "sharedEventID": shared.to_string(),
        "insightDetails": Value::Object(details),
        "eventCategory": "Insight",
    });
    record.to_string()
}

/// An average as a JSON number: whole numbers as integers, others to six significant digits.
fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        return json!(value as i64);
    }
    let digits = 6 - (value.abs().log10().floor() as i32 + 1);
    let scale = 10f64.powi(digits.clamp(0, 15));
    json!((value * scale).round() / scale)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detector::{Attribution, Direction, State};
    use crate::key::{Dimension, SeriesKey};
    use cairn_model::event::EventRecord;

    fn finding(state: State) -> Finding {
        Finding {
            key: SeriesKey {
                account_id: "888888888888".into(),
                region: "us-east-1".into(),
                insight_type: InsightType::ApiErrorRate,
                event_source: "cloudtrail.amazonaws.com".into(),
                event_name: "DescribeQuery".into(),
                error_code: Some("QueryIdNotFoundException".into()),
                trail: None,
            },
            state,
            direction: Direction::Spike,
            minute: 29_008_012,
            decided_at: 29_008_014,
            start_minute: 29_008_012,
            baseline_average: 0.0,
            insight_average: 1.2,
            insight_duration: 5,
            baseline_duration: 11_092,
            expected_rate: 0.0001,
            attributions: vec![Attribution {
                dimension: Dimension::UserIdentityArn,
                insight: vec![("arn:aws:sts::888888888888:assumed-role/Admin".into(), 1.2)],
                baseline: vec![],
            }],
        }
    }

    /// The keys of the AWS example in spec/formats.md §5.1, in its order, at every level.
    #[test]
    fn the_record_has_aws_keys_in_aws_order_and_parses_as_an_insight() {
        let text = insight_record(&finding(State::Start));
        let record: Value = serde_json::from_str(&text).unwrap();
        let keys = |value: &Value| value.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
        assert_eq!(
            keys(&record),
            [
                "eventVersion",
                "eventTime",
                "awsRegion",
                "eventID",
                "eventType",
                "recipientAccountId",
                "sharedEventID",
                "insightDetails",
                "eventCategory"
            ]
        );
        let details = &record["insightDetails"];
        assert_eq!(
            keys(details),
            ["state", "eventSource", "eventName", "insightType", "errorCode", "sourceEventCategory", "insightContext"]
        );
        assert_eq!(
            keys(&details["insightContext"]["statistics"]),
            ["baseline", "insight", "insightDuration", "baselineDuration"]
        );
        assert_eq!(record["eventTime"], "2025-02-25T10:52:00Z");
        assert_eq!(details["insightContext"]["attributions"][0]["insight"][0]["average"], 1.2);
        assert_eq!(details["insightContext"]["statistics"]["baseline"]["average"], 0);
        let parsed = EventRecord::parse(text.as_bytes()).unwrap();
        assert_eq!(parsed.fields().event_category, "Insight");
        assert_eq!(parsed.fields().event_name, "DescribeQuery");
    }

    /// The keys of `value`'s object members, recursively, as paths in document order.
    fn key_paths(value: &Value, path: &str, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                for (key, member) in map {
                    let here = format!("{path}.{key}");
                    out.push(here.clone());
                    key_paths(member, &here, out);
                }
            }
            // Every element of a list has the shape of the first.
            Value::Array(items) => {
                if let Some(first) = items.first() {
                    key_paths(first, &format!("{path}[]"), out);
                }
            }
            _ => {}
        }
    }

    /// AWS's own insight records (`shared/corpora/cloudtrail/awsdocs-examples.ndjson`): every key they
    /// have, ours has, in the same order; ours adds only what AWS added to later records.
    #[test]
    fn records_have_the_shape_of_aws_examples() {
        let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpora/cloudtrail/awsdocs-examples.ndjson");
        let text = std::fs::read_to_string(corpus).expect("the corpus of AWS examples");
        let mut compared = 0;
        for line in text.lines().filter(|line| line.contains("AwsCloudTrailInsight")) {
            let example: Value = serde_json::from_str(line).unwrap();
            let details = &example["insightDetails"];
            let Some(kind) = details["insightType"].as_str().and_then(InsightType::parse) else { continue };
            if details["insightContext"]["attributions"].as_array().is_none_or(|a| a.is_empty()) {
                continue; // an abridged example
            }
            let mut ours = finding(if details["state"] == "End" { State::End } else { State::Start });
            ours.key.insight_type = kind;
            ours.attributions = kind
                .dimensions()
                .iter()
                .map(|dimension| Attribution {
                    dimension: *dimension,
                    insight: vec![("v".into(), 1.0)],
                    baseline: vec![("v".into(), 1.0)],
                })
                .collect();
            let record: Value = serde_json::from_str(&insight_record(&ours)).unwrap();
            let (mut theirs, mut mine) = (Vec::new(), Vec::new());
            key_paths(&example, "", &mut theirs);
            key_paths(&record, "", &mut mine);
            theirs.retain(|path| path != "._source");
            let shared: Vec<&String> = mine.iter().filter(|path| theirs.contains(path)).collect();
            assert_eq!(shared, theirs.iter().collect::<Vec<_>>(), "{line}");
            let added: Vec<&String> = mine.iter().filter(|path| !theirs.contains(path)).collect();
            let later = [".insightDetails.sourceEventCategory", ".insightDetails.errorCode"];
            assert!(added.iter().all(|path| later.contains(&path.as_str())), "{added:?} for {line}");
            compared += 1;
        }
        assert!(compared >= 2, "the corpus has full insight examples");
    }

    #[test]
    fn start_and_end_share_an_id_and_ids_are_stable() {
        let start: Value = serde_json::from_str(&insight_record(&finding(State::Start))).unwrap();
        let end: Value = serde_json::from_str(&insight_record(&finding(State::End))).unwrap();
        assert_eq!(start["sharedEventID"], end["sharedEventID"]);
        assert_ne!(start["eventID"], end["eventID"]);
        assert_eq!(insight_record(&finding(State::End)), insight_record(&finding(State::End)));
    }

    #[test]
    fn averages_keep_six_significant_digits() {
        assert_eq!(number(9.822_222_2e-5), json!(9.82222e-5));
        assert_eq!(number(5.0), json!(5));
        assert_eq!(number(1.0 / 3.0), json!(0.333333));
        assert_eq!(number(1234.56789), json!(1234.57));
    }
}
