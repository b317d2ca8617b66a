"""OASIS UBL 2.1 Invoice and CreditNote, as EN 16931 uses them: PEPPOL BIS Billing 3.0,
XRechnung UBL, and the French CTC extended profile
(``urn:cen.eu:en16931:2017#conformant#urn.cpro.gouv.fr:1p0:extended-ctc-fr``)."""

from __future__ import annotations

from lxml import etree

from .common import Amounts, Draft, finish, finish_party
from .model import EInvoice, Identifier, Party
from .xml import UBL_CREDIT_NOTE, UBL_NS, Collector, Node, local_name, namespace

TOTAL = "cac:LegalMonetaryTotal"


def _party(c: Collector, root: Node, path: str, role: str, bt: tuple[str, str, str, str]) -> Party | None:
    node = root.find(path)
    if node is None:
        c.problem(None, path, f"{role} absent", "BG-4" if role == "vendeur" else "BG-7")
        return None
    party = Party(role=role, element=path)
    party.trading_name = node.text("cac:PartyName/cbc:Name")
    party.name = node.text("cac:PartyLegalEntity/cbc:RegistrationName") or party.trading_name
    found: list[Identifier] = []
    for value, sub in node.iter_texts("cac:PartyIdentification/cbc:ID"):
        scheme = sub.attr("schemeID")
        if scheme:
            party.scheme_ids.append((scheme, value))
            found.append(Identifier(value, scheme, f"{sub.path} ({bt[1]})", "party", sub.line))
        else:
            party.code = party.code or value
    legal = node.find("cac:PartyLegalEntity/cbc:CompanyID")
    if legal is not None and legal.value:
        found.insert(0, Identifier(legal.value, legal.attr("schemeID"), f"{legal.path} ({bt[2]})", "legal", legal.line))
    for tax_scheme in node.findall("cac:PartyTaxScheme"):
        if tax_scheme.text("cac:TaxScheme/cbc:ID").upper() == "VAT":
            company = tax_scheme.find("cbc:CompanyID")
            if company is not None and company.value:
                found.append(Identifier(company.value, "VA", f"{company.path} ({bt[3]})", "vat", company.line))
    endpoint = node.find("cbc:EndpointID")
    if endpoint is not None and endpoint.value:
        party.electronic_address, party.electronic_scheme = endpoint.value, endpoint.attr("schemeID")
        found.append(Identifier(endpoint.value, endpoint.attr("schemeID"), endpoint.path, "endpoint", endpoint.line))
    address = node.find("cac:PostalAddress")
    if address is not None:
        party.address1 = address.text("cbc:StreetName")
        extra = [address.text("cbc:AdditionalStreetName")] + [t for t, _ in address.iter_texts("cac:AddressLine/cbc:Line")]
        party.address2 = " ".join(x for x in extra if x)
        party.postal_code = address.text("cbc:PostalZone")
        party.city = address.text("cbc:CityName")
        party.country = address.text("cac:Country/cbc:IdentificationCode").upper()
    contact = node.find("cac:Contact")
    if contact is not None:
        party.contact_name = contact.text("cbc:Name")
        party.contact_phone = contact.text("cbc:Telephone")
        party.contact_email = contact.text("cbc:ElectronicMail")
    return finish_party(c, party, found)


def _tax_total(root: Node, currency: str) -> Node | None:
    """BT-110: the TaxTotal/TaxAmount in the document currency (a second TaxTotal, BT-111, may be
    in the tax accounting currency)."""
    totals = root.findall("cac:TaxTotal/cbc:TaxAmount")
    for node in totals:
        if node.attr("currencyID") == currency:
            return node
    return totals[0] if len(totals) == 1 else None


def read(root_el: etree._Element, c: Collector) -> EInvoice | None:
    root = Node(root_el, "", UBL_NS)
    credit_note = namespace(root_el) == UBL_CREDIT_NOTE and local_name(root_el) == "CreditNote"
    d = Draft(syntax="UBL")
    d.guideline = root.text("cbc:CustomizationID")
    d.number_path = "cbc:ID"
    d.type_path = "cbc:CreditNoteTypeCode" if credit_note else "cbc:InvoiceTypeCode"
    d.number_node, d.type_node = root.find(d.number_path), root.find(d.type_path)
    d.number = d.number_node.value if d.number_node is not None else ""
    d.type_code = d.type_node.value if d.type_node is not None else ""
    d.issue_date = c.iso_date(root.find("cbc:IssueDate"), "BT-2", path="cbc:IssueDate", required=True,
                              label="date de facture")
    d.notes = [text for text, _ in root.iter_texts("cbc:Note")]
    for due_path in ("cbc:DueDate", "cac:PaymentMeans/cbc:PaymentDueDate"):
        for node in root.findall(due_path):
            due = c.iso_date(node, "BT-9", label="date d’échéance")
            if due is not None:
                d.due_dates.append(due)
    d.currency_path = "cbc:DocumentCurrencyCode"
    d.currency_node = root.find(d.currency_path)
    d.currency = d.currency_node.value if d.currency_node is not None else ""
    for means in root.findall("cac:PaymentMeans"):
        d.payment_reference = d.payment_reference or means.text("cbc:PaymentID")
        account = means.find("cac:PayeeFinancialAccount/cbc:ID")
        if not d.iban and account is not None and account.value:
            d.iban, d.iban_node = account.value, account
    d.terms = [text for text, _ in root.iter_texts("cac:PaymentTerms/cbc:Note")]
    d.preceding = [text for text, _ in root.iter_texts("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID")]
    d.delivery_date = c.iso_date(root.find("cac:Delivery/cbc:ActualDeliveryDate"), "BT-72",
                                 path="cac:Delivery/cbc:ActualDeliveryDate", label="date de livraison")

    total = root.find(TOTAL)
    a = Amounts(node=total, path=TOTAL)
    if total is not None:
        a.excl = c.amount(total.find("cbc:TaxExclusiveAmount"), "BT-109", label="total HT")
        a.grand = c.amount(total.find("cbc:TaxInclusiveAmount"), "BT-112", label="total TTC")
        a.prepaid = c.amount(total.find("cbc:PrepaidAmount"), "BT-113", label="montant déjà payé")
        a.rounding = c.amount(total.find("cbc:PayableRoundingAmount"), "BT-114", label="arrondi")
        a.payable = c.amount(total.find("cbc:PayableAmount"), "BT-115", label="net à payer")
    a.tax = c.amount(_tax_total(root, d.currency.strip().upper()), "BT-110", label="total TVA")
    d.amounts = a

    seller = _party(c, root, "cac:AccountingSupplierParty/cac:Party", "vendeur", ("BT-27", "BT-29", "BT-30", "BT-31"))
    buyer = _party(c, root, "cac:AccountingCustomerParty/cac:Party", "acheteur", ("BT-44", "BT-46", "BT-47", "BT-48"))
    return finish(c, d, seller, buyer)
