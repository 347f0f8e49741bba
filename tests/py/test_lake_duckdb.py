"""Lake SQL results equal DuckDB's on the same events.

The CloudTrail corpora (real log files and the AWS docs examples, read in place) are imported with
`cairn import` and queried with `cairn query`; DuckDB (from PyPI) loads the same records from NDJSON with
its own JSON reader. Each case is a pair: the Lake statement and the DuckDB statement that asks the same
question in DuckDB's dialect (JSON paths where Lake has maps and structs). Rows are compared as the
strings Lake returns, in order when the statement orders them fully.
"""

import json
import subprocess
from pathlib import Path

import duckdb
import pytest

from helpers import CAIRN_BIN

CORPORA = Path(__file__).resolve().parents[2].parent / "shared" / "corpora" / "cloudtrail"

COLUMNS = {
    "eventVersion": "VARCHAR", "userIdentity": "JSON", "eventTime": "TIMESTAMP", "eventSource": "VARCHAR",
    "eventName": "VARCHAR", "awsRegion": "VARCHAR", "sourceIPAddress": "VARCHAR", "userAgent": "VARCHAR",
    "errorCode": "VARCHAR", "errorMessage": "VARCHAR", "requestParameters": "JSON", "responseElements": "JSON",
    "additionalEventData": "JSON", "requestID": "VARCHAR", "eventID": "VARCHAR", "readOnly": "BOOLEAN",
    "resources": "JSON", "eventType": "VARCHAR", "managementEvent": "BOOLEAN", "recipientAccountId": "VARCHAR",
    "eventCategory": "VARCHAR", "tlsDetails": "JSON", "sessionCredentialFromConsole": "VARCHAR",
}

# (name, Lake SQL with {T} for the store, DuckDB SQL over table t, ordered?)
CASES = [
    ("count", "SELECT count(*) AS n FROM {T}", "SELECT count(*) FROM t", True),
    ("by_source", "SELECT eventSource, count(*) AS n FROM {T} GROUP BY eventSource ORDER BY n DESC, eventSource",
     "SELECT eventSource, count(*) AS n FROM t GROUP BY 1 ORDER BY n DESC, eventSource", True),
    ("top_names", "SELECT eventName, count(*) AS n FROM {T} GROUP BY eventName ORDER BY n DESC, eventName LIMIT 10",
     "SELECT eventName, count(*) AS n FROM t GROUP BY 1 ORDER BY n DESC, eventName LIMIT 10", True),
    ("errors", "SELECT errorCode, count(*) AS n FROM {T} WHERE errorCode IS NOT NULL GROUP BY errorCode",
     "SELECT errorCode, count(*) FROM t WHERE errorCode IS NOT NULL GROUP BY 1", False),
    ("regions", "SELECT DISTINCT awsRegion FROM {T}", "SELECT DISTINCT awsRegion FROM t", False),
    ("identity_type", "SELECT userIdentity.type AS kind, count(*) AS n FROM {T} GROUP BY userIdentity.type",
     "SELECT json_extract_string(userIdentity, '$.type'), count(*) FROM t GROUP BY 1", False),
    ("top_users", "SELECT userIdentity.arn AS arn, count(*) AS n FROM {T} WHERE userIdentity.arn IS NOT NULL "
     "GROUP BY userIdentity.arn ORDER BY n DESC, arn LIMIT 15",
     "SELECT json_extract_string(userIdentity, '$.arn') a, count(*) n FROM t WHERE a IS NOT NULL "
     "GROUP BY 1 ORDER BY n DESC, a LIMIT 15", True),
    ("issuer", "SELECT userIdentity.sessionContext.sessionIssuer.userName AS issuer, count(*) AS n FROM {T} "
     "GROUP BY userIdentity.sessionContext.sessionIssuer.userName",
     "SELECT json_extract_string(userIdentity, '$.sessionContext.sessionIssuer.userName'), count(*) FROM t GROUP BY 1",
     False),
    ("per_hour", "SELECT date_trunc('hour', eventTime) AS hour, count(*) AS n FROM {T} GROUP BY 1 ORDER BY 1",
     "SELECT strftime(date_trunc('hour', eventTime), '%Y-%m-%d %H:%M:%S.000'), count(*) FROM t GROUP BY 1 ORDER BY 1",
     True),
    ("weekday", "SELECT day_of_week(eventTime) AS d, count(*) AS n FROM {T} GROUP BY 1",
     "SELECT isodow(eventTime), count(*) FROM t GROUP BY 1", False),
    ("buckets", "SELECT element_at(requestParameters, 'bucketName') AS b, count(*) AS n FROM {T} "
     "WHERE element_at(requestParameters, 'bucketName') IS NOT NULL GROUP BY 1",
     "SELECT json_extract_string(requestParameters, '$.bucketName') b, count(*) FROM t WHERE b IS NOT NULL GROUP BY 1",
     False),
    ("nested_json", "SELECT json_extract_scalar(element_at(requestParameters, 'instancesSet'), '$.items[0].instanceId') AS i, "
     "count(*) AS n FROM {T} WHERE element_at(requestParameters, 'instancesSet') IS NOT NULL GROUP BY 1",
     "SELECT json_extract_string(requestParameters, '$.instancesSet.items[0].instanceId'), count(*) FROM t "
     "WHERE json_extract(requestParameters, '$.instancesSet') IS NOT NULL GROUP BY 1", False),
    ("read_only", "SELECT readOnly, count(*) AS n FROM {T} GROUP BY readOnly",
     "SELECT readOnly, count(*) FROM t GROUP BY 1", False),
    ("first_per_source", "SELECT eventSource, eventName FROM (SELECT eventSource, eventName, row_number() OVER "
     "(PARTITION BY eventSource ORDER BY eventTime, eventID) AS r FROM {T}) WHERE r = 1",
     "SELECT eventSource, eventName FROM (SELECT eventSource, eventName, row_number() OVER "
     "(PARTITION BY eventSource ORDER BY eventTime, eventID) AS r FROM t) WHERE r = 1", False),
    ("join_errors", "WITH calls AS (SELECT userIdentity.arn AS arn, count(*) AS n FROM {T} GROUP BY 1), "
     "errs AS (SELECT userIdentity.arn AS arn, count(*) AS e FROM {T} WHERE errorCode IS NOT NULL GROUP BY 1) "
     "SELECT calls.arn, n, e FROM calls JOIN errs ON calls.arn = errs.arn",
     "WITH calls AS (SELECT json_extract_string(userIdentity, '$.arn') arn, count(*) n FROM t GROUP BY 1), "
     "errs AS (SELECT json_extract_string(userIdentity, '$.arn') arn, count(*) e FROM t WHERE errorCode IS NOT NULL "
     "GROUP BY 1) SELECT calls.arn, n, e FROM calls JOIN errs ON calls.arn = errs.arn", False),
    ("having", "SELECT eventName, count(*) AS n FROM {T} GROUP BY eventName HAVING count(*) > 20",
     "SELECT eventName, count(*) FROM t GROUP BY 1 HAVING count(*) > 20", False),
    ("case", "SELECT CASE WHEN errorCode IS NULL THEN 'ok' ELSE 'error' END AS outcome, count(*) AS n FROM {T} GROUP BY 1",
     "SELECT CASE WHEN errorCode IS NULL THEN 'ok' ELSE 'error' END, count(*) FROM t GROUP BY 1", False),
    ("distinct_ips", "SELECT eventSource, count(DISTINCT sourceIPAddress) AS ips FROM {T} GROUP BY eventSource",
     "SELECT eventSource, count(DISTINCT sourceIPAddress) FROM t GROUP BY 1", False),
    ("time_window", "SELECT count(*) AS n FROM {T} WHERE eventTime >= '2023-07-10 12:00:00' AND eventTime < '2023-07-10 12:30:00'",
     "SELECT count(*) FROM t WHERE eventTime >= TIMESTAMP '2023-07-10 12:00:00' AND eventTime < TIMESTAMP '2023-07-10 12:30:00'",
     True),
    ("like", "SELECT count(*) AS n FROM {T} WHERE userAgent LIKE '%aws-cli%'",
     "SELECT count(*) FROM t WHERE userAgent LIKE '%aws-cli%'", True),
    ("regexp", "SELECT eventName, count(*) AS n FROM {T} WHERE regexp_like(eventName, '^(Create|Delete)') GROUP BY 1",
     "SELECT eventName, count(*) FROM t WHERE regexp_matches(eventName, '^(Create|Delete)') GROUP BY 1", False),
    ("resources", "SELECT sum(cardinality(resources)) AS n FROM {T}",
     "SELECT sum(json_array_length(resources)) FROM t", True),
    ("first_resource", "SELECT element_at(resources, 1).type AS ty, count(*) AS n FROM {T} WHERE resources IS NOT NULL GROUP BY 1",
     "SELECT json_extract_string(resources, '$[0].type'), count(*) FROM t WHERE resources IS NOT NULL GROUP BY 1", False),
    ("union", "SELECT eventID FROM {T} WHERE errorCode = 'AccessDenied' UNION ALL SELECT eventID FROM {T} WHERE eventName = 'ConsoleLogin'",
     "SELECT eventID FROM t WHERE errorCode = 'AccessDenied' UNION ALL SELECT eventID FROM t WHERE eventName = 'ConsoleLogin'",
     False),
    ("subquery", "SELECT count(*) AS n FROM {T} WHERE userIdentity.arn IN (SELECT userIdentity.arn FROM {T} WHERE errorCode IS NOT NULL)",
     "SELECT count(*) FROM t WHERE json_extract_string(userIdentity, '$.arn') IN "
     "(SELECT json_extract_string(userIdentity, '$.arn') FROM t WHERE errorCode IS NOT NULL)", True),
    ("tls", "SELECT tlsDetails.tlsVersion AS v, count(*) AS n FROM {T} GROUP BY 1",
     "SELECT json_extract_string(tlsDetails, '$.tlsVersion'), count(*) FROM t GROUP BY 1", False),
    ("split", "SELECT split_part(eventSource, '.', 1) AS service, count(*) AS n FROM {T} GROUP BY 1",
     "SELECT split_part(eventSource, '.', 1), count(*) FROM t GROUP BY 1", False),
    ("date_add", "SELECT min(date_add('day', 1, eventTime)) AS t1, max(date_add('hour', -2, eventTime)) AS t2 FROM {T}",
     "SELECT strftime(min(eventTime + INTERVAL 1 DAY), '%Y-%m-%d %H:%M:%S.000'), "
     "strftime(max(eventTime - INTERVAL 2 HOUR), '%Y-%m-%d %H:%M:%S.000') FROM t", True),
    ("iso8601", "SELECT count(*) AS n FROM {T} WHERE eventTime > from_iso8601_timestamp('2023-07-10T12:20:00Z')",
     "SELECT count(*) FROM t WHERE eventTime > TIMESTAMP '2023-07-10 12:20:00'", True),
    ("mfa", "SELECT element_at(additionalEventData, 'MFAUsed') AS mfa, count(*) AS n FROM {T} WHERE eventName = 'ConsoleLogin' GROUP BY 1",
     "SELECT json_extract_string(additionalEventData, '$.MFAUsed'), count(*) FROM t WHERE eventName = 'ConsoleLogin' GROUP BY 1",
     False),
    ("date_diff", "SELECT max(date_diff('minute', from_iso8601_timestamp('2023-07-10T00:00:00Z'), eventTime)) AS m FROM {T} "
     "WHERE eventTime >= '2023-07-10 00:00:00'",
     "SELECT max(date_diff('minute', TIMESTAMP '2023-07-10 00:00:00', eventTime)) FROM t WHERE eventTime >= TIMESTAMP '2023-07-10 00:00:00'",
     True),
]


def corpus_records() -> list[str]:
    """The records, without those older than the store's 10-year retention (a 2014 docs example),
    which the Lake rightly hides."""
    texts = []
    for path in sorted((CORPORA / "invictus").glob("*.json")):
        try:
            document = json.loads(path.read_text())
        except ValueError:
            continue
        texts.extend(json.dumps(r) for r in document.get("Records", []) if r.get("eventTime", "") >= "2017")
    for line in (CORPORA / "awsdocs-examples.ndjson").read_text().splitlines():
        record = json.loads(line) if line.strip() else None
        # cairn refuses records without an eventID; DuckDB must see the same set.
        if record and record.get("eventID") and record.get("eventTime", "") >= "2017":
            texts.append(json.dumps(record))
    return texts


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    work = tmp_path_factory.mktemp("lake_duckdb")
    source = work / "events.ndjson"
    source.write_text("\n".join(corpus_records()) + "\n")
    data_dir = work / "data"
    out = subprocess.run([CAIRN_BIN, "import", str(source), "--store", "corpus", "--data-dir", str(data_dir)],
                         capture_output=True, text=True, timeout=120, check=True)
    assert "0 records refused" in out.stdout, out.stdout + out.stderr
    con = duckdb.connect()
    columns = ", ".join(f"'{k}': '{v}'" for k, v in COLUMNS.items())
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_json('{source}', format='newline_delimited', "
                f"columns={{{columns}}}, maximum_object_size=16777216)")
    return data_dir, con


def lake_rows(data_dir: Path, sql: str) -> list[tuple]:
    out = subprocess.run([CAIRN_BIN, "query", "--data-dir", str(data_dir), "--format", "json", sql],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return [tuple(row.values()) for row in json.loads(out.stdout)]


def as_lake_string(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S.") + f"{value.microsecond // 1000:03d}"
    return str(value)


def test_the_corpus_loads_the_same_in_both(loaded):
    data_dir, con = loaded
    assert lake_rows(data_dir, "SELECT count(*) AS n FROM corpus") == [(str(con.execute("SELECT count(*) FROM t").fetchone()[0]),)]


@pytest.mark.parametrize("name,lake_sql,duck_sql,ordered", CASES, ids=[c[0] for c in CASES])
def test_lake_results_equal_duckdb(loaded, name, lake_sql, duck_sql, ordered):
    data_dir, con = loaded
    ours = lake_rows(data_dir, lake_sql.replace("{T}", "corpus"))
    theirs = [tuple(as_lake_string(v) for v in row) for row in con.execute(duck_sql).fetchall()]
    assert ours, f"{name}: no rows; the case would prove nothing"
    if not ordered:
        key = lambda row: tuple("" if v is None else v for v in row)  # noqa: E731
        ours, theirs = sorted(ours, key=key), sorted(theirs, key=key)
    assert ours == theirs


def test_at_least_25_cases():
    assert len(CASES) >= 25
