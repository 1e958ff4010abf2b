"""The operating-characteristic report: figures, HTML and Markdown from saved results.

`write_report_data` (at run time) saves the small summary files the report is drawn from;
`render_report` (at run time, and by `platsim report RESULTS_DIR`) writes ``report.html``
(self-contained), ``report.md`` and ``figures/*.png`` from them without simulating.
See docs/report.md.
"""

from platsim.report.data import write_report_data
from platsim.report.describe import describe_design
from platsim.report.render import ReportFiles, load_results, render_report

__all__ = ["ReportFiles", "describe_design", "load_results", "render_report", "write_report_data"]
