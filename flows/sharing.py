"""Queries from other processes while a run or refresh holds the warehouse.

DuckDB lets one process open a file, even read-only, while another holds it read-write, so
``enrich sql`` beside a long run used to wait for the run's end. The process that holds the
file answers instead: while a flow's Writer is open it listens on a Unix socket (in a private
folder of the user's runtime or temp directory, named after the warehouse's real path), and
``enrich sql`` / ``status`` / ``export`` that find the file busy send their request there. The
query runs on its own cursor of the run's connection: DuckDB's MVCC gives it the state of the
last committed load, never half of one, and the answer says which ("as of load N, HH:MM:SS").

Chosen by measurement (bench readers, 100,000 works): releasing the file between loads costs
each load a reopen and a checkpoint, and publishing a snapshot after each commit copies the whole
file; this costs the run nothing until someone asks. Only reading statements are served (SELECT,
EXPLAIN: not even PRAGMA, which could change the run's own settings).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("flows.sharing")

SERVED_STATEMENTS = frozenset({"SELECT", "EXPLAIN"})
CONNECT_TIMEOUT = 2.0  # seconds a client waits to be accepted
MAX_REQUEST = 1 << 20  # bytes: a request is one JSON line (a query and a few options)
ACCEPT_POLL = 0.2  # seconds between looks at whether the run is over
REQUEST_TIMEOUT = 30.0  # seconds an asker may take to send its request


class NoRunAnswers(Exception):
    """No live run serves this warehouse (no socket, or nobody listening on it)."""


SOCKET_PATH_MAX = 107  # bytes of a Unix socket's path on Linux (sun_path's 108, NUL included)


def socket_path(db_path: str | Path) -> Path:
    """Where the process holding ``db_path`` listens: short (a Unix socket path is limited to
    ~107 bytes) and private (a folder only this user can enter)."""
    key = hashlib.sha256(str(Path(db_path).resolve()).encode()).hexdigest()[:20]
    bases = [os.environ.get("XDG_RUNTIME_DIR"), tempfile.gettempdir(), "/tmp"]
    paths = [Path(base) / f"enrich-{os.getuid()}" / f"{key}.sock" for base in bases if base]
    # a deep runtime or temporary folder would make bind() fail: the first that fits
    return next((p for p in paths if len(os.fsencode(p)) < SOCKET_PATH_MAX), paths[-1])


@contextmanager
def serve_readers(writer: Any) -> Iterator[None]:
    """Answer other processes' read-only requests about ``writer``'s warehouse for the block."""
    if str(writer.db_path) == ":memory:":
        yield
        return
    path = socket_path(writer.db_path)
    try:
        _private_folder(path.parent)
        path.unlink(missing_ok=True)  # left by a killed run: we hold the file's lock now
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(path))
        server.listen(8)
        # accept() is not woken by close() from another thread on Linux: poll, so the run's end
        # never waits for it
        server.settimeout(ACCEPT_POLL)
    except OSError as exc:  # readers then wait for the lock, as before: never fail the run
        log.warning("cannot answer queries during this run (%s): %s", path, exc)
        yield
        return
    stopping = threading.Event()
    thread = threading.Thread(
        target=_accept, args=(server, writer, stopping), name="readers", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stopping.set()
        server.close()
        path.unlink(missing_ok=True)
        thread.join(timeout=1)


def _private_folder(folder: Path) -> None:
    """Create ``folder`` for this user alone; refuse one someone else could enter or own (in a
    shared /tmp another user could create it first and read the queries)."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise PermissionError(f"{folder} is not private to this user")


def _accept(server: socket.socket, writer: Any, stopping: threading.Event) -> None:
    while not stopping.is_set():
        try:
            conn, _ = server.accept()
        except TimeoutError:
            continue
        except OSError:  # closed: the run is over
            return
        conn.settimeout(REQUEST_TIMEOUT)
        threading.Thread(target=_answer, args=(conn, writer), daemon=True).start()


def _answer(conn: socket.socket, writer: Any) -> None:
    with conn:
        try:
            request = json.loads(_read_line(conn))
            reply = {"ok": True, **_run(request, writer)}
        except Exception as exc:  # every failure goes back to the asker as one line
            reply = {"ok": False, "kind": type(exc).__name__, "error": _one_line(exc)}
        try:
            conn.sendall(json.dumps(reply).encode() + b"\n")
        except OSError:
            pass  # the asker gave up


def _run(request: dict, writer: Any) -> dict:
    from flows.exports import export_with, summary_json
    from pipeline.terminal import printable
    from warehouse.query import format_result, format_status, run_sql, status_report

    cur, as_of = writer.reader()
    try:
        verb = request.get("verb")
        if verb == "sql":
            result = run_sql(cur, request["query"], allowed=SERVED_STATEMENTS)
            out = format_result(result, request.get("format", "table"), escape=printable)
        elif verb == "status":
            out = format_status(status_report(cur), escape=printable)
        elif verb == "export":
            summary = export_with(
                cur,
                request["directory"],
                request.get("format", "parquet"),
                seed=request.get("seed"),
                query=request.get("sql"),
            )
            out = summary_json(summary)
        else:
            raise ValueError(f"unknown request {verb!r}")
    finally:
        cur.close()
    return {"out": out, **as_of}


def ask(db_path: str | Path, request: dict, *, timeout: float | None = None) -> dict:
    """Send ``request`` to the process holding ``db_path``; its reply (``out``, ``load``,
    ``committed_at``, ``run_id``). Raises NoRunAnswers when nobody serves that warehouse, and
    RunRefused (carrying the server's one-line error) when the request failed there."""
    path = socket_path(db_path)
    if not path.exists():
        raise NoRunAnswers(str(path))
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.settimeout(CONNECT_TIMEOUT)
    try:
        client.connect(str(path))
    except OSError:
        client.close()
        raise NoRunAnswers(str(path)) from None
    with client:
        client.settimeout(timeout)
        client.sendall(json.dumps(request).encode() + b"\n")
        reply = json.loads(_read_all(client) or b'{"ok": false, "error": "no answer"}')
    if not reply.get("ok"):
        raise RunRefused(reply.get("kind", ""), reply.get("error", "failed"))
    return reply


class RunRefused(Exception):
    """The run answering a request reported an error (a bad query, a refused write)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def as_of_line(reply: dict) -> str:
    """``answered by run R (which holds the warehouse), as of load N, 12:03:05``."""
    at = datetime.fromisoformat(reply["committed_at"]).astimezone().strftime("%H:%M:%S")
    return (
        f"answered by run {reply.get('run_id') or '?'}, which holds the warehouse: data as of "
        f"load {reply['load']}, {at}"
    )


def _read_line(conn: socket.socket) -> bytes:
    data = b""
    while not data.endswith(b"\n"):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
        if len(data) > MAX_REQUEST:
            raise ValueError("request too large")
    return data


def _read_all(conn: socket.socket) -> bytes:
    parts = []
    while chunk := conn.recv(1 << 20):
        parts.append(chunk)
    return b"".join(parts)


def _one_line(exc: Exception) -> str:
    lines = [ln.strip() for ln in str(exc).splitlines() if ln.strip()]
    return lines[0] if lines else type(exc).__name__
