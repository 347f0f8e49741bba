"""PutAuditEvents throughput: boto3's unmodified `cloudtrail-data` client sending 100-event batches from concurrent
client processes to a `cairn serve` on loopback, then a check that the channel's event data store holds exactly
the acknowledged events.

    .venv/bin/python bench/put_audit_events.py --cairn target/release/cairn --seconds 20 --processes 2 --threads 4

Starts cairn on a fresh temporary data directory with root credentials of its own, creates an ActivityAuditLog
event data store and a channel, and runs `--processes` client processes of `--threads` threads each for
`--seconds`. Every call is signed with SigV4 and verified by cairn; every event is durable before its answer.
Prints events/s, calls/s, MB/s of request bodies, and call latency percentiles, as markdown. The clients share the
machine's cores with the server, so on a small machine the figure is a floor for cairn alone.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import boto3
from botocore.config import Config

ACCOUNT = "111111111111"
ACCESS_KEY = "AKIABENCH00EXAMPLE01"
SECRET_KEY = "bench-secret-key-111111111111"
REGION = "us-east-1"
BATCH = 100


def client(service: str, endpoint: str):
    session = boto3.session.Session(aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name=REGION)
    config = Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=60,
                    max_pool_connections=64)
    return session.client(service, endpoint_url=endpoint, config=config)


def event_data(uid: str, n: int) -> str:
    return json.dumps({
        "version": "1.0",
        "userIdentity": {"type": "CustomUser", "principalId": f"user-{n % 500}", "details": {"team": "blue"}},
        "userAgent": "bench-agent/1.0",
        "eventSource": "app.example.com",
        "eventName": ("SignIn", "ReadDocument", "UpdateDocument", "SignOut")[n % 4],
        "eventTime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "UID": uid,
        "requestParameters": {"document": f"doc-{n % 10_000}", "attempt": n % 3},
        "responseElements": {"result": "ok"},
        "sourceIPAddress": f"203.0.113.{n % 250}",
        "recipientAccountId": ACCOUNT,
    })


def worker(endpoint: str, channel: str, deadline: float, prefix: str, out: mp.Queue, threads: int):
    """One client process: `threads` threads, each with its own boto3 client, sending until `deadline`."""
    import threading

    results = []
    lock = threading.Lock()

    def run(thread: int):
        ct_data = client("cloudtrail-data", endpoint)
        latencies, n_events, n_bytes, n = [], 0, 0, 0
        while time.time() < deadline:
            entries = []
            for i in range(BATCH):
                uid = f"{prefix}-{thread}-{n}-{i}"
                entries.append({"id": f"e{i}", "eventData": event_data(uid, n * BATCH + i)})
            n += 1
            body_bytes = sum(len(e["eventData"]) for e in entries)
            started = time.perf_counter()
            answer = ct_data.put_audit_events(channelArn=channel, auditEvents=entries)
            latencies.append(time.perf_counter() - started)
            if answer["failed"]:
                raise RuntimeError(f"events failed: {answer['failed'][:2]}")
            n_events += len(answer["successful"])
            n_bytes += body_bytes
        with lock:
            results.append((latencies, n_events, n_bytes))

    pool = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    out.put(results)


def start_cairn(binary: str, data_dir: str) -> tuple[subprocess.Popen, str]:
    address_file = os.path.join(data_dir, "address")
    env = dict(os.environ, CAIRN_ACCOUNT_ID=ACCOUNT, CAIRN_ROOT_ACCESS_KEY_ID=ACCESS_KEY,
               CAIRN_ROOT_SECRET_ACCESS_KEY=SECRET_KEY, CAIRN_LOG="warn")
    proc = subprocess.Popen(
        [binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", os.path.join(data_dir, "data"),
         "--address-file", address_file, "--region", REGION],
        stdout=subprocess.DEVNULL, stderr=open(os.path.join(data_dir, "stderr.log"), "wb"), env=env)
    deadline = time.time() + 20
    while time.time() < deadline:
        if os.path.exists(address_file):
            address = open(address_file).read().strip()
            if address:
                endpoint = address if address.startswith("http") else f"http://{address}"
                try:
                    urllib.request.urlopen(f"{endpoint}/health", timeout=1).read()
                    return proc, endpoint
                except OSError:
                    pass
        time.sleep(0.02)
    proc.kill()
    raise RuntimeError("cairn did not start")


def lake_count(ct, store: str, prefix: str) -> int:
    query = ct.start_query(QueryStatement=f"SELECT COUNT(*) FROM {store} WHERE eventData.uid LIKE '{prefix}-%'")
    while True:
        described = ct.describe_query(QueryId=query["QueryId"])
        if described["QueryStatus"] not in ("QUEUED", "RUNNING"):
            break
        time.sleep(0.1)
    if described["QueryStatus"] != "FINISHED":
        raise RuntimeError(f"count query {described['QueryStatus']}: {described.get('ErrorMessage')}")
    rows = ct.get_query_results(QueryId=query["QueryId"])["QueryResultRows"]
    return int(next(iter(rows[0][0].values())))


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.999999) - 1))] if ordered else 0.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cairn", required=True, help="the cairn binary")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4, help="threads per client process")
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="cairn-bench-pae-")
    proc, endpoint = start_cairn(args.cairn, data_dir)
    try:
        ct = client("cloudtrail", endpoint)
        store_arn = ct.create_event_data_store(
            Name="bench-activity", MultiRegionEnabled=False, TerminationProtectionEnabled=False,
            AdvancedEventSelectors=[{"Name": "channel", "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["ActivityAuditLog"]}]}],
        )["EventDataStoreArn"]
        store = store_arn.rsplit("/", 1)[1]
        channel = ct.create_channel(Name="bench", Source="Custom",
                                    Destinations=[{"Type": "EVENT_DATA_STORE", "Location": store_arn}])["ChannelArn"]
        prefix = uuid.uuid4().hex[:8]
        queue: mp.Queue = mp.Queue()
        deadline = time.time() + args.seconds
        started = time.time()
        procs = [mp.Process(target=worker, args=(endpoint, channel, deadline, f"{prefix}-p{p}", queue, args.threads))
                 for p in range(args.processes)]
        for p in procs:
            p.start()
        results = [r for _ in procs for r in queue.get(timeout=args.seconds + 120)]
        for p in procs:
            p.join()
        elapsed = time.time() - started
        latencies = [x for r in results for x in r[0]]
        n_events = sum(r[1] for r in results)
        n_bytes = sum(r[2] for r in results)
        # The store must hold exactly the acknowledged events (visible within a second or so).
        deadline = time.time() + 30
        while (stored := lake_count(ct, store, prefix)) < n_events and time.time() < deadline:
            time.sleep(0.5)
        if stored != n_events:
            raise RuntimeError(f"{n_events} events acknowledged but the store holds {stored}")
        clients = args.processes * args.threads
        print(f"\nPutAuditEvents, {BATCH}-event batches, {clients} concurrent boto3 clients "
              f"({args.processes} processes × {args.threads} threads), {elapsed:.1f} s, "
              f"{platform.machine()} with {os.cpu_count()} cores shared by clients and server\n")
        print("| figure | value |\n| --- | ---: |")
        print(f"| events acknowledged (and found in the store by a Lake query) | {n_events} |")
        print(f"| events/s | {n_events / elapsed:,.0f} |")
        print(f"| calls/s | {len(latencies) / elapsed:,.1f} |")
        print(f"| eventData MB/s | {n_bytes / elapsed / 1e6:.2f} |")
        print(f"| call latency p50 / p99 / max (ms) | {percentile(latencies, 0.5) * 1e3:.1f} / "
              f"{percentile(latencies, 0.99) * 1e3:.1f} / {max(latencies) * 1e3:.1f} |")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
