"""Step 1 of an import: the customers of the file, found in the ledger or created (with their aliases)."""

from __future__ import annotations

from relance.bulk import insert_objects, instance
from relance.core.formats.fec import CustomerAccount
from relance.core.formats.problems import Problem
from relance.core.formats.receivables import DEFAULT_KINDS
from relance.errors import ImportRejected
from relance.events import kinds
from relance.ledger.models import Customer, CustomerAlias

from .identities import _label_code
from .state import ImportRun


class Customers(ImportRun):
    """Step 1: the customers of the file, found in the ledger or created (with their aliases)."""

    def _customers(self) -> None:
        org, actor = self.org, self.actor
        accounts = self.rec.customers
        too_long = [c for c in accounts if c.source != "label" and len(c.code) > 50]
        if too_long:
            raise ImportRejected([Problem(self.filename, c.open_items[0].line.line_no if c.open_items else None,
                                          "CompAuxNum", f"code client trop long (plus de 50 caractères) : {c.code}")
                                  for c in too_long])
        existing = {code: (pk, name) for code, pk, name in Customer.objects.filter(organisation=org)
                    .values_list("code", "id", "legal_name")}
        self.terms = {pk: terms for pk, terms in Customer.objects.filter(organisation=org, terms_days__isnull=False)
                      .values_list("id", "terms_days") if terms is not None}
        aliases = dict(CustomerAlias.objects.filter(
            organisation=org, kind=CustomerAlias.Kind.FEC_LABEL,
            value__in=[c.code[:200] for c in accounts if c.source == "label"]).values_list("value", "customer_id"))
        new: list[tuple[CustomerAccount, Customer]] = []
        renamed: list[Customer] = []
        taken = set(existing)
        for account in accounts:
            if account.source == "label":
                customer_id = aliases.get(account.code[:200])
                if customer_id is not None:
                    self.customer_of[id(account)] = customer_id
                    self.counts["customers_unchanged"] += bool(account.open_items)
                elif account.open_items:
                    code = _label_code(account.name, taken)
                    taken.add(code)
                    new.append((account, instance(Customer, organisation_id=org.pk, code=code,
                                              legal_name=account.name[:200],
                                              payment_reference=self.refs.pick(f"C{code}"))))
                continue
            found = existing.get(account.code)
            if found is None:
                if account.open_items:
                    new.append((account, instance(Customer, organisation_id=org.pk, code=account.code,
                                              legal_name=account.name[:200],
                                              payment_reference=self.refs.pick(f"C{account.code}"))))
                continue
            pk, name = found
            self.customer_of[id(account)] = pk
            if not account.open_items:
                continue
            if name == account.code and account.name != account.code:  # a placeholder name gets the FEC's
                renamed.append(Customer(pk=pk, legal_name=account.name[:200]))
            else:
                self.counts["customers_unchanged"] += 1
        if new and self.report.default_kind is None:
            raise ImportRejected([Problem(self.filename, None, None, (
                f"{len(new)} nouveau(x) client(s) (par exemple « {new[0][1].legal_name} ») : le FEC ne dit pas "
                "s’ils sont des entreprises ou des particuliers, et relance ne le devine pas ; donnez le type par "
                "défaut de cet import (--type-par-defaut entreprise|particulier, ou le champ « Type de client par "
                "défaut » de la page Importer), ou importez d’abord vos clients avec leur type (CSV)"))])
        if new:
            is_business = DEFAULT_KINDS[self.report.default_kind or "entreprise"]
            for _a, c in new:
                c.is_business = is_business
            self.report.defaulted = len(new)
        insert_objects(Customer, [c for _a, c in new], ("organisation", "code"))
        Customer.objects.bulk_update(renamed, ["legal_name"], batch_size=500)
        new_aliases = []
        for account, customer in new:
            self.customer_of[id(account)] = customer.pk
            if account.source == "label":
                new_aliases.append(CustomerAlias(organisation=org, customer=customer,
                                                 kind=CustomerAlias.Kind.FEC_LABEL, value=account.code[:200]))
        CustomerAlias.objects.bulk_create(new_aliases, batch_size=1000)
        self.counts["customers_created"] += len(new)
        self.counts["customers_updated"] += len(renamed)
        self.counts["aliases_created"] += len(new_aliases)
        self.events += [kinds.customer_alias_created(customer_id=a.customer_id, kind=a.kind, value=a.value,
                                                     actor=actor) for a in new_aliases]
        self.events += [kinds.customer_updated(customer_id=c.pk, legal_name=c.legal_name, source="fec", actor=actor)
                        for c in renamed]
