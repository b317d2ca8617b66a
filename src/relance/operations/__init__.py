"""Running relance unattended: the pre-flight checks (``relance doctor``), the daily digest,
the workers' heartbeat (and, helper « ops », the scheduler)."""
