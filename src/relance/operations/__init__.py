"""Running relance unattended: the daily job (``daily.py``: payer profiles, planning, sending),
the scheduler that runs it at each organisation's hour, the pre-flight checks (``relance
doctor``), the workers' heartbeat, what did not leave (``delivery.py``), the collectors' daily
digest and backups. It drives dunning and profiles from above; docs/operations.md."""
