"""``enrich report``: one self-contained HTML file about a warehouse (or one seed document).

``data`` aggregates the warehouse in DuckDB (``report.sql``) into small tables; ``charts`` draws
them as inline SVG; ``html`` renders the page (jinja2, ``templates/``, ``static/``). Only
aggregates and capped lists reach the page, so its size does not grow with the warehouse.
"""

from warehouse.report.build import ReportSummary, write_report

__all__ = ["ReportSummary", "write_report"]
