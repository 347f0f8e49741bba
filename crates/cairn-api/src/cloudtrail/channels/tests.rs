//! Channel rules: names, sources, one channel per source, the quota, references, and the store
//! ranges that decide which stores take a channel's events.

use std::collections::BTreeMap;

use cairn_model::ErrorCode;
use cairn_store::Change;
use cairn_store::records::{
    BillingMode, ChannelIngestionStatus, ChannelRange, ChannelRecord, EventDataStoreRecord, EventDataStoreStatus,
};
use cairn_store::wal::Lsn;

use super::reference::ChannelRef;
use super::rules::{check_clashes, check_quota, validate_name, validate_source};
use super::stores::reconcile;
use super::{MAX_CHANNELS_PER_REGION, merge_status};

fn channel(id: &str, name: &str, source: &str) -> ChannelRecord {
    ChannelRecord {
        id: id.to_owned(),
        account_id: "111111111111".to_owned(),
        region: "us-east-1".to_owned(),
        name: name.to_owned(),
        source: source.to_owned(),
        destinations: Vec::new(),
        tags: Vec::new(),
        created_at: jiff::Timestamp::UNIX_EPOCH,
        updated_at: jiff::Timestamp::UNIX_EPOCH,
        ingestion_status: ChannelIngestionStatus::default(),
    }
}

fn store(id: &str) -> EventDataStoreRecord {
    EventDataStoreRecord {
        id: id.to_owned(),
        account_id: "111111111111".to_owned(),
        region: "us-east-1".to_owned(),
        name: format!("store-{id}"),
        status: EventDataStoreStatus::Enabled,
        advanced_event_selectors: Vec::new(),
        multi_region_enabled: false,
        organization_enabled: false,
        retention_period: 366,
        termination_protection_enabled: false,
        kms_key_id: None,
        billing_mode: BillingMode::ExtendableRetentionPricing,
        tags: Vec::new(),
        created_at: jiff::Timestamp::UNIX_EPOCH,
        updated_at: jiff::Timestamp::UNIX_EPOCH,
        deleted_at: None,
        ingestion: Vec::new(),
        channels: Vec::new(),
        insights: None,
    }
}

fn by_id<T: Clone>(items: &[(&str, T)]) -> BTreeMap<String, T> {
    items.iter().map(|(id, item)| ((*id).to_owned(), item.clone())).collect()
}

#[test]
fn names_are_3_to_128_of_the_allowed_characters() {
    assert!(validate_name("abc").is_ok());
    assert!(validate_name(&"a".repeat(128)).is_ok());
    assert!(validate_name("my.channel_1-x").is_ok());
    for bad in ["ab", &"a".repeat(129), "has space", "ünïcode"] {
        assert_eq!(validate_name(bad).unwrap_err().code, ErrorCode::InvalidParameter, "{bad}");
    }
}

#[test]
fn sources_are_custom_or_a_partner_name() {
    assert!(validate_source("Custom").is_ok());
    assert!(validate_source("ExamplePartner").is_ok());
    for bad in ["", "  ", "custom", "CUSTOM", "line\nbreak", &"p".repeat(257)] {
        assert_eq!(validate_source(bad).unwrap_err().code, ErrorCode::InvalidSource, "{bad:?}");
    }
}

#[test]
fn one_channel_per_name_and_per_source_in_a_region() {
    let existing = by_id(&[("c1", channel("c1", "first", "Custom"))]);
    let clash = |candidate: &ChannelRecord, except: Option<&str>| check_clashes(&existing, candidate, except);
    assert_eq!(clash(&channel("c2", "first", "Partner"), None).unwrap_err().code, ErrorCode::ChannelAlreadyExists);
    let source = clash(&channel("c2", "second", "Custom"), None).unwrap_err();
    assert!(source.message.contains("A maximum of one channel is allowed per source"), "{}", source.message);
    assert!(clash(&channel("c2", "second", "Partner"), None).is_ok());
    // Renaming a channel to its own name is no clash.
    assert!(clash(&channel("c1", "first", "Custom"), Some("c1")).is_ok());
    // Other regions are other namespaces.
    let mut elsewhere = channel("c2", "first", "Custom");
    elsewhere.region = "eu-west-1".to_owned();
    assert!(clash(&elsewhere, None).is_ok());
}

#[test]
fn the_quota_counts_the_accounts_channels_in_the_region() {
    let full: Vec<(String, ChannelRecord)> = (0..MAX_CHANNELS_PER_REGION)
        .map(|n| (format!("c{n}"), channel(&format!("c{n}"), &format!("n{n}"), &format!("s{n}"))))
        .collect();
    let full: BTreeMap<String, ChannelRecord> = full.into_iter().collect();
    assert_eq!(check_quota(&full, "111111111111", "us-east-1").unwrap_err().code, ErrorCode::ChannelMaxLimitExceeded);
    assert!(check_quota(&full, "111111111111", "us-west-2").is_ok());
    assert!(check_quota(&full, "222222222222", "us-east-1").is_ok());
}

#[test]
fn references_are_ids_or_channel_arns() {
    assert_eq!(ChannelRef::parse("0b1c2d3e").unwrap(), ChannelRef::Id("0b1c2d3e".to_owned()));
    let arn = ChannelRef::parse("arn:aws:cloudtrail:us-east-1:111111111111:channel/0b1c2d3e").unwrap();
    assert_eq!(arn.id(), "0b1c2d3e");
    assert!(arn.may_name(&channel("0b1c2d3e", "n", "s")));
    let other_account = ChannelRef::parse("arn:aws:cloudtrail:us-east-1:222222222222:channel/0b1c2d3e").unwrap();
    assert!(!other_account.may_name(&channel("0b1c2d3e", "n", "s")));
    for bad in [
        "arn:aws:cloudtrail:us-east-1:111111111111:trail/x",
        "arn:aws:s3:us-east-1:111111111111:channel/x",
        "arn:aws:cloudtrail:us-east-1:1111:channel/x",
        "arn:aws:cloudtrail:us-east-1:111111111111:channel/",
    ] {
        assert_eq!(ChannelRef::parse(bad).unwrap_err().code, ErrorCode::ChannelArnInvalid, "{bad}");
    }
    assert_eq!(ChannelRef::parse("ab").unwrap_err().code, ErrorCode::InvalidParameter);
}

const ARN: &str = "arn:aws:cloudtrail:us-east-1:111111111111:channel/c1";

fn put_stores(changes: Vec<Change<EventDataStoreRecord>>) -> BTreeMap<String, EventDataStoreRecord> {
    changes
        .into_iter()
        .map(|change| match change {
            Change::Put(store) => (store.id.clone(), store),
            Change::Delete(key) => panic!("reconcile deleted {key}"),
        })
        .collect()
}

#[test]
fn ranges_open_and_close_at_the_next_lsn() {
    let stores = by_id(&[("a", store("a")), ("b", store("b"))]);
    // Attaching a: a range opens at the next LSN on a only.
    let changed = put_stores(reconcile(&stores, "111111111111", "us-east-1", ARN, &["a"], Lsn(10)));
    assert_eq!(changed.keys().collect::<Vec<_>>(), ["a"]);
    assert_eq!(changed["a"].channels, [ChannelRange { channel_arn: ARN.to_owned(), start: Lsn(10), end: None }]);
    let stores = by_id(&[("a", changed["a"].clone()), ("b", store("b"))]);
    // Attaching a again changes nothing.
    assert!(reconcile(&stores, "111111111111", "us-east-1", ARN, &["a"], Lsn(20)).is_empty());
    // Moving to b: a's range closes, b's opens, at the same LSN.
    let changed = put_stores(reconcile(&stores, "111111111111", "us-east-1", ARN, &["b"], Lsn(30)));
    assert_eq!(changed["a"].channels[0].end, Some(Lsn(30)));
    assert!(!changed["a"].takes_channel_event(ARN, Lsn(30)) && changed["a"].takes_channel_event(ARN, Lsn(29)));
    assert!(changed["b"].takes_channel_event(ARN, Lsn(30)) && !changed["b"].takes_channel_event(ARN, Lsn(29)));
    // Stores of another account are never touched.
    let mut foreign = store("f");
    foreign.account_id = "222222222222".to_owned();
    let stores = by_id(&[("f", foreign)]);
    assert!(reconcile(&stores, "111111111111", "us-east-1", ARN, &["f"], Lsn(40)).is_empty());
}

#[test]
fn a_failed_call_keeps_the_latest_success_shown() {
    let t = |s: i64| jiff::Timestamp::from_second(s).unwrap();
    let mut status = ChannelIngestionStatus {
        latest_success_time: Some(t(100)),
        latest_success_event_id: Some("ok-1".to_owned()),
        latest_error_code: None,
        latest_attempt_time: Some(t(100)),
        latest_attempt_event_id: Some("ok-1".to_owned()),
    };
    merge_status(
        &mut status,
        ChannelIngestionStatus {
            latest_error_code: Some("InvalidData".to_owned()),
            latest_attempt_time: Some(t(200)),
            latest_attempt_event_id: Some("bad-2".to_owned()),
            ..ChannelIngestionStatus::default()
        },
    );
    assert_eq!(status.latest_success_time, Some(t(100)));
    assert_eq!(status.latest_success_event_id.as_deref(), Some("ok-1"));
    assert_eq!(status.latest_error_code.as_deref(), Some("InvalidData"));
    assert_eq!(status.latest_attempt_time, Some(t(200)));
    assert_eq!(status.latest_attempt_event_id.as_deref(), Some("bad-2"));
}
