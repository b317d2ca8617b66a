"""The append-only event log: every change the product makes leaves an event, per
organisation, numbered and hash-chained (``core.hashchain``), appended under the organisation's
lock (``relance.locks``). ``kinds.py`` names each kind with its label; the log imports no domain
app, so every app can write to it."""
