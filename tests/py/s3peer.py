"""An external S3-compatible endpoint for the delivery tests: moto's S3 server in a subprocess, behind
a TCP proxy that can be stopped and started again on the same port to simulate an outage.

    peer = S3Peer(bucket="archive")     # moto on a free port, the bucket, the proxy in front
    peer.endpoint                       # http://127.0.0.1:<proxy port>: cairn's [[s3_buckets]] endpoint
    peer.config_block()                 # that [[s3_buckets]] TOML block
    peer.get_object(key)                # (body, metadata, content type), read from moto directly
    peer.proxy.stop()                   # outage: the port refuses connections, open ones are cut
    peer.proxy.start()                  # back, on the same port
    peer.stop_all()                     # proxy and moto gone (also on leaving a `with` block)

moto accepts any credentials; cairn may sign with the config's keys or its placeholder ones.
moto stores user metadata names lower-case, as AWS S3 does: GetObject and HeadObject answer
`x-amz-meta-signature` even for an object put with `x-amz-meta-Signature`, so a test cannot see
through moto which case cairn sent (cairn's own unit tests check that on the wire).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

LOCALHOST = "127.0.0.1"
# moto takes any key; these only have to be well-formed.
ACCESS_KEY = "testing"
SECRET_KEY = "testing"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOCALHOST, 0))
        return s.getsockname()[1]


def _close(sock: socket.socket, reset: bool = False) -> None:
    """Closes a socket, with a TCP reset instead of an orderly FIN if `reset`."""
    with contextlib.suppress(OSError):
        if reset:
            # SO_LINGER on with a zero timeout: close() sends RST, as a crashed server would.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    with contextlib.suppress(OSError):
        sock.close()


class TcpProxy:
    """Forwards every connection on 127.0.0.1:`port` to `target`, one thread per direction.

    `stop()` closes the listener and cuts every open connection, so clients get connection refused
    (new connections) or a reset (open ones) until `start()` listens again on the same port.
    """

    def __init__(self, target: tuple[str, int], port: int = 0):
        self.target = target
        self.port = port
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._running = False
        self._sockets: set[socket.socket] = set()
        self.connections = 0  # accepted since creation, for tests that want to see traffic

    @property
    def url(self) -> str:
        return f"http://{LOCALHOST}:{self.port}"

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> "TcpProxy":
        """Listens (again) on the proxy's port; the first start picks a free port if none was given."""
        if self._running:
            return self
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Rebinding right after stop() must work although cut connections sit in TIME_WAIT.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        deadline = time.monotonic() + 10
        while True:
            try:
                listener.bind((LOCALHOST, self.port))
                break
            except OSError:
                if time.monotonic() > deadline:
                    listener.close()
                    raise
                time.sleep(0.05)
        listener.listen(128)
        # accept() wakes up now and then to see whether stop() was called.
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._running = True
        self._accept_thread = threading.Thread(target=self._accept_loop, args=(listener,), daemon=True)
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        """Closes the listener and every open connection; returns once the port refuses."""
        if not self._running:
            return
        self._running = False
        if self._accept_thread is not None:
            self._accept_thread.join()
            self._accept_thread = None
        if self._listener is not None:
            _close(self._listener)
            self._listener = None
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            _close(sock, reset=True)

    def _accept_loop(self, listener: socket.socket) -> None:
        while self._running:
            try:
                client, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            client.settimeout(None)
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client, reset=True)
                continue
            with self._lock:
                if not self._running:
                    _close(client, reset=True)
                    _close(upstream)
                    return
                self._sockets.update((client, upstream))
                self.connections += 1
            done = threading.Barrier(2, action=lambda c=client, u=upstream: self._forget(c, u))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst, done), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, done: threading.Barrier) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    # Pass the half-close on: the other side may still be answering.
                    with contextlib.suppress(OSError):
                        dst.shutdown(socket.SHUT_WR)
                    break
                dst.sendall(data)
        except OSError:
            # One side failed: the connection is over in both directions.
            for sock in (src, dst):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(threading.BrokenBarrierError):
            done.wait()

    def _forget(self, client: socket.socket, upstream: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(client)
            self._sockets.discard(upstream)
        _close(client)
        _close(upstream)


class MotoServer:
    """`moto_server` (moto's standalone server) on a free 127.0.0.1 port, in a subprocess."""

    def __init__(self, log_dir: str | os.PathLike | None = None):
        self.port = free_port()
        self.url = f"http://{LOCALHOST}:{self.port}"
        self._log_dir = Path(log_dir or tempfile.mkdtemp(prefix="moto-"))
        self.log_path = self._log_dir / f"moto-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> "MotoServer":
        log = open(self.log_path, "wb")
        env = dict(os.environ, MOTO_PORT=str(self.port))
        # `python -m moto.server` is what the `moto_server` script runs; this way no PATH lookup.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", LOCALHOST, "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.proc.returncode}: {self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/moto-api/", timeout=2):
                    return self
            except urllib.error.HTTPError:
                return self  # any HTTP answer means it serves
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"moto_server did not answer on {self.url}: {self.log_tail()}")
                time.sleep(0.1)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def log_tail(self, n: int = 2000) -> str:
        try:
            return self.log_path.read_bytes()[-n:].decode(errors="replace")
        except OSError:
            return ""


class S3Peer:
    """moto's S3 with `bucket` created, reached by cairn through a stoppable proxy."""

    def __init__(self, bucket: str = "archive", region: str = "us-east-1", log_dir=None):
        self.bucket = bucket
        self.region = region
        self.moto = MotoServer(log_dir)
        self.proxy: TcpProxy | None = None
        # A test run that ends without cleaning up must not leave moto running.
        atexit.register(self.stop_all)
        try:
            self.moto.start()
            self.s3().create_bucket(Bucket=bucket, **self._location())
            self.proxy = TcpProxy((LOCALHOST, self.moto.port)).start()
        except BaseException:
            self.stop_all()
            raise

    def _location(self) -> dict:
        if self.region == "us-east-1":
            return {}
        return {"CreateBucketConfiguration": {"LocationConstraint": self.region}}

    def __enter__(self) -> "S3Peer":
        return self

    def __exit__(self, *exc) -> None:
        self.stop_all()

    @property
    def endpoint(self) -> str:
        """Where cairn delivers: the proxy."""
        assert self.proxy is not None
        return self.proxy.url

    def config_block(self, name: str | None = None, credentials: bool = True) -> str:
        """The `[[s3_buckets]]` block of cairn's config for this bucket (path style)."""
        lines = [
            "[[s3_buckets]]",
            f'name = "{name or self.bucket}"',
            f'endpoint = "{self.endpoint}"',
            f'region = "{self.region}"',
            "path_style = true",
        ]
        if credentials:
            lines += [f'access_key_id = "{ACCESS_KEY}"', f'secret_access_key = "{SECRET_KEY}"']
        return "\n".join(lines) + "\n"

    def s3(self):
        """A boto3 S3 client talking to moto directly (not through the proxy)."""
        return boto3.client(
            "s3",
            endpoint_url=self.moto.url,
            region_name=self.region,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
        )

    def keys(self, prefix: str = "") -> list[str]:
        """Every key under `prefix`, in S3's order."""
        out: list[str] = []
        for page in self.s3().get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            out += [o["Key"] for o in page.get("Contents", [])]
        return out

    def get_object(self, key: str) -> tuple[bytes, dict, str | None]:
        """(body, user metadata as boto3 returns it, content type) of one object."""
        r = self.s3().get_object(Bucket=self.bucket, Key=key)
        return r["Body"].read(), r.get("Metadata", {}), r.get("ContentType")

    def wait_for_keys(self, prefix: str = "", count: int = 1, timeout: float = 30) -> list[str]:
        """Polls until at least `count` keys exist under `prefix`; returns them."""
        deadline = time.monotonic() + timeout
        while True:
            keys = self.keys(prefix)
            if len(keys) >= count or time.monotonic() > deadline:
                return keys
            time.sleep(0.2)

    def stop_all(self) -> None:
        """Stops the proxy and moto; safe to call twice."""
        if self.proxy is not None:
            self.proxy.stop()
        self.moto.stop()
        atexit.unregister(self.stop_all)
