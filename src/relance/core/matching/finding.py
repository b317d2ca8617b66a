"""What a receipt points at: our RF references and invoice numbers in its texts, the customer
recognised by a learnt payer IBAN or name, customers of similar names — and, for the review list,
every key those look-ups can use (:func:`lookup_keys`), so that it loads only the invoices they
can find."""

from __future__ import annotations

from ..iban import compact_iban
from .index import Indexes
from .model import Receipt
from .text import compact, name_key, name_similarity, name_tokens, tokens

RF_MAX = 25
MAX_CANDIDATES = 5
#: a token carried by more customers than this is too common to point at one (« MARTIN », « GARAGE »)
COMMON_TOKEN = 200
NAME_THRESHOLD = 0.5


class Finding(Indexes):
    """The look-ups of a :class:`~relance.core.matching.matcher.Matcher` in its indexes."""

    @staticmethod
    def texts(receipt: Receipt) -> list[list[str]]:
        """The words of the receipt's free text, end-to-end id and structured reference."""
        return [tokens(t) for t in (receipt.remittance, receipt.end_to_end_id, receipt.structured_reference) if t]

    def rf_targets(self, receipt: Receipt, texts: list[list[str]] | None = None) -> list[tuple[str, int]]:
        """Our RF references carried by the receipt (structured field first, then the text)."""
        found: list[tuple[str, int]] = []
        structured = compact(receipt.structured_reference)
        if structured in self.by_rf:
            found.append(self.by_rf[structured])
        for toks in self.texts(receipt) if texts is None else texts:
            for i, tok in enumerate(toks):
                if not (tok.startswith("RF") and len(tok) >= 4 and tok[2:4].isdigit()):
                    continue
                joined, best = "", None
                for j in range(i, len(toks)):
                    joined += toks[j]
                    if len(joined) > RF_MAX:
                        break
                    if joined in self.by_rf:
                        best = self.by_rf[joined]
                if best is not None and best not in found:
                    found.append(best)
        return found

    def numbers_in_text(self, receipt: Receipt, texts: list[list[str]] | None = None) -> list[int]:
        """Invoices (open when the matcher was built) whose number appears in the text (order of appearance). At each
        position the longest number wins and its words are consumed, and a number must start
        and end on word boundaries: « F-123 » never yields F-12."""
        found: list[int] = []
        if not self.max_number:
            return found
        for toks in self.texts(receipt) if texts is None else texts:
            i = 0
            while i < len(toks):
                joined, best, best_end = "", None, i
                for j in range(i, len(toks)):
                    joined += toks[j]
                    if len(joined) > self.max_number:
                        break
                    if joined in self.by_number:
                        best, best_end = joined, j
                if best is None:
                    i += 1
                    continue
                for inv in self.by_number[best]:
                    if inv not in found:  # settled by an earlier line too: the caller tells
                        found.append(inv)
                i = best_end + 1
        return found

    def similar_payers(self, name: str) -> list[tuple[int, float]]:
        toks = name_tokens(name)
        if not toks:
            return []
        seen: set[int] = set()
        for tok in toks:
            ids = self.by_name_token.get(tok, ())
            if 0 < len(ids) <= COMMON_TOKEN:
                seen.update(ids)
        scored = []
        for pid in seen:
            best = max((name_similarity(toks, other) for other in self.name_tokens.get(pid, ())), default=0.0)
            if best >= NAME_THRESHOLD:
                scored.append((pid, best))
        scored.sort(key=lambda pair: (-pair[1], pair[0]))
        return scored[:MAX_CANDIDATES]

    def identified_payer(self, receipt: Receipt) -> tuple[int, str] | None:
        """The customer recognised by a learnt payer IBAN, else by a learnt payer name."""
        iban = compact_iban(receipt.counterparty_iban)
        if iban and iban in self.by_iban:
            return self.by_iban[iban], "iban"
        name = receipt.counterparty_name
        key = self._name_keys.get(name)
        if key is None:
            key = self._name_keys[name] = name_key(name)
        if key and key in self.by_payer_name:
            return self.by_payer_name[key], "payer_name"
        return None


def lookup_keys(receipt: Receipt, longest_number: int) -> tuple[set[str], set[str]]:
    """Every key :meth:`Finding.rf_targets` and :meth:`Finding.numbers_in_text` can look up
    for ``receipt``: the RF references (compact) and the invoice numbers (compact, at most
    ``longest_number`` characters) its texts may carry. A matcher whose invoices include every
    open invoice named by these keys, every open invoice of the receipt's amount, and all the
    open invoices of the customers it can point at (its payer, the customers of those
    invoices, those of similar names) decides the receipt as one built over every invoice:
    the review list loads that much, not the ledger."""
    references: set[str] = set()
    numbers: set[str] = set()
    structured = compact(receipt.structured_reference)
    if structured:
        references.add(structured)
    for toks in Finding.texts(receipt):
        for i, tok in enumerate(toks):
            rf = tok.startswith("RF") and len(tok) >= 4 and tok[2:4].isdigit()
            joined = ""
            for j in range(i, len(toks)):
                joined += toks[j]
                if len(joined) > max(longest_number, RF_MAX if rf else 0):
                    break
                if len(joined) <= longest_number:
                    numbers.add(joined)
                if rf and len(joined) <= RF_MAX:
                    references.add(joined)
    return references, numbers
