"""The court documents of a case: the requête en injonction de payer (C. proc. civ. 1405 to
1425) and the small-claims file for a commissaire de justice (CPCE L125-1), see ``request``."""

from .request import (
    TO_COMPLETE,
    CourtDocument,
    build_request,
    build_small_claim,
    creditor_facts,
    debtor_facts,
    small_claim_allowed,
)

__all__ = ["TO_COMPLETE", "CourtDocument", "build_request", "build_small_claim", "creditor_facts", "debtor_facts",
           "small_claim_allowed"]
