"""Rate tables shipped with ``relance.core.law`` (CSV files; see ``docs/law.md``).

This is a package only so that the CSV files are installed with the code.
"""
