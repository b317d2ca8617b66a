"""An IBAN as compared and stored: without separators, in capitals.

One function for every IBAN read (a bank statement's account and counterparties, an
e-invoice's payment account, the organisation's own): python-stdnum's ``iban.compact``
(spaces, hyphens, dots and their Unicode look-alikes removed), then any whitespace left
(a tab, a line break inside an XML element), so that « FR76-3000-6000… » on an e-invoice and
« FR76 3000\t6000… » on a statement both meet the organisation's « FR7630006000… ».
"""

from __future__ import annotations

import re

from stdnum import iban as std_iban

_WHITESPACE = re.compile(r"\s")


def compact_iban(text: str | None) -> str:
    return _WHITESPACE.sub("", std_iban.compact(text or ""))
