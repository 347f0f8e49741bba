//! Refresh schedules and refresh parameters: `RefreshSchedule` as given and as stored, when an enabled
//! schedule is next due, and the `QueryParameterValues` of StartDashboardRefresh with their defaults
//! (spec/api.md §1.10).

use std::collections::BTreeMap;

use cairn_model::error::truncate_for_message;
use cairn_model::{ApiError, ErrorCode};
use cairn_store::records::{DashboardRefreshSchedule, RefreshFrequency, RefreshFrequencyUnit};
use serde::Deserialize;
use serde_json::{Value, json};

use super::statement::{PARAMETER_NAMES, ParameterValues};

/// How far back a refresh looks when `$StartTime$` is not given.
const DEFAULT_WINDOW: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);
/// The `$Period$` of a refresh that does not give one.
const DEFAULT_PERIOD: &str = "day";
/// The `$Period$` values: units `date_trunc` takes.
const PERIODS: [&str; 7] = ["minute", "hour", "day", "week", "month", "quarter", "year"];
/// The frequencies a custom dashboard may refresh at.
const HOURLY_VALUES: [u32; 4] = [1, 6, 12, 24];

const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ScheduleInput {
    pub(crate) frequency: Option<FrequencyInput>,
    pub(crate) status: Option<String>,
    pub(crate) time_of_day: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct FrequencyInput {
    pub(crate) unit: Option<String>,
    pub(crate) value: Option<i64>,
}

/// Checks a `RefreshSchedule`. Without a `Status`, a schedule with a frequency is enabled.
pub(crate) fn parse_schedule(input: ScheduleInput) -> Result<DashboardRefreshSchedule, ApiError> {
    let frequency = input.frequency.map(parse_frequency).transpose()?;
    let enabled = match input.status.as_deref() {
        None => frequency.is_some(),
        Some("ENABLED") => true,
        Some("DISABLED") => false,
        Some(other) => {
            return Err(ApiError::invalid_parameter(format!(
                "1 validation error detected: Value '{}' at 'refreshSchedule.status' failed to satisfy constraint: \
                 Member must satisfy enum value set: [ENABLED, DISABLED]",
                truncate_for_message(other)
            )));
        }
    };
    if enabled && frequency.is_none() {
        return Err(ApiError::invalid_parameter(
            "An ENABLED refresh schedule needs a Frequency: HOURS with 1, 6, 12 or 24, or DAYS with 1.",
        ));
    }
    if let Some(time) = &input.time_of_day {
        parse_time_of_day(time)?;
    }
    let time_of_day = input.time_of_day.or_else(|| frequency.map(|_| "00:00".to_owned()));
    Ok(DashboardRefreshSchedule { frequency, enabled, time_of_day })
}

fn parse_frequency(input: FrequencyInput) -> Result<RefreshFrequency, ApiError> {
    let Some(unit_text) = input.unit else {
        return Err(ApiError::invalid_parameter("A refresh schedule's Frequency needs a Unit: HOURS or DAYS."));
    };
    let Some(unit) = RefreshFrequencyUnit::parse(&unit_text) else {
        return Err(ApiError::invalid_parameter(format!(
            "1 validation error detected: Value '{}' at 'refreshSchedule.frequency.unit' failed to satisfy \
             constraint: Member must satisfy enum value set: [HOURS, DAYS]",
            truncate_for_message(&unit_text)
        )));
    };
    let Some(value) = input.value else {
        return Err(ApiError::invalid_parameter("A refresh schedule's Frequency needs a Value."));
    };
    let allowed = match unit {
        RefreshFrequencyUnit::Hours => HOURLY_VALUES.iter().any(|v| i64::from(*v) == value),
        RefreshFrequencyUnit::Days => value == 1,
    };
    match u32::try_from(value) {
        Ok(value) if allowed => Ok(RefreshFrequency { unit, value }),
        _ => Err(ApiError::invalid_parameter(format!(
            "A refresh schedule of unit {} cannot have the value {value}; HOURS takes 1, 6, 12 or 24 and DAYS takes 1.",
            unit.as_str()
        ))),
    }
}

/// `HH:MM` in UTC, as minutes after midnight.
fn parse_time_of_day(text: &str) -> Result<i64, ApiError> {
    let invalid = || {
        ApiError::invalid_parameter(format!(
            "TimeOfDay must be a UTC time of day written HH:MM (00:00 to 23:59); got '{}'.",
            truncate_for_message(text)
        ))
    };
    let (hours, minutes) = text.split_once(':').ok_or_else(invalid)?;
    let two_digits = |part: &str| part.len() == 2 && part.bytes().all(|b| b.is_ascii_digit());
    if !two_digits(hours) || !two_digits(minutes) {
        return Err(invalid());
    }
    let hours: i64 = hours.parse().map_err(|_| invalid())?;
    let minutes: i64 = minutes.parse().map_err(|_| invalid())?;
    if hours > 23 || minutes > 59 {
        return Err(invalid());
    }
    Ok(hours * 60 + minutes)
}

/// The schedule as the API shows it.
pub(crate) fn schedule_output(schedule: &DashboardRefreshSchedule) -> Value {
    let mut out = json!({ "Status": if schedule.enabled { "ENABLED" } else { "DISABLED" } });
    if let Some(frequency) = &schedule.frequency {
        out["Frequency"] = json!({ "Unit": frequency.unit.as_str(), "Value": frequency.value });
    }
    if let Some(time) = &schedule.time_of_day {
        out["TimeOfDay"] = json!(time);
    }
    out
}

/// When an enabled schedule next refreshes, strictly after `after`. Refreshes fall at `TimeOfDay`
/// (UTC) and every `Value` hours from it, or once a day at `TimeOfDay`; for hourly refreshes only the
/// minutes of `TimeOfDay` matter.
pub(crate) fn next_refresh(schedule: &DashboardRefreshSchedule, after: jiff::Timestamp) -> Option<jiff::Timestamp> {
    let frequency = schedule.frequency.filter(|_| schedule.enabled)?;
    let step_ms = match frequency.unit {
        RefreshFrequencyUnit::Hours => i64::from(frequency.value) * 60 * MINUTE_MS,
        RefreshFrequencyUnit::Days => i64::from(frequency.value) * DAY_MS,
    };
    if step_ms <= 0 {
        return None;
    }
    let offset_minutes = schedule.time_of_day.as_deref().map_or(Ok(0), parse_time_of_day).unwrap_or(0);
    let after_ms = after.as_millisecond();
    let anchor_ms = after_ms.div_euclid(DAY_MS) * DAY_MS + offset_minutes * MINUTE_MS;
    let steps = (after_ms - anchor_ms).div_euclid(step_ms) + 1;
    jiff::Timestamp::from_millisecond(anchor_ms + steps * step_ms).ok()
}

/// The values of a refresh's named parameters: those given, the rest defaulted (the last 24 hours,
/// by day), times rendered as Lake timestamps.
pub(crate) fn parameter_values(
    given: Option<&BTreeMap<String, String>>,
    now: jiff::Timestamp,
) -> Result<ParameterValues, ApiError> {
    let mut start = None;
    let mut end = None;
    let mut period = None;
    for (key, value) in given.into_iter().flatten() {
        let shown_key = truncate_for_message(key);
        if !(3..=128).contains(&key.chars().count()) {
            return Err(ApiError::invalid_parameter(format!(
                "1 validation error detected: Value '{shown_key}' at 'queryParameterValues' failed to satisfy \
                 constraint: Map keys must have length between 3 and 128"
            )));
        }
        if !(1..=128).contains(&value.chars().count()) {
            return Err(ApiError::invalid_parameter(format!(
                "The value of query parameter {shown_key} must be 1 to 128 characters long."
            )));
        }
        match key.as_str() {
            "$StartTime$" => start = Some(parse_time(key, value)?),
            "$EndTime$" => end = Some(parse_time(key, value)?),
            "$Period$" => period = Some(parse_period(value)?),
            "$EventDataStoreId$" => {
                return Err(ApiError::invalid_parameter(
                    "$EventDataStoreId$ is a parameter of managed dashboards; custom dashboards take $StartTime$, \
                     $EndTime$ and $Period$.",
                ));
            }
            _ => {
                return Err(ApiError::invalid_parameter(format!(
                    "{shown_key} is not a query parameter of custom dashboards; use {}.",
                    PARAMETER_NAMES.join(", ")
                )));
            }
        }
    }
    let end = end.unwrap_or(now);
    let start = match start {
        Some(start) => start,
        None => end.checked_sub(DEFAULT_WINDOW).unwrap_or(end),
    };
    if start > end {
        return Err(ApiError::invalid_parameter(format!(
            "$StartTime$ ({}) must not be after $EndTime$ ({}).",
            lake_time(start),
            lake_time(end)
        )));
    }
    Ok(ParameterValues {
        start_time: lake_time(start),
        end_time: lake_time(end),
        period: period.unwrap_or_else(|| DEFAULT_PERIOD.to_owned()),
    })
}

/// A time as Lake compares it with `eventTime`: `YYYY-MM-DD HH:MM:SS`, UTC.
pub(crate) fn lake_time(at: jiff::Timestamp) -> String {
    at.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// Epoch seconds, an ISO 8601 time (UTC unless it has an offset) or a date.
fn parse_time(key: &str, value: &str) -> Result<jiff::Timestamp, ApiError> {
    let invalid = || {
        ApiError::invalid_parameter(format!(
            "The value '{}' of {key} is not a time; give epoch seconds, YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DD.",
            truncate_for_message(value)
        ))
    };
    if value.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let seconds: f64 = value.parse().map_err(|_| invalid())?;
        if !seconds.is_finite() || seconds.abs() > 1.0e12 {
            return Err(invalid());
        }
        return jiff::Timestamp::from_millisecond((seconds * 1000.0).round() as i64).map_err(|_| invalid());
    }
    if let Ok(at) = value.parse::<jiff::Timestamp>() {
        return Ok(at);
    }
    let utc = jiff::tz::TimeZone::UTC;
    if let Ok(civil) = value.parse::<jiff::civil::DateTime>() {
        return civil.to_zoned(utc).map(|z| z.timestamp()).map_err(|_| invalid());
    }
    if let Ok(date) = value.parse::<jiff::civil::Date>() {
        return date.to_zoned(utc).map(|z| z.timestamp()).map_err(|_| invalid());
    }
    Err(invalid())
}

fn parse_period(value: &str) -> Result<String, ApiError> {
    let unit = value.to_ascii_lowercase();
    if PERIODS.contains(&unit.as_str()) {
        return Ok(unit);
    }
    Err(ApiError::new(
        ErrorCode::InvalidParameter,
        format!("$Period$ must be one of {}; got '{}'.", PERIODS.join(", "), truncate_for_message(value)),
    ))
}
