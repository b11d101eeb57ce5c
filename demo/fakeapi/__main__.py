"""``python -m demo.fakeapi [--port 8765] [--works N] [--seeds] [--catalog FILE]``: serve the fake
until stopped."""

from __future__ import annotations

import argparse
import gc
import threading

from demo.fakeapi.catalog import Catalog
from demo.fakeapi.generate import generate_catalog
from demo.fakeapi.refcatalog import load_catalog
from demo.fakeapi.seeds import seed_catalog
from demo.fakeapi.server import FakeApi


def _parse_rate(text: str) -> tuple[str, float]:
    name, _, value = text.partition("=")
    return name, float(value)


def main(argv: list[str] | None = None) -> int:
    """Start the server, print the export lines for a shell, and wait."""
    parser = argparse.ArgumentParser(prog="python -m demo.fakeapi", description=__doc__)
    parser.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    parser.add_argument("--works", type=int, default=0, help="add N synthetic works")
    parser.add_argument("--seed", type=int, default=0, help="random seed for --works")
    parser.add_argument("--seeds", action="store_true", help="include the seed documents' works")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every answer")
    parser.add_argument(
        "--rate", action="append", type=_parse_rate, default=[], metavar="SOURCE=RPS",
        help="rate limit, e.g. --rate eutils=3 (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "--concurrency", action="append", type=_parse_rate, default=[], metavar="SOURCE=N",
        help="most requests served at once, e.g. --concurrency crossref=3 (repeatable)",
    )  # fmt: skip
    parser.add_argument("--budget", type=int, default=10_000, help="OpenAlex daily list calls")
    parser.add_argument(
        "--catalog", action="append", default=[], metavar="FILE",
        help="add the works of a JSON-lines file of bibliographic records (refcatalog.py)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    works = []
    if args.seeds or not (args.works or args.catalog):
        works += seed_catalog().works
    if args.works:
        works += generate_catalog(args.works, args.seed).works
    for path in args.catalog:
        works += load_catalog(path).works
    api = FakeApi(
        Catalog(works),
        latency=args.latency,
        rate_limits=dict(args.rate),
        concurrency={k: int(v) for k, v in args.concurrency},
        openalex_budget=args.budget,
        port=args.port,
    )
    # The catalog is built once and never freed: keep it out of the collector's full passes. Over
    # the 28,600-work bench catalog each one paused the server 150-200 ms (18 in a 20,000-id
    # run), and every 429 of that run came 0.94-0.98 s after one: a request sent on time was read
    # late, so the three after it, on time, landed in its one-second window.
    gc.collect()
    gc.freeze()
    with api:
        for name, url in api.env().items():
            print(f"export {name}={url}", flush=True)
        print(f"# {len(works)} works; stats: {api.url}/_fakeapi/stats; Ctrl-C to stop", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
