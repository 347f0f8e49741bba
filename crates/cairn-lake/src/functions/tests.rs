//! SQL-level tests of the Trino functions, with Trino's documented results.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BooleanArray, Int64Array, ListBuilder, MapBuilder, RecordBatch, StringArray, StringBuilder,
    TimestampMillisecondArray,
};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::prelude::SessionContext;

use super::register;

fn ctx() -> SessionContext {
    let ctx = SessionContext::new();
    register(&ctx);
    let ts = TimestampMillisecondArray::from(vec![
        Some(1_672_531_200_000), // 2023-01-01T00:00:00Z
        Some(1_688_169_600_000), // 2023-07-01T00:00:00Z
        None,
    ])
    .with_timezone("UTC");
    let mut map = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    map.keys().append_value("bucketName");
    map.values().append_value("my-bucket");
    map.keys().append_value("key");
    map.values().append_value("a/b.txt");
    map.append(true).expect("map row");
    map.keys().append_value("policy");
    map.values().append_value(r#"{"Statement":[{"Effect":"Allow"}]}"#);
    map.append(true).expect("map row");
    map.append(false).expect("map row");
    let mut tags = ListBuilder::new(StringBuilder::new());
    tags.values().append_value("a");
    tags.values().append_value("b");
    tags.append(true);
    tags.append(true);
    tags.append(false);
    let batch = RecordBatch::try_from_iter(vec![
        ("eventtime", Arc::new(ts) as ArrayRef),
        ("requestparameters", Arc::new(map.finish()) as ArrayRef),
        ("tags", Arc::new(tags.finish()) as ArrayRef),
        ("name", Arc::new(StringArray::from(vec![Some("x"), Some("y"), Some("z")])) as ArrayRef),
        ("score", Arc::new(Int64Array::from(vec![Some(3), Some(7), None])) as ArrayRef),
        ("ok", Arc::new(BooleanArray::from(vec![Some(true), Some(false), None])) as ArrayRef),
    ])
    .expect("batch");
    ctx.register_batch("t", batch).expect("register table");
    ctx
}

/// Runs `sql` and returns every cell of the result, row by row, NULL as "NULL".
async fn rows(ctx: &SessionContext, sql: &str) -> Result<Vec<Vec<String>>, String> {
    let df = ctx.sql(sql).await.map_err(|e| e.to_string())?;
    let batches = df.collect().await.map_err(|e| e.to_string())?;
    let opts = FormatOptions::default().with_null("NULL");
    let mut out = Vec::new();
    for b in &batches {
        let fmts: Vec<_> =
            b.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &opts).expect("formatter")).collect();
        for r in 0..b.num_rows() {
            out.push(fmts.iter().map(|f| f.value(r).to_string()).collect());
        }
    }
    Ok(out)
}

/// Evaluates a single-value query.
async fn one(ctx: &SessionContext, sql: &str) -> String {
    let r = rows(ctx, sql).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    assert_eq!(r.len(), 1, "{sql}: {r:?}");
    r[0][0].clone()
}

/// Checks `expr` (evaluated with `SELECT expr`) against the expected rendering.
async fn check(ctx: &SessionContext, cases: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for (expr, want) in cases {
        let sql = format!("SELECT {expr}");
        match rows(ctx, &sql).await {
            Ok(r) if r.len() == 1 && r[0][0] == *want => {}
            Ok(r) => failures.push(format!("{expr}: want {want}, got {r:?}")),
            Err(e) => failures.push(format!("{expr}: want {want}, got error {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

async fn check_err(ctx: &SessionContext, cases: &[(&str, &str)]) {
    let mut failures = Vec::new();
    for (expr, want) in cases {
        let sql = format!("SELECT {expr}");
        match rows(ctx, &sql).await {
            Ok(r) => failures.push(format!("{expr}: want error, got {r:?}")),
            Err(e) if e.contains(want) => {}
            Err(e) => failures.push(format!("{expr}: want error containing {want:?}, got {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A timestamp in New York time (same instant as `s`).
fn ny(s: &str) -> String {
    format!("arrow_cast(from_iso8601_timestamp('{s}'), 'Timestamp(Millisecond, Some(\"America/New_York\"))')")
}

fn ts(s: &str) -> String {
    format!("from_iso8601_timestamp('{s}')")
}

#[tokio::test]
async fn functions_date_trunc() {
    let c = ctx();
    let india = |s: &str| format!("arrow_cast({}, 'Timestamp(Millisecond, Some(\"+05:30\"))')", ts(s));
    let cases = [
        (format!("to_iso8601(date_trunc('week', {}))", ts("2023-06-25T10:11:12Z")), "2023-06-19T00:00:00.000Z"),
        (format!("to_iso8601(date_trunc('quarter', {}))", ts("2023-06-25T10:11:12Z")), "2023-04-01T00:00:00.000Z"),
        (format!("to_iso8601(date_trunc('hour', {}))", ts("2023-06-25T10:11:12.345Z")), "2023-06-25T10:00:00.000Z"),
        (format!("to_iso8601(date_trunc('minute', {}))", ts("1969-12-31T23:59:59.999Z")), "1969-12-31T23:59:00.000Z"),
        (format!("to_iso8601(date_trunc('second', {}))", ts("2023-06-25T10:11:12.345Z")), "2023-06-25T10:11:12.000Z"),
        (format!("to_iso8601(date_trunc('MONTH', {}))", ts("2024-02-29T23:59:59Z")), "2024-02-01T00:00:00.000Z"),
        (format!("to_iso8601(date_trunc('year', {}))", ts("2024-02-29T23:59:59Z")), "2024-01-01T00:00:00.000Z"),
        (format!("arrow_typeof(date_trunc('day', {}))", ts("2023-06-25T10:11:12Z")), "Timestamp(ms, \"UTC\")"),
        // In the value's own zone: 08:00 in New York on the day clocks went forward, and half-hour offsets.
        (format!("to_iso8601(date_trunc('day', {}))", ny("2023-03-12T12:00:00Z")), "2023-03-12T00:00:00.000-05:00"),
        (format!("to_iso8601(date_trunc('hour', {}))", india("2023-01-01T00:15:00Z")), "2023-01-01T05:00:00.000+05:30"),
        ("to_iso8601(date_trunc('month', DATE '2024-02-29'))".to_string(), "2024-02-01"),
        ("date_trunc('day', NULL)".to_string(), "NULL"),
        (format!("date_trunc(NULL, {})", ts("2023-01-01")), "NULL"),
    ];
    let cases: Vec<(&str, &str)> = cases.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    check(&c, &cases).await;
    check_err(
        &c,
        &[
            ("date_trunc('fortnight', DATE '2024-01-01')", "not a valid unit"),
            ("date_trunc('hour', DATE '2024-01-01')", "not a valid DATE field"),
        ],
    )
    .await;
}

#[tokio::test]
async fn functions_date_add_and_diff() {
    let c = ctx();
    let cases = [
        (format!("to_iso8601(date_add('day', 1, {}))", ts("2023-01-31T10:00:00Z")), "2023-02-01T10:00:00.000Z"),
        (format!("to_iso8601(date_add('month', 1, {}))", ts("2023-01-31T10:00:00Z")), "2023-02-28T10:00:00.000Z"),
        (format!("to_iso8601(date_add('month', 1, {}))", ts("2024-01-31")), "2024-02-29T00:00:00.000Z"),
        (format!("to_iso8601(date_add('year', 1, {}))", ts("2024-02-29")), "2025-02-28T00:00:00.000Z"),
        (format!("to_iso8601(date_add('quarter', -1, {}))", ts("2023-05-31")), "2023-02-28T00:00:00.000Z"),
        (format!("to_iso8601(date_add('hour', -25, {}))", ts("2023-03-01T00:30:00Z")), "2023-02-27T23:30:00.000Z"),
        (
            format!("to_iso8601(date_add('millisecond', 1500, {}))", ts("2023-03-01T00:00:00Z")),
            "2023-03-01T00:00:01.500Z",
        ),
        (format!("to_iso8601(date_add('week', 2, {}))", ts("2023-12-25")), "2024-01-08T00:00:00.000Z"),
        ("to_iso8601(date_add('day', 1, DATE '2024-02-28'))".to_string(), "2024-02-29"),
        (
            "to_iso8601(date_add('month', 1, TIMESTAMP '2023-01-31 12:00:00'))".to_string(),
            "2023-02-28T12:00:00.000000000",
        ),
        (format!("date_add('day', NULL, {})", ts("2023-01-01")), "NULL"),
        ("date_add('day', 1, NULL)".to_string(), "NULL"),
        (format!("date_diff('month', {}, {})", ts("2023-01-31"), ts("2023-02-28")), "1"),
        (format!("date_diff('month', {}, {})", ts("2023-01-30"), ts("2023-02-27")), "0"),
        (format!("date_diff('month', {}, {})", ts("2023-03-31"), ts("2023-02-28")), "-1"),
        (format!("date_diff('day', {}, {})", ts("2020-02-28"), ts("2020-03-01")), "2"),
        (format!("date_diff('day', {}, {})", ts("2020-03-01T12:00:00Z"), ts("2020-02-28")), "-2"),
        (format!("date_diff('hour', {}, {})", ts("2020-01-01T10:00:00Z"), ts("2020-01-01T08:30:00Z")), "-1"),
        (format!("date_diff('second', {}, {})", ts("2020-01-01T00:00:00Z"), ts("2020-01-01T00:01:00.999Z")), "60"),
        (format!("date_diff('week', {}, {})", ts("2023-01-01"), ts("2023-01-15")), "2"),
        (format!("date_diff('year', {}, {})", ts("2020-02-29"), ts("2021-02-28")), "1"),
        (format!("date_diff('year', {}, {})", ts("2020-03-01"), ts("2021-02-28")), "0"),
        (format!("date_diff('quarter', {}, {})", ts("2023-01-15"), ts("2023-10-14")), "2"),
        ("date_diff('day', DATE '2024-01-01', DATE '2024-03-01')".to_string(), "60"),
        (format!("date_diff('day', NULL, {})", ts("2023-01-01")), "NULL"),
    ];
    let cases: Vec<(&str, &str)> = cases.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    check(&c, &cases).await;
    check_err(
        &c,
        &[
            ("date_add('fortnight', 1, DATE '2024-01-01')", "not a valid unit"),
            ("date_add('hour', 1, DATE '2024-01-01')", "not a valid DATE field"),
        ],
    )
    .await;
}

#[tokio::test]
async fn functions_date_fields() {
    let c = ctx();
    let cases = [
        (format!("year({})", ts("2023-06-25T13:14:15.678Z")), "2023"),
        (format!("quarter({})", ts("2023-06-25T13:14:15.678Z")), "2"),
        (format!("month({})", ts("2023-06-25T13:14:15.678Z")), "6"),
        (format!("day({})", ts("2023-06-25T13:14:15.678Z")), "25"),
        (format!("day_of_month({})", ts("2023-06-25T13:14:15.678Z")), "25"),
        (format!("hour({})", ts("2023-06-25T13:14:15.678Z")), "13"),
        (format!("minute({})", ts("2023-06-25T13:14:15.678Z")), "14"),
        (format!("second({})", ts("2023-06-25T13:14:15.678Z")), "15"),
        (format!("millisecond({})", ts("2023-06-25T13:14:15.678Z")), "678"),
        // 2023-06-25 is a Sunday, 2023-06-26 a Monday.
        (format!("day_of_week({})", ts("2023-06-25")), "7"),
        (format!("dow({})", ts("2023-06-26")), "1"),
        (format!("day_of_year({})", ts("2024-12-31")), "366"),
        (format!("doy({})", ts("2023-03-01")), "60"),
        // ISO weeks across year boundaries.
        (format!("week({})", ts("2021-01-01")), "53"),
        (format!("year_of_week({})", ts("2021-01-01")), "2020"),
        (format!("week_of_year({})", ts("2024-12-30")), "1"),
        (format!("yow({})", ts("2024-12-30")), "2025"),
        (format!("week({})", ts("2026-01-01")), "1"),
        ("week(DATE '2020-12-31')".to_string(), "53"),
        ("day_of_week(DATE '2024-02-29')".to_string(), "4"),
        (format!("date_part('dow', {})", ts("2023-06-25")), "7"),
        (format!("date_part('week', {})", ts("2021-01-03")), "53"),
        ("year(TIMESTAMP '1969-12-31 23:59:59')".to_string(), "1969"),
        ("hour(TIMESTAMP '1969-12-31 23:59:59')".to_string(), "23"),
        ("year(NULL)".to_string(), "NULL"),
        (
            "hour(arrow_cast(from_iso8601_timestamp('2023-01-01T12:00:00Z'), 'Timestamp(Millisecond, Some(\"+05:30\"))'))".to_string(),
            "17",
        ),
        ("arrow_typeof(year(DATE '2023-01-01'))".to_string(), "Int64"),
        (format!("hour({})", ny("2023-07-01T12:00:00Z")), "8"),
        (format!("to_iso8601({})", ny("2023-01-15T12:00:00Z")), "2023-01-15T07:00:00.000-05:00"),
        // One day after noon before the spring-forward night is noon again, 23 hours later.
        (format!("to_iso8601(date_add('day', 1, {}))", ny("2023-03-11T17:00:00Z")), "2023-03-12T12:00:00.000-04:00"),
        (format!("date_diff('hour', {}, date_add('day', 1, {}))", ny("2023-03-11T17:00:00Z"), ny("2023-03-11T17:00:00Z")), "23"),
        (format!("EXTRACT(DOW FROM {})", ts("2023-06-25")), "7"),
        (format!("EXTRACT(YEAR FROM {})", ts("2023-06-25")), "2023"),
        (format!("EXTRACT(DAY_OF_WEEK FROM {})", ts("2023-06-26")), "1"),
        (format!("EXTRACT(WEEK FROM {})", ts("2021-01-01")), "53"),
    ];
    let cases: Vec<(&str, &str)> = cases.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    check(&c, &cases).await;

    let by_day = rows(&c, "SELECT day_of_week(eventtime), count(*) FROM t GROUP BY day_of_week(eventtime) ORDER BY 1")
        .await
        .expect("group by day_of_week");
    // 2023-01-01 is a Sunday, 2023-07-01 a Saturday.
    assert_eq!(
        by_day,
        vec![
            vec!["6".to_string(), "1".to_string()],
            vec!["7".to_string(), "1".to_string()],
            vec!["NULL".to_string(), "1".to_string()],
        ]
    );
}

#[tokio::test]
async fn functions_iso8601_and_unixtime() {
    let c = ctx();
    check(
        &c,
        &[
            ("to_iso8601(from_iso8601_timestamp('2023-01-01T00:00:00Z'))", "2023-01-01T00:00:00.000Z"),
            ("to_iso8601(from_iso8601_timestamp('2023-01-01'))", "2023-01-01T00:00:00.000Z"),
            ("to_iso8601(from_iso8601_timestamp('2023-01-01T10:20:30.123456Z'))", "2023-01-01T10:20:30.123Z"),
            ("to_iso8601(from_iso8601_timestamp('2023-01-01T10:20:30+02:00'))", "2023-01-01T08:20:30.000Z"),
            ("to_iso8601(from_iso8601_timestamp('2023-01-01T01:00-0530'))", "2023-01-01T06:30:00.000Z"),
            ("arrow_typeof(from_iso8601_timestamp('2023-01-01'))", "Timestamp(ms, \"UTC\")"),
            ("from_iso8601_timestamp(NULL)", "NULL"),
            ("to_iso8601(from_iso8601_date('2024-02-29'))", "2024-02-29"),
            ("to_iso8601(from_unixtime(0))", "1970-01-01T00:00:00.000Z"),
            ("to_iso8601(from_unixtime(1700000000.5))", "2023-11-14T22:13:20.500Z"),
            ("to_iso8601(from_unixtime(1700000000, 'UTC'))", "2023-11-14T22:13:20.000Z"),
            ("to_unixtime(from_unixtime(1700000000.25))", "1700000000.25"),
            ("to_unixtime(from_iso8601_timestamp('1969-12-31T23:59:59Z'))", "-1.0"),
            ("to_iso8601(date(from_iso8601_timestamp('2023-05-06T23:59:59Z')))", "2023-05-06"),
            ("to_iso8601(date('2023-05-06'))", "2023-05-06"),
            ("date('2023-05-06') = DATE '2023-05-06'", "true"),
            ("to_iso8601(last_day_of_month(DATE '2024-02-10'))", "2024-02-29"),
            ("date(NULL)", "NULL"),
        ],
    )
    .await;
    check_err(
        &c,
        &[
            ("from_iso8601_timestamp('2023-13-01')", "Invalid format"),
            ("from_iso8601_timestamp('yesterday')", "Invalid format"),
            ("from_iso8601_date('2023-02-30')", "Invalid format"),
        ],
    )
    .await;
}

#[tokio::test]
async fn functions_formatting_and_parsing() {
    let c = ctx();
    let t = ts("2023-07-04T09:05:06.789Z");
    let cases = [
        (format!("date_format({t}, '%Y-%m-%d %H:%i:%s')"), "2023-07-04 09:05:06"),
        (
            format!("date_format({t}, '%a %b %e %W %M %j %p %r %T %f %y %c %D %%')"),
            "Tue Jul 4 Tuesday July 185 AM 09:05:06 AM 09:05:06 789000 23 7 4th %",
        ),
        (format!("date_format({t}, '%x-%v')"), "2023-27"),
        (format!("format_datetime({t}, 'yyyy-MM-dd HH:mm:ss.SSS')"), "2023-07-04 09:05:06.789"),
        (format!("format_datetime({t}, 'EEE, d MMM yyyy hh:mm a Z')"), "Tue, 4 Jul 2023 09:05 AM +0000"),
        (format!("format_datetime({t}, 'EEEE MMMM yy D ZZ z ''quoted''')"), "Tuesday July 23 185 +00:00 UTC quoted"),
        ("to_iso8601(date_parse('2023-05-06 07:08:09', '%Y-%m-%d %H:%i:%s'))".to_string(), "2023-05-06T07:08:09.000"),
        (
            "to_iso8601(date_parse('06/May/2023:07:08:09 PM', '%d/%b/%Y:%h:%i:%s %p'))".to_string(),
            "2023-05-06T19:08:09.000",
        ),
        ("to_iso8601(date_parse('2023-05-06', '%Y-%m-%d'))".to_string(), "2023-05-06T00:00:00.000"),
        (
            "to_iso8601(date_parse('2023-05-06 07:08:09.123456', '%Y-%m-%d %T.%f'))".to_string(),
            "2023-05-06T07:08:09.123",
        ),
        (
            "to_iso8601(parse_datetime('2023-05-06T07:08:09+0200', 'yyyy-MM-dd''T''HH:mm:ssZ'))".to_string(),
            "2023-05-06T05:08:09.000Z",
        ),
        ("to_iso8601(parse_datetime('20230506 070809', 'yyyyMMdd HHmmss'))".to_string(), "2023-05-06T07:08:09.000Z"),
        ("to_iso8601(parse_datetime('May 6, 2023', 'MMM d, yyyy'))".to_string(), "2023-05-06T00:00:00.000Z"),
        ("date_format(NULL, '%Y')".to_string(), "NULL"),
        ("date_parse(NULL, '%Y')".to_string(), "NULL"),
    ];
    let cases: Vec<(&str, &str)> = cases.iter().map(|(a, b)| (a.as_str(), *b)).collect();
    check(&c, &cases).await;
    check_err(
        &c,
        &[
            ("date_parse('2023-02-30', '%Y-%m-%d')", "Invalid format"),
            ("date_parse('x2023', '%Y')", "Invalid format"),
            ("format_datetime(DATE '2023-01-01', 'yyyy-MM-dd qq')", "Illegal pattern"),
        ],
    )
    .await;
    // Parsed timestamps compare with the UTC event times.
    assert_eq!(one(&c, "SELECT count(*) FROM t WHERE eventtime > date_parse('2023-03-01', '%Y-%m-%d')").await, "1");
    assert_eq!(
        one(&c, "SELECT count(*) FROM t WHERE eventtime >= from_iso8601_timestamp('2023-01-01T00:00:00Z')").await,
        "2"
    );
}

#[tokio::test]
async fn functions_json() {
    let c = ctx();
    check(
        &c,
        &[
            (r#"json_extract_scalar('{"a":{"b":"x"}}', '$.a.b')"#, "x"),
            (r#"json_extract_scalar('{"a":{"b":"x"}}', '$.a')"#, "NULL"),
            (r#"json_extract_scalar('{"a":1.5,"b":true,"c":null}', '$.a')"#, "1.5"),
            (r#"json_extract_scalar('{"a":1.5,"b":true,"c":null}', '$.b')"#, "true"),
            (r#"json_extract_scalar('{"a":1.5,"b":true,"c":null}', '$.c')"#, "NULL"),
            (r#"json_extract_scalar('{"a":1}', '$.missing')"#, "NULL"),
            (r#"json_extract_scalar('not json', '$.a')"#, "NULL"),
            (r#"json_extract_scalar('{"a.b":1,"a":{"b":2}}', '$["a.b"]')"#, "1"),
            (r#"json_extract_scalar('{"a.b":1,"a":{"b":2}}', '$.a.b')"#, "2"),
            (r#"json_extract_scalar('{"AWS:Item":{"Id":"i-1"}}', '$.AWS:Item.Id')"#, "i-1"),
            (r#"json_extract_scalar('{"items":[{"key":"k0"},{"key":"k1"}]}', '$.items[1].key')"#, "k1"),
            (r#"json_extract_scalar('[10,20,30]', '$[2]')"#, "30"),
            (r#"json_extract_scalar('[10,20,30]', '$[3]')"#, "NULL"),
            (r#"json_extract('{"a":[1,{"b":2}]}', '$.a[1]')"#, r#"{"b":2}"#),
            (r#"json_extract('{"a":[1,{"b":2}]}', '$.a')"#, r#"[1,{"b":2}]"#),
            (r#"json_extract('{"a":"x"}', '$.a')"#, r#""x""#),
            (r#"json_extract('{"a":null}', '$.a')"#, "null"),
            (r#"json_extract('{"z":1,"a":2}', '$')"#, r#"{"z":1,"a":2}"#),
            (r#"json_extract(json_parse('{"a":{"b":[1,2]}}'), '$.a.b[0]')"#, "1"),
            (r#"json_extract(NULL, '$.a')"#, "NULL"),
            (r#"json_parse('{"b": 1, "a": [1, 2]}')"#, r#"{"a":[1,2],"b":1}"#),
            (r#"json_format(json_parse('[1, "x" , null]'))"#, r#"[1,"x",null]"#),
            ("is_json_scalar('1')", "true"),
            (r#"is_json_scalar('"x"')"#, "true"),
            ("is_json_scalar('[1]')", "false"),
            ("json_array_length('[1, 2, 3]')", "3"),
            (r#"json_array_length('{"a":1}')"#, "NULL"),
            ("json_array_contains('[1, 2, 3]', 2)", "true"),
            (r#"json_array_contains('["a", "b"]', 'b')"#, "true"),
            (r#"json_array_contains('["a", "b"]', 'c')"#, "false"),
            ("json_array_contains('[1.5]', 1.5)", "true"),
            ("json_array_contains('[true]', true)", "true"),
            ("json_array_contains('nope', 1)", "NULL"),
            (r#"json_array_get('["a", [3, 9], "c"]', 0)"#, "a"),
            (r#"json_array_get('["a", [3, 9], "c"]', 1)"#, "[3,9]"),
            (r#"json_array_get('["c", "b", "a"]', -1)"#, "a"),
            (r#"json_array_get('["c", "b", "a"]', -10)"#, "NULL"),
            (r#"json_array_get('[]', 0)"#, "NULL"),
            (r#"json_extract_scalar(json_array_get('[{"id":"x"}]', 0), '$.id')"#, "x"),
            (r#"json_size('{"x": {"a": 1, "b": 2}}', '$.x')"#, "2"),
            (r#"json_size('{"x": [1, 2, 3]}', '$.x')"#, "3"),
            (r#"json_size('{"x": {"a": 1, "b": 2}}', '$.x.a')"#, "0"),
            (r#"json_size('{"x": 1}', '$.y')"#, "NULL"),
            (r#"json_cast_varchar(json_extract('{"s":"Installed"}', '$.s'))"#, "Installed"),
            (r#"json_cast_varchar(json_extract('{"n":12}', '$.n'))"#, "12"),
            (r#"json_cast_varchar(json_extract('{"n":null}', '$.n'))"#, "NULL"),
            (r#"json_cast_map('{"p1":{"Id":"a"},"p2":{"Id":"b"}}')"#, r#"{p1: {"Id":"a"}, p2: {"Id":"b"}}"#),
            (r#"map_values(json_cast_map('{"p1":{"Id":"a"},"p2":"x"}'))"#, r#"[{"Id":"a"}, "x"]"#),
            (r#"json_cast_array('[1,"a",null,{"b":2}]')"#, r#"[1, "a", NULL, {"b":2}]"#),
        ],
    )
    .await;
    check_err(
        &c,
        &[
            (r#"json_extract('{"a":1}', 'a')"#, "Invalid JSON path"),
            (r#"json_extract('{"a":1}', '$.')"#, "Invalid JSON path"),
            ("json_parse('not json')", "Cannot convert"),
            ("is_json_scalar('{')", "Invalid JSON"),
            (r#"json_cast_varchar('{"a":1}')"#, "Cannot cast"),
            ("json_cast_map('[1]')", "Cannot cast"),
        ],
    )
    .await;
    assert_eq!(
        one(
            &c,
            "SELECT json_extract_scalar(element_at(requestparameters, 'policy'), '$.Statement[0].Effect') FROM t WHERE name = 'y'"
        )
        .await,
        "Allow"
    );
}

#[tokio::test]
async fn functions_maps_and_arrays() {
    let c = ctx();
    let got = rows(
        &c,
        "SELECT element_at(requestparameters, 'bucketName'), element_at(requestparameters, 'nope'), \
         cardinality(requestparameters), element_at(tags, 1), element_at(tags, -1), element_at(tags, 3), \
         contains(tags, 'b'), cardinality(tags) FROM t ORDER BY name",
    )
    .await
    .expect("map query");
    let want: Vec<Vec<&str>> = vec![
        vec!["my-bucket", "NULL", "2", "a", "b", "NULL", "true", "2"],
        vec!["NULL", "NULL", "1", "NULL", "NULL", "NULL", "false", "0"],
        vec!["NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL", "NULL"],
    ];
    assert_eq!(got, want);
    assert_eq!(one(&c, "SELECT count(*) FROM t WHERE element_at(requestparameters, 'key') LIKE '%b.txt'").await, "1");
    check(
        &c,
        &[
            ("element_at([1, 2, 3], 1)", "1"),
            ("element_at([1, 2, 3], -1)", "3"),
            ("element_at([1, 2, 3], -3)", "1"),
            ("element_at([1, 2, 3], -4)", "NULL"),
            ("element_at([1, 2, 3], 4)", "NULL"),
            ("element_at(MAP {'a': 1, 'b': 2}, 'b')", "2"),
            ("element_at(MAP {'a': 1, 'b': 2}, 'c')", "NULL"),
            ("cardinality([1, 2, 3])", "3"),
            ("cardinality(MAP {'a': 1})", "1"),
            ("arrow_typeof(cardinality([1]))", "Int64"),
            ("contains(['a', 'b'], 'b')", "true"),
            ("contains([1, 2], 3)", "false"),
            ("contains([1, NULL], 3)", "NULL"),
            ("contains([1, NULL], 1)", "true"),
            ("contains('abc', 'bc')", "true"),
            ("contains('abc', 'x')", "false"),
            ("slice([1, 2, 3, 4], 2, 2)", "[2, 3]"),
            ("slice([1, 2, 3, 4], -2, 5)", "[3, 4]"),
            ("slice([1, 2, 3, 4], 5, 1)", "[]"),
            ("array_distinct([3, 1, 3, 2, 1])", "[3, 1, 2]"),
            ("array_distinct(['b', NULL, 'a', NULL, 'b'])", "[b, NULL, a]"),
            ("reverse([1, 2, 3])", "[3, 2, 1]"),
            ("reverse('abc')", "cba"),
            ("array_position([5, 6, 7], 6)", "2"),
            ("array_position([5, 6, 7], 8)", "0"),
            ("array_join(['a', 'b', 'c'], ',')", "a,b,c"),
            ("sequence(1, 3)", "[1, 2, 3]"),
            ("map_keys(MAP {'a': 1})", "[a]"),
            ("map_values(MAP {'a': 1})", "[1]"),
            ("array_max([1, 5, 2])", "5"),
            ("array_min([1, 5, 2])", "1"),
        ],
    )
    .await;
    check_err(
        &c,
        &[
            ("element_at([1, 2, 3], 0)", "SQL array indices start at 1"),
            ("slice([1, 2], 0, 1)", "SQL array indices start at 1"),
        ],
    )
    .await;
}

#[tokio::test]
async fn functions_strings() {
    let c = ctx();
    check(
        &c,
        &[
            (r"regexp_extract('1a 2b 14m', '\d+')", "1"),
            (r"regexp_extract('1a 2b 14m', '(\d+)([a-z]+)', 2)", "a"),
            (r"regexp_extract('1a 2b 14m', 'x(\d+)')", "NULL"),
            (r"regexp_extract('abc', 'b|(z)', 1)", ""),
            (r"regexp_extract(NULL, '\d+')", "NULL"),
            (r"regexp_replace('1a 2b 14m', '\d+[ab] ')", "14m"),
            (r"regexp_replace('1a 2b 14m', '(\d+)([ab]) ', '3c$2 ')", "3ca 3cb 14m"),
            (r"regexp_replace('abc', 'b', '\$')", "a$c"),
            (r"regexp_replace('aaa', 'a', 'b')", "bbb"),
            (r"regexp_like('1a 2b 14m', '\d+b')", "true"),
            ("split('a.b.c', '.')", "[a, b, c]"),
            ("split('a.b.c', '.', 2)", "[a, b.c]"),
            ("split_part('a,b,c', ',', 2)", "b"),
            ("split_part('a,b,c', ',', 4)", "NULL"),
            ("replace('abcb', 'b')", "ac"),
            ("replace('abc', 'b', 'x')", "axc"),
            ("concat('a', 'b', 'c')", "abc"),
            ("concat('a', NULL)", "NULL"),
            ("concat([1], [2, 3])", "[1, 2, 3]"),
            ("substr('hello', 2)", "ello"),
            ("substr('hello', -3, 2)", "ll"),
            ("substr('hello', 0)", ""),
            ("substr('hello', 10)", ""),
            ("substring('hello', 2, 3)", "ell"),
            ("SUBSTRING('hello' FROM -3 FOR 2)", "ll"),
            ("SUBSTRING('hello' FROM 2)", "ello"),
            ("strpos('hello', 'l')", "3"),
            ("length('hello')", "5"),
            ("lower('AbC')", "abc"),
            ("if(1 < 2, 'yes', 'no')", "yes"),
            ("if(1 > 2, 'yes')", "NULL"),
            ("if(NULL, 1, 2)", "2"),
            ("CAST(REPLACE('TLSv1.2', 'TLSv', '') AS DOUBLE)", "1.2"),
        ],
    )
    .await;
    check_err(
        &c,
        &[
            (r"regexp_extract('abc', '(b)', 2)", "Cannot access group 2"),
            ("split_part('a,b', ',', 0)", "Index must be greater than zero"),
            (r"regexp_replace('abc', 'b', '$2')", "No group 2"),
        ],
    )
    .await;
    let got = rows(&c, "SELECT if(ok, name, 'no') FROM t ORDER BY name").await.expect("if over a table");
    assert_eq!(got, vec![vec!["x"], vec!["no"], vec!["no"]]);
}

#[tokio::test]
async fn functions_aggregates() {
    let c = ctx();
    let got = rows(
        &c,
        "SELECT approx_distinct(name), arrow_typeof(approx_distinct(name)), count_if(score > 2), \
         count_if(ok), max_by(name, score), min_by(name, score), arbitrary(score) IS NOT NULL, \
         approx_percentile(score, 0.5) IS NOT NULL, every(score > 0) FROM t",
    )
    .await
    .expect("aggregates");
    assert_eq!(got, vec![vec!["3", "Int64", "2", "1", "y", "x", "true", "true", "true"]]);
    let grouped = rows(&c, "SELECT name, count_if(ok), approx_distinct(score) FROM t GROUP BY name ORDER BY name")
        .await
        .expect("grouped aggregates");
    assert_eq!(grouped, vec![vec!["x", "1", "1"], vec!["y", "0", "1"], vec!["z", "0", "0"]]);
    assert_eq!(one(&c, "SELECT count_if(ok) FROM t WHERE name = 'nobody'").await, "0");
    assert_eq!(one(&c, "SELECT max_by(name, score) FROM t WHERE name = 'nobody'").await, "NULL");
}

#[tokio::test]
async fn functions_lambdas_under_a_lambda_dialect() {
    let c = ctx();
    c.sql("SET datafusion.sql_parser.dialect = 'databricks'").await.expect("set dialect");
    check(
        &c,
        &[
            ("transform([1, 2, 3], x -> x * 2)", "[2, 4, 6]"),
            ("filter([1, 2, 3], x -> x > 1)", "[2, 3]"),
            ("any_match([1, 2, 3], x -> x > 2)", "true"),
        ],
    )
    .await;
}
