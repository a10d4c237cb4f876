"""Data-quality expectations (Great Expectations 1.x) on the validated and scored tables.

``expect`` declares expectations as data (the field types use it); ``expectations`` builds the
suites and runs them. Importing either does not import GX; :func:`expectations.run_suites` does,
when it runs.
"""
