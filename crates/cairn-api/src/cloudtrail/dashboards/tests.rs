//! Dashboard validation, placeholder substitution, refresh parameters and schedules.

use std::collections::BTreeMap;

use cairn_model::ErrorCode;
use cairn_store::records::{
    DashboardRecord, DashboardRefresh, DashboardRefreshSchedule, DashboardStatus, DashboardType, RefreshFrequency,
    RefreshFrequencyUnit,
};

use super::refresh::next_refresh_id;
use super::schedule::{FrequencyInput, ScheduleInput, next_refresh, parameter_values, parse_schedule};
use super::statement::{ParameterValues, is_store_id_shaped, placeholder_count, store_ids, substitute};
use super::{DashboardRef, check_query_parameters, check_view_properties, query_alias, validate_name};

const STORE: &str = "0f9c3b6e-1d2a-4b5c-8d7e-6f5a4b3c2d1e";

fn at(text: &str) -> jiff::Timestamp {
    text.parse().unwrap()
}

fn values() -> ParameterValues {
    ParameterValues {
        start_time: "2024-05-01 00:00:00".to_owned(),
        end_time: "2024-05-02 00:00:00".to_owned(),
        period: "hour".to_owned(),
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn placeholders_are_bare_or_quoted_question_marks_outside_other_text() {
    for (statement, expected) in [
        ("SELECT * FROM x WHERE eventtime > '?' AND eventtime < '?'", 2),
        ("SELECT * FROM x LIMIT ?", 1),
        ("SELECT date_trunc('?', eventtime) FROM x WHERE a LIKE '%?%'", 1),
        ("SELECT \"?\" FROM x -- where y = ?\n", 0),
        ("SELECT 1 /* ? */ FROM x WHERE a = 'it''s ?'", 0),
        ("SELECT 1 FROM x", 0),
    ] {
        assert_eq!(placeholder_count(statement), expected, "{statement}");
    }
}

#[test]
fn substitution_fills_placeholders_in_order() {
    // The form AWS documents: `'?'` around times, `$Period$` for date_trunc.
    let statement = format!(
        "SELECT date_trunc('?', eventtime) AS t, count(*) FROM {STORE} WHERE eventtime > '?' AND eventtime < '?' \
         GROUP BY date_trunc('?', eventtime) LIMIT ?"
    );
    let parameters = strings(&["$Period$", "$StartTime$", "$EndTime$", "$Period$", "25"]);
    assert_eq!(
        substitute(&statement, &parameters, &values()).unwrap(),
        format!(
            "SELECT date_trunc('hour', eventtime) AS t, count(*) FROM {STORE} WHERE eventtime > '2024-05-01 00:00:00' \
             AND eventtime < '2024-05-02 00:00:00' GROUP BY date_trunc('hour', eventtime) LIMIT 25"
        )
    );
    // A literal parameter in a quoted placeholder is a string; quotes in it are escaped.
    assert_eq!(
        substitute("SELECT 1 FROM x WHERE eventname = '?'", &strings(&["it's"]), &values()).unwrap(),
        "SELECT 1 FROM x WHERE eventname = 'it''s'"
    );
    // A named parameter in a bare placeholder becomes a string literal.
    assert_eq!(
        substitute("SELECT 1 FROM x WHERE eventtime > ?", &strings(&["$StartTime$"]), &values()).unwrap(),
        "SELECT 1 FROM x WHERE eventtime > '2024-05-01 00:00:00'"
    );
    // The names may also stand in the statement itself.
    assert_eq!(
        substitute("SELECT 1 FROM x WHERE eventtime BETWEEN '$StartTime$' AND $EndTime$", &[], &values()).unwrap(),
        "SELECT 1 FROM x WHERE eventtime BETWEEN '2024-05-01 00:00:00' AND '2024-05-02 00:00:00'"
    );
    // Other text is left alone.
    let untouched = "SELECT '?%' , \"$Period$\" FROM x -- '?'\n/* ? */";
    assert_eq!(substitute(untouched, &[], &values()).unwrap(), untouched);
}

#[test]
fn substitution_refuses_mismatched_counts() {
    for (statement, parameters) in
        [("SELECT 1 FROM x WHERE a = '?'", vec![]), ("SELECT 1 FROM x", strings(&["$Period$"]))]
    {
        let error = substitute(statement, &parameters, &values()).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidQueryStatement, "{statement}");
    }
    let error = substitute("SELECT 1 FROM x WHERE a = '?' AND b = ?", &strings(&["1"]), &values()).unwrap_err();
    assert_eq!(
        error.message,
        "The query statement has 2 '?' placeholders but 1 QueryParameters; give one parameter for each placeholder."
    );
}

#[test]
fn store_ids_are_the_uuid_words_outside_literals() {
    let upper = STORE.to_ascii_uppercase();
    let other = "11111111-2222-3333-4444-555555555555";
    let statement = format!(
        "SELECT a.x FROM {STORE} a JOIN {upper} b ON a.eventid = b.eventid UNION ALL SELECT x FROM {other} \
         WHERE y = '{other}9' -- {other}\n"
    );
    assert_eq!(store_ids(&statement), [STORE, other]);
    assert!(store_ids("SELECT * FROM eds WHERE x = '0f9c3b6e-1d2a-4b5c-8d7e-6f5a4b3c2d1e'").is_empty());
    assert!(is_store_id_shaped(STORE));
    for word in
        ["0f9c3b6e-1d2a-4b5c-8d7e", "0f9c3b6e-1d2a-4b5c-8d7e-6f5a4b3c2d1e-00", "zf9c3b6e-1d2a-4b5c-8d7e-6f5a4b3c2d1e"]
    {
        assert!(!is_store_id_shaped(word), "{word}");
    }
}

#[test]
fn refresh_parameters_default_to_the_last_day() {
    let now = at("2024-05-02T10:20:30Z");
    assert_eq!(
        parameter_values(None, now).unwrap(),
        ParameterValues {
            start_time: "2024-05-01 10:20:30".to_owned(),
            end_time: "2024-05-02 10:20:30".to_owned(),
            period: "day".to_owned(),
        }
    );
    let given: BTreeMap<String, String> =
        [("$StartTime$", "1714521600"), ("$EndTime$", "2024-05-01T12:00:00Z"), ("$Period$", "HOUR")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
    assert_eq!(
        parameter_values(Some(&given), now).unwrap(),
        ParameterValues {
            start_time: "2024-05-01 00:00:00".to_owned(),
            end_time: "2024-05-01 12:00:00".to_owned(),
            period: "hour".to_owned(),
        }
    );
    let dates: BTreeMap<String, String> = [
        ("$StartTime$".to_owned(), "2024-04-30".to_owned()),
        ("$EndTime$".to_owned(), "2024-05-01T06:30:00".to_owned()),
    ]
    .into_iter()
    .collect();
    let resolved = parameter_values(Some(&dates), now).unwrap();
    assert_eq!(
        (resolved.start_time.as_str(), resolved.end_time.as_str()),
        ("2024-04-30 00:00:00", "2024-05-01 06:30:00")
    );
}

#[test]
fn refresh_parameters_are_validated() {
    let now = at("2024-05-02T10:20:30Z");
    for (key, value, message) in [
        ("$Foo$", "1", "$Foo$ is not a query parameter of custom dashboards; use $StartTime$, $EndTime$, $Period$."),
        (
            "$EventDataStoreId$",
            STORE,
            "$EventDataStoreId$ is a parameter of managed dashboards; custom dashboards take $StartTime$, $EndTime$ and $Period$.",
        ),
        (
            "$Period$",
            "fortnight",
            "$Period$ must be one of minute, hour, day, week, month, quarter, year; got 'fortnight'.",
        ),
        (
            "$StartTime$",
            "yesterday",
            "The value 'yesterday' of $StartTime$ is not a time; give epoch seconds, YYYY-MM-DDTHH:MM:SSZ or YYYY-MM-DD.",
        ),
        (
            "$StartTime$",
            "2024-05-03",
            "$StartTime$ (2024-05-03 00:00:00) must not be after $EndTime$ (2024-05-02 10:20:30).",
        ),
    ] {
        let given: BTreeMap<String, String> = [(key.to_owned(), value.to_owned())].into_iter().collect();
        let error = parameter_values(Some(&given), now).unwrap_err();
        assert_eq!((error.code, error.message.as_str()), (ErrorCode::InvalidParameter, message), "{key}={value}");
    }
}

fn schedule(unit: Option<&str>, value: Option<i64>, status: Option<&str>, time: Option<&str>) -> ScheduleInput {
    ScheduleInput {
        frequency: (unit.is_some() || value.is_some()).then(|| FrequencyInput { unit: unit.map(str::to_owned), value }),
        status: status.map(str::to_owned),
        time_of_day: time.map(str::to_owned),
    }
}

#[test]
fn refresh_schedules_are_validated() {
    let hourly = parse_schedule(schedule(Some("HOURS"), Some(6), None, None)).unwrap();
    assert_eq!(
        hourly,
        DashboardRefreshSchedule {
            frequency: Some(RefreshFrequency { unit: RefreshFrequencyUnit::Hours, value: 6 }),
            enabled: true,
            time_of_day: Some("00:00".to_owned()),
        }
    );
    let off = parse_schedule(schedule(Some("DAYS"), Some(1), Some("DISABLED"), Some("07:45"))).unwrap();
    assert!(!off.enabled);
    assert_eq!(off.time_of_day.as_deref(), Some("07:45"));
    assert!(!parse_schedule(schedule(None, None, Some("DISABLED"), None)).unwrap().enabled);
    for (input, fragment) in [
        (schedule(Some("HOURS"), Some(2), None, None), "cannot have the value 2"),
        (schedule(Some("DAYS"), Some(7), None, None), "cannot have the value 7"),
        (schedule(Some("WEEKS"), Some(1), None, None), "Member must satisfy enum value set: [HOURS, DAYS]"),
        (schedule(Some("HOURS"), None, None, None), "needs a Value"),
        (schedule(None, Some(1), None, None), "needs a Unit"),
        (schedule(None, None, Some("ENABLED"), None), "needs a Frequency"),
        (schedule(Some("HOURS"), Some(1), Some("ON"), None), "[ENABLED, DISABLED]"),
        (schedule(Some("HOURS"), Some(1), None, Some("24:00")), "HH:MM"),
        (schedule(Some("HOURS"), Some(1), None, Some("7:00")), "HH:MM"),
        (schedule(Some("HOURS"), Some(1), None, Some("07:60")), "HH:MM"),
    ] {
        let error = parse_schedule(input).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidParameter);
        assert!(error.message.contains(fragment), "{} lacks {fragment}", error.message);
    }
}

#[test]
fn schedules_fall_at_the_time_of_day_and_every_period_after_it() {
    let make = |unit, value, time: &str, enabled| DashboardRefreshSchedule {
        frequency: Some(RefreshFrequency { unit, value }),
        enabled,
        time_of_day: Some(time.to_owned()),
    };
    use RefreshFrequencyUnit::{Days, Hours};
    for (schedule, after, expected) in [
        (make(Hours, 1, "00:15", true), "2024-05-02T10:20:30Z", "2024-05-02T11:15:00Z"),
        (make(Hours, 1, "09:15", true), "2024-05-02T10:10:00Z", "2024-05-02T10:15:00Z"),
        (make(Hours, 6, "02:30", true), "2024-05-02T10:20:30Z", "2024-05-02T14:30:00Z"),
        (make(Hours, 6, "02:30", true), "2024-05-02T01:00:00Z", "2024-05-02T02:30:00Z"),
        (make(Hours, 24, "00:00", true), "2024-05-02T00:00:00Z", "2024-05-03T00:00:00Z"),
        (make(Days, 1, "23:59", true), "2024-05-02T23:59:00Z", "2024-05-03T23:59:00Z"),
        (make(Days, 1, "06:00", true), "2024-05-02T05:00:00Z", "2024-05-02T06:00:00Z"),
    ] {
        assert_eq!(next_refresh(&schedule, at(after)), Some(at(expected)), "{schedule:?} after {after}");
    }
    assert_eq!(next_refresh(&make(Hours, 1, "00:00", false), at("2024-05-02T00:00:00Z")), None);
}

fn dashboard(refresh_ids: &[&str]) -> DashboardRecord {
    let now = at("2024-05-02T00:00:00Z");
    DashboardRecord {
        account_id: "111111111111".to_owned(),
        region: "us-east-1".to_owned(),
        name: "ops".to_owned(),
        dashboard_type: DashboardType::Custom,
        status: DashboardStatus::Created,
        widgets: Vec::new(),
        refresh_schedule: None,
        termination_protection_enabled: false,
        tags: Vec::new(),
        created_at: now,
        updated_at: now,
        refreshes: refresh_ids
            .iter()
            .map(|id| DashboardRefresh { id: (*id).to_owned(), started_at: now, scheduled: false, queries: Vec::new() })
            .collect(),
        last_refresh_failure_reason: None,
        next_scheduled_refresh: None,
    }
}

#[test]
fn refresh_ids_are_ten_to_twenty_digits_and_increase() {
    let now = at("2024-05-02T00:00:00Z");
    assert_eq!(next_refresh_id(&dashboard(&[]), now), "1714608000000");
    assert_eq!(next_refresh_id(&dashboard(&["1714608000000"]), now), "1714608000001");
    assert_eq!(next_refresh_id(&dashboard(&[]), at("1970-01-01T00:00:00Z")), "0000000000");
    assert_eq!(dashboard(&[]).arn(), "arn:aws:cloudtrail:us-east-1:111111111111:dashboard/ops");
}

#[test]
fn names_and_dashboard_ids_are_validated() {
    for good in ["abc", "My_Dash-1", &"a".repeat(128)] {
        assert!(validate_name(good, "name").is_ok(), "{good}");
    }
    for (bad, fragment) in [
        ("ab", "Member must have length between 3 and 128"),
        (&"a".repeat(129) as &str, "Member must have length between 3 and 128"),
        ("my.dash", "^[a-zA-Z0-9_\\-]+$"),
        ("my dash", "^[a-zA-Z0-9_\\-]+$"),
    ] {
        let error = validate_name(bad, "name").unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidParameter);
        assert!(error.message.contains(fragment), "{}", error.message);
    }
    assert_eq!(DashboardRef::parse("ops").unwrap(), DashboardRef::Name("ops".to_owned()));
    assert_eq!(
        DashboardRef::parse("arn:aws:cloudtrail:us-west-2:222222222222:dashboard/ops").unwrap(),
        DashboardRef::Arn {
            region: "us-west-2".to_owned(),
            account: "222222222222".to_owned(),
            name: "ops".to_owned()
        }
    );
    for bad in
        ["", "a b", "arn:aws:cloudtrail:us-east-1:111111111111:trail/ops", "arn:aws:s3:::dashboard/x", "arn:nope"]
    {
        assert_eq!(DashboardRef::parse(bad).unwrap_err().code, ErrorCode::InvalidParameter, "{bad}");
    }
    assert_eq!(query_alias("ops", 0), "Widget1-ops");
    assert_eq!(query_alias("9lives", 9), "Widget10-9lives");
}

#[test]
fn widget_members_are_validated() {
    let props = |pairs: &[(&str, &str)]| -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    };
    assert!(check_view_properties(&props(&[("Height", "2"), ("Title", "Top errors"), ("View", "Table")])).is_ok());
    for bad in [props(&[("Hi", "2")]), props(&[("Title", "")]), props(&[("Title", "a/b")]), props(&[("Ti tle", "x")])] {
        assert_eq!(check_view_properties(&bad).unwrap_err().code, ErrorCode::InvalidParameter, "{bad:?}");
    }
    assert!(check_query_parameters(&strings(&["$StartTime$", "$EndTime$", "$Period$", "10"])).is_ok());
    for bad in [strings(&["$Foo$"]), strings(&[""]), vec!["x".to_owned(); 11], Vec::new()] {
        assert_eq!(check_query_parameters(&bad).unwrap_err().code, ErrorCode::InvalidParameter, "{bad:?}");
    }
}
