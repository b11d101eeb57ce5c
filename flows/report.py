"""Human-readable run summaries: the terminal's final lines and the Prefect markdown artifact."""

from __future__ import annotations

from typing import TextIO

from pipeline.terminal import printable

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
    headline = (
        f"{summary.get('documents', 0)} documents, {summary.get('identifiers', 0)} identifiers "
        f"in {summary.get('works_in_documents', 0)} works"
    )
    _print_final(
        summary,
        stream,
        headline,
        "their identifiers are pending and will be fetched by the next run",
    )


def print_refresh_summary(summary: dict, *, stream: TextIO) -> None:
    """The final lines of `enrich refresh` on stderr."""
    headline = (
        f"refresh of works older than {summary.get('stale_after')}: "
        f"{summary.get('observations', 0)} observations appended"
    )
    _print_final(
        summary, stream, headline, "those works stay stale and will be refreshed next time"
    )


def _print_final(
    summary: dict, stream: TextIO, headline: str, unreachable_consequence: str
) -> None:
    _say(stream, headline)
    _print_sources(summary, stream)
    if summary.get("unreachable"):
        _say(
            stream,
            f"could not reach {', '.join(summary['unreachable'])} (no network?); "
            f"{unreachable_consequence}",
        )
    wall = summary.get("wall_seconds")
    if wall is not None:
        run = f"; run {summary['run_id']}" if summary.get("run_id") else ""
        _say(
            stream, f"done in {wall:.1f} s (Prefect {summary.get('prefect_seconds', 0):.1f} s){run}"
        )


def _print_sources(summary: dict, stream: TextIO) -> None:
    for source, t in summary.get("sources", {}).items():
        counts = ", ".join(f"{t[s]} {s.replace('_', ' ')}" for s in STATUSES if t.get(s))
        _say(
            stream,
            f"{source:<8} {t['asked']} asked: {counts or 'nothing to do'}; {t['requests']} requests",
        )
        if source in summary.get("unreachable", ()):
            continue  # said once, below
        for err in t.get("errors", [])[:2]:
            _say(stream, f"         last error: {err}")


def _say(stream: TextIO, line: str) -> None:
    """One terminal-safe line (a server's error text may hold escape sequences)."""
    print(f"enrich: {printable(line)}", file=stream)
