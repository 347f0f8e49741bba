//! A Lake statement before it runs: event data stores named in it are found and quoted, and only a
//! single SELECT passes.
//!
//! CloudTrail Lake writes the store's ID bare after `FROM` (`FROM 0f9c…-…`), which no SQL parser
//! reads as an identifier (it starts with a digit and holds hyphens). [`prepare`] finds every word of
//! the statement, outside string literals, quoted identifiers and comments, that names a store, and
//! replaces it with the quoted ID.

use cairn_model::{ApiError, ErrorCode};
use datafusion::sql::parser::{DFParser, Statement};
use datafusion::sql::sqlparser::ast::Statement as SqlStatement;
use datafusion::sql::sqlparser::dialect::GenericDialect;

/// The longest statement StartQuery takes (spec/api.md §1.7).
pub const MAX_STATEMENT_CHARS: usize = 10_000;

/// A statement ready to plan: its text with stores quoted, and the stores it reads, by ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prepared {
    pub sql: String,
    pub store_ids: Vec<String>,
}

/// What a word of the statement names.
pub enum Named {
    /// An event data store, by its ID.
    Store(String),
    /// A word shaped like a store ID that names no store the caller can see.
    Unknown,
    Other,
}

/// Checks `statement` and quotes the stores it names; `resolve` says what a word names.
pub fn prepare(statement: &str, resolve: impl Fn(&str) -> Named) -> Result<Prepared, ApiError> {
    if statement.trim().is_empty() {
        return Err(invalid("The query statement is empty."));
    }
    if statement.chars().count() > MAX_STATEMENT_CHARS {
        return Err(invalid(format!("The query statement is longer than {MAX_STATEMENT_CHARS} characters.")));
    }
    let mut sql = String::with_capacity(statement.len() + 16);
    let mut store_ids: Vec<String> = Vec::new();
    let mut after_call_dot = false;
    for token in tokens(statement) {
        // Trino reads `element_at(resources, 1).arn` as a field of the call's result; DataFusion
        // only takes a subscript there, so `).name` becomes `)['name']` (fields are lowercase).
        if after_call_dot {
            after_call_dot = false;
            if let Token::Word(word) = &token
                && word.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
                && word.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
            {
                sql.pop();
                sql.push_str("['");
                sql.push_str(&word.to_ascii_lowercase());
                sql.push_str("']");
                continue;
            }
        }
        if let Token::Other(text) = &token {
            after_call_dot = text.ends_with('.') && text[..text.len() - 1].trim_end().ends_with(')');
        }
        match token {
            Token::Word(word) => match resolve(word) {
                Named::Store(id) => {
                    sql.push('"');
                    sql.push_str(&id);
                    sql.push('"');
                    if !store_ids.contains(&id) {
                        store_ids.push(id);
                    }
                }
                Named::Unknown => {
                    return Err(ApiError::new(
                        ErrorCode::EventDataStoreNotFound,
                        format!(
                            "The event data store {} does not exist.",
                            cairn_model::error::truncate_for_message(word)
                        ),
                    ));
                }
                Named::Other => sql.push_str(word),
            },
            Token::Quoted(text) => {
                let inner = text.strip_prefix('"').and_then(|t| t.strip_suffix('"')).map(|t| t.replace("\"\"", "\""));
                match inner.as_deref().map(&resolve) {
                    Some(Named::Store(id)) => {
                        sql.push('"');
                        sql.push_str(&id);
                        sql.push('"');
                        if !store_ids.contains(&id) {
                            store_ids.push(id);
                        }
                    }
                    Some(Named::Unknown) => {
                        return Err(ApiError::new(
                            ErrorCode::EventDataStoreNotFound,
                            format!(
                                "The event data store {} does not exist.",
                                cairn_model::error::truncate_for_message(inner.as_deref().unwrap_or(text))
                            ),
                        ));
                    }
                    Some(Named::Other) | None => sql.push_str(text),
                }
            }
            Token::Other(text) => sql.push_str(text),
        }
    }
    let trimmed = sql.trim_end().trim_end_matches(';').trim_end().to_owned();
    check_single_select(&trimmed)?;
    if store_ids.is_empty() {
        return Err(invalid("The query must read an event data store: name its ID after FROM."));
    }
    Ok(Prepared { sql: trimmed, store_ids })
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::new(ErrorCode::InvalidQueryStatement, message)
}

/// Exactly one statement, and it is a query (SELECT, WITH, VALUES, set operations).
fn check_single_select(sql: &str) -> Result<(), ApiError> {
    let statements = DFParser::parse_sql_with_dialect(sql, &GenericDialect {})
        .map_err(|error| invalid(format!("The query statement is not valid SQL: {}", clean(&error.to_string()))))?;
    if statements.len() != 1 {
        return Err(invalid(format!("Only one statement can run at a time; the query has {}.", statements.len())));
    }
    match statements.front() {
        Some(Statement::Statement(inner)) if matches!(inner.as_ref(), SqlStatement::Query(_)) => Ok(()),
        Some(other) => {
            Err(invalid(format!("Only SELECT statements are supported; this statement is {}.", statement_kind(other))))
        }
        None => Err(invalid("The query statement is empty.")),
    }
}

fn statement_kind(statement: &Statement) -> String {
    let text = statement.to_string();
    let mut words = text.split_whitespace();
    let first = words.next().unwrap_or("").to_ascii_uppercase();
    match first.as_str() {
        "CREATE" | "DROP" | "ALTER" | "SHOW" | "INSERT" | "DELETE" | "UPDATE" | "COPY" | "EXPLAIN" | "SET" => {
            let second = words.next().map(str::to_ascii_uppercase).unwrap_or_default();
            if matches!(first.as_str(), "CREATE" | "DROP" | "ALTER" | "SHOW") && !second.is_empty() {
                format!("{first} {second}")
            } else {
                first
            }
        }
        _ => "not a query".to_owned(),
    }
}

/// An error text without the parser's "sql parser error: " prefixes.
pub fn clean(message: &str) -> String {
    message
        .trim_start_matches("SQL error: ")
        .trim_start_matches("ParserError(\"")
        .trim_start_matches("sql parser error: ")
        .trim_end_matches("\")")
        // Text columns are scanned as views (`crate::engine`); to the user they are the schema's Utf8.
        .replace("Utf8View", "Utf8")
}

enum Token<'a> {
    /// A run of letters, digits, `_`, `-`, `$`, `.` not inside a literal or comment.
    Word(&'a str),
    /// A double-quoted identifier, quotes included.
    Quoted(&'a str),
    Other(&'a str),
}

/// Splits `sql` into words and everything else, keeping every byte.
fn tokens(sql: &str) -> Vec<Token<'_>> {
    let bytes = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut other_start = 0;
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'$';
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'"' {
            // A quoted identifier may name a store (`FROM "my-store"`); it is a token of its own.
            let end = end_of_quoted(bytes, i, b);
            if other_start < i {
                out.push(Token::Other(&sql[other_start..i]));
            }
            out.push(Token::Quoted(&sql[i..end]));
            other_start = end;
            i = end;
            continue;
        }
        let skip_to = match b {
            b'\'' | b'`' => Some(end_of_quoted(bytes, i, b)),
            b'-' if bytes.get(i + 1) == Some(&b'-') => Some(memchr_from(bytes, i, b'\n')),
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                Some(sql[i + 2..].find("*/").map_or(bytes.len(), |at| i + 2 + at + 2))
            }
            _ => None,
        };
        if let Some(end) = skip_to {
            i = end;
            continue;
        }
        if is_word(b) && b != b'-' {
            let start = i;
            while i < bytes.len() && is_word(bytes[i]) {
                // `--` starts a comment even inside a run.
                if bytes[i] == b'-' && bytes.get(i + 1) == Some(&b'-') {
                    break;
                }
                i += 1;
            }
            if other_start < start {
                out.push(Token::Other(&sql[other_start..start]));
            }
            out.push(Token::Word(&sql[start..i]));
            other_start = i;
            continue;
        }
        i += 1;
    }
    if other_start < bytes.len() {
        out.push(Token::Other(&sql[other_start..]));
    }
    out
}

/// The index just past the quoted text starting at `start` (a doubled quote is an escaped one).
fn end_of_quoted(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        if bytes[i] == quote {
            if bytes.get(i + 1) == Some(&quote) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i += 1;
    }
    bytes.len()
}

fn memchr_from(bytes: &[u8], start: usize, needle: u8) -> usize {
    bytes[start..].iter().position(|b| *b == needle).map_or(bytes.len(), |at| start + at)
}

/// Whether `word` has the shape of an event data store ID (a UUID).
pub fn is_store_id_shaped(word: &str) -> bool {
    let parts: Vec<&str> = word.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(part, n)| part.len() == n && part.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0f9c3b6e-1d2a-4b5c-8d7e-6f5a4b3c2d1e";

    fn resolve(word: &str) -> Named {
        if word.eq_ignore_ascii_case(ID) || word == "my-store" {
            Named::Store(ID.to_owned())
        } else if is_store_id_shaped(word) {
            Named::Unknown
        } else {
            Named::Other
        }
    }

    #[test]
    fn store_ids_are_quoted_outside_literals_and_comments() {
        let statement = format!(
            "SELECT eventName, '{ID}' AS id FROM {ID} -- from {ID}\nWHERE x = \"{ID}\" /* {ID} */ AND 1-2 = -1;"
        );
        let prepared = prepare(&statement, resolve).unwrap();
        assert_eq!(
            prepared.sql,
            format!(
                "SELECT eventName, '{ID}' AS id FROM \"{ID}\" -- from {ID}\nWHERE x = \"{ID}\" /* {ID} */ AND 1-2 = -1"
            )
        );
        assert_eq!(prepared.store_ids, [ID]);
        let by_name = prepare("select * from my-store s join my-store t on s.eventid = t.eventid", resolve).unwrap();
        assert_eq!(by_name.store_ids, [ID]);
        let field = prepare(&format!("SELECT element_at(resources, 1\n).accountId FROM {ID}"), resolve).unwrap();
        assert_eq!(field.sql, format!("SELECT element_at(resources, 1\n)['accountid'] FROM \"{ID}\""));
    }

    #[test]
    fn a_store_may_be_named_in_double_quotes() {
        let quoted = prepare("SELECT COUNT(*) AS \"n\" FROM \"my-store\"", resolve).unwrap();
        assert_eq!(quoted.sql, format!("SELECT COUNT(*) AS \"n\" FROM \"{ID}\""));
        assert_eq!(quoted.store_ids, [ID]);
        let unknown = prepare("SELECT * FROM \"00000000-0000-4000-8000-000000000000\"", resolve).unwrap_err();
        assert_eq!(unknown.code, ErrorCode::EventDataStoreNotFound);
    }

    #[test]
    fn only_one_select_passes() {
        for (statement, message) in [
            (format!("DELETE FROM {ID}"), "Only SELECT statements are supported; this statement is DELETE."),
            (format!("DROP TABLE {ID}"), "Only SELECT statements are supported; this statement is DROP TABLE."),
            (
                format!("CREATE TABLE t AS SELECT * FROM {ID}"),
                "Only SELECT statements are supported; this statement is CREATE TABLE.",
            ),
            (
                format!("SELECT 1 FROM {ID}; SELECT 2 FROM {ID}"),
                "Only one statement can run at a time; the query has 2.",
            ),
            ("SELECT 1".to_owned(), "The query must read an event data store: name its ID after FROM."),
            ("   ".to_owned(), "The query statement is empty."),
        ] {
            let error = prepare(&statement, resolve).unwrap_err();
            assert_eq!(error.code, ErrorCode::InvalidQueryStatement, "{statement}");
            assert_eq!(error.message, message, "{statement}");
        }
        let error = prepare(&format!("SELECT * FROM {ID} WHERE"), resolve).unwrap_err();
        assert!(error.message.starts_with("The query statement is not valid SQL: "), "{}", error.message);
        let unknown = prepare("SELECT * FROM 11111111-2222-3333-4444-555555555555", resolve).unwrap_err();
        assert_eq!(unknown.code, ErrorCode::EventDataStoreNotFound);
    }
}
