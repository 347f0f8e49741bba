"""An import under SIGKILL (issue 6 acceptance): the server is killed at a random moment while it imports log files
from an embedded bucket, then restarted on the same data directory. The import must resume by itself and complete
with the exact number of events, and the store must hold every event exactly once: a batch whose segment was
committed just before the kill is not written again, and one that was not is.

`CAIRN_SLOW=1`: 10 rounds; otherwise 3. `CAIRN_IMPORT_CRASH_SEED` replays a run; the seed is printed and is in every
failure message. Loopback only.
"""

from __future__ import annotations

import os
import random
import time

import pytest

from helpers import ROOT_ENV, SESSION_CONFIG, CairnServer, create_bucket
from test_imports import make_store, many_files, start, upload, wait
from test_put_audit_events_crash import all_rows

SLOW = os.environ.get("CAIRN_SLOW") == "1"
ROUNDS = 10 if SLOW else 3
FILES, PER_FILE = 400, 250


@pytest.mark.timeout(900 if SLOW else 300)
def test_an_import_killed_midway_completes_with_every_event_once(tmp_path):
    seed = int(os.environ.get("CAIRN_IMPORT_CRASH_SEED") or random.randrange(1 << 32))
    print(f"CAIRN_IMPORT_CRASH_SEED={seed}")
    rng = random.Random(seed)
    server = CairnServer(tmp_path, config=SESSION_CONFIG, env=ROOT_ENV)
    server.start()
    try:
        ct, s3 = server.ct(), server.s3()
        bucket = create_bucket(s3)
        blobs, ids = many_files(FILES, PER_FILE, f"crash-{seed}")
        upload(s3, bucket, blobs)
        kills_midway = 0
        for round_ in range(ROUNDS):
            ct = server.ct()
            store = make_store(ct)
            began = time.time()
            import_id = start(ct, store, bucket)
            # Kill once some batches are in, at a random point of the rest.
            deadline = time.time() + 60
            while ct.get_import(ImportId=import_id)["ImportStatistics"]["EventsCompleted"] == 0:
                assert time.time() < deadline, f"seed {seed}: no progress"
                time.sleep(0.01)
            time.sleep(rng.uniform(0, 0.5))
            server.kill9()
            server.start()
            ct = server.ct()
            before = ct.get_import(ImportId=import_id)
            if before["ImportStatus"] in ("INITIALIZING", "IN_PROGRESS"):
                kills_midway += 1
            done = wait(ct, import_id)
            print(f"round {round_}: {time.time() - began:.1f} s, status after the restart {before['ImportStatus']}, "
                  f"{before['ImportStatistics']['EventsCompleted']} events in")
            context = f"seed {seed}, round {round_}: {done}"
            assert done["ImportStatus"] == "COMPLETED", context
            assert done["ImportStatistics"]["EventsCompleted"] == len(ids), context
            assert done["ImportStatistics"]["FilesCompleted"] == FILES, context
            assert done["ImportStatistics"]["FailedEntries"] == 0, context
            table = store.rsplit("/", 1)[1]
            counts = all_rows(ct, f"SELECT COUNT(*), COUNT(DISTINCT eventID) FROM {table}")
            assert counts == [[str(len(ids)), str(len(ids))]], context
        assert kills_midway > 0, f"seed {seed}: every import had finished before its kill"
    finally:
        server.close()
