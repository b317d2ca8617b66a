"""Services of the banking app: ``statements`` (import), ``matching`` (decide and apply),
``review`` (the lines waiting for a person)."""
