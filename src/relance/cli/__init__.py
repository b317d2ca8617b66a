"""``relance …``: one argparse entry point (``main.py``) and thin commands grouped by subject
(imports, law, escalation, litigation, operations, profiles, uncertain sends). A command parses
its arguments, calls one service, prints text or ``--json`` (``output.py``) and exits with the
code ``relance.errors`` gives the typed error."""
