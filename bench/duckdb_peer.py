#!/usr/bin/env python3
"""The DuckDB peer of `cairn bench lookup` and `cairn bench deliver`, on the same events in the same run.

`--mode lookup` (the default): the same LookupEvents queries as SQL over the same events.
`--mode deliver`: the same events written as gzip JSON (see `deliver_main`).

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


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", required=True, help="the data directory of cairn bench lookup or deliver")
    parser.add_argument("--mode", choices=["lookup", "deliver"], default="lookup")
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--json-reps", type=int, default=3)
    parser.add_argument("--memory", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    if args.mode == "deliver":
        deliver_main(args)
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
