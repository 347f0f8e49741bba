"""PutAuditEvents under SIGKILL (issue 6 acceptance): client threads send batches of channel events while the server
is killed at a random moment, then restarted on the same data directory. Each event carries a unique `UID`. After
the rounds, every batch that was not answered is sent again (a client's retry), and the channel's store must hold
every event exactly once: nothing acknowledged is lost, and neither the replay after the crash nor the retries store
anything twice.

`CAIRN_SLOW=1`: 10 rounds; otherwise 3. `CAIRN_AUDIT_CRASH_SEED` replays a run; the seed is printed and is in every
failure message. Loopback only.
"""

from __future__ import annotations

import json
import os
import random
import threading
import time

from botocore.exceptions import BotoCoreError, ClientError

from helpers import ROOT_ENV, SESSION_CONFIG, CairnServer, unique
from test_put_audit_events import ACTIVITY_SELECTORS, entry, event_data, run, values

SLOW = os.environ.get("CAIRN_SLOW") == "1"
ROUNDS = 10 if SLOW else 3
THREADS = 4
BATCH = 25


def all_rows(ct, statement: str) -> list[list[str]]:
    """Every page of a query's results (GetQueryResults gives 1,000 rows a page)."""
    query_id = ct.start_query(QueryStatement=statement)["QueryId"]
    deadline = time.time() + 60
    while (status := ct.describe_query(QueryId=query_id)["QueryStatus"]) in ("QUEUED", "RUNNING"):
        assert time.time() < deadline, f"query {query_id} still {status}"
        time.sleep(0.05)
    assert status == "FINISHED", status
    rows, token = [], None
    while True:
        page = ct.get_query_results(QueryId=query_id, **({"NextToken": token} if token else {}))
        rows.extend(values(page["QueryResultRows"]))
        token = page.get("NextToken")
        if not token:
            return rows


def test_every_acknowledged_event_is_stored_once_across_kills(tmp_path):
    seed = int(os.environ.get("CAIRN_AUDIT_CRASH_SEED") or random.randrange(1 << 32))
    print(f"CAIRN_AUDIT_CRASH_SEED={seed}")
    rng = random.Random(seed)
    server = CairnServer(tmp_path, config=SESSION_CONFIG, env=ROOT_ENV)
    server.start()
    try:
        ct = server.ct()
        store_arn = ct.create_event_data_store(
            Name=unique("crash"), AdvancedEventSelectors=ACTIVITY_SELECTORS, MultiRegionEnabled=False,
            TerminationProtectionEnabled=False,
        )["EventDataStoreArn"]
        store = store_arn.rsplit("/", 1)[1]
        channel = ct.create_channel(Name=unique("ch"), Source="Custom",
                                    Destinations=[{"Type": "EVENT_DATA_STORE", "Location": store_arn}])["ChannelArn"]
        acknowledged: dict[str, str] = {}  # UID -> eventID
        unanswered: list[list[dict]] = []
        lock = threading.Lock()

        for round_ in range(ROUNDS):
            stop = threading.Event()

            def send_batches(thread: int):
                # The suite's clients try once: a call cut by the kill fails, and the test retries it itself.
                client = server.client("cloudtrail-data")
                n = 0
                while not stop.is_set():
                    batch = [entry(f"r{round_}-t{thread}-{n}-{i}", event_data(f"s{seed}-r{round_}-t{thread}-{n}-{i}"))
                             for i in range(BATCH)]
                    n += 1
                    try:
                        answer = client.put_audit_events(channelArn=channel, auditEvents=batch)
                    except (BotoCoreError, ClientError, OSError):
                        with lock:
                            unanswered.append(batch)
                        return
                    assert not answer["failed"], f"seed {seed}: {answer['failed'][:3]}"
                    with lock:
                        for sent, ok in zip(batch, answer["successful"]):
                            assert sent["id"] == ok["id"], f"seed {seed}: answers out of order"
                            acknowledged[json.loads(sent["eventData"])["UID"]] = ok["eventID"]

            threads = [threading.Thread(target=send_batches, args=(t,)) for t in range(THREADS)]
            for thread in threads:
                thread.start()
            time.sleep(rng.uniform(0.2, 1.2))
            server.kill9()
            stop.set()
            for thread in threads:
                thread.join(timeout=30)
            server.start()

        print(f"{len(acknowledged)} events acknowledged, {len(unanswered)} batches cut off by the kills")
        # The clients' retries of whatever was cut off.
        client = server.client("cloudtrail-data")
        for batch in unanswered:
            answer = client.put_audit_events(channelArn=channel, auditEvents=batch)
            assert not answer["failed"], f"seed {seed}: {answer['failed'][:3]}"
            for sent, ok in zip(batch, answer["successful"]):
                acknowledged[json.loads(sent["eventData"])["UID"]] = ok["eventID"]

        ct = server.ct()  # the restarted server listens on a new port
        assert len(acknowledged) >= THREADS * BATCH, f"seed {seed}: only {len(acknowledged)} events acknowledged"
        expected = len(acknowledged)
        prefix = f"s{seed}-"
        deadline = time.time() + 10
        while True:
            (count,) = values(run(ct, f"SELECT COUNT(*) FROM {store} WHERE eventData.uid LIKE '{prefix}%'"))[0]
            if int(count) >= expected or time.time() > deadline:
                break
            time.sleep(0.1)
        rows = all_rows(ct, f"SELECT eventData.uid, eventID, COUNT(*) FROM {store} "
                            f"WHERE eventData.uid LIKE '{prefix}%' GROUP BY eventData.uid, eventID")
        stored = {uid: event_id for uid, event_id, _ in rows}
        twice = [uid for uid, _, n in rows if int(n) > 1]
        assert not twice, f"seed {seed}: {len(twice)} events stored more than once, e.g. {twice[:3]}"
        assert len(rows) == len(stored), f"seed {seed}: an event stored under two eventIDs"
        missing = sorted(set(acknowledged) - set(stored))
        assert not missing, f"seed {seed}: {len(missing)} acknowledged events lost, e.g. {missing[:3]}"
        assert set(stored) == set(acknowledged), f"seed {seed}: events nobody sent"
        wrong = [uid for uid, event_id in acknowledged.items() if stored[uid] != event_id]
        assert not wrong, f"seed {seed}: eventIDs differ from the acknowledged ones, e.g. {wrong[:3]}"
    finally:
        server.close()
