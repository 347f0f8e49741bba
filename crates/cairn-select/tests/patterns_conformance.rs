//! Conformance of the event-pattern engine with aws/event-ruler, on the corpus in
//! `shared/corpora/patterns` (read in place; see its README.md). Every outcome there was
//! produced by event-ruler's `Machine.rulesForJSONEvent` (array-consistent matching).
//!
//! - `*_rules.json` + `*_cases.ndjson`: all of a file's rules go into one `RuleMatcher`, and each
//!   event must match exactly the rule names listed for it. A sample is also checked with the
//!   one-pattern reference matcher (`EventPattern::matches`).
//! - `correctness-cases.expected.json`, `moto_event_pattern_cases.expected.json`: one rule, one
//!   event, matched or not.
//! - `rule_errors`: each of these rules must be rejected, with event-ruler's message.

use std::collections::{BTreeMap, BTreeSet};

use cairn_select::{EventPattern, RuleMatcher};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpora/patterns/");

/// Rules whose rejection message is known to differ from event-ruler's, with why. Empty: every
/// `rule_errors` message in the corpus is matched exactly.
const KNOWN_MESSAGE_DEVIATIONS: &[(&str, &str)] = &[];

fn read(name: &str) -> String {
    let path = format!("{CORPUS}{name}");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading the corpus file {path}: {e}"))
}

#[derive(Deserialize)]
struct RulesFile {
    rules: BTreeMap<String, Box<RawValue>>,
    #[serde(default)]
    rule_errors: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Case {
    id: String,
    event: Value,
    expected_matches: BTreeSet<String>,
}

struct Mismatch {
    id: String,
    missing: Vec<String>,
    unexpected: Vec<String>,
}

/// Compiles a rules file (checking its `rule_errors`) and matches every case of its cases file.
/// Returns (cases, hits) for the summary line.
fn check_corpus(rules_file: &str, cases_file: &str, reference_every: usize) -> (usize, usize) {
    let rules: RulesFile = serde_json::from_str(&read(rules_file)).expect("a rules file");
    let mut matcher = RuleMatcher::new();
    let mut patterns = Vec::new();
    let mut error_failures = Vec::new();
    for (name, raw) in &rules.rules {
        let parsed = EventPattern::parse(raw.get());
        match (rules.rule_errors.get(name), parsed) {
            (None, Ok(pattern)) => {
                matcher.insert(name.clone(), &pattern);
                patterns.push((name.clone(), pattern));
            }
            (None, Err(e)) => error_failures.push(format!("{name}: rejected ({e}) but event-ruler accepts it")),
            (Some(expected), Ok(_)) => error_failures.push(format!("{name}: accepted, event-ruler says {expected:?}")),
            (Some(expected), Err(e)) => {
                let deviation = KNOWN_MESSAGE_DEVIATIONS.iter().any(|(rule, _)| rule == name);
                if e.message() != expected && !deviation {
                    error_failures.push(format!("{name}: message {:?}, event-ruler says {expected:?}", e.message()));
                }
            }
        }
    }
    assert!(error_failures.is_empty(), "{rules_file}:\n{}", error_failures.join("\n"));
    // Every rule_errors entry names a rule of the file.
    for name in rules.rule_errors.keys() {
        assert!(rules.rules.contains_key(name), "{rules_file}: rule_errors names unknown rule {name}");
    }

    let mut mismatches = Vec::new();
    let mut reference_mismatches = Vec::new();
    let (mut cases, mut hits) = (0, 0);
    for (line_number, line) in read(cases_file).lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let case: Case = serde_json::from_str(line).unwrap_or_else(|e| panic!("{cases_file}:{}: {e}", line_number + 1));
        cases += 1;
        hits += case.expected_matches.len();
        let got: BTreeSet<String> = matcher.matching(&case.event).into_iter().collect();
        if got != case.expected_matches {
            mismatches.push(Mismatch {
                id: case.id.clone(),
                missing: case.expected_matches.difference(&got).cloned().collect(),
                unexpected: got.difference(&case.expected_matches).cloned().collect(),
            });
        }
        if line_number % reference_every == 0 {
            let by_reference: BTreeSet<String> =
                patterns.iter().filter(|(_, p)| p.matches(&case.event)).map(|(name, _)| name.clone()).collect();
            if by_reference != case.expected_matches {
                reference_mismatches.push(Mismatch {
                    id: case.id.clone(),
                    missing: case.expected_matches.difference(&by_reference).cloned().collect(),
                    unexpected: by_reference.difference(&case.expected_matches).cloned().collect(),
                });
            }
        }
    }
    report(cases_file, "RuleMatcher", &mismatches, cases);
    report(cases_file, "EventPattern::matches", &reference_mismatches, cases);
    eprintln!("{cases_file}: {cases} events x {} rules, {hits} expected matches, all equal", patterns.len());
    (cases, hits)
}

fn report(file: &str, what: &str, mismatches: &[Mismatch], cases: usize) {
    if mismatches.is_empty() {
        return;
    }
    let mut text =
        format!("{file}: {what} differs from event-ruler on {} of {cases} events; first ones:\n", mismatches.len());
    for m in mismatches.iter().take(8) {
        text.push_str(&format!("  {}\n    missing: {:?}\n    unexpected: {:?}\n", m.id, m.missing, m.unexpected));
    }
    panic!("{text}");
}

#[test]
fn docs_corpus() {
    let (cases, hits) = check_corpus("docs_rules.json", "docs_cases.ndjson", 1);
    assert_eq!((cases, hits), (32, 193), "the README's counts");
}

#[test]
fn data_corpus() {
    let (cases, hits) = check_corpus("data_rules.json", "data_cases.ndjson", 1);
    assert_eq!((cases, hits), (9, 6), "the README's counts");
}

#[test]
fn cloudtrail_corpus() {
    // The reference matcher re-reads the event per pattern: a sample keeps this test quick.
    let (cases, hits) = check_corpus("ct_rules.json", "ct_cases.ndjson", 11);
    assert_eq!((cases, hits), (3695, 31874), "the README's counts");
}

/// `[{"name", "rule", "event", <outcome key>}]`: one compiled rule per case.
fn check_single_cases(file: &str, outcome: &str) -> usize {
    let cases: Vec<Value> = serde_json::from_str(&read(file)).expect("a JSON array");
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let name = case["name"].as_str().unwrap_or("?");
        let expected = case[outcome].as_bool().unwrap_or_else(|| panic!("{file} case {i}: no boolean {outcome:?}"));
        let pattern = match EventPattern::parse(&case["rule"].to_string()) {
            Ok(pattern) => pattern,
            Err(e) => {
                failures.push(format!("#{i} {name}: rule rejected: {e}\n    rule: {}", case["rule"]));
                continue;
            }
        };
        let mut matcher = RuleMatcher::new();
        matcher.insert(i, &pattern);
        let compiled = matcher.matching(&case["event"]) == [i];
        let reference = pattern.matches(&case["event"]);
        if compiled != expected || reference != expected {
            failures.push(format!(
                "#{i} {name}: expected {expected}, RuleMatcher {compiled}, EventPattern::matches {reference}\n    rule: {}\n    event: {}",
                case["rule"], case["event"]
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{file}: {} of {} cases differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    eprintln!("{file}: {} cases, all equal", cases.len());
    cases.len()
}

#[test]
fn correctness_cases() {
    assert_eq!(check_single_cases("correctness-cases.expected.json", "matched"), 51);
}

#[test]
fn moto_cases() {
    assert_eq!(check_single_cases("moto_event_pattern_cases.expected.json", "expected"), 121);
}
