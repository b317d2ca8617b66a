"""UN/CEFACT Cross Industry Invoice (D16B), the XML of Factur-X and ZUGFeRD 2.x, every profile:
MINIMUM and BASIC WL (no lines), BASIC, EN 16931, EXTENDED (several payment terms allowed),
XRechnung CII. Paths below are relative to ``rsm:CrossIndustryInvoice``."""

from __future__ import annotations

from lxml import etree

from .common import Amounts, Draft, finish, finish_party
from .model import EInvoice, Identifier, Party
from .xml import CII_NS, Collector, Node

DOC = "rsm:ExchangedDocument"
TX = "rsm:SupplyChainTradeTransaction"
AGREEMENT = f"{TX}/ram:ApplicableHeaderTradeAgreement"
SETTLEMENT = f"{TX}/ram:ApplicableHeaderTradeSettlement"
SUMMATION = f"{SETTLEMENT}/ram:SpecifiedTradeSettlementHeaderMonetarySummation"


def _party(c: Collector, root: Node, path: str, role: str, bt: tuple[str, str, str, str]) -> Party | None:
    """``bt``: the business terms of (name, identifier, legal registration, VAT) for this role."""
    node = root.find(path)
    if node is None:
        c.problem(None, path, f"{role} absent", "BG-4" if role == "vendeur" else "BG-7")
        return None
    party = Party(role=role, element=path)
    party.name = node.text("ram:Name")
    party.trading_name = node.text("ram:SpecifiedLegalOrganization/ram:TradingBusinessName")
    found: list[Identifier] = []
    for value, _ in node.iter_texts("ram:ID"):
        party.code = party.code or value
    for value, sub in node.iter_texts("ram:GlobalID"):
        party.scheme_ids.append((sub.attr("schemeID"), value))
        found.append(Identifier(value, sub.attr("schemeID"), f"{sub.path} ({bt[1]})", "party", sub.line))
    legal = node.find("ram:SpecifiedLegalOrganization/ram:ID")
    if legal is not None and legal.value:
        found.insert(0, Identifier(legal.value, legal.attr("schemeID"), f"{legal.path} ({bt[2]})", "legal", legal.line))
    for reg in node.findall("ram:SpecifiedTaxRegistration/ram:ID"):
        if reg.value and reg.attr("schemeID").upper() == "VA":
            found.append(Identifier(reg.value, "VA", f"{reg.path} ({bt[3]})", "vat", reg.line))
    uri = node.find("ram:URIUniversalCommunication/ram:URIID")
    if uri is not None and uri.value:
        party.electronic_address, party.electronic_scheme = uri.value, uri.attr("schemeID")
        found.append(Identifier(uri.value, uri.attr("schemeID"), uri.path, "endpoint", uri.line))
    address = node.find("ram:PostalTradeAddress")
    if address is not None:
        party.address1 = address.text("ram:LineOne")
        party.address2 = " ".join(x for x in (address.text("ram:LineTwo"), address.text("ram:LineThree")) if x)
        party.postal_code = address.text("ram:PostcodeCode")
        party.city = address.text("ram:CityName")
        party.country = address.text("ram:CountryID").upper()
    contact = node.find("ram:DefinedTradeContact")
    if contact is not None:
        party.contact_name = contact.text("ram:PersonName") or contact.text("ram:DepartmentName")
        party.contact_phone = contact.text("ram:TelephoneUniversalCommunication/ram:CompleteNumber")
        party.contact_email = contact.text("ram:EmailURIUniversalCommunication/ram:URIID")
    return finish_party(c, party, found)


def _tax_total(root: Node, currency: str) -> Node | None:
    """BT-110: the TaxTotalAmount in the invoice currency (a second one, BT-111, may be in the
    accounting currency)."""
    totals = root.findall(f"{SUMMATION}/ram:TaxTotalAmount")
    for node in totals:
        if node.attr("currencyID") == currency:
            return node
    for node in totals:
        if not node.attr("currencyID"):
            return node
    return totals[0] if len(totals) == 1 else None


def read(root_el: etree._Element, c: Collector) -> EInvoice | None:
    root = Node(root_el, "", CII_NS)
    d = Draft(syntax="CII")
    d.guideline = root.text("rsm:ExchangedDocumentContext/ram:GuidelineSpecifiedDocumentContextParameter/ram:ID")
    d.number_path, d.type_path = f"{DOC}/ram:ID", f"{DOC}/ram:TypeCode"
    d.number_node, d.type_node = root.find(d.number_path), root.find(d.type_path)
    d.number = d.number_node.value if d.number_node is not None else ""
    d.type_code = d.type_node.value if d.type_node is not None else ""
    issue_path = f"{DOC}/ram:IssueDateTime/udt:DateTimeString"
    d.issue_date = c.cii_date(root.find(issue_path), "BT-2", path=issue_path, required=True,
                              label="date de facture")
    d.notes = [text for text, _ in root.iter_texts(f"{DOC}/ram:IncludedNote/ram:Content")]

    d.currency_path = f"{SETTLEMENT}/ram:InvoiceCurrencyCode"
    d.currency_node = root.find(d.currency_path)
    d.currency = d.currency_node.value if d.currency_node is not None else ""
    d.payment_reference = root.text(f"{SETTLEMENT}/ram:PaymentReference")
    for means in root.findall(f"{SETTLEMENT}/ram:SpecifiedTradeSettlementPaymentMeans"):
        account = means.find("ram:PayeePartyCreditorFinancialAccount/ram:IBANID")
        if account is not None and account.value:
            d.iban, d.iban_node = account.value, account
            break
    for terms in root.findall(f"{SETTLEMENT}/ram:SpecifiedTradePaymentTerms"):
        d.terms.append(terms.text("ram:Description"))
        due_path = f"{terms.path}/ram:DueDateDateTime/udt:DateTimeString"
        due = c.cii_date(terms.find("ram:DueDateDateTime/udt:DateTimeString"), "BT-9", path=due_path,
                         label="date d’échéance")
        if due is not None:
            d.due_dates.append(due)
    d.preceding = [text for text, _ in root.iter_texts(f"{SETTLEMENT}/ram:InvoiceReferencedDocument/ram:IssuerAssignedID")]
    delivery_path = (f"{TX}/ram:ApplicableHeaderTradeDelivery/ram:ActualDeliverySupplyChainEvent/"
                     f"ram:OccurrenceDateTime/udt:DateTimeString")
    d.delivery_date = c.cii_date(root.find(delivery_path), "BT-72", path=delivery_path, label="date de livraison")

    summation = root.find(SUMMATION)
    a = Amounts(node=summation, path=SUMMATION)
    if summation is not None:
        a.excl = c.amount(summation.find("ram:TaxBasisTotalAmount"), "BT-109", label="total HT")
        a.tax = c.amount(_tax_total(root, d.currency.strip().upper()), "BT-110", label="total TVA")
        a.grand = c.amount(summation.find("ram:GrandTotalAmount"), "BT-112", label="total TTC")
        a.prepaid = c.amount(summation.find("ram:TotalPrepaidAmount"), "BT-113", label="montant déjà payé")
        a.rounding = c.amount(summation.find("ram:RoundingAmount"), "BT-114", label="arrondi")
        a.payable = c.amount(summation.find("ram:DuePayableAmount"), "BT-115", label="net à payer")
    d.amounts = a

    seller = _party(c, root, f"{AGREEMENT}/ram:SellerTradeParty", "vendeur", ("BT-27", "BT-29", "BT-30", "BT-31"))
    buyer = _party(c, root, f"{AGREEMENT}/ram:BuyerTradeParty", "acheteur", ("BT-44", "BT-46", "BT-47", "BT-48"))
    return finish(c, d, seller, buyer)
