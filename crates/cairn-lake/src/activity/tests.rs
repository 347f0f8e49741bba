//! Records built by PutAuditEvents' validation land in every ActivityAuditLog column; absent members are NULL.

use arrow_array::cast::AsArray;
use arrow_array::types::TimestampMillisecondType;
use arrow_array::{Array, MapArray, StructArray};
use cairn_model::event::audit::{AuditEventInput, IngestContext, validate};
use serde_json::json;

use super::*;

const OWNER: &str = "123456789012";
const CHANNEL: &str = "arn:aws:cloudtrail:eu-west-1:123456789012:channel/6a2b7c4e-1d3f-4e5a-8b9c-0d1e2f3a4b5c";

fn stored(event_data: &serde_json::Value, event_id: &str) -> String {
    let text = event_data.to_string();
    let context = IngestContext {
        owner_account_id: OWNER,
        region: "eu-west-1",
        channel_arn: CHANNEL,
        ingestion_time: "2024-05-06T07:08:09Z".parse().unwrap(),
        event_id,
    };
    let input = AuditEventInput { id: "evt-1", event_data: &text, event_data_checksum: None };
    validate(&input, &context).unwrap().record.text().to_owned()
}

fn full() -> serde_json::Value {
    json!({
        "version": "1.0",
        "userIdentity": {"type": "CustomUser", "principalId": "alice@example.com", "details": {"team": "ops", "level": 3}},
        "userAgent": "ticketing/2.1",
        "eventSource": "ticketing.example.com",
        "eventName": "CloseTicket",
        "eventTime": "2024-05-06T07:00:00Z",
        "UID": "req-0001",
        "requestParameters": {"ticket": "T-42", "force": true},
        "responseElements": {"status": "closed"},
        "errorCode": "Conflict",
        "errorMessage": "already closed",
        "sourceIPAddress": "203.0.113.7",
        "recipientAccountId": OWNER,
        "additionalEventData": {"queue": "support", "tags": ["a"]}
    })
}

fn minimal() -> serde_json::Value {
    json!({
        "version": "1.0",
        "userIdentity": {"type": "CustomUser", "principalId": "bob"},
        "eventSource": "ticketing.example.com",
        "eventName": "OpenTicket",
        "eventTime": "2024-05-06T07:30:00",
        "UID": "req-0002",
        "recipientAccountId": OWNER
    })
}

fn strings(array: &dyn Array, row: usize) -> Option<&str> {
    let array = array.as_string::<i32>();
    (!array.is_null(row)).then(|| array.value(row))
}

fn child<'a>(parent: &'a StructArray, name: &str) -> &'a dyn Array {
    parent.column_by_name(name).unwrap().as_ref()
}

fn text_of(parent: &StructArray, name: &str, row: usize) -> Option<String> {
    strings(child(parent, name), row).map(str::to_owned)
}

fn entries(map: &MapArray, row: usize) -> Vec<(String, Option<String>)> {
    let entry = map.value(row);
    let keys = entry.column(0).as_string::<i32>();
    let values = entry.column(1).as_string::<i32>();
    (0..entry.len())
        .map(|i| (keys.value(i).to_owned(), values.is_valid(i).then(|| values.value(i).to_owned())))
        .collect()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, Option<String>)> {
    items.iter().map(|(k, v)| ((*k).to_owned(), Some((*v).to_owned()))).collect()
}

#[test]
fn schema_has_the_non_aws_event_columns() {
    let schema = activity_schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "eventversion",
            "eventcategory",
            "eventtype",
            "eventid",
            "eventtime",
            "awsregion",
            "recipientaccountid",
            "addendum",
            "metadata",
            "eventdata",
            "eventjson"
        ]
    );
    assert_eq!(schema.field_with_name("eventtime").unwrap().data_type(), &timestamp_type());
    let DataType::Struct(data) = schema.field_with_name("eventdata").unwrap().data_type() else { panic!() };
    let data_names: Vec<&str> = data.iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        data_names,
        [
            "version",
            "useridentity",
            "useragent",
            "eventsource",
            "eventname",
            "eventtime",
            "uid",
            "requestparameters",
            "responseelements",
            "errorcode",
            "errormessage",
            "sourceipaddress",
            "recipientaccountid",
            "additionaleventdata"
        ]
    );
}

#[test]
fn a_validated_audit_event_fills_every_column() {
    let record = stored(&full(), "0f1e2d3c-4b5a-4968-8776-655443322110");
    let batch = records_to_batch([record.as_str()]).unwrap();
    assert_eq!(batch.num_rows(), 1);
    let column = |name: &str| batch.column_by_name(name).unwrap().clone();
    assert_eq!(strings(column("eventversion").as_ref(), 0), Some("1.0"));
    assert_eq!(strings(column("eventcategory").as_ref(), 0), Some("ActivityAuditLog"));
    assert_eq!(strings(column("eventtype").as_ref(), 0), Some("ActivityLog"));
    assert_eq!(strings(column("eventid").as_ref(), 0), Some("0f1e2d3c-4b5a-4968-8776-655443322110"));
    let time = column("eventtime");
    assert_eq!(time.as_primitive::<TimestampMillisecondType>().value(0), 1_714_978_800_000);
    assert_eq!(strings(column("awsregion").as_ref(), 0), Some("eu-west-1"));
    assert_eq!(strings(column("recipientaccountid").as_ref(), 0), Some(OWNER));
    assert!(column("addendum").is_null(0));

    let metadata = column("metadata");
    let metadata = metadata.as_struct();
    assert_eq!(child(metadata, "ingestiontime").as_primitive::<TimestampMillisecondType>().value(0), 1_714_979_289_000);
    assert_eq!(text_of(metadata, "channelarn", 0).as_deref(), Some(CHANNEL));

    let data = column("eventdata");
    let data = data.as_struct();
    assert_eq!(text_of(data, "version", 0).as_deref(), Some("1.0"));
    let identity = child(data, "useridentity").as_struct();
    assert_eq!(text_of(identity, "type", 0).as_deref(), Some("CustomUser"));
    assert_eq!(text_of(identity, "principalid", 0).as_deref(), Some("alice@example.com"));
    assert_eq!(entries(child(identity, "details").as_map(), 0), pairs(&[("team", "ops"), ("level", "3")]));
    assert_eq!(text_of(data, "useragent", 0).as_deref(), Some("ticketing/2.1"));
    assert_eq!(text_of(data, "eventsource", 0).as_deref(), Some("ticketing.example.com"));
    assert_eq!(text_of(data, "eventname", 0).as_deref(), Some("CloseTicket"));
    assert_eq!(text_of(data, "eventtime", 0).as_deref(), Some("2024-05-06T07:00:00Z"));
    assert_eq!(text_of(data, "uid", 0).as_deref(), Some("req-0001"));
    assert_eq!(entries(child(data, "requestparameters").as_map(), 0), pairs(&[("ticket", "T-42"), ("force", "true")]));
    assert_eq!(entries(child(data, "responseelements").as_map(), 0), pairs(&[("status", "closed")]));
    assert_eq!(text_of(data, "errorcode", 0).as_deref(), Some("Conflict"));
    assert_eq!(text_of(data, "errormessage", 0).as_deref(), Some("already closed"));
    assert_eq!(text_of(data, "sourceipaddress", 0).as_deref(), Some("203.0.113.7"));
    assert_eq!(text_of(data, "recipientaccountid", 0).as_deref(), Some(OWNER));
    assert_eq!(
        entries(child(data, "additionaleventdata").as_map(), 0),
        pairs(&[("queue", "support"), ("tags", "[\"a\"]")])
    );
    assert_eq!(strings(column("eventjson").as_ref(), 0), Some(record.as_str()));
}

#[test]
fn absent_optional_members_are_null() {
    let full_record = stored(&full(), "00000000-0000-4000-8000-000000000001");
    let minimal_record = stored(&minimal(), "00000000-0000-4000-8000-000000000002");
    let batch = records_to_batch([full_record.as_str(), minimal_record.as_str()]).unwrap();
    assert_eq!(batch.num_rows(), 2);
    let data = batch.column_by_name("eventdata").unwrap().as_struct();
    assert!(data.is_valid(1));
    let identity = child(data, "useridentity").as_struct();
    assert_eq!(text_of(identity, "principalid", 1).as_deref(), Some("bob"));
    assert!(child(identity, "details").is_null(1));
    for name in ["useragent", "errorcode", "errormessage", "sourceipaddress"] {
        assert!(child(data, name).is_null(1), "{name}");
        assert!(child(data, name).is_valid(0), "{name}");
    }
    for name in ["requestparameters", "responseelements", "additionaleventdata"] {
        assert!(child(data, name).is_null(1), "{name}");
        assert!(child(data, name).is_valid(0), "{name}");
    }
    // The sender's time without `Z` stays as sent; the top-level time is its UTC reading.
    assert_eq!(text_of(data, "eventtime", 1).as_deref(), Some("2024-05-06T07:30:00"));
    let time = batch.column_by_name("eventtime").unwrap().as_primitive::<TimestampMillisecondType>();
    assert_eq!(time.value(1), 1_714_980_600_000);
    assert!(batch.column_by_name("addendum").unwrap().is_null(1));
}

#[test]
fn texts_without_an_object_and_event_time_are_skipped() {
    let good = stored(&minimal(), "00000000-0000-4000-8000-000000000003");
    let no_time = r#"{"eventVersion":"1.0","eventData":{}}"#;
    let batch = records_to_batch(["[1]", no_time, good.as_str(), "not json"]).unwrap();
    assert_eq!(batch.num_rows(), 1);
    assert_eq!(strings(batch.column_by_name("eventjson").unwrap().as_ref(), 0), Some(good.as_str()));
}
