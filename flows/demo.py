"""``enrich demo``: the whole pipeline offline, in under a minute.

It starts the bundled fake of the three APIs (:mod:`demo.fakeapi`) on 127.0.0.1 inside this
process, with the real APIs' rate limits and the records of the seed documents' works plus
``works`` generated ones (real-shaped OpenAlex, Crossref and PubMed answers), writes a reading
list naming the generated works, runs the real ``enrich run`` (a child process, the same command
a user types) on the seeds and that list into a warehouse of its own, then prints ``enrich
status`` and a sample query. The user's warehouse, keys and the real APIs are never touched.
"""

from __future__ import annotations

import gc
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

DEMO_DB = "demo.duckdb"
READING_LIST = "reading-list.md"
GENERATED_SEED = 7  # the generated catalog is the same on every machine
LATENCY = 0.03  # seconds added to every fake answer, about what a real API takes on a good day
# Never sent to the fake: a key is for its own API only.
SECRETS = ("OPENALEX_API_KEY", "NCBI_API_KEY")
SAMPLE_QUERY = (
    "select rank, cited_by_count, publication_year as year, left(title, 60) as title "
    "from most_cited order by rank limit 8"
)
_TAG = re.compile(r"<[^>]+>")


def reading_list(works: Sequence, path: Path) -> int:
    """Write a Markdown reading list citing ``works`` as people do (authors, title, venue,
    year, then a DOI link; a PMID for every fifth, or when there is no DOI); returns how many
    it cites."""
    lines, cited = ["# Reading list (generated for the demo)", ""], 0
    for i, w in enumerate(works):
        authors = ", ".join(f"{a.family} {a.given[:1]}" for a in w.authors[:3])
        authors += " et al." if len(w.authors) > 3 else ""
        title = _TAG.sub("", w.title)
        if w.pmid and (i % 5 == 0 or not w.doi):
            ident = f"PMID: {w.pmid}"
        elif w.doi:
            ident = f"https://doi.org/{w.doi}"
        else:
            continue
        lines += [f"{cited + 1}. {authors}. {title}. *{w.venue}* {w.year}. {ident}", ""]
        cited += 1
    path.write_text("\n".join(lines), encoding="utf-8")
    return cited


def run_demo(directory: Path, *, seeds: Path, works: int) -> int:
    """Run the demo into ``directory`` (its warehouse is made anew); the run's exit code."""
    from demo.fakeapi import Catalog, FakeApi, generate_catalog, seed_catalog

    started = time.monotonic()
    directory.mkdir(parents=True, exist_ok=True)
    db = directory / DEMO_DB
    for old in (db, db.with_name(db.name + ".wal")):
        old.unlink(missing_ok=True)
    generated = generate_catalog(works, seed=GENERATED_SEED).works
    listed = reading_list(generated, directory / READING_LIST)
    paths = [str(directory / READING_LIST)]
    if seeds.is_dir():
        paths.insert(0, str(seeds))
    catalog = Catalog([*seed_catalog().works, *generated])
    gc.collect()
    gc.freeze()  # the catalog lives as long as the server: keep it out of full collections
    _say(f"demo: a fake OpenAlex, Crossref and PubMed on 127.0.0.1 ({len(catalog.works)} works)")
    _say(f"demo: reading {' and '.join(paths)} ({listed} works listed) into {db}")
    with FakeApi(catalog, latency=LATENCY) as api:
        code = _run_child(["run", *paths, "--db", str(db)], _child_env(api.env()))
    if code == 130 or not db.exists():
        return code
    _show(db)
    _say(f"demo: done in {time.monotonic() - started:.0f} s; try it yourself:")
    for cmd in (
        f"enrich status --db {db}",
        f'enrich sql "select * from seed_coverage" --db {db}',
        f'enrich sql "{SAMPLE_QUERY}" --db {db}',
    ):
        print(f"    {cmd}", file=sys.stderr)
    return code


def _child_env(api_env: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env.update(api_env)
    env.setdefault("ENRICH_MAILTO", "demo@example.org")
    return env


def _run_child(args: list[str], env: dict[str, str]) -> int:
    """``python -m flows ARGS``; a Ctrl-C reaches it (same process group) and it stops
    cleanly, so this process only waits; a SIGTERM sent here is passed on."""
    proc = subprocess.Popen([sys.executable, "-m", "flows", *args], env=env)
    previous = {
        signal.SIGINT: signal.signal(signal.SIGINT, signal.SIG_IGN),
        signal.SIGTERM: signal.signal(signal.SIGTERM, lambda s, f: proc.send_signal(s)),
    }
    try:
        return proc.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _show(db: Path) -> None:
    from pipeline.terminal import printable
    from warehouse.db import connect
    from warehouse.query import format_result, format_status, run_sql, status_report

    con = connect(db, read_only=True)
    try:
        status = format_status(status_report(con), escape=printable)
        sample = format_result(run_sql(con, SAMPLE_QUERY), "table", escape=printable)
    finally:
        con.close()
    print(f"\n$ enrich status --db {db}\n{status}\n", flush=True)
    print(f'$ enrich sql "{SAMPLE_QUERY}"\n{sample}\n', flush=True)


def _say(line: str) -> None:
    from pipeline.terminal import printable

    print(f"enrich: {printable(line)}", file=sys.stderr, flush=True)
