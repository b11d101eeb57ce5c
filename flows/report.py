"""Human-readable run summaries: the terminal's final lines and the Prefect markdown artifact."""

from __future__ import annotations

from typing import TextIO

STATUSES = ("ok", "not_found", "failed", "pending")


def run_markdown(summary: dict) -> str:
    """The enrich run summary as a markdown artifact."""
    lines = [
        f"# enrich {'refresh' if 'stale_after' in summary else 'run'} `{summary.get('run_id', '?')}`",
        "",
        f"- documents: {summary.get('documents', 0)}, mentions: {summary.get('mentions', 0)}, "
        f"distinct identifiers: {summary.get('identifiers', 0)}",
        f"- time in the flow: {summary.get('seconds', 0):.1f} s",
        "",
        "| source | asked | ok | not found | failed | pending | requests | seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for source, t in summary.get("sources", {}).items():
        lines.append(
            f"| {source} | {t['asked']} | {t['ok']} | {t['not_found']} | {t['failed']} | "
            f"{t['pending']} | {t['requests']} | {t['seconds']:.1f} |"
        )
    for problem in summary.get("problems", []):
        lines.append(f"- problem: {problem}")
    return "\n".join(lines) + "\n"


def print_run_summary(summary: dict, *, stream: TextIO) -> None:
    """The final lines of `enrich run` on stderr."""
    print(
        f"enrich: {summary.get('documents', 0)} documents, {summary.get('identifiers', 0)} identifiers "
        f"in {summary.get('works_in_documents', 0)} works",
        file=stream,
    )
    _print_sources(summary, stream)
    if summary.get("unreachable"):
        print(
            f"enrich: could not reach {', '.join(summary['unreachable'])} (no network?); their identifiers "
            "are pending and will be fetched by the next run",
            file=stream,
        )
    wall = summary.get("wall_seconds")
    if wall is not None:
        print(
            f"enrich: done in {wall:.1f} s (Prefect {summary.get('prefect_seconds', 0):.1f} s); "
            f"run {summary.get('run_id')}",
            file=stream,
        )


def print_refresh_summary(summary: dict, *, stream: TextIO) -> None:
    """The final lines of `enrich refresh` on stderr."""
    print(
        f"enrich: refresh of works older than {summary.get('stale_after')}: "
        f"{summary.get('observations', 0)} observations appended",
        file=stream,
    )
    _print_sources(summary, stream)
    if summary.get("unreachable"):
        print(
            f"enrich: could not reach {', '.join(summary['unreachable'])} (no network?); "
            "those works stay stale and will be refreshed next time",
            file=stream,
        )
    wall = summary.get("wall_seconds")
    if wall is not None:
        print(
            f"enrich: done in {wall:.1f} s (Prefect {summary.get('prefect_seconds', 0):.1f} s)",
            file=stream,
        )


def _print_sources(summary: dict, stream: TextIO) -> None:
    for source, t in summary.get("sources", {}).items():
        counts = ", ".join(f"{t[s]} {s.replace('_', ' ')}" for s in STATUSES if t.get(s))
        print(
            f"enrich: {source:<8} {t['asked']} asked: {counts or 'nothing to do'}; "
            f"{t['requests']} requests",
            file=stream,
        )
        if source in summary.get("unreachable", ()):
            continue  # said once, below
        for err in t.get("errors", [])[:2]:
            print(f"enrich:          last error: {err}", file=stream)
