//! SearchSampleQueries (spec/api.md §1.7): the built-in [`catalogue::CATALOGUE`] ranked by relevance
//! to a `SearchPhrase` with BM25 over each query's name, description and SQL.
//!
//! Text becomes terms by lowercasing and splitting on anything not a letter or digit (camelCase words
//! such as `ConsoleLogin` also give their parts), dropping a few English filler words and a plural
//! `-s`. Name terms weigh three times, description terms twice, SQL terms once. `Relevance` is the
//! score divided by the most any document could score for the phrase's terms, so it lies in [0, 1]
//! and falls when words of the phrase match nothing.

mod catalogue;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use cairn_model::ApiError;
use cairn_model::error::truncate_for_message;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use self::catalogue::{CATALOGUE, SampleQuery};
use super::Ctx;
use super::input::required;
use crate::json11::input;
use crate::pagination;

/// BM25's term-frequency saturation.
const K1: f64 = 1.2;
/// BM25's document-length normalisation.
const B: f64 = 0.75;
const NAME_WEIGHT: f64 = 3.0;
const DESCRIPTION_WEIGHT: f64 = 2.0;
const SQL_WEIGHT: f64 = 1.0;
/// Results per page when `MaxResults` is not given.
const DEFAULT_MAX_RESULTS: i64 = 10;
/// Words that carry no meaning in a search phrase.
const STOP_WORDS: &[&str] = &[
    "a", "all", "an", "and", "any", "are", "as", "at", "be", "by", "can", "did", "do", "does", "for", "from", "get",
    "give", "how", "i", "in", "into", "is", "it", "its", "me", "my", "of", "on", "or", "our", "show", "that", "the",
    "their", "them", "there", "these", "this", "to", "was", "were", "what", "when", "where", "which", "who", "whom",
    "why", "with", "you", "your",
];

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SearchInput {
    search_phrase: Option<String>,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub(crate) fn search_sample_queries(_ctx: &Ctx<'_>, raw: Value) -> Result<Value, ApiError> {
    search(raw)
}

/// The handler's work: nothing of the caller matters, the catalogue is the same for everyone.
fn search(raw: Value) -> Result<Value, ApiError> {
    let request: SearchInput = input(raw)?;
    let phrase = required(request.search_phrase, "searchPhrase")?;
    check_phrase(&phrase)?;
    let max_results = request.max_results.unwrap_or(DEFAULT_MAX_RESULTS);
    if !(1..=50).contains(&max_results) {
        return Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value '{max_results}' at 'maxResults' failed to satisfy constraint: \
             Member must have value between 1 and 50"
        )));
    }
    let fingerprint = phrase_fingerprint(&phrase);
    let start = match request.next_token.as_deref() {
        None => 0,
        Some(token) => page_start(token, &fingerprint)?,
    };
    let ranked = rank(&phrase);
    let page_size = usize::try_from(max_results).unwrap_or(1);
    let end = start.saturating_add(page_size).min(ranked.len());
    let results: Vec<Value> = ranked
        .get(start.min(end)..end)
        .unwrap_or_default()
        .iter()
        .map(|hit| {
            json!({
                "Name": hit.query.name,
                "Description": hit.query.description,
                "SQL": hit.query.sql,
                "Relevance": hit.relevance,
            })
        })
        .collect();
    let mut output = json!({ "SearchResults": results });
    if end < ranked.len() {
        output["NextToken"] = json!(pagination::encode(&format!("{end}/{fingerprint}"), "SearchSampleQueries"));
    }
    Ok(output)
}

/// `SearchPhrase`: 2–1000 printable ASCII characters (and newlines).
fn check_phrase(phrase: &str) -> Result<(), ApiError> {
    let shown = truncate_for_message(phrase);
    if !(2..=1000).contains(&phrase.chars().count()) {
        return Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value '{shown}' at 'searchPhrase' failed to satisfy constraint: \
             Member must have length between 2 and 1000"
        )));
    }
    if !phrase.bytes().all(|b| (b' '..=b'~').contains(&b) || b == b'\n') {
        return Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value '{shown}' at 'searchPhrase' failed to satisfy constraint: \
             Member must satisfy regular expression pattern: ^[ -~\\n]*$"
        )));
    }
    Ok(())
}

/// Ties a `NextToken` to its phrase: a token is only good for the search that made it.
fn phrase_fingerprint(phrase: &str) -> String {
    hex::encode(Sha256::digest(phrase.as_bytes())).chars().take(16).collect()
}

fn page_start(token: &str, fingerprint: &str) -> Result<usize, ApiError> {
    let invalid = || ApiError::invalid_parameter("The NextToken is not valid for this SearchPhrase.");
    let key = pagination::decode(token, "SearchSampleQueries").map_err(|_| invalid())?;
    let (offset, token_fingerprint) = key.split_once('/').ok_or_else(invalid)?;
    if token_fingerprint != fingerprint {
        return Err(invalid());
    }
    offset.parse().map_err(|_| invalid())
}

/// One search result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Hit {
    pub(crate) query: &'static SampleQuery,
    pub(crate) relevance: f64,
}

/// The catalogue queries that match `phrase`, most relevant first (ties by name).
pub(crate) fn rank(phrase: &str) -> Vec<Hit> {
    let index = index();
    let terms: BTreeSet<String> = terms(phrase).into_iter().collect();
    if terms.is_empty() {
        return Vec::new();
    }
    let n_docs = index.docs.len() as f64;
    let idf = |term: &str| {
        let n_with = index.doc_freq.get(term).copied().unwrap_or(0) as f64;
        (1.0 + (n_docs - n_with + 0.5) / (n_with + 0.5)).ln()
    };
    let best_possible: f64 = terms.iter().map(|t| idf(t) * (K1 + 1.0)).sum();
    let mut hits: Vec<Hit> = index
        .docs
        .iter()
        .filter_map(|doc| {
            let length_norm = K1 * (1.0 - B + B * doc.length / index.average_length);
            let score: f64 = terms
                .iter()
                .filter_map(|term| doc.term_freq.get(term).map(|tf| idf(term) * tf * (K1 + 1.0) / (tf + length_norm)))
                .sum();
            (score > 0.0).then(|| Hit { query: doc.query, relevance: relevance(score, best_possible) })
        })
        .collect();
    hits.sort_by(|a, b| b.relevance.total_cmp(&a.relevance).then_with(|| a.query.name.cmp(b.query.name)));
    hits
}

/// `score` as a share of the best possible, rounded to four places.
fn relevance(score: f64, best_possible: f64) -> f64 {
    if best_possible <= 0.0 {
        return 0.0;
    }
    ((score / best_possible).clamp(0.0, 1.0) * 10_000.0).round() / 10_000.0
}

/// The catalogue, tokenised once.
struct Index {
    docs: Vec<Doc>,
    /// How many documents hold each term.
    doc_freq: BTreeMap<String, usize>,
    average_length: f64,
}

struct Doc {
    query: &'static SampleQuery,
    /// Weighted term frequencies.
    term_freq: BTreeMap<String, f64>,
    /// Weighted length.
    length: f64,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut doc_freq: BTreeMap<String, usize> = BTreeMap::new();
        let docs: Vec<Doc> = CATALOGUE
            .iter()
            .map(|query| {
                let mut term_freq: BTreeMap<String, f64> = BTreeMap::new();
                let mut length = 0.0;
                for (text, weight) in
                    [(query.name, NAME_WEIGHT), (query.description, DESCRIPTION_WEIGHT), (query.sql, SQL_WEIGHT)]
                {
                    for term in terms(text) {
                        *term_freq.entry(term).or_default() += weight;
                        length += weight;
                    }
                }
                for term in term_freq.keys() {
                    *doc_freq.entry(term.clone()).or_default() += 1;
                }
                Doc { query, term_freq, length }
            })
            .collect();
        let total: f64 = docs.iter().map(|d| d.length).sum();
        let average_length = if docs.is_empty() { 1.0 } else { (total / docs.len() as f64).max(1.0) };
        Index { docs, doc_freq, average_length }
    })
}

/// The search terms of `text`: lowercase words without filler words, a plural `-s` removed; a camelCase
/// word also gives each of its parts.
pub(crate) fn terms(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for word in text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        let parts = camel_parts(word);
        if parts.len() > 1 {
            out.extend(parts.iter().filter_map(|part| term(part)));
        }
        out.extend(term(word));
    }
    out
}

fn term(word: &str) -> Option<String> {
    let lower = word.to_ascii_lowercase();
    if STOP_WORDS.contains(&lower.as_str()) {
        return None;
    }
    Some(singular(&lower))
}

/// Drops a plural `-s` (`logins` → `login`, `policies` → `policy`), but not from words such as
/// `access`, `status` or `analysis`.
fn singular(word: &str) -> String {
    if word.len() > 4
        && let Some(stem) = word.strip_suffix("ies")
    {
        return format!("{stem}y");
    }
    let keeps = ["ss", "us", "is"].iter().any(|ending| word.ends_with(ending));
    match word.strip_suffix('s') {
        Some(stem) if word.len() > 3 && !keeps => stem.to_owned(),
        _ => word.to_owned(),
    }
}

/// `ConsoleLogin` → `Console`, `Login`; `GetSecretValue` → `Get`, `Secret`, `Value`; `MFAUsed` → `MFA`,
/// `Used`. Words without case changes come back whole.
fn camel_parts(word: &str) -> Vec<&str> {
    let bytes = word.as_bytes();
    let mut parts = Vec::new();
    let mut start = 0;
    for idx in 1..bytes.len() {
        let (Some(&prev), Some(&cur)) = (bytes.get(idx - 1), bytes.get(idx)) else { continue };
        let next_lower = bytes.get(idx + 1).is_some_and(u8::is_ascii_lowercase);
        let boundary = (prev.is_ascii_lowercase() && cur.is_ascii_uppercase())
            || (prev.is_ascii_uppercase() && cur.is_ascii_uppercase() && next_lower);
        if boundary {
            parts.extend(word.get(start..idx));
            start = idx;
        }
    }
    parts.extend(word.get(start..));
    parts
}

#[cfg(test)]
mod tests;
