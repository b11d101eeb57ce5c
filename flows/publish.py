"""The HTML report at the end of a run or refresh (``--report`` / ``ENRICH_REPORT``), published
as Prefect artifacts: a link to the file and a markdown summary of its headline numbers.

A report is a nicety: if writing it fails, the run says so in a warning and its own outcome
stands.
"""

from __future__ import annotations

import logging
from pathlib import Path

from flows import steps

log = logging.getLogger("flows.publish")

LINK_KEY = "enrich-report"  # Prefect artifact keys: lowercase letters, digits and '-'
SUMMARY_KEY = "enrich-report-summary"


def publish_report(writer: steps.Writer, path: str | Path) -> str | None:
    """Write the report of the warehouse the run wrote to ``path`` (through the run's own
    connection) and publish it; returns the path written, or None when it failed."""
    from warehouse.report import write_report

    try:
        summary = writer(write_report, path, source=writer.db_path)
    except Exception as exc:  # never fail the run over its report
        log.warning("could not write the report %s: %s", path, exc)
        return None
    log.info("report: %s (%.1f MB, %.1f s)", summary.path, summary.bytes / 1e6, summary.seconds)
    _artifacts(summary)
    return str(summary.path)


def _artifacts(summary) -> None:
    try:
        from prefect.artifacts import create_link_artifact, create_markdown_artifact

        create_link_artifact(
            key=LINK_KEY,
            link=summary.path.resolve().as_uri(),
            link_text=summary.path.name,
            description=f"enrich report: {summary.scope}",
        )
        create_markdown_artifact(
            key=SUMMARY_KEY, markdown=summary.markdown(), description="enrich report summary"
        )
    except Exception as exc:  # an artifact is a nicety too
        log.warning("could not publish the report as a Prefect artifact: %s", exc)
