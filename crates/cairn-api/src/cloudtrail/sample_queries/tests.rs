//! Ranking of the sample query catalogue, and SearchSampleQueries' validation and paging.

use std::collections::BTreeSet;

use cairn_model::ErrorCode;
use serde_json::{Value, json};

use super::catalogue::{CATALOGUE, STORE_PLACEHOLDER};
use super::{rank, search, terms};

fn top(phrase: &str) -> &'static str {
    rank(phrase).first().map_or("<nothing>", |hit| hit.query.name)
}

#[test]
fn the_catalogue_is_large_named_once_and_uses_the_placeholder() {
    assert!(CATALOGUE.len() >= 40, "{} sample queries", CATALOGUE.len());
    let names: BTreeSet<&str> = CATALOGUE.iter().map(|q| q.name).collect();
    assert_eq!(names.len(), CATALOGUE.len(), "sample query names must be unique");
    for query in CATALOGUE {
        assert!(
            query.sql.contains(&format!("FROM {STORE_PLACEHOLDER}")),
            "{}: no FROM {STORE_PLACEHOLDER}",
            query.name
        );
        let rest = query.sql.replace(STORE_PLACEHOLDER, "");
        assert!(!rest.contains('<') || rest.contains("<>"), "{}: another placeholder", query.name);
        assert!(!query.sql.contains(';'), "{}: one statement, no semicolon", query.name);
        assert!(query.sql.trim_start().starts_with("SELECT "), "{}", query.name);
        assert!(!query.description.is_empty() && query.description.ends_with('.'), "{}", query.name);
        assert!(!query.sql.contains("  "), "{}: doubled spaces in the SQL", query.name);
    }
}

#[test]
fn phrases_rank_the_query_that_answers_them_first() {
    for (phrase, expected) in [
        ("console login", "Console login activity"),
        ("console logins", "Console login activity"),
        ("failed console login attempts", "Failed console logins"),
        ("console sign in without mfa", "Console sign-ins without MFA"),
        ("root user", "Root user activity"),
        ("who created iam users", "IAM users created"),
        ("new access keys", "IAM access keys created"),
        ("s3 bucket policy", "S3 bucket policy and ACL changes"),
        ("security group open to the internet", "Security groups opened to the internet"),
        ("who stopped cloudtrail logging", "CloudTrail configuration changes"),
        ("throttling errors", "Throttled API requests"),
        ("access denied", "Access denied errors by principal"),
        ("events per hour", "Event volume per hour"),
        ("tls 1.0", "Outdated TLS versions"),
        ("read secrets", "Secrets Manager secret reads"),
        ("kms key deletion", "KMS keys disabled or scheduled for deletion"),
    ] {
        assert_eq!(
            top(phrase),
            expected,
            "phrase {phrase:?}: {:?}",
            rank(phrase).iter().take(3).map(|h| (h.query.name, h.relevance)).collect::<Vec<_>>()
        );
    }
}

#[test]
fn relevance_lies_in_the_unit_interval_and_orders_the_results() {
    let hits = rank("console login");
    assert!(!hits.is_empty());
    for pair in hits.windows(2) {
        assert!(pair[0].relevance >= pair[1].relevance);
    }
    for hit in &hits {
        assert!(hit.relevance > 0.0 && hit.relevance <= 1.0, "{}: {}", hit.query.name, hit.relevance);
    }
    // Words that match nothing make every result less relevant.
    let with_noise = rank("console login zebra");
    assert_eq!(with_noise[0].query.name, hits[0].query.name);
    assert!(with_noise[0].relevance < hits[0].relevance);
    // Filler words alone match nothing.
    assert!(rank("show me the").is_empty());
    assert!(rank("qqq zzz").is_empty());
}

#[test]
fn terms_are_lowercase_singular_and_split_camel_case() {
    assert_eq!(terms("ConsoleLogin"), ["console", "login", "consolelogin"]);
    assert_eq!(terms("Failed logins, for the policies"), ["failed", "login", "policy"]);
    assert_eq!(terms("access status analysis"), ["access", "status", "analysis"]);
    assert_eq!(terms("MFAUsed s3"), ["mfa", "used", "mfaused", "s3"]);
    assert_eq!(terms("iam.amazonaws.com"), ["iam", "amazonaw", "com"]);
}

fn error_of(input: Value) -> (ErrorCode, String) {
    let error = search(input).unwrap_err();
    (error.code, error.message)
}

#[test]
fn requests_are_validated() {
    for input in [
        json!({}),
        json!({"SearchPhrase": "a"}),
        json!({"SearchPhrase": "x".repeat(1001)}),
        json!({"SearchPhrase": "caf\u{e9}"}),
        json!({"SearchPhrase": "console", "MaxResults": 0}),
        json!({"SearchPhrase": "console", "MaxResults": 51}),
        json!({"SearchPhrase": "console", "NextToken": "nope"}),
    ] {
        let (code, message) = error_of(input.clone());
        assert_eq!(code, ErrorCode::InvalidParameter, "{input}: {message}");
    }
    assert_eq!(
        error_of(json!({"SearchPhrase": "a"})).1,
        "1 validation error detected: Value 'a' at 'searchPhrase' failed to satisfy constraint: Member must have \
         length between 2 and 1000"
    );
}

#[test]
fn pages_follow_next_tokens_bound_to_the_phrase() {
    let phrase = "select from eds id";
    let everything = rank(phrase);
    assert_eq!(everything.len(), CATALOGUE.len(), "every query reads <EDS_ID>");
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({"SearchPhrase": phrase, "MaxResults": 7});
        if let Some(token) = &token {
            input["NextToken"] = json!(token);
        }
        let output = search(input).unwrap();
        let results = output["SearchResults"].as_array().unwrap();
        assert!(results.len() <= 7);
        seen.extend(results.iter().map(|r| r["Name"].as_str().unwrap().to_owned()));
        match output.get("NextToken").and_then(Value::as_str) {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    let expected: Vec<String> = everything.iter().map(|h| h.query.name.to_owned()).collect();
    assert_eq!(seen, expected);
    // A token of one phrase is no good for another.
    let first = search(json!({"SearchPhrase": phrase, "MaxResults": 1})).unwrap();
    let token = first["NextToken"].as_str().unwrap();
    let (code, _) = error_of(json!({"SearchPhrase": "console login", "NextToken": token}));
    assert_eq!(code, ErrorCode::InvalidParameter);
    // Results carry the SQL with its placeholder and a relevance.
    let hit = &first["SearchResults"][0];
    assert!(hit["SQL"].as_str().unwrap().contains(STORE_PLACEHOLDER));
    assert!(hit["Relevance"].as_f64().unwrap() > 0.0);
    assert!(hit["Description"].as_str().is_some());
}

#[test]
fn the_default_page_has_ten_results() {
    let output = search(json!({"SearchPhrase": "select from eds id"})).unwrap();
    assert_eq!(output["SearchResults"].as_array().unwrap().len(), 10);
    assert!(output["NextToken"].is_string());
}
