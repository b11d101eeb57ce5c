"""Deployments of both flows with cron schedules (UTC), served with Prefect's ``serve``.

Schedules fire only while a long-lived Prefect server runs (``prefect server start``) and this
process serves them; runs execute in subprocesses of this process (prefect-notes section 4).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from pipeline.config import Settings

RUN_DEPLOYMENT = "scheduled"
REFRESH_DEPLOYMENT = "daily"


def build_deployments(
    *, db: str, paths: Sequence[str], run_cron: str, refresh_cron: str, stale_after_seconds: float
) -> list:
    """The two RunnerDeployments: ``enrich/scheduled`` and ``refresh/daily``.

    Paths are made absolute: the served runs may start from another directory. Each deployment
    runs one at a time (``concurrency_limit=1``): two runs writing one DuckDB file would queue
    on its lock anyway.
    """
    from prefect.schedules import Cron

    from flows.enrich import enrich_flow
    from flows.refresh import refresh_flow

    db_abs = str(Path(db).resolve())
    return [
        enrich_flow.to_deployment(
            name=RUN_DEPLOYMENT,
            schedules=[Cron(run_cron, timezone="UTC")],
            concurrency_limit=1,
            parameters={
                "paths": [str(Path(p).resolve()) for p in paths],
                "db": db_abs,
                "sources": ["openalex", "crossref", "pubmed"],
                "refresh": False,
            },
        ),
        refresh_flow.to_deployment(
            name=REFRESH_DEPLOYMENT,
            schedules=[Cron(refresh_cron, timezone="UTC")],
            concurrency_limit=1,
            parameters={"db": db_abs, "stale_after_seconds": stale_after_seconds},
        ),
    ]


def serve_deployments(
    *,
    settings: Settings,
    paths: Sequence[str],
    run_cron: str,
    refresh_cron: str,
    stale_after: str,
    register_only: bool = False,
) -> int:
    """Register both deployments and serve them (blocks) or, with ``register_only``, return."""
    from flows.cli import parse_duration

    if not os.environ.get("PREFECT_API_URL"):
        print(
            "enrich: serve needs a running Prefect server for its schedules to fire: start one with "
            "`prefect server start` and set PREFECT_API_URL=http://127.0.0.1:4200/api",
            file=sys.stderr,
        )
        return 2
    deps = build_deployments(
        db=str(settings.db_path),
        paths=paths,
        run_cron=run_cron,
        refresh_cron=refresh_cron,
        stale_after_seconds=parse_duration(stale_after).total_seconds(),
    )
    if register_only:
        for dep in deps:
            dep.apply()
            print(
                f"enrich: registered {dep.flow_name}/{dep.name} ({dep.schedules[0].schedule.cron} UTC)",
                file=sys.stderr,
            )
        return 0
    from prefect import serve

    print(
        f"enrich: serving enrich/{RUN_DEPLOYMENT} ({run_cron} UTC) and refresh/{REFRESH_DEPLOYMENT} "
        f"({refresh_cron} UTC); Ctrl-C to stop",
        file=sys.stderr,
    )
    serve(*deps)
    return 0
