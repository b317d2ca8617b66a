"""Signals of the rates app, so that the apps waiting for a rate react without ``rates``
importing them (dunning puts back the formal notices that failed for want of it)."""

from django.dispatch import Signal

#: sent with ``semester`` (``core.law.Semester``), ``legal`` and ``ecb`` (which rates were given),
#: inside the transaction that added or completed the semester
rate_added = Signal()
