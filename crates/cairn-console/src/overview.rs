//! The overview: the last 24 hours of Event history as events per hour (an SVG chart, and the same
//! numbers as a table), the top event names, users and error codes, the error rate, and the state of
//! every trail.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use cairn_api::console::{ACTIVITY_LIMIT, Activity, HourCount};

use crate::html::{alert, api_error, escape};
use crate::{Console, Visit, trails};

/// Hours the overview covers.
const HOURS: u32 = 24;

pub(crate) async fn show(State(console): State<Arc<Console>>, visit: Visit) -> Response {
    let mut body = String::new();
    match cairn_api::console::activity(&console.api, &visit.caller, HOURS).await {
        Ok(activity) => body.push_str(&activity_section(&activity)),
        Err(error) => body.push_str(&alert(&api_error(&error))),
    }
    body.push_str("<h2>Trails</h2>");
    body.push_str(&trails::states(&console, &visit).await);
    visit.respond(StatusCode::OK, "Overview", &body)
}

fn activity_section(activity: &Activity) -> String {
    let rate = if activity.events == 0 { 0.0 } else { 100.0 * activity.errors as f64 / activity.events as f64 };
    let mut out = format!(
        r#"<p>Last {HOURS} hours, since {since}: <strong>{events}</strong> events, <strong>{errors}</strong> with an error (<span id="error-rate">{rate:.1}%</span>).{partial}</p>"#,
        since = escape(&activity.since.strftime("%Y-%m-%d %H:%M UTC").to_string()),
        events = activity.events,
        errors = activity.errors,
        partial = if activity.complete {
            String::new()
        } else {
            format!(" Only the newest {ACTIVITY_LIMIT} events were counted.")
        },
    );
    out.push_str(&chart(&activity.hours));
    out.push_str(r#"<details><summary>Events per hour as a table</summary><table><thead><tr><th scope="col">Hour (UTC)</th><th scope="col">Events</th><th scope="col">Errors</th></tr></thead><tbody>"#);
    for hour in &activity.hours {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&hour.start.strftime("%Y-%m-%d %H:00").to_string()),
            hour.events,
            hour.errors
        );
    }
    out.push_str("</tbody></table></details>");
    out.push_str(r#"<div class="grid">"#);
    for (title, column, counts) in [
        ("Top event names", "Event name", &activity.top_event_names),
        ("Top users", "User name", &activity.top_users),
        ("Top error codes", "Error code", &activity.top_error_codes),
    ] {
        let _ = write!(out, "<section><h2>{title}</h2>");
        if counts.is_empty() {
            out.push_str("<p>None.</p></section>");
            continue;
        }
        let _ = write!(
            out,
            r#"<table><thead><tr><th scope="col">{column}</th><th scope="col">Events</th></tr></thead><tbody>"#
        );
        for (name, count) in counts.iter() {
            let _ = write!(out, "<tr><td>{}</td><td>{count}</td></tr>", escape(name));
        }
        out.push_str("</tbody></table></section>");
    }
    out.push_str("</div>");
    out
}

/// Chart geometry, in SVG user units.
const WIDTH: u64 = 720;
const HEIGHT: u64 = 160;
const AXIS: u64 = 16;

/// Events per hour as bars (errors in a darker part of each bar), with the largest count on the
/// axis; a title describes it for screen readers.
fn chart(hours: &[HourCount]) -> String {
    let most = hours.iter().map(|hour| hour.events).max().unwrap_or(0).max(1);
    let slot = WIDTH / u64::try_from(hours.len().max(1)).unwrap_or(1);
    let scale = |count: u64| count * (HEIGHT - AXIS) / most;
    let total: u64 = hours.iter().map(|hour| hour.events).sum();
    let mut out = format!(
        r#"<svg viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" aria-labelledby="chart-title"><title id="chart-title">Events per hour: {total} in {} hours, at most {most} in one hour</title>"#,
        hours.len()
    );
    for (i, hour) in hours.iter().enumerate() {
        let x = u64::try_from(i).unwrap_or(0) * slot;
        let (all, errors) = (scale(hour.events), scale(hour.errors));
        let _ = write!(
            out,
            r##"<rect x="{x}" y="{}" width="{}" height="{all}" fill="#6a9fd4"><title>{}: {} events, {} errors</title></rect><rect x="{x}" y="{}" width="{}" height="{errors}" fill="#c0392b"/>"##,
            HEIGHT - AXIS - all,
            slot.saturating_sub(2),
            hour.start.strftime("%H:00"),
            hour.events,
            hour.errors,
            HEIGHT - AXIS - errors,
            slot.saturating_sub(2),
        );
        if i % 6 == 0 {
            let _ = write!(out, r#"<text x="{x}" y="{}">{}</text>"#, HEIGHT - 4, hour.start.strftime("%H:00"));
        }
    }
    let _ = write!(
        out,
        r##"<line x1="0" y1="{base}" x2="{WIDTH}" y2="{base}" stroke="#888"/><text x="2" y="10">{most} events/hour at most</text></svg>"##,
        base = HEIGHT - AXIS,
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hour(start: i64, events: u64, errors: u64) -> HourCount {
        HourCount { start: jiff::Timestamp::from_second(start).unwrap(), events, errors }
    }

    #[test]
    fn bars_are_scaled_to_the_busiest_hour() {
        let svg = chart(&[hour(0, 0, 0), hour(3600, 10, 5), hour(7200, 5, 0)]);
        // The busiest hour fills the plot (144 units), half of it is errors, the quieter hour half.
        assert!(svg.contains(r#"y="0" width="238" height="144""#), "{svg}");
        assert!(svg.contains(r#"y="72" width="238" height="72""#), "{svg}");
        assert!(svg.contains("01:00: 10 events, 5 errors"), "{svg}");
        assert!(svg.contains("15 in 3 hours, at most 10"), "{svg}");
    }

    #[test]
    fn an_empty_day_draws_no_bars_and_no_division_by_zero() {
        let svg = chart(&[hour(0, 0, 0)]);
        assert!(svg.contains(r#"height="0""#), "{svg}");
    }
}
