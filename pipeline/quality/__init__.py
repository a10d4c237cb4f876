"""Data-quality expectations (Great Expectations 1.x) on the validated and scored tables.

``expectations`` builds the suites from expectations declared as data (:mod:`pipeline.expect`, which
the field types use too) and runs them. Importing it does not import GX; :func:`expectations.run_suites`
does, when it runs.
"""
