//! The generator's records parse, are deterministic, and have the corpus' size and error mix.

use std::collections::HashSet;

use cairn_model::event::{EventRecord, LookupAttributeKey};
use jiff::{SignedDuration, Timestamp};

use super::{Generator, GeneratorConfig, SERVICES};

fn config(seed: u64, n_events: u64) -> GeneratorConfig {
    let end = Timestamp::from_second(1_800_000_000).unwrap();
    GeneratorConfig { seed, n_events, start: end - SignedDuration::from_hours(24 * 7), end }
}

fn generate(seed: u64, n: u64) -> Vec<String> {
    let mut generator = Generator::new(config(seed, n));
    (0..n).map(|_| generator.next_record()).collect()
}

#[test]
fn same_seed_same_records_other_seed_other_records() {
    assert_eq!(generate(7, 200), generate(7, 200));
    assert_ne!(generate(7, 200), generate(8, 200));
}

#[test]
fn records_parse_and_follow_the_corpus_mix() {
    let n = 20_000u64;
    let config = config(1, n);
    let texts = generate(1, n);
    let mut bytes = 0usize;
    let mut errors = 0usize;
    let mut read_only = 0usize;
    let mut with_resources = 0usize;
    let mut identity_types = HashSet::new();
    let mut sources = HashSet::new();
    let mut event_ids = HashSet::new();
    let mut last_time = config.start;
    for text in &texts {
        let record = EventRecord::parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}: {text}"));
        bytes += text.len();
        errors += usize::from(record.error_code.is_some());
        read_only += usize::from(record.read_only == Some(true));
        with_resources += usize::from(!record.resources.is_empty());
        identity_types.insert(record.user_identity.identity_type.clone());
        sources.insert(record.event_source.clone());
        assert!(event_ids.insert(record.event_id.clone()), "duplicate event id");
        assert_eq!(record.event_category, "Management");
        assert!(record.event_time >= config.start && record.event_time <= config.end);
        // Roughly in order: never more than the jitter either way.
        assert!(record.event_time >= last_time - SignedDuration::from_mins(5));
        last_time = last_time.max(record.event_time);
        // Every record has a value for the scalar lookup attributes, but for the ones AWS leaves out: no
        // access key for AWS services, no user name in AwsServiceEvent records.
        let service = record.user_identity.identity_type.as_deref().is_none_or(|t| t == "AWSService");
        for key in LookupAttributeKey::ALL {
            let optional = match key {
                LookupAttributeKey::ResourceType | LookupAttributeKey::ResourceName => true,
                LookupAttributeKey::Username | LookupAttributeKey::AccessKeyId => service,
                _ => false,
            };
            assert!(optional || record.lookup_attribute_values(key).next().is_some(), "{key} missing in {text}");
        }
    }
    let mean = bytes as f64 / n as f64;
    assert!((1_100.0..=1_600.0).contains(&mean), "mean record size {mean:.0} B");
    let error_rate = errors as f64 / n as f64;
    assert!((0.07..=0.12).contains(&error_rate), "error rate {error_rate}");
    let read_only_rate = read_only as f64 / n as f64;
    assert!((0.6..=0.9).contains(&read_only_rate), "readOnly rate {read_only_rate}");
    let resource_rate = with_resources as f64 / n as f64;
    assert!((0.15..=0.45).contains(&resource_rate), "resources rate {resource_rate}");
    for kind in ["AssumedRole", "IAMUser", "AWSService", "Root"] {
        assert!(identity_types.contains(&Some(kind.to_owned())), "no {kind}");
    }
    assert!(identity_types.contains(&None), "no AwsServiceEvent records");
    assert!(sources.len() >= 38, "{} event sources of {}", sources.len(), SERVICES.len());
}
