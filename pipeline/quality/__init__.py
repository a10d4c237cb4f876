"""Data-quality expectations (Great Expectations 1.x) on the validated and scored tables.

Importing this package does not import GX; :func:`run_suites` does, when it runs.
"""

from pipeline.quality.expectations import SuiteResult, quality_rows, run_suites, suites

__all__ = ["SuiteResult", "quality_rows", "run_suites", "suites"]
