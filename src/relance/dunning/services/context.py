"""Split into modules named after what they do; kept only for the modules being moved to
``relance.holds`` (``holds.py``, ``plans.py``, ``calls.py``), whose import lines change with
their move — then this file goes.

* the planner's query, holds: :mod:`.chaseable`
* an organisation's business days: :mod:`.business_calendar`
* scenarios and escalation rules read once: :mod:`.scenario_book`
* the payment details of a message (read only): :mod:`.payment_details`
"""

from __future__ import annotations

from .business_calendar import calendar_for
from .chaseable import active_holds, chaseable, held_condition
from .payment_details import payment_block_for
from .scenario_book import ScenarioBook, rules_of

__all__ = ["ScenarioBook", "active_holds", "calendar_for", "chaseable", "held_condition", "payment_block_for",
           "rules_of"]
