//! Page markup. Every value that comes from stored data or the request goes through [`escape`].

use std::fmt::Write as _;

use axum::response::{IntoResponse, Response};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

/// `text` safe inside HTML text and double-quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Characters a query-string value keeps as they are (RFC 3986's unreserved).
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `value` percent-encoded for a query string.
pub(crate) fn percent(value: &str) -> String {
    utf8_percent_encode(value, UNRESERVED).to_string()
}

/// A download named `name`.
pub(crate) fn attachment(name: &str, content_type: &str, body: impl Into<axum::body::Body>) -> Response {
    let disposition = format!("attachment; filename=\"{}\"", name.replace(['"', '\\', '\r', '\n'], "_"));
    (
        [
            (axum::http::header::CONTENT_TYPE, content_type.to_owned()),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        body.into(),
    )
        .into_response()
}

/// A message the page announces (`role="alert"`), from plain `text`.
pub(crate) fn alert(text: &str) -> String {
    format!(r#"<p class="error" role="alert">{}</p>"#, escape(text))
}

/// An API error as the pages show it: `Code: message`.
pub(crate) fn api_error(error: &cairn_model::ApiError) -> String {
    format!("{}: {}", error.code.as_str(), error.message)
}

/// Seconds since the epoch (as the API's JSON gives times) as `YYYY-MM-DD HH:MM:SS UTC`.
pub(crate) fn utc_time(seconds: Option<f64>) -> Option<String> {
    let at = jiff::Timestamp::from_second(seconds? as i64).ok()?;
    Some(at.strftime("%Y-%m-%d %H:%M:%S UTC").to_string())
}

/// A whole page: `title` (text) and `body` (markup already escaped). `signed_in` is the user's name
/// and the session's CSRF token, for the navigation and sign-out form.
pub(crate) fn page(title: &str, body: &str, signed_in: Option<(&str, &str)>) -> String {
    document(title, body, signed_in, None)
}

/// [`page`] that the browser reloads every `seconds` (a running query, the live view): no script.
pub(crate) fn refreshing_page(title: &str, body: &str, signed_in: Option<(&str, &str)>, seconds: u32) -> String {
    document(title, body, signed_in, Some(seconds))
}

fn document(title: &str, body: &str, signed_in: Option<(&str, &str)>, refresh: Option<u32>) -> String {
    let mut nav = String::new();
    if let Some((user, csrf)) = signed_in {
        let _ = write!(
            nav,
            r#"<nav aria-label="Main"><a href="/overview">Overview</a><a href="/history">Event history</a><a href="/trails">Trails</a><a href="/lake">Lake</a>
<span class="user">{user}</span>
<form method="post" action="/signout"><input type="hidden" name="csrf" value="{csrf}"><button type="submit">Sign out</button></form></nav>"#,
            user = escape(user),
            csrf = escape(csrf),
        );
    }
    let refresh =
        refresh.map_or(String::new(), |seconds| format!(r#"<meta http-equiv="refresh" content="{seconds}">"#));
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">{refresh}
<title>{title} · cairn</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0 auto; max-width: 80rem; padding: 1rem; }}
nav {{ display: flex; flex-wrap: wrap; gap: 1rem; align-items: center; border-bottom: 1px solid #ccc; padding-bottom: .5rem; }}
nav form {{ margin-left: auto; }}
table {{ border-collapse: collapse; width: 100%; display: block; overflow-x: auto; }}
th, td {{ text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #eee; white-space: nowrap; vertical-align: top; }}
td form {{ display: inline; }}
label {{ display: block; margin-top: .5rem; }}
input:not([type=checkbox]), select, textarea {{ max-width: 100%; box-sizing: border-box; }}
textarea {{ width: 100%; font-family: ui-monospace, monospace; }}
pre {{ white-space: pre-wrap; word-break: break-all; background: #f6f6f6; padding: .5rem; }}
a:focus, button:focus, input:focus, select:focus, textarea:focus {{ outline: 2px solid #05c; }}
.error {{ color: #a00; }}
.help {{ font-size: .875rem; color: #555; }}
.grid {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); gap: 1rem; }}
svg text {{ font-size: 10px; }}
</style></head>
<body>{nav}<main><h1>{title}</h1>
{body}</main></body></html>"#,
        title = escape(title),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_stored_text_becomes_text() {
        assert_eq!(
            escape(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
        let page = page("<b>", "", Some(("<img src=x>", "t\"")));
        assert!(!page.contains("<b>") && !page.contains("<img"), "{page}");
    }
}
