#!/usr/bin/env python3
"""The DuckDB peer of `cairn bench lookup` and `cairn bench deliver`, on the same events in the same run.

`--mode lookup` (the default): the same LookupEvents queries as SQL over the same events.
`--mode deliver`: the same events written as gzip JSON (see `deliver_main`).
`--mode lake`: the CloudTrail Lake query shapes of `cairn bench lake` (see `lake_main`).
`--mode import`: the gzip JSON log files of `cairn bench import` read into Parquet (see `import_main`).

`cairn bench lookup` writes DIR/json/*.json.gz (CloudTrail log files, `{"Records": [...]}`) and
DIR/manifest.json (the queried partition and the cases, each with the values to ask for). This script:

1. writes DIR/events.parquet from the gzip JSON with DuckDB (once; reused while newer than the manifest),
   one row per record with the lookup columns extracted and the record's text, sorted by
   (account, region, eventTime) so that row-group statistics prune on them;
2. times, for every case, the query
       SELECT record FROM events WHERE account = ? AND region = ? AND <attribute> = ?
           AND eventTime BETWEEN ? AND ? ORDER BY eventTime DESC LIMIT 50
   over the Parquet file (`--reps` times, cycling over the case's values as cairn does), over the gzip JSON
   read directly (`--json-reps` times: DuckDB parses every file each time), and, with `--memory`, over an
   in-memory DuckDB table loaded from the Parquet file;
3. prints p50/p99 per case and engine and writes them to DIR/peer-results.json for cairn's table.

`cairn bench deliver` writes DIR/events.ndjson (one CloudTrail record per line: the events it appends).
`--mode deliver` times DuckDB reading that file and writing every record as gzip JSON, twice: as one JSON array
(`COPY ... TO 'x.json.gz' (FORMAT JSON, ARRAY true, COMPRESSION GZIP)`), and as one file per account and region
(`PARTITION_BY`), as trail delivery groups them. Each record is kept as JSON (not re-typed), in an object
`{"rec": <record>}`. The times, output bytes and row counts go to DIR/peer-deliver.json for cairn's table.

Username is derived with LookupEvents' rules (root for Root, the user name for IAMUser, the session name for
AssumedRole, invokedBy for AWSService); ResourceType and ResourceName match any element of `resources`.
Requirements: bench/requirements.txt (duckdb).
"""

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import time

import duckdb

LIMIT = 50

# One row per record with the columns LookupEvents filters on, from the raw JSON.
EXTRACT = """
SELECT
    coalesce(rec->>'recipientAccountId', rec->>'$.userIdentity.accountId') AS account,
    rec->>'awsRegion' AS region,
    strptime(rec->>'eventTime', '%Y-%m-%dT%H:%M:%SZ') AS eventTime,
    rec->>'eventID' AS eventId,
    rec->>'eventName' AS eventName,
    rec->>'readOnly' AS readOnly,
    CASE rec->>'$.userIdentity.type'
        WHEN 'Root' THEN 'root'
        WHEN 'IAMUser' THEN coalesce(rec->>'$.userIdentity.userName',
                                     regexp_extract(rec->>'$.userIdentity.arn', '[^/]+$'))
        WHEN 'AssumedRole' THEN regexp_extract(rec->>'$.userIdentity.arn', '[^/]+$')
        WHEN 'AWSService' THEN rec->>'$.userIdentity.invokedBy'
        ELSE rec->>'$.userIdentity.userName'
    END AS username,
    json_extract_string(rec, '$.resources[*].type') AS resourceTypes,
    json_extract_string(rec, '$.resources[*].ARN') AS resourceNames,
    rec->>'eventSource' AS eventSource,
    rec->>'$.userIdentity.accessKeyId' AS accessKeyId,
    CAST(rec AS VARCHAR) AS record
FROM (
    SELECT unnest(json_extract(json, '$.Records[*]')) AS rec
    FROM read_json_objects('{glob}', format = 'unstructured', compression = 'gzip',
                           maximum_object_size = 67108864)
)
"""

CONDITIONS = {
    None: None,
    "EventId": "eventId = ?",
    "EventName": "eventName = ?",
    "ReadOnly": "readOnly = ?",
    "Username": "username = ?",
    "ResourceType": "list_contains(resourceTypes, ?)",
    "ResourceName": "list_contains(resourceNames, ?)",
    "EventSource": "eventSource = ?",
    "AccessKeyId": "accessKeyId = ?",
}


def sql_for(table, attribute):
    condition = CONDITIONS[attribute]
    where = "account = ? AND region = ?"
    if condition:
        where += " AND " + condition
    where += " AND eventTime BETWEEN ? AND ?"
    return f"SELECT record FROM {table} WHERE {where} ORDER BY eventTime DESC LIMIT {LIMIT}"


def params_for(manifest, case, value):
    start = dt.datetime.fromtimestamp(case["start_ms"] / 1000, dt.timezone.utc).replace(tzinfo=None)
    end = dt.datetime.fromtimestamp(case["end_ms"] / 1000, dt.timezone.utc).replace(tzinfo=None)
    params = [manifest["account"], manifest["region"]]
    if case["attribute"]:
        params.append(value)
    return params + [start, end]


def percentile(samples, q):
    """Nearest rank, as cairn computes it (with 50 samples p99 is the maximum)."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), -(-int(q * len(ordered) * 1000) // 1000)))
    return ordered[rank - 1]


def time_cases(con, table, manifest, reps, label):
    results = {}
    for case in manifest["cases"]:
        sql = sql_for(table, case["attribute"])
        samples, rows, rows_by_value = [], 0, {}
        for rep in range(reps):
            value = case["values"][rep % len(case["values"])][0]
            params = params_for(manifest, case, value)
            started = time.perf_counter()
            got = con.execute(sql, params).fetchall()
            samples.append((time.perf_counter() - started) * 1e3)
            rows += len(got)
            rows_by_value[value] = len(got)
        results[case["name"]] = {
            "p50_ms": percentile(samples, 0.5),
            "p99_ms": percentile(samples, 0.99),
            "n": reps,
            "rows": rows / reps,
            "rows_by_value": rows_by_value,
        }
        print(
            f"  {label:<18} {case['name']:<36} p50 {results[case['name']]['p50_ms']:9.2f} ms"
            f"  p99 {results[case['name']]['p99_ms']:9.2f} ms  rows {rows / reps:.1f}",
            file=sys.stderr,
        )
    return results


def dir_bytes(path):
    """Bytes and files under `path`."""
    total, files = 0, 0
    for root, _, names in os.walk(path):
        for name in names:
            total += os.path.getsize(os.path.join(root, name))
            files += 1
    return total, files


def deliver_main(args):
    """`--mode deliver`: DuckDB writing DIR/events.ndjson as gzip JSON, timed."""
    ndjson = os.path.join(args.dir, "events.ndjson")
    out = os.path.join(args.dir, "duckdb-deliver")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    con = duckdb.connect()
    con.execute("SET temp_directory = ?", [os.path.join(args.dir, "duckdb.tmp")])
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    source = (
        f"read_json_objects('{ndjson.replace(chr(39), chr(39) * 2)}', format = 'newline_delimited', "
        "maximum_object_size = 67108864)"
    )
    single = os.path.join(out, "all.json.gz")
    partitioned = os.path.join(out, "by-partition")
    statements = {
        "single": f"COPY (SELECT json AS rec FROM {source}) TO '{single}' "
        "(FORMAT JSON, ARRAY true, COMPRESSION GZIP)",
        "partitioned": "COPY (SELECT json AS rec, "
        "coalesce(json->>'recipientAccountId', json->>'$.userIdentity.accountId') AS account, "
        f"json->>'awsRegion' AS region FROM {source}) TO '{partitioned}' "
        "(FORMAT JSON, ARRAY true, COMPRESSION GZIP, PARTITION_BY (account, region))",
    }
    runs = {}
    for name, sql in statements.items():
        print(f"duckdb {duckdb.__version__} ({threads} threads): {name} gzip JSON …", file=sys.stderr)
        started = time.perf_counter()
        rows = con.execute(sql).fetchone()[0]
        seconds = time.perf_counter() - started
        written, files = dir_bytes(partitioned) if name == "partitioned" else (os.path.getsize(single), 1)
        runs[name] = {"seconds": seconds, "rows": rows, "bytes": written, "files": files}
        print(f"  {rows} rows in {seconds:.2f} s ({rows / max(seconds, 1e-9):.0f} rows/s), "
              f"{written} bytes in {files} files", file=sys.stderr)
    shutil.rmtree(out, ignore_errors=True)
    result = {"duckdb_version": duckdb.__version__, "threads": threads, "runs": runs}
    with open(os.path.join(args.dir, "peer-deliver.json"), "w") as f:
        json.dump(result, f, indent=1)


# The query shapes of `cairn bench lake`, in DuckDB's dialect. `{table}` is the Parquet view (the event data store's
# own segments, Lake schema: nested `useridentity`, `map` columns) or the gzip JSON view (one row per record, the same
# column names, with the nested members the queries need extracted as `arn`, `bucket` and `mfa`). Timestamps are
# returned as text, as Lake returns every value.
LAKE_SHAPES = {
    "top event names": "SELECT eventname, COUNT(*) AS n FROM {table} GROUP BY eventname ORDER BY n DESC LIMIT 10",
    "errors by code, 7 days": "SELECT errorcode, COUNT(*) AS n FROM {table} WHERE errorcode IS NOT NULL "
    "AND eventtime >= '{w0}' AND eventtime < '{w1}' GROUP BY errorcode ORDER BY n DESC",
    "one user's activity": "SELECT CAST(eventtime AS VARCHAR) AS event_time, eventsource, eventname, awsregion, "
    "sourceipaddress, errorcode FROM {table} WHERE {arn} = '{user_arn}' AND eventtime >= '{w0}' AND eventtime < '{w1}' "
    "ORDER BY eventtime DESC LIMIT 1000",
    "events per hour, one day": "SELECT CAST(date_trunc('hour', eventtime) AS VARCHAR) AS hour, COUNT(*) AS n "
    "FROM {table} WHERE eventtime >= '{d0}' AND eventtime < '{d1}' GROUP BY date_trunc('hour', eventtime) ORDER BY hour",
    "distinct source IPs per user": "SELECT {arn} AS arn, COUNT(DISTINCT sourceipaddress) AS ips FROM {table} "
    "WHERE {arn} IS NOT NULL GROUP BY {arn} ORDER BY ips DESC LIMIT 20",
    "console logins without MFA": "SELECT CAST(eventtime AS VARCHAR) AS event_time, {arn} AS arn, sourceipaddress "
    "FROM {table} WHERE eventname = 'ConsoleLogin' AND {mfa} = 'No' ORDER BY eventtime DESC",
    "one eventID": "SELECT CAST(eventtime AS VARCHAR) AS event_time, eventname, eventjson FROM {table} "
    "WHERE eventid = '{event_id}'",
    "top S3 buckets": "SELECT {bucket} AS bucket, COUNT(*) AS n FROM {table} WHERE eventsource = 's3.amazonaws.com' "
    "AND {bucket} IS NOT NULL GROUP BY {bucket} ORDER BY n DESC LIMIT 10",
    "errors by user and service": "SELECT {arn} AS arn, eventsource, COUNT(*) AS errors FROM {table} "
    "WHERE errorcode IS NOT NULL GROUP BY {arn}, eventsource HAVING COUNT(*) >= {having_min} ORDER BY errors DESC",
    "last hour, newest 100": "SELECT CAST(eventtime AS VARCHAR) AS event_time, eventsource, eventname, awsregion, "
    "sourceipaddress, {arn} AS arn, errorcode FROM {table} WHERE eventtime >= '{h0}' AND eventtime < '{h1}' "
    "ORDER BY eventtime DESC LIMIT 100",
}

LAKE_EXPRESSIONS = {
    "parquet": {"arn": "useridentity.arn", "bucket": "requestparameters['bucketName']",
                "mfa": "additionaleventdata['MFAUsed']"},
    "json": {"arn": "arn", "bucket": "bucket", "mfa": "mfa"},
}

# The gzip JSON as rows: the columns the shapes read, from each record's JSON (DuckDB parses every file per query).
LAKE_JSON_VIEW = """
SELECT
    strptime(rec->>'eventTime', '%Y-%m-%dT%H:%M:%SZ') AS eventtime,
    rec->>'eventName' AS eventname,
    rec->>'eventSource' AS eventsource,
    rec->>'awsRegion' AS awsregion,
    rec->>'sourceIPAddress' AS sourceipaddress,
    rec->>'errorCode' AS errorcode,
    rec->>'eventID' AS eventid,
    rec->>'$.userIdentity.arn' AS arn,
    rec->>'$.requestParameters.bucketName' AS bucket,
    rec->>'$.additionalEventData.MFAUsed' AS mfa,
    CAST(rec AS VARCHAR) AS eventjson
FROM (
    SELECT unnest(json_extract(json, '$.Records[*]')) AS rec
    FROM read_json_objects('{glob}', format = 'unstructured', compression = 'gzip',
                           maximum_object_size = 268435456)
)
"""


def lake_main(args):
    """`--mode lake`: the shapes of DIR/lake-cases.json over the store's segments and over the gzip JSON.

    Each shape runs once to warm up (Parquet only; the JSON is read whole every time anyway), then `reps` (Parquet)
    or `json_reps` (gzip JSON) times; the median and the row count go to DIR/lake-peer-results.json.
    """
    with open(os.path.join(args.dir, "lake-cases.json")) as f:
        cases = json.load(f)
    params = cases["params"]
    values = {
        "w0": params["last_7_days"][0], "w1": params["last_7_days"][1],
        "d0": params["a_day"][0], "d1": params["a_day"][1],
        "h0": params["last_hour"][0], "h1": params["last_hour"][1],
        "user_arn": params["user_arn"].replace("'", "''"), "event_id": params["event_id"].replace("'", "''"),
        "having_min": int(params["having_min"]),
    }
    con = duckdb.connect()
    con.execute("SET temp_directory = ?", [os.path.join(args.dir, "duckdb.tmp")])
    # Lake's times are UTC; the Parquet column is a UTC timestamp, compared with UTC wall-clock literals.
    con.execute("SET TimeZone = 'UTC'")
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    started = time.perf_counter()
    parquet_glob = cases["parquet_glob"].replace("'", "''")
    json_glob = cases["json_glob"].replace("'", "''")
    con.execute(f"CREATE VIEW lake_parquet AS SELECT * FROM read_parquet('{parquet_glob}')")
    con.execute(f"CREATE VIEW lake_json AS {LAKE_JSON_VIEW.format(glob=json_glob)}")
    setup = time.perf_counter() - started
    engines = {}
    for engine, table, reps, warm in (("parquet", "lake_parquet", cases["reps"], True),
                                      ("json", "lake_json", cases["json_reps"], False)):
        if reps <= 0:
            continue
        print(f"duckdb {duckdb.__version__} ({threads} threads): {engine}, {reps} per shape", file=sys.stderr)
        results = {}
        for name, template in LAKE_SHAPES.items():
            sql = template.format(table=table, **LAKE_EXPRESSIONS[engine], **values)
            if warm:
                con.execute(sql).fetchall()
            samples, rows = [], None
            for _ in range(reps):
                began = time.perf_counter()
                n = len(con.execute(sql).fetchall())
                samples.append((time.perf_counter() - began) * 1e3)
                if rows is not None and n != rows:
                    raise SystemExit(f"{engine}, {name}: {rows} rows, then {n}")
                rows = n
            median = sorted(samples)[(len(samples) - 1) // 2]
            results[name] = {"median_ms": median, "runs_ms": samples, "rows": rows}
            expected = cases["rows"].get(name)
            mark = "" if expected == rows else f"  (cairn: {expected} rows)"
            print(f"  {name}: {median:.1f} ms, {rows} rows{mark}", file=sys.stderr)
        engines[engine] = results
    out = {"duckdb_version": duckdb.__version__, "threads": threads, "setup_seconds": setup, "engines": engines}
    with open(os.path.join(args.dir, "lake-peer-results.json"), "w") as f:
        json.dump(out, f, indent=1)


# `--mode import`: the Lake's columns, as DuckDB reads them from JSON. Member names are matched exactly (the files are
# CloudTrail's own); members of the wrong type become NULL (json_transform is lenient), as in cairn.
IMPORT_IDENTITY = {
    "type": "VARCHAR", "principalId": "VARCHAR", "arn": "VARCHAR", "accountId": "VARCHAR", "accessKeyId": "VARCHAR",
    "userName": "VARCHAR",
    "sessionContext": {
        "attributes": {"creationDate": "TIMESTAMPTZ", "mfaAuthenticated": "VARCHAR"},
        "sessionIssuer": {"type": "VARCHAR", "principalId": "VARCHAR", "arn": "VARCHAR", "accountId": "VARCHAR",
                          "userName": "VARCHAR"},
        "webIdFederationData": {"federatedProvider": "VARCHAR", "attributes": "MAP(VARCHAR, VARCHAR)"},
        "sourceIdentity": "VARCHAR", "ec2RoleDelivery": "VARCHAR", "ec2IssuedInVPC": "VARCHAR",
    },
    "onBehalfOf": {"userId": "VARCHAR", "identityStoreArn": "VARCHAR"},
    "inScopeOf": {"issuerType": "VARCHAR", "credentialsIssuedTo": "VARCHAR"},
    "invokedBy": "VARCHAR", "identityProvider": "VARCHAR", "credentialId": "VARCHAR",
}
IMPORT_TEXT = ["eventSource", "eventName", "awsRegion", "sourceIPAddress", "userAgent", "errorCode", "errorMessage"]
IMPORT_TEXT_2 = ["requestID", "eventID"]
IMPORT_TEXT_3 = ["eventType", "apiVersion"]
IMPORT_TEXT_4 = ["recipientAccountId", "sharedEventID", "annotation", "vpcEndpointId", "vpcEndpointAccountId"]
IMPORT_MAPS = ["serviceEventDetails", "addendum", "edgeDeviceDetails", "insightDetails"]


def import_lake_columns_sql(glob, out):
    def text(name):
        return f"r->>'{name}' AS {name.lower()}"

    def string_map(name):
        return f"""json_transform(r->'{name}', '"MAP(VARCHAR, VARCHAR)"') AS {name.lower()}"""

    resource = json.dumps([{"accountId": "VARCHAR", "type": "VARCHAR", "ARN": "VARCHAR", "ARNPrefix": "VARCHAR"}])
    tls = json.dumps({"tlsVersion": "VARCHAR", "cipherSuite": "VARCHAR", "clientProvidedHostHeader": "VARCHAR"})
    columns = (
        [text("eventVersion"),
         f"json_transform(r->'userIdentity', '{json.dumps(IMPORT_IDENTITY)}') AS useridentity",
         "CAST(r->>'eventTime' AS TIMESTAMPTZ) AS eventtime"]
        + [text(n) for n in IMPORT_TEXT]
        + [string_map(n) for n in ("requestParameters", "responseElements", "additionalEventData")]
        + [text(n) for n in IMPORT_TEXT_2]
        + ["TRY_CAST(r->>'readOnly' AS BOOLEAN) AS readonly",
           f"json_transform(r->'resources', '{resource}') AS resources"]
        + [text(n) for n in IMPORT_TEXT_3]
        + ["TRY_CAST(r->>'managementEvent' AS BOOLEAN) AS managementevent"]
        + [text(n) for n in IMPORT_TEXT_4]
        + [string_map(n) for n in IMPORT_MAPS]
        + [text("eventCategory"), f"json_transform(r->'tlsDetails', '{tls}') AS tlsdetails",
           text("sessionCredentialFromConsole"), "CAST(r AS VARCHAR) AS eventjson"]
    )
    select = ",\n    ".join(columns)
    return (f"COPY (SELECT\n    {select}\nFROM (SELECT unnest(Records) AS r FROM read_json('{glob}', "
            "columns = {'Records': 'JSON[]'}, format = 'unstructured', compression = 'gzip', "
            f"maximum_object_size = 1073741824))) TO '{out}' (FORMAT parquet, COMPRESSION zstd)")


def import_auto_sql(glob, out):
    return (f"COPY (SELECT unnest(Records, max_depth := 2) FROM read_json('{glob}', compression = 'gzip', "
            f"maximum_object_size = 1073741824)) TO '{out}' (FORMAT parquet, COMPRESSION zstd)")


def import_main(args):
    """`--mode import`: DuckDB reading DIR/logs/AWSLogs/*/CloudTrail/*/YYYY/MM/DD/*.json.gz into one Parquet file.

    Two statements, each timed once from a fresh connection: `lake columns` writes the Lake's columns (typed
    top-level members, `useridentity` and `tlsdetails` structs, free-form members as MAP(VARCHAR, VARCHAR),
    `resources` a list of structs, the record's text as `eventjson`), the same work as `cairn import`;
    `auto schema` lets read_json infer the records' structure and writes every member as a column (no record text).
    Rows, seconds and output bytes go to DIR/import-peer-results.json.
    """
    glob = os.path.join(args.dir, "logs", "AWSLogs", "*", "CloudTrail", "*", "*", "*", "*", "*.json.gz")
    glob = glob.replace("'", "''")
    out_dir = os.path.join(args.dir, "duckdb-import")
    variants = {
        "lake columns": ("one zstd Parquet file: the Lake's columns and each record's text", import_lake_columns_sql),
        "auto schema": ("one zstd Parquet file: read_json's inferred structure, no record text", import_auto_sql),
    }
    results, statements, threads = {}, {}, None
    for name, (writes, make_sql) in variants.items():
        shutil.rmtree(out_dir, ignore_errors=True)
        os.makedirs(out_dir)
        out = os.path.join(out_dir, "events.parquet").replace("'", "''")
        sql = make_sql(glob, out)
        statements[name] = sql
        con = duckdb.connect()
        con.execute("SET temp_directory = ?", [os.path.join(args.dir, "duckdb.tmp")])
        con.execute("SET TimeZone = 'UTC'")
        threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
        print(f"duckdb {duckdb.__version__} ({threads} threads): {name} …", file=sys.stderr)
        started = time.perf_counter()
        try:
            rows = con.execute(sql).fetchone()[0]
        except duckdb.Error as error:
            print(f"  failed: {error}", file=sys.stderr)
            results[name] = {"writes": writes, "error": str(error).splitlines()[0]}
            con.close()
            continue
        seconds = time.perf_counter() - started
        written, _ = dir_bytes(out_dir)
        con.close()
        results[name] = {"writes": writes, "seconds": seconds, "rows": rows, "bytes": written}
        print(f"  {rows} rows in {seconds:.2f} s ({rows / max(seconds, 1e-9):.0f} rows/s), {written} bytes",
              file=sys.stderr)
    shutil.rmtree(out_dir, ignore_errors=True)
    out = {"duckdb_version": duckdb.__version__, "threads": threads, "variants": results, "sql": statements}
    with open(os.path.join(args.dir, "import-peer-results.json"), "w") as f:
        json.dump(out, f, indent=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", required=True,
                        help="the data directory of cairn bench lookup, deliver, lake or import")
    parser.add_argument("--mode", choices=["lookup", "deliver", "lake", "import"], default="lookup")
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--json-reps", type=int, default=3)
    parser.add_argument("--memory", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    if args.mode == "deliver":
        deliver_main(args)
        return
    if args.mode == "lake":
        lake_main(args)
        return
    if args.mode == "import":
        import_main(args)
        return

    manifest_path = os.path.join(args.dir, "manifest.json")
    with open(manifest_path) as f:
        manifest = json.load(f)
    glob = os.path.join(args.dir, "json", "*.json.gz").replace("'", "''")
    parquet = os.path.join(args.dir, "events.parquet")
    con = duckdb.connect()
    # Spill files go beside the data, not into the working directory.
    con.execute("SET temp_directory = ?", [os.path.join(args.dir, "duckdb.tmp")])
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    load = {"json_bytes": sum(
        os.path.getsize(os.path.join(args.dir, "json", f)) for f in os.listdir(os.path.join(args.dir, "json")))}

    if not os.path.exists(parquet) or os.path.getmtime(parquet) < os.path.getmtime(manifest_path):
        print(f"duckdb {duckdb.__version__}: writing {parquet} from the gzip JSON …", file=sys.stderr)
        started = time.perf_counter()
        con.execute(
            f"COPY ({EXTRACT.format(glob=glob)} ORDER BY account, region, eventTime) "
            f"TO '{parquet}.tmp' (FORMAT parquet, COMPRESSION zstd)"
        )
        os.replace(parquet + ".tmp", parquet)
        load["parquet_seconds"] = time.perf_counter() - started
    load["parquet_bytes"] = os.path.getsize(parquet)
    con.execute(f"CREATE VIEW events_parquet AS SELECT * FROM read_parquet('{parquet}')")
    con.execute(f"CREATE VIEW events_json AS {EXTRACT.format(glob=glob)}")

    engines = {}
    print(f"duckdb {duckdb.__version__} ({threads} threads): Parquet, {args.reps} per case", file=sys.stderr)
    engines["parquet"] = time_cases(con, "events_parquet", manifest, args.reps, "parquet")
    if args.memory:
        started = time.perf_counter()
        con.execute("CREATE TABLE events_memory AS SELECT * FROM events_parquet")
        load["memory_seconds"] = time.perf_counter() - started
        engines["memory"] = time_cases(con, "events_memory", manifest, args.reps, "in-memory")
    if args.json_reps > 0:
        print(f"gzip JSON, {args.json_reps} per case", file=sys.stderr)
        engines["json"] = time_cases(con, "events_json", manifest, args.json_reps, "gzip json")

    out = {"duckdb_version": duckdb.__version__, "threads": threads, "load": load, "engines": engines}
    with open(os.path.join(args.dir, "peer-results.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
