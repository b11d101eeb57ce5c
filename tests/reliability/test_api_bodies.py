"""Hostile and broken API bodies (issue #6 item 4, the API half): XML entity bombs and external
entities, gigantic and gzip-bomb bodies, deeply nested JSON, wrong content types, invalid UTF-8.

Each is refused or handled with a clear ``last_error``; identifiers in other requests are
unharmed; memory stays bounded (measured in a child process, whose peak RSS is its own).
"""

from __future__ import annotations

import json
import logging
import re
import subprocess
import sys
import threading
import time
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import pipeline.http as http
from flows.steps import Writer, fetch_and_load
from pipeline.records import Identifier
from tests.reliability.conftest import ROOT, fast_settings, ledger, quality_failures

pytestmark = pytest.mark.timeout(120)

MB = 1024 * 1024


@pytest.fixture
def fresh(api, monkeypatch, sleeps):
    """The fake with clean stats, and a way to replace one source's answers."""
    api.clear_faults()
    api.reset_stats()
    return api


def replace_answers(monkeypatch, api, source: str, rewrite):
    """``rewrite(req, reply) -> reply`` for every answer of ``source`` (the fake's route output)."""
    handler = api.apis[source]
    original = handler.handle
    monkeypatch.setattr(handler, "handle", lambda req: rewrite(req, original(req)))


def fetch(client: str, ids, settings, *, writer=None, **client_kw):
    """fetch_and_load into a fresh in-memory warehouse; returns (ledger, writer)."""
    from warehouse.load import start_run

    writer = writer or Writer(":memory:")
    run_id = writer(start_run, "enrich", {})
    fetch_and_load(client, ids, settings=settings, writer=writer, run_id=run_id)
    return ledger(writer.con, client), writer


def pmids(catalog, n):
    return [Identifier("pmid", w.pmid) for w in list(catalog)[:n]]


@pytest.fixture
def one_pmid_per_efetch(monkeypatch):
    """PubMed groups of one identifier, so a poisoned efetch answer only covers its own id."""
    import flows.steps as steps
    from pipeline.sources.pubmed import PubMedClient

    real = steps.make_client
    monkeypatch.setattr(
        steps,
        "make_client",
        lambda source, settings, **kw: (
            PubMedClient(settings, efetch_batch=1)
            if source == "pubmed"
            else real(source, settings, **kw)
        ),
    )


# -- XML --------------------------------------------------------------------------------------

BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [\n <!ENTITY lol "lol">\n'
    + "".join(
        f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
        for i in range(1, 10)
    )
    + "]>\n<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>{pmid}</PMID>"
    "<Article><ArticleTitle>&lol9;</ArticleTitle></Article></MedlineCitation>"
    "</PubmedArticle></PubmedArticleSet>"
)
EXTERNAL_ENTITY = (
    '<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [\n'
    ' <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n'
    "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>{pmid}</PMID>"
    "<Article><ArticleTitle>&xxe;</ArticleTitle></Article></MedlineCitation>"
    "</PubmedArticle></PubmedArticleSet>"
)
EXTERNAL_DTD = (
    '<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet SYSTEM "{dtd}">\n'
    "<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>{pmid}</PMID>"
    "<Article><ArticleTitle>&ext;</ArticleTitle></Article></MedlineCitation>"
    "</PubmedArticle></PubmedArticleSet>"
)


@pytest.mark.parametrize(
    ("template", "says"),
    [(BILLION_LAUGHS, "declares XML entities"), (EXTERNAL_ENTITY, "declares XML entities")],
    ids=["billion-laughs", "external-entity"],
)
def test_efetch_entity_bodies_are_refused_and_other_ids_unharmed(
    fresh, catalog, monkeypatch, one_pmid_per_efetch, template, says
):
    ids = pmids(catalog, 3)
    poisoned = ids[1].value

    def rewrite(req, reply):
        if req.path.endswith("efetch.fcgi") and req.get("id") == poisoned:
            reply.body = template.replace("{pmid}", poisoned).encode()
        return reply

    replace_answers(monkeypatch, fresh, "eutils", rewrite)
    rows, writer = fetch("pubmed", ids, fast_settings(fresh))
    status, http_status, attempts, error = rows[ids[1]]
    assert status == "failed" and says in error and "efetch" in error
    assert {rows[i][0] for i in (ids[0], ids[2])} == {"ok"}
    stored = writer.con.execute(
        "select count(*) from raw_responses where body like '%ENTITY%' or body like '%root:%'"
    ).fetchone()[0]
    assert stored == 0, "a refused body is never stored (nor /etc/passwd)"
    assert quality_failures(writer.con) == {}


def test_an_external_dtd_is_never_fetched(fresh, catalog, monkeypatch, one_pmid_per_efetch):
    ids = pmids(catalog, 2)
    dtd = f"{fresh.url}/openalex/evil.dtd"  # any request to it shows in the fake's stats

    def rewrite(req, reply):
        if req.path.endswith("efetch.fcgi") and req.get("id") == ids[0].value:
            body = EXTERNAL_DTD.replace("{dtd}", dtd).replace("{pmid}", ids[0].value)
            reply.body = body.encode()
        return reply

    replace_answers(monkeypatch, fresh, "eutils", rewrite)
    rows, writer = fetch("pubmed", ids, fast_settings(fresh))
    assert fresh.stats["openalex"]["requests"] == 0, "the DTD was fetched"
    status, _, _, error = rows[ids[0]]
    # the undefined &ext; makes the body unparseable: refused, never resolved
    assert status == "failed" and "XML" in error
    assert rows[ids[1]][0] == "ok"


def test_check_xml_refuses_entities_instead_of_crashing():
    """pipeline.http.check_xml let defusedxml's EntitiesForbidden (not a ParseError) escape,
    which would have crashed the whole fetch instead of failing one request."""
    answer = http.HttpAnswer(200, "u", {}, "text/xml", BILLION_LAUGHS.replace("{pmid}", "1"), 1)
    with pytest.raises(http.TransientBody, match="entities"):
        http.check_xml(answer)


# -- size ---------------------------------------------------------------------------------------


def test_a_body_over_the_cap_fails_its_own_id_only(fresh, catalog, monkeypatch):
    """MAX_BODY_BYTES lowered to 256 KiB; one Crossref singleton answers 1 MiB."""
    monkeypatch.setattr(http, "MAX_BODY_BYTES", 256 * 1024)
    ids = [Identifier("doi", w.doi) for w in list(catalog)[:3]]  # < 4 DOIs: singletons
    big = ids[1].value

    def rewrite(req, reply):
        if big in req.path and reply.status == 200:
            msg = json.loads(reply.body)
            msg["message"]["abstract"] = "x" * MB
            reply.body = json.dumps(msg).encode()
        return reply

    replace_answers(monkeypatch, fresh, "crossref", rewrite)
    rows, writer = fetch("crossref", ids, fast_settings(fresh))
    status, http_status, attempts, error = rows[ids[1]]
    assert (status, http_status, attempts) == ("failed", 200, 1), "refused, not retried"
    assert "response body refused" in error and "262,144-byte cap" in error
    assert {rows[i][0] for i in (ids[0], ids[2])} == {"ok"}
    assert quality_failures(writer.con) == {}


class _Hostile(BaseHTTPRequestHandler):
    """Streams bodies generated on the fly, so the server never holds them."""

    protocol_version = "HTTP/1.1"
    piece = b'{"id":"W1","title":"' + b"x" * 65000 + b'"},'

    def log_message(self, *a):
        pass

    def handle(self):
        try:
            super().handle()
        except OSError:  # the client hung up mid-answer, as it should past the cap
            pass

    def do_GET(self):
        path, _, query = self.path.partition("?")
        size = int(query.split("mb=")[1]) * MB if "mb=" in query else MB
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        try:
            if path == "/drip":  # a byte every 50 ms, for ever (as far as a client can tell)
                self.send_header("Content-Length", str(size))
                self.end_headers()
                for _ in range(size):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.05)
            elif path == "/length":
                self.send_header("Content-Length", str(size))
                self.end_headers()
                self._stream(size, chunked=False)
            elif path == "/gzip":
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self._gzip(size)
            else:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self._stream(size, chunked=True)
        except OSError:  # the client hung up, as it should
            self.close_connection = True

    def _write(self, data: bytes, chunked: bool):
        if chunked:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        else:
            self.wfile.write(data)

    def _stream(self, size: int, chunked: bool):
        self._write(b'{"results":[', chunked)
        sent = 12
        while sent < size:
            piece = self.piece[: size - sent]
            self._write(piece, chunked)
            sent += len(piece)
        if chunked:
            self.wfile.write(b"0\r\n\r\n")

    def _gzip(self, size: int):
        z = zlib.compressobj(9, zlib.DEFLATED, 31)
        block = b" " * MB
        for _ in range(size // MB):
            out = z.compress(block)
            if out:
                self._write(out, True)
        self._write(z.flush(), True)
        self.wfile.write(b"0\r\n\r\n")


@pytest.fixture(scope="module")
def hostile():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# The child's peak RSS: /proc's VmHWM belongs to the process image, whereas getrusage's ru_maxrss
# survives execve and would start at the (much larger) pytest parent's peak.
_CHILD = r"""
import json, resource, sys


def peak_kb():
    try:
        with open("/proc/self/status") as f:
            return int(next(l for l in f if l.startswith("VmHWM:")).split()[1])
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


# without the cap this child would try to hold 1 GiB: let it die of MemoryError instead
resource.setrlimit(resource.RLIMIT_AS, (1024 * 1024 * 1024, resource.RLIM_INFINITY))
from pipeline.config import Settings
from pipeline.http import SourceHttp, ResponseTooLarge, MAX_BODY_BYTES
base, path, mb = sys.argv[1], sys.argv[2], sys.argv[3]
h = SourceHttp("openalex", Settings(max_attempts=1, read_timeout=20), rate=1000)
h.get(base + "/chunked", [("mb", "1")])  # warm up: imports, pools, one full 1 MB answer
before = peak_kb()
try:
    h.get(base + path, [("mb", mb)])
    result = "read"
except ResponseTooLarge as exc:
    result = str(exc)
after = peak_kb()
print(json.dumps({"cap": MAX_BODY_BYTES, "growth_kb": after - before, "result": result}))
"""

BODY_MB = 1024  # a 1 GiB answer: far past the cap, yet the server never holds it


@pytest.mark.parametrize(
    ("path", "says", "bound_mb"),
    [
        ("/length", "Content-Length 1,073,741,824 bytes is over", 16),  # refused unread
        ("/chunked", "stopped reading at", 64 + 32),  # the cap, plus a chunk and slack
        ("/gzip", "stopped reading at", 64 + 64),  # urllib3 may keep a decoded buffer too
    ],
    ids=["content-length", "chunked", "gzip-bomb"],
)
def test_a_1_gib_body_is_refused_with_memory_bounded(hostile, path, says, bound_mb):
    """A 1 GiB answer (declared, chunked, or gzip-compressed to ~1 MB) is refused at the default
    64 MiB cap; the child process's peak RSS grows by a bounded amount, whatever the body size."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, hostile, path, str(BODY_MB)],
        capture_output=True,
        text=True,
        timeout=90,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["cap"] == 64 * MB
    assert "response body refused" in out["result"] and says in out["result"]
    growth_mb = out["growth_kb"] / 1024
    print(f"{path}: {BODY_MB} MiB body refused; peak RSS growth {growth_mb:.1f} MB")
    assert growth_mb < bound_mb


def test_a_trickling_body_is_cut_at_the_body_deadline(hostile, sleeps):
    """The read timeout bounds each wait for a byte, not the answer: a server dripping a byte
    every 50 ms would have held the request for the whole megabyte (14 hours). The request's
    deadline (ENRICH_REQUEST_DEADLINE, which replaced the body-only MAX_BODY_SECONDS) cuts it,
    once: a trickle is not retried."""
    from pipeline.config import Settings

    h = http.SourceHttp(
        "openalex", Settings(max_attempts=2, read_timeout=5), rate=1000, deadline=0.5
    )
    started = time.monotonic()
    with pytest.raises(http.DeadlineExceeded, match="body still arriving at the 0.5 s request"):
        h.get(hostile + "/drip", [("mb", "1")])
    assert time.monotonic() - started < 5
    assert h.requests_made == 1
    assert Settings().request_deadline == 120


def test_a_redirect_loop_fails_its_ids_instead_of_crashing(fresh, catalog, monkeypatch):
    """requests raises TooManyRedirects (neither a ConnectionError nor a Timeout), which used to
    escape the HTTP layer and take the whole fetch down."""
    ids = [Identifier("doi", w.doi) for w in list(catalog)[:2]]

    def rewrite(req, reply):
        from demo.fakeapi.reply import Reply

        return Reply(301, b"", "text/plain", {"Location": req.base + req.raw_path})

    replace_answers(monkeypatch, fresh, "openalex", rewrite)
    rows, writer = fetch("openalex", ids, fast_settings(fresh))
    assert {r[0] for r in rows.values()} == {"failed"}
    assert all("redirect loop" in r[3] for r in rows.values())
    assert quality_failures(writer.con) == {}


# -- JSON ---------------------------------------------------------------------------------------


def test_deeply_nested_json_fails_its_ids_instead_of_crashing(fresh, catalog, monkeypatch):
    """``[[[[...]]]]`` 100,000 deep raised RecursionError out of json.loads (not a ValueError),
    which escaped every check and took the whole run down."""
    work = list(catalog)[0]
    ids = [Identifier("doi", work.doi), Identifier("pmid", list(catalog)[1].pmid)]
    target = ids[0].value

    def rewrite(req, reply):  # the DOI's filter list (one list per scheme) and its singleton
        if target in req.path or target in (req.get("filter") or ""):
            reply.body = b"[" * 100_000 + b"]" * 100_000
        return reply

    replace_answers(monkeypatch, fresh, "openalex", rewrite)
    rows, writer = fetch("openalex", ids, fast_settings(fresh))
    status, _, _, error = rows[ids[0]]
    assert status == "failed" and "nested too deeply" in error
    assert rows[ids[1]][0] == "ok"


def test_deeply_nested_json_from_ncbi_is_refused(fresh, catalog, monkeypatch):
    ids = [Identifier("pmcid", w.pmcid) for w in catalog if w.pmcid][:2]

    def rewrite(req, reply):
        reply.body = b"[" * 100_000 + b"]" * 100_000
        return reply

    replace_answers(monkeypatch, fresh, "idconv", rewrite)
    rows, _ = fetch("pubmed", ids, fast_settings(fresh))
    assert {r[0] for r in rows.values()} == {"failed"}
    assert all("nested too deeply" in r[3] for r in rows.values())


def test_json_labelled_text_html_is_read_as_json(fresh, catalog, monkeypatch):
    """A misconfigured gateway labels a JSON answer text/html: the body decides, not the label
    (it used to be retried as an "HTML page" and end failed)."""
    ids = [Identifier("doi", w.doi) for w in list(catalog)[:2]]

    def rewrite(req, reply):
        reply.content_type = "text/html; charset=utf-8"
        return reply

    replace_answers(monkeypatch, fresh, "openalex", rewrite)
    rows, writer = fetch("openalex", ids, fast_settings(fresh))
    assert {r[0] for r in rows.values()} == {"ok"}
    titles = {r[0] for r in writer.con.execute("select title from source_records").fetchall()}
    assert {w.plain_title for w in list(catalog)[:2]} <= titles


def test_xml_labelled_text_plain_is_read(fresh, catalog, monkeypatch):
    ids = pmids(catalog, 2)

    def rewrite(req, reply):
        if req.path.endswith("efetch.fcgi"):
            reply.content_type = "text/plain"
        return reply

    replace_answers(monkeypatch, fresh, "eutils", rewrite)
    rows, _ = fetch("pubmed", ids, fast_settings(fresh))
    assert {r[0] for r in rows.values()} == {"ok"}


def test_json_where_xml_is_expected_fails_with_a_clear_error(fresh, catalog, monkeypatch):
    ids = pmids(catalog, 2)

    def rewrite(req, reply):
        if req.path.endswith("efetch.fcgi"):
            reply.body, reply.content_type = b'{"result": "not xml"}', "application/json"
        return reply

    replace_answers(monkeypatch, fresh, "eutils", rewrite)
    rows, _ = fetch("pubmed", ids, fast_settings(fresh))
    assert {r[0] for r in rows.values()} == {"failed"}
    assert all("efetch: unparseable XML" in r[3] for r in rows.values())


def test_html_is_still_html_whatever_its_label():
    page = "<!DOCTYPE html><html><body>down</body></html>"
    for ctype in ("application/json", "text/html", ""):
        assert http.looks_like_html(http.HttpAnswer(200, "u", {}, ctype, page, 1))
    assert not http.looks_like_html(http.HttpAnswer(200, "u", {}, "text/html", '{"a": 1}', 1))


def test_invalid_utf8_is_replaced_loaded_and_reported(fresh, catalog, monkeypatch, caplog):
    ids = [Identifier("doi", w.doi) for w in list(catalog)[:2]]  # Crossref singletons
    target = ids[0].value
    bad = b"\xff\xfe\xc3("  # two invalid bytes, then an invalid 2-byte sequence

    def rewrite(req, reply):
        if target in req.path and reply.status == 200:
            reply.body = reply.body.replace(b'"title":["', b'"title":["' + bad, 1)
        return reply

    replace_answers(monkeypatch, fresh, "crossref", rewrite)
    with caplog.at_level(logging.WARNING, logger="pipeline.http"):
        rows, writer = fetch("crossref", ids, fast_settings(fresh))
    assert {r[0] for r in rows.values()} == {"ok"}
    assert any("not valid UTF-8 (3 invalid sequences" in r.getMessage() for r in caplog.records)
    title = writer.con.execute(
        "select title from source_records where source = 'crossref' and raw_id in "
        "(select raw_id from raw_responses where request_url like ?)",
        [f"%{target}%"],
    ).fetchone()[0]
    assert title.startswith("\ufffd") and re.search(r"\w{4}", title)


def test_a_lone_surrogate_escape_does_not_take_the_run_down(fresh, catalog, monkeypatch):
    ids = [Identifier("doi", w.doi) for w in list(catalog)[:2]]
    target = ids[0].value

    def rewrite(req, reply):
        if target in req.path and reply.status == 200:
            reply.body = reply.body.replace(b'"title":["', b'"title":["\\ud800 ', 1)
        return reply

    replace_answers(monkeypatch, fresh, "crossref", rewrite)
    rows, _ = fetch("crossref", ids, fast_settings(fresh))
    assert rows[ids[1]][0] == "ok"


# -- broken HTTP on the wire ----------------------------------------------------------------------

WIRE = {
    "200-headers": b"HTTP/1.1 200 OK\r\n"
    + b"".join(b"X-H%d: v\r\n" % i for i in range(200))
    + b"Content-Length: 2\r\n\r\n{}",
    "70kB-header-line": b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 70000 + b"\r\n\r\n{}",
    "garbage-status-line": b"HTTX/9 abc\r\n\r\n{}",
    "bad-chunk-size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    "gzip-that-is-not": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nabcde",
}


@pytest.fixture(scope="module")
def wire():
    """A raw socket server answering GET /<name> with WIRE[name], then closing."""
    import socket

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    stop = threading.Event()

    def run():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            with conn:
                name = conn.recv(65536).split(b" ", 2)[1].decode().strip("/")
                conn.sendall(WIRE[name])

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}"
    stop.set()
    thread.join(timeout=2)
    srv.close()


@pytest.mark.parametrize("name", sorted(WIRE))
def test_broken_http_is_a_retried_fault_never_a_crash(wire, name, sleeps):
    from pipeline.config import Settings
    from pipeline.errors import RetriesExhausted

    h = http.SourceHttp("openalex", Settings(max_attempts=2, read_timeout=2), rate=1000)
    with pytest.raises(RetriesExhausted, match="after 2 attempts"):
        h.get(f"{wire}/{name}", check=http.check_json)
    assert h.requests_made == 2
