"""Human-readable run summaries: the terminal's final lines and the Prefect markdown artifact."""

from __future__ import annotations

from typing import TextIO

from pipeline.terminal import printable

STATUSES = ("ok", "not_found", "not_in_source", "failed", "pending")


def run_markdown(summary: dict) -> str:
    """The enrich run summary as a markdown artifact."""
    lines = [
        f"# enrich {'refresh' if 'stale_after' in summary else 'run'} `{summary.get('run_id', '?')}`",
        "",
        f"- documents: {summary.get('documents', 0)}, mentions: {summary.get('mentions', 0)}, "
        f"distinct identifiers: {summary.get('identifiers', 0)}",
        f"- time in the flow: {summary.get('seconds', 0):.1f} s",
        "",
        "| source | asked | ok | not found | not in source | failed | pending | requests | seconds |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for source, t in summary.get("sources", {}).items():
        lines.append(
            f"| {source} | {t['asked']} | {t['ok']} | {t['not_found']} | "
            f"{t.get('not_in_source', 0)} | {t['failed']} | "
            f"{t['pending']} | {t['requests']} | {t['seconds']:.1f} |"
        )
    m = summary.get("matching") or {}
    if m.get("strings"):
        lines.append(
            f"- reference strings matched: {m.get('matched', 0)}, ambiguous: "
            f"{m.get('ambiguous', 0)}, unmatched: {m.get('unmatched', 0)}, failed: "
            f"{m.get('failed', 0)}, pending: {m.get('pending', 0)} ({m.get('requests', 0)} requests)"
        )
    for line in current_lines(summary):
        lines.append(f"- {line}")
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
    for line in current_lines(summary):
        _say(stream, line)


def current_lines(summary: dict) -> list[str]:
    """What changed and was re-fetched, and who-cites asks, one line per source that did any."""
    lines = []
    for source, c in summary.get("current", {}).items():
        refetch, citing = c["refetch"], c["citing"]
        parts = []
        if c["changed"]:
            parts.append(f"{c['changed']} changed since fetched, {refetch['ok']} re-fetched")
            if refetch["failed"] or refetch["pending"]:
                parts.append(f"{refetch['failed'] + refetch['pending']} left for the next refresh")
        if citing["asked"]:
            parts.append(f"asked who cites {citing['asked']} works ({citing['requests']} requests)")
        if parts:
            lines.append(f"{source:<8} " + "; ".join(parts))
    return lines


def _print_final(
    summary: dict, stream: TextIO, headline: str, unreachable_consequence: str
) -> None:
    _say(stream, headline)
    _print_matching(summary.get("matching"), stream)
    _print_sources(summary, stream)
    if summary.get("unreachable"):
        _say(
            stream,
            f"could not reach {', '.join(summary['unreachable'])} (no network?); "
            f"{unreachable_consequence}",
        )
    if summary.get("report"):
        _say(stream, f"report {summary['report']}")
    wall = summary.get("wall_seconds")
    if wall is not None:
        run = f"; run {summary['run_id']}" if summary.get("run_id") else ""
        _say(
            stream, f"done in {wall:.1f} s (Prefect {summary.get('prefect_seconds', 0):.1f} s){run}"
        )


MATCH_STATUSES = ("matched", "ambiguous", "unmatched", "failed", "pending")


def _print_matching(m: dict | None, stream: TextIO) -> None:
    """One line for reference matching (strings decided this run), and its first errors."""
    if not m or not m.get("strings"):
        return
    counts = ", ".join(f"{m[s]} {s}" for s in MATCH_STATUSES if m.get(s))
    _say(stream, f"matching {m['strings']} reference strings: {counts}; {m['requests']} requests")
    for err in m.get("errors", [])[:2]:
        _say(stream, f"         last error: {err}")


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
