"""The litigation services: the only code that writes cases, their documents and hand-overs.

* ``cases`` — opening (the planner's hand-over step), handing over to someone, closing;
* ``steps`` — the injonction de payer's steps: request filed, order issued, order served;
* ``documents`` — the documents of a case: produced (evidence file, request, small claims) or uploaded;
* ``handover`` — the file handed to a lawyer, a commissaire de justice or an agency (email through the
  dispatcher, download link, or downloaded), and the recipients configured per organisation;
* ``settlement`` — a live case closes « payé » by itself once its last invoice is settled.
"""

from .cases import close_case, file_case, formal_notices, notice_facts, on_handover_due, open_cases
from .documents import add_document, produce_documents
from .handover import bundle, hand_over, link_handover, link_token, save_recipient
from .settlement import on_invoices_settled
from .steps import record_step, set_court

__all__ = ["add_document", "bundle", "close_case", "file_case", "formal_notices", "hand_over", "link_handover",
           "link_token", "notice_facts", "on_handover_due", "on_invoices_settled", "open_cases", "produce_documents",
           "record_step", "save_recipient", "set_court"]
