"""Forms of the legal calculator and of the rates page: a thin layer over ``relance.core.law``.

Each calculator form validates what a browser can get wrong (labels and messages translated), then
``compute(tables, today)`` calls the core function. A ``LawInputError`` of the core becomes a form
error (the form then has no result); a ``MissingRate`` is left to the view, which shows it with a
link to the rates page. A result is only ever returned for valid input.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from relance.core.law import (
    Interruption,
    LawInputError,
    LegalInterestResult,
    PenaltyResult,
    PrescriptionResult,
    RateTables,
    TermsCheck,
    check_terms,
    compute_legal_interest,
    compute_penalties,
    parse_rate,
    prescription,
)
from relance.core.money import parse_amount

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

MAX_PARTIAL_PAYMENTS = 5
MAX_INTERRUPTIONS = 5

CalculatorResult = PenaltyResult | LegalInterestResult | TermsCheck | PrescriptionResult

DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]

DEBTORS = [("business", _("Professionnel")), ("consumer", _("Particulier (consommateur)"))]
CREDITORS = [
    ("business", _("Professionnel ou personne morale (taux « autres cas »)")),
    ("individual", _("Particulier hors besoins professionnels (taux « particuliers »)")),
]
CONVENTIONS = [
    ("shortest", _("La plus courte des deux façons de compter (prudent)")),
    ("eom_before", _("Fin de mois, puis 45 jours")),
    ("eom_after", _("45 jours, puis fin de mois")),
]
AGREED = [("yes", _("Oui, un délai est stipulé (contrat, CGV)")), ("no", _("Non, rien n’est stipulé (délai supplétif)"))]
ACTS = [
    ("acknowledgment", _("Reconnaissance de dette (C. civ. 2240)")),
    ("partial_payment", _("Paiement partiel (reconnaissance, C. civ. 2240)")),
    ("court_action", _("Demande en justice (C. civ. 2241)")),
    ("enforcement", _("Mesure conservatoire ou exécution forcée (C. civ. 2244)")),
    ("ip_order_served", _("Signification d’une ordonnance d’injonction de payer")),
    ("formal_notice", _("Mise en demeure (n’interrompt pas)")),
    ("reminder", _("Relance (n’interrompt pas)")),
    ("ip_request", _("Requête en injonction de payer (n’interrompt pas)")),
]


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def date_field(label: StrOrPromise, required: bool = True, help_text: StrOrPromise = "") -> forms.DateField:
    return forms.DateField(label=label, required=required, help_text=help_text, widget=DateInput(),
                           input_formats=DATE_INPUT_FORMATS,
                           error_messages={"invalid": _("Date invalide (attendu JJ/MM/AAAA).")})


class _TextNumberField(forms.Field):
    """A number typed as text (French or English decimal separator)."""

    widget = forms.TextInput
    max_chars = 30

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {**super().widget_attrs(widget), "inputmode": "decimal", "autocomplete": "off",
                "maxlength": str(self.max_chars)}

    def text(self, value: Any) -> str | None:
        text = "" if value is None else str(value).strip()
        if not text:
            return None
        if len(text) > self.max_chars:
            raise forms.ValidationError(_("Valeur trop longue."), code="max_length")
        return text


class AmountField(_TextNumberField):
    """An amount in euros, written the French or the English way (``10 000,00``, ``10000.00``)."""

    def to_python(self, value: Any) -> Decimal | None:
        text = self.text(value)
        if text is None:
            return None
        try:
            amount = parse_amount(text)
        except ValueError:
            raise forms.ValidationError(_("« %(text)s » n’est pas un montant (exemple : 10 000,00).") % {"text": text},
                                        code="invalid") from None
        if amount <= 0:
            raise forms.ValidationError(_("Le montant doit être strictement positif."), code="min_value")
        if amount >= Decimal("1e12"):
            raise forms.ValidationError(_("Montant trop élevé."), code="max_value")
        return amount


class RateField(_TextNumberField):
    """A rate in percent per year (``12,5``, ``12.5 %``)."""

    max_chars = 20

    def to_python(self, value: Any) -> Decimal | None:
        text = self.text(value)
        if text is None:
            return None
        try:
            rate = parse_rate(text, "taux")
        except LawInputError:
            raise forms.ValidationError(_("« %(text)s » n’est pas un taux en %% (exemple : 12,5).") % {"text": text},
                                        code="invalid") from None
        if rate > 100:
            raise forms.ValidationError(_("Un taux annuel de plus de 100 % n’est pas plausible."), code="max_value")
        return rate


class _CalculatorForm(forms.Form):
    """Common part: the name of the calculation (hidden ``calcul``) and the core error handling."""

    kind = ""
    title: StrOrPromise = ""
    calcul = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, data: Any = None, **kwargs: Any):
        kwargs.setdefault("auto_id", f"{self.kind}-%s")
        kwargs.setdefault("initial", {})
        kwargs["initial"] = {"calcul": self.kind, **kwargs["initial"]}
        super().__init__(data, **kwargs)

    repeated_prefixes: tuple[str, ...] = ()

    def compute(self, tables: RateTables, today: date) -> CalculatorResult | None:
        """The result for the valid input, or ``None`` with a form error. Raises ``MissingRate``."""
        raise NotImplementedError

    @property
    def main_fields(self) -> list[forms.BoundField]:
        """The visible fields but the repeated rows (partial payments, interrupting acts)."""
        return [f for f in self.visible_fields() if not f.name.startswith(self.repeated_prefixes or ("\0",))]

    def law_error(self, exc: LawInputError) -> None:
        message = str(exc)
        self.add_error(None, message[:1].upper() + message[1:])

    def end_date(self, field: str, today: date) -> date:
        return self.cleaned_data[field] if not self.cleaned_data.get("a_ce_jour") else today

    def _check_end(self, field: str, label: StrOrPromise) -> None:
        """Exactly one of the end date and « à ce jour »."""
        end, to_date = self.cleaned_data.get(field), self.cleaned_data.get("a_ce_jour")
        if field in self.errors:
            return
        if end is None and not to_date:
            self.add_error(field, _("Indiquez la %(label)s ou cochez « à ce jour ».") % {"label": label})
        elif end is not None and to_date:
            self.add_error(field, _("Indiquez la %(label)s ou cochez « à ce jour », pas les deux.") % {"label": label})


class PenaltiesForm(_CalculatorForm):
    kind = "penalites"
    title = _("Pénalités de retard")
    repeated_prefixes = tuple(f"p{n}_" for n in range(1, MAX_PARTIAL_PAYMENTS + 1))

    montant = AmountField(label=_("Montant TTC de la facture (€)"))
    echeance = date_field(_("Échéance"))
    paiement = date_field(_("Date de paiement du solde"), required=False)
    a_ce_jour = forms.BooleanField(label=_("À ce jour (facture encore impayée)"), required=False)
    taux = RateField(label=_("Taux contractuel (% par an)"), required=False,
                     help_text=_("Vide : taux BCE majoré de 10 points, semestre par semestre (L441-10 II)."))
    debiteur = forms.ChoiceField(label=_("Débiteur"), choices=DEBTORS, initial="business", widget=forms.RadioSelect)
    mise_en_demeure = date_field(_("Mise en demeure (consommateur avec clause)"), required=False,
                                 help_text=_("La clause pénale d’un consommateur ne court qu’à compter de la mise en "
                                             "demeure (C. civ. 1231-5)."))

    def __init__(self, data: Any = None, **kwargs: Any):
        super().__init__(data, **kwargs)
        for n in range(1, MAX_PARTIAL_PAYMENTS + 1):
            self.fields[f"p{n}_date"] = date_field(_("Paiement partiel %(n)s : date") % {"n": n}, required=False)
            self.fields[f"p{n}_montant"] = AmountField(label=_("Paiement partiel %(n)s : montant (€)") % {"n": n},
                                                       required=False)

    @property
    def payment_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"p{n}_date"], self[f"p{n}_montant"]) for n in range(1, MAX_PARTIAL_PAYMENTS + 1)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self._check_end("paiement", _("date de paiement"))
        for n in range(1, MAX_PARTIAL_PAYMENTS + 1):
            day, amount = f"p{n}_date", f"p{n}_montant"
            if day in self.errors or amount in self.errors:
                continue
            if (data.get(day) is None) != (data.get(amount) is None):
                self.add_error(day if data.get(day) is None else amount,
                               _("Un paiement partiel a une date et un montant."))
        return data

    def payments(self) -> list[tuple[date, Decimal]]:
        data = self.cleaned_data
        return [(data[f"p{n}_date"], data[f"p{n}_montant"]) for n in range(1, MAX_PARTIAL_PAYMENTS + 1)
                if data.get(f"p{n}_date") is not None and data.get(f"p{n}_montant") is not None]

    def compute(self, tables: RateTables, today: date) -> PenaltyResult | None:
        """The penalties, or ``None`` with a form error. Raises ``MissingRate``."""
        data = self.cleaned_data
        try:
            return compute_penalties(data["montant"], data["echeance"], self.end_date("paiement", today),
                                     self.payments(), data["taux"], tables, data["debiteur"],
                                     formal_notice_on=data.get("mise_en_demeure"))
        except LawInputError as exc:
            self.law_error(exc)
            return None


class InterestForm(_CalculatorForm):
    kind = "interets"
    title = _("Intérêts au taux légal")

    montant = AmountField(label=_("Montant dû (€)"))
    depuis = date_field(_("Point de départ (date de la mise en demeure)"))
    jusqu_au = date_field(_("Date de fin (paiement)"), required=False)
    a_ce_jour = forms.BooleanField(label=_("À ce jour (encore impayé)"), required=False)
    creancier = forms.ChoiceField(label=_("Créancier"), choices=CREDITORS, initial="business", widget=forms.RadioSelect)
    jugement = date_field(_("Date à laquelle le jugement est devenu exécutoire"), required=False,
                          help_text=_("Facultatif : le taux est majoré de 5 points deux mois plus tard (L313-3)."))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self._check_end("jusqu_au", _("date de fin"))
        start, end = data.get("depuis"), data.get("jusqu_au")
        if start and end and end < start:
            self.add_error("jusqu_au", _("La date de fin est antérieure au point de départ."))
        return data

    def compute(self, tables: RateTables, today: date) -> LegalInterestResult | None:
        data = self.cleaned_data
        try:
            return compute_legal_interest(data["montant"], data["depuis"], self.end_date("jusqu_au", today),
                                          data["creancier"], data["jugement"], tables)
        except LawInputError as exc:
            self.law_error(exc)
            return None


class TermsForm(_CalculatorForm):
    kind = "delais"
    title = _("Délais de paiement")

    date_facture = date_field(_("Date de la facture"))
    echeance = date_field(_("Échéance figurant sur la facture"))
    livraison = date_field(_("Date de livraison ou d’exécution"), required=False,
                           help_text=_("Facultatif ; point de départ du délai supplétif de 30 jours."))
    convenu = forms.ChoiceField(label=_("Délai stipulé au contrat ?"), choices=AGREED, initial="yes",
                                widget=forms.RadioSelect)
    convention = forms.ChoiceField(label=_("Calcul des « 45 jours fin de mois »"), choices=CONVENTIONS,
                                   initial="shortest")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        issued, due = data.get("date_facture"), data.get("echeance")
        if issued and due and due < issued:
            self.add_error("echeance", _("L’échéance est antérieure à la date de la facture."))
        return data

    def compute(self, tables: RateTables, today: date) -> TermsCheck | None:
        data = self.cleaned_data
        try:
            return check_terms(data["date_facture"], data["echeance"], data["livraison"], data["convention"],
                               agreed=data["convenu"] == "yes")
        except LawInputError as exc:
            self.law_error(exc)
            return None


class PrescriptionForm(_CalculatorForm):
    kind = "prescription"
    title = _("Prescription")
    repeated_prefixes = tuple(f"acte{n}_" for n in range(1, MAX_INTERRUPTIONS + 1))

    echeance = date_field(_("Échéance"))
    debiteur = forms.ChoiceField(label=_("Débiteur"), choices=DEBTORS, initial="business", widget=forms.RadioSelect)
    prestation = date_field(_("Date de la livraison ou de la fin de la prestation"), required=False,
                            help_text=_("Facultatif mais recommandé : c’est le point de départ du délai."))
    date_facture = date_field(_("Date de la facture"), required=False,
                              help_text=_("Facultatif ; utilisée si la date de prestation est inconnue."))

    def __init__(self, data: Any = None, **kwargs: Any):
        super().__init__(data, **kwargs)
        for n in range(1, MAX_INTERRUPTIONS + 1):
            self.fields[f"acte{n}_date"] = date_field(_("Acte %(n)s : date") % {"n": n}, required=False)
            self.fields[f"acte{n}_type"] = forms.ChoiceField(label=_("Acte %(n)s : nature") % {"n": n}, choices=ACTS,
                                                             initial="acknowledgment", required=False)

    @property
    def act_rows(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"acte{n}_date"], self[f"acte{n}_type"]) for n in range(1, MAX_INTERRUPTIONS + 1)]

    def acts(self) -> list[Interruption]:
        data = self.cleaned_data
        return [Interruption(data[f"acte{n}_date"], data.get(f"acte{n}_type") or "acknowledgment")
                for n in range(1, MAX_INTERRUPTIONS + 1) if data.get(f"acte{n}_date") is not None]

    def compute(self, tables: RateTables, today: date) -> PrescriptionResult | None:
        data = self.cleaned_data
        try:
            return prescription(data["echeance"], data["debiteur"], data["prestation"], self.acts(), as_of=today,
                                issue_date=data["date_facture"])
        except LawInputError as exc:
            self.law_error(exc)
            return None


CALCULATOR_FORMS: tuple[type[_CalculatorForm], ...] = (PenaltiesForm, InterestForm, TermsForm, PrescriptionForm)


class AddRateForm(forms.Form):
    """A semester published after our tables (``relance.rates.services.add_rate``)."""

    semestre = forms.RegexField(label=_("Semestre"), regex=r"^\s*\d{4}\s*-?\s*[Ss][12]\s*$", max_length=10,
                                help_text=_("AAAA-S1 ou AAAA-S2"),
                                error_messages={"invalid": _("Semestre attendu sous la forme AAAA-S1 ou AAAA-S2.")})
    particuliers = forms.CharField(label=_("Intérêt légal, créancier particulier (%)"), required=False, max_length=20)
    autres = forms.CharField(label=_("Intérêt légal, autres cas (%)"), required=False, max_length=20)
    bce = forms.CharField(label=_("Taux BCE au 1er janvier / 1er juillet (%)"), required=False, max_length=20,
                          help_text=_("Taux des opérations principales de refinancement ; relance ajoute les 10 points."))
    source = forms.CharField(label=_("Source (arrêté et JO, décision BCE)"), max_length=300)

    def rates(self) -> dict[str, str | None]:
        """The rates as typed (``add_rate`` parses them), ``None`` when left blank."""
        data = self.cleaned_data
        return {key: data[name].strip() or None for key, name in
                (("individual", "particuliers"), ("other", "autres"), ("ecb", "bce"))}
