//! The dispatcher over a real event store and metadata store, with log-file targets: which rules
//! take which events (state, read-only rule, account and region), and a restart that sends nothing
//! again once the cursor was saved.

use std::sync::Arc;

use cairn_model::clock::ManualClock;
use cairn_model::event::EventRecord;
use cairn_store::events::EventStoreConfig;
use cairn_store::{Change, MetaStore};

use super::*;

const ACCOUNT: &str = "111111111111";

fn call(name: &str, read_only: bool, n: usize) -> EventRecord {
    let text = format!(
        r#"{{"eventVersion":"1.11","userIdentity":{{"type":"Root","arn":"arn:aws:iam::{ACCOUNT}:root","accountId":"{ACCOUNT}"}},"eventTime":"2026-03-02T10:00:00Z","eventSource":"ec2.amazonaws.com","eventName":"{name}","awsRegion":"us-east-1","eventID":"{name}-{n}","readOnly":{read_only},"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"{ACCOUNT}","eventCategory":"Management"}}"#
    );
    EventRecord::parse(text.as_bytes()).unwrap()
}

fn rule(name: &str, region: &str, state: RuleState) -> RuleRecord {
    RuleRecord {
        account_id: ACCOUNT.into(),
        region: region.into(),
        name: name.into(),
        event_pattern: r#"{"source":["aws.ec2"],"detail":{"eventName":["RunInstances","DescribeInstances"]}}"#.into(),
        state,
        description: None,
        targets: vec![RuleTarget {
            id: "log".into(),
            arn: format!("arn:cairn:logfile:::{name}"),
            input: None,
            input_path: Some("$.detail.eventName".into()),
            input_transformer: None,
            http_parameters: None,
            retry_policy: None,
            dead_letter_config: None,
        }],
        tags: Vec::new(),
        created_at: jiff::Timestamp::UNIX_EPOCH,
    }
}

fn logged(dir: &Path, name: &str) -> Vec<String> {
    let path = dir.join("rules").join("logs").join(format!("{name}.ndjson"));
    std::fs::read_to_string(path).map(|text| text.lines().map(str::to_owned).collect()).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_take_what_their_state_allows_and_a_restart_sends_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(jiff::Timestamp::UNIX_EPOCH));
    let (events, _) = EventStore::open(EventStoreConfig::test_config(dir.path()), clock.clone()).await.unwrap();
    let events = Arc::new(events);
    let meta = Arc::new(MetaStore::open(&dir.path().join("meta.redb")).unwrap());
    let rules: Arc<Registry<RuleRecord>> = Arc::new(Registry::load(meta.clone()).unwrap());
    let changes = vec![
        Change::Put(rule("writes", "us-east-1", RuleState::Enabled)),
        Change::Put(rule("all", "us-east-1", RuleState::EnabledWithAllCloudTrailManagementEvents)),
        Change::Put(rule("off", "us-east-1", RuleState::Disabled)),
        Change::Put(rule("elsewhere", "eu-west-1", RuleState::Enabled)),
    ];
    rules.transact(|_| Ok::<_, StoreError>(((), changes))).unwrap();
    let open = || {
        RuleDispatcher::open(dir.path(), events.clone(), rules.clone(), clock.clone(), DispatchConfig::default())
            .unwrap()
    };
    let dispatcher = open();
    events.append_durable(vec![call("RunInstances", false, 0), call("DescribeInstances", true, 0)]).await.unwrap();
    assert_eq!(dispatcher.pass().await.unwrap(), 3);
    assert_eq!(logged(dir.path(), "writes"), [r#""RunInstances""#]);
    assert_eq!(logged(dir.path(), "all"), [r#""RunInstances""#, r#""DescribeInstances""#]);
    assert!(logged(dir.path(), "off").is_empty());
    assert!(logged(dir.path(), "elsewhere").is_empty());
    assert_eq!(dispatcher.cursor().await, events.next_lsn());
    assert_eq!(dispatcher.target_stats("111111111111/us-east-1/all", "log").delivered, 2);

    // A new dispatcher on the same directory starts from the saved cursor.
    drop(dispatcher);
    let dispatcher = open();
    events.append_durable(vec![call("RunInstances", false, 1)]).await.unwrap();
    assert_eq!(dispatcher.pass().await.unwrap(), 2);
    assert_eq!(logged(dir.path(), "writes").len(), 2);
    assert_eq!(logged(dir.path(), "all").len(), 3);

    // A disabled rule gets nothing, once the dispatcher is told.
    let mut all = rules.get("111111111111/us-east-1/all").unwrap();
    all.state = RuleState::Disabled;
    rules.transact(|_| Ok::<_, StoreError>(((), vec![Change::Put(all)]))).unwrap();
    dispatcher.rules_changed();
    events.append_durable(vec![call("RunInstances", false, 2)]).await.unwrap();
    assert_eq!(dispatcher.pass().await.unwrap(), 1);
    assert_eq!(logged(dir.path(), "all").len(), 3);
}
