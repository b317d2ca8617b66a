"""Realistic receivables for the demo and the benchmarks.

Customers have a payment habit (good, slow, bad payer); invoice amounts follow a
log-normal law (many small invoices, a few large ones); every name, SIREN and
address is made up (SIRENs carry a valid Luhn key; e-mail domains end in ``.test``,
a reserved TLD, so nothing can ever reach a real mailbox).
"""

from __future__ import annotations

import csv
import math
import random
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from stdnum import luhn

TRADES = ["Boulangerie", "Garage", "Cabinet", "Menuiserie", "Transports", "Imprimerie", "Pharmacie", "Restaurant",
          "Librairie", "Hôtel", "Atelier", "Plomberie", "Électricité", "Fromagerie", "Agence", "Brasserie",
          "Carrosserie", "Pépinières", "Maçonnerie", "Studio"]
SURNAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
            "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux", "Vincent", "Fournier",
            "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet", "François", "Martinez", "Chevalier"]
FIRST_F = ["Claire", "Sophie", "Nathalie", "Isabelle", "Camille", "Julie", "Émilie", "Anne", "Céline", "Léa"]
FIRST_M = ["Paul", "Jean", "Nicolas", "Julien", "Thomas", "François", "Laurent", "Éric", "Antoine", "Hugo"]
FORMS = ["SARL", "SAS", "EURL", "SA", "SASU"]
ROLES = ["Comptable", "Directrice financière", "Gérant", "Responsable administratif", "Assistante de direction",
         "Directeur administratif et financier"]
CITIES = [("Lyon", "69003"), ("Paris", "75011"), ("Marseille", "13006"), ("Toulouse", "31000"), ("Bordeaux", "33000"),
          ("Nantes", "44000"), ("Lille", "59000"), ("Strasbourg", "67000"), ("Rennes", "35000"),
          ("Grenoble", "38000"), ("Montpellier", "34000"), ("Dijon", "21000"), ("Annecy", "74000"),
          ("Villeurbanne", "69100"), ("Saint-Étienne", "42000")]
STREETS = ["rue de la République", "avenue Jean Jaurès", "boulevard Victor Hugo", "rue des Lilas", "place du Marché",
           "rue Pasteur", "chemin des Vignes", "rue du Général de Gaulle", "allée des Tilleuls", "quai Saint-Antoine"]
SERVICES = ["Maintenance trimestrielle", "Fourniture de matériel", "Prestation de conseil", "Installation électrique",
            "Travaux de peinture", "Abonnement logiciel", "Formation du personnel", "Livraison de marchandises",
            "Réparation", "Étude technique", "Nettoyage des locaux", "Location de matériel"]

PROFILES = ("bon", "lent", "risque")


@dataclass
class GenContact:
    civility: str
    first_name: str
    last_name: str
    role: str
    email: str
    phone: str
    billing: bool


@dataclass
class GenCustomer:
    code: str
    name: str
    is_business: bool
    siren: str
    address1: str
    postal_code: str
    city: str
    profile: str
    channel: str
    contacts: list[GenContact] = field(default_factory=list)


@dataclass
class GenInvoice:
    number: str
    customer: str
    issue_date: date
    due_date: date
    amount_excl_tax: Decimal
    tax_amount: Decimal
    amount_incl_tax: Decimal
    description: str
    payments: list[tuple[date, Decimal]] = field(default_factory=list)
    credit: tuple[date, Decimal] | None = None


@dataclass
class Dataset:
    customers: list[GenCustomer]
    invoices: list[GenInvoice]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "-")


def _siren(rng: random.Random) -> str:
    body = f"{rng.randint(10_000_000, 99_999_999)}"
    return body + luhn.calc_check_digit(body)


def _phone(rng: random.Random) -> str:
    return "0" + str(rng.choice([1, 2, 3, 4, 5, 6, 7])) + "".join(f" {rng.randint(0, 99):02d}" for _ in range(4))


def _amount(rng: random.Random, mu: float = 6.6, sigma: float = 1.0) -> Decimal:
    value = min(math.exp(rng.gauss(mu, sigma)), 90_000.0)
    return Decimal(str(round(max(value, 25.0), 2))).quantize(Decimal("0.01"))


def make_customers(n: int, rng: random.Random, consumer_share: float = 0.15) -> list[GenCustomer]:
    customers = []
    for k in range(n):
        city, postal = rng.choice(CITIES)
        street = f"{rng.randint(1, 120)} {rng.choice(STREETS)}"
        surname = rng.choice(SURNAMES)
        profile = rng.choices(PROFILES, weights=[50, 30, 20])[0]
        is_business = rng.random() >= consumer_share
        female = rng.random() < 0.5
        first = rng.choice(FIRST_F if female else FIRST_M)
        if is_business:
            name = f"{rng.choice(TRADES)} {surname} {rng.choice(FORMS)}"
            domain = f"{_ascii(name.rsplit(' ', 1)[0])}.test"
        else:
            name = f"{first} {surname}"
            domain = "particulier.test"
        channel = "letter" if rng.random() < 0.08 else "email"
        customer = GenCustomer(f"C{k + 1:05d}", name, is_business, _siren(rng) if is_business else "", street,
                               postal, city, profile, channel)
        has_email = channel == "email" and rng.random() > 0.05
        customer.contacts.append(GenContact(
            "Mme" if female else "M.", first, surname,
            rng.choice(ROLES) if is_business else "",
            f"{_ascii(first)}.{_ascii(surname)}@{domain}" if has_email else "",
            _phone(rng), True,
        ))
        if is_business and rng.random() < 0.4:
            female2 = rng.random() < 0.5
            first2, last2 = rng.choice(FIRST_F if female2 else FIRST_M), rng.choice(SURNAMES)
            customer.contacts.append(GenContact("Mme" if female2 else "M.", first2, last2, rng.choice(ROLES),
                                                f"{_ascii(first2)}.{_ascii(last2)}@{domain}", _phone(rng), False))
        customers.append(customer)
    return customers


def _payments(rng: random.Random, profile: str, due: date, total: Decimal) -> list[tuple[date, Decimal]]:
    if profile == "bon":
        delay = rng.randint(-12, 6)
    elif profile == "lent":
        delay = rng.randint(5, 50)
    else:
        if rng.random() < 0.45:
            return []  # never paid so far
        delay = rng.randint(35, 140)
    when = due + timedelta(days=delay)
    if rng.random() < 0.1 and total > 200:
        first = (total * Decimal(rng.choice(["0.3", "0.4", "0.5"]))).quantize(Decimal("0.01"))
        later = when + timedelta(days=rng.randint(10, 40))
        return [(when, first), (later, total - first)] if profile != "risque" or rng.random() < 0.5 else [(when, first)]
    return [(when, total)]


def make_invoices(customers: list[GenCustomer], n: int, today: date, rng: random.Random,
                  history_days: int = 200, prefix: str = "FA") -> list[GenInvoice]:
    invoices = []
    weights = [3 if c.is_business else 1 for c in customers]
    issue_dates = sorted(today - timedelta(days=rng.randint(1, history_days)) for _ in range(n))
    owners = rng.choices(customers, weights=weights, k=n)
    # every customer has at least one invoice
    for k, c in enumerate(customers[:n]):
        owners[k * (n // max(len(customers), 1)) % n] = c
    for k, (issued, customer) in enumerate(zip(issue_dates, owners, strict=True)):
        terms = rng.choices([30, 45, 60], weights=[70, 20, 10])[0] if customer.is_business else 15
        ht = _amount(rng, 6.6 if customer.is_business else 5.2)
        tva = (ht * Decimal("0.20")).quantize(Decimal("0.01"))
        ttc = ht + tva
        inv = GenInvoice(f"{prefix}-{issued.year}-{k + 1:06d}", customer.code, issued, issued + timedelta(days=terms),
                         ht, tva, ttc, rng.choice(SERVICES))
        if rng.random() < 0.03:
            inv.credit = (issued + timedelta(days=rng.randint(3, 20)), ttc)
        else:
            inv.payments = _payments(rng, customer.profile, inv.due_date, ttc)
        invoices.append(inv)
    return invoices


def generate(n_customers: int, n_invoices: int, today: date, seed: int = 2026, history_days: int = 200) -> Dataset:
    rng = random.Random(seed)
    customers = make_customers(n_customers, rng)
    return Dataset(customers, make_invoices(customers, n_invoices, today, rng, history_days))


def write_customers_csv(path: Path, customers: Iterable[GenCustomer]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["Code client", "Raison sociale", "Type", "Forme juridique", "SIREN", "Adresse", "Code postal",
                    "Ville", "Canal", "Contact", "Fonction", "Email", "Téléphone"])
        for c in customers:
            b = c.contacts[0]
            form = c.name.rsplit(" ", 1)[-1] if c.is_business else ""  # « Transports Martinez SA » → SA
            w.writerow([c.code, c.name, "entreprise" if c.is_business else "particulier", form, c.siren, c.address1,
                        c.postal_code, c.city, "courrier" if c.channel == "letter" else "email",
                        f"{b.civility} {b.first_name} {b.last_name}", b.role, b.email, b.phone])
    return path


def write_contacts_csv(path: Path, customers: Iterable[GenCustomer]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["Code client", "Civilité", "Prénom", "Nom", "Fonction", "Email", "Téléphone", "Facturation"])
        for c in customers:
            for ct in c.contacts[1:]:
                w.writerow([c.code, ct.civility, ct.first_name, ct.last_name, ct.role, ct.email, ct.phone,
                            "oui" if ct.billing else "non"])
    return path


def write_invoices_csv(path: Path, invoices: Iterable[GenInvoice], pdf_dir: str = "") -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=";")
        w.writerow(["Numéro facture", "Code client", "Date", "Échéance", "Montant HT", "TVA", "Montant TTC",
                    "Libellé", "PDF"])
        for i in invoices:
            pdf = f"{pdf_dir}/{i.number}.pdf" if pdf_dir else ""
            w.writerow([i.number, i.customer, i.issue_date.strftime("%d/%m/%Y"), i.due_date.strftime("%d/%m/%Y"),
                        f"{i.amount_excl_tax}".replace(".", ","), f"{i.tax_amount}".replace(".", ","),
                        f"{i.amount_incl_tax}".replace(".", ","), i.description, pdf])
    return path
