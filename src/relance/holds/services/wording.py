"""The variables the messages about holds quote: a promise (« promesse non tenue »), a plan and
its instalments (instalment reminders, the agreement letter and its covering email), and sample
values of all of them to check or preview the templates without a database.

Read only. Dunning's message composition asks here (``dunning.services.dispatcher`` and
``dunning.services.plan_messages``); the template variables are listed in docs/templates.md.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from relance.core import formatting as fmt
from relance.core.plans import break_after
from relance.i18n import french

from ..models import Instalment, PaymentPlan, Promise
from .holds import promise_received


def promise_context(promise: Promise, language: str) -> dict[str, Any]:
    """The ``promesse`` variables of the « promesse non tenue » template (docs/templates.md)."""
    received = promise_received(promise)[0]
    via_en = {"phone": "by phone", "email": "by email", "letter": "by letter", "portal": "on the customer portal"}
    return {
        "date": fmt.long_date(promise.promised_on, language),
        "montant": fmt.money(promise.amount, promise.currency, language),
        "moyen": (via_en.get(promise.obtained_via, "") if language == "en"
                  else french(Promise.Via(promise.obtained_via).label)),
        "obtenue_le": fmt.long_date(promise.obtained_on, language),
        "obtenue_par": promise.obtained_by,
        "recu": fmt.money(max(received, Decimal(0)), promise.currency, language),
        "partiel": received > 0,
    }


def plan_context(plan: PaymentPlan, language: str, today: date) -> dict[str, Any]:
    instalments = list(plan.instalments.order_by("position"))
    rows = [{"numero": i.position, "date": fmt.long_date(i.due_on, language),
             "date_courte": fmt.short_date(i.due_on, language), "montant": fmt.money(i.amount, plan.currency, language),
             "reste": fmt.money(max(i.remaining, Decimal(0)), plan.currency, language), "reglee": i.remaining <= 0}
            for i in instalments]
    remaining = sum((max(i.remaining, Decimal(0)) for i in instalments), Decimal(0))
    sep = ":" if language == "en" else "\u00a0:"
    table = "\n".join(f"{r['numero']}. {r['date_courte']}{sep} {r['montant']}" for r in rows)
    grace = f"{plan.grace_days} jours" if language != "en" else f"{plan.grace_days} days"
    return {
        "numero": plan.pk,
        "total": fmt.money(plan.total, plan.currency, language),
        "nombre_echeances": len(rows),
        "echeances": rows,
        "tableau": table,
        "reste_du": fmt.money(remaining, plan.currency, language),
        "renonciation_penalites": plan.waive_penalties,
        "delai": grace,
        "date_proposition": fmt.long_date(plan.proposed_on, language),
        "date_accord": fmt.long_date(plan.accepted_on, language) if plan.accepted_on else "",
    }


def instalment_context(instalment: Instalment, language: str, today: date) -> dict[str, Any]:
    """The ``echeancier`` and ``echeance`` variables of the instalment templates."""
    plan = instalment.plan
    deadline = break_after(today, plan.grace_days)
    return {
        "echeancier": plan_context(plan, language, today),
        "echeance": {
            "numero": instalment.position,
            "date": fmt.long_date(instalment.due_on, language),
            "montant": fmt.money(instalment.amount, plan.currency, language),
            "reste": fmt.money(max(instalment.remaining, Decimal(0)), plan.currency, language),
            "date_limite": fmt.long_date(deadline, language),
        },
    }


def _consumer_interest_term(plan: PaymentPlan, language: str) -> str:
    """A consumer owes no penalties nor recovery fees (CPCE L111-8): only interest from the
    formal notice, at the legal rate (C. civ. 1231-6, 1344-1) or the contract's clause (1231-5)."""
    if language == "en":
        return ("Provided this schedule is strictly honoured, no late-payment interest will be claimed from you."
                if plan.waive_penalties else
                "The amounts remaining due bear interest only from a formal notice to pay (articles 1231-6 and "
                "1344-1 of the French Civil Code).")
    return ("Sous réserve du strict respect de cet échéancier, aucun intérêt de retard ne vous sera réclamé."
            if plan.waive_penalties else
            "Les sommes restant dues ne produisent intérêts qu’à compter d’une mise en demeure de payer (articles "
            "1231-6 et 1344-1 du Code civil).")


def plan_terms(plan: PaymentPlan, language: str) -> tuple[str, ...]:
    """The terms the agreement letter states (imputation, penalties or interest, lapse)."""
    business = plan.customer.is_business
    if language == "en":
        penalties = (
            "Provided this schedule is strictly honoured, we waive the late-payment interest and the fixed recovery "
            "fee (articles L441-10 and D441-5 of the French Commercial Code); should it not be, they become due "
            "again from the original due dates." if plan.waive_penalties else
            "Late-payment interest (article L441-10 of the French Commercial Code) continues to accrue on the "
            "amounts remaining due until full payment.") if business else _consumer_interest_term(plan, language)
        return (
            "Each payment is applied to the earliest instalment not yet paid.",
            penalties,
            f"Should an instalment remain unpaid {plan.grace_days} days after the notice we will send you, this "
            "schedule will lapse and the whole balance will become immediately due.",
        )
    penalties = (
        "Sous réserve du strict respect de cet échéancier, nous renonçons aux pénalités de retard et à l’indemnité "
        "forfaitaire pour frais de recouvrement (articles L441-10 et D441-5 du Code de commerce) ; à défaut, elles "
        "redeviendront exigibles depuis les échéances d’origine." if plan.waive_penalties else
        "Les pénalités de retard prévues à l’article L441-10 du Code de commerce continuent de courir sur les sommes "
        "restant dues jusqu’à complet paiement.") if business else _consumer_interest_term(plan, language)
    return (
        "Chaque règlement s’impute sur la plus ancienne échéance non encore réglée.",
        penalties,
        f"À défaut de règlement d’une échéance {plan.grace_days} jours après l’avis que nous vous adresserons, "
        "le présent échéancier sera caduc et la totalité du solde deviendra immédiatement exigible.",
    )


def agreement_context(plan: PaymentPlan, language: str, today: date) -> dict[str, Any]:
    """The ``echeancier`` variables of the covering email (``accord_echeancier_envoi``)."""
    return {"echeancier": plan_context(plan, language, today)}


def sample_hold_variables(language: str = "fr") -> dict[str, Any]:
    """Realistic ``promesse``, ``echeancier`` and ``echeance`` variables, to check or preview
    the « promesse non tenue », instalment and plan agreement templates without a database
    (``messages.sample_context`` should merge them)."""
    en = language == "en"

    def money(amount: str) -> str:
        return fmt.money(Decimal(amount), "EUR", language)

    rows = [{"numero": n, "date": fmt.long_date(d, language), "date_courte": fmt.short_date(d, language),
             "montant": money(a), "reste": money("0" if n == 1 else a), "reglee": n == 1}
            for n, d, a in ((1, date(2026, 12, 15), "493.50"), (2, date(2027, 1, 15), "493.50"),
                            (3, date(2027, 2, 15), "493.50"))]
    sep = ":" if en else "\u00a0:"
    return {
        "promesse": {"date": fmt.long_date(date(2026, 11, 20), language), "montant": money("1480.50"),
                     "moyen": "by phone" if en else "par téléphone",
                     "obtenue_le": fmt.long_date(date(2026, 11, 13), language), "obtenue_par": "Sophie Laurent",
                     "recu": money("0"), "partiel": False},
        "echeancier": {"numero": 12, "total": money("1480.50"), "nombre_echeances": 3, "echeances": rows,
                       "tableau": "\n".join(f"{r['numero']}. {r['date_courte']}{sep} {r['montant']}" for r in rows),
                       "reste_du": money("987.00"), "renonciation_penalites": False,
                       "delai": "8 days" if en else "8 jours",
                       "date_proposition": fmt.long_date(date(2026, 11, 23), language),
                       "date_accord": fmt.long_date(date(2026, 11, 25), language)},
        "echeance": {"numero": 2, "date": fmt.long_date(date(2027, 1, 15), language), "montant": money("493.50"),
                     "reste": money("493.50"), "date_limite": fmt.long_date(date(2027, 1, 26), language)},
    }
