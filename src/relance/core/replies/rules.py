"""The weighted patterns of each category, in French and English, matched on folded text (lower
case, no accents, straight apostrophes): see :mod:`relance.core.replies.text`. A pattern's weight
says how much it alone decides: 3 decides, 2 almost, 1 only with another."""

from __future__ import annotations

import re

Rule = tuple[re.Pattern[str], float]

DEJA_PAYE = "deja_paye"
NON_RECU = "non_recu"
LITIGE = "litige"
PROMESSE = "promesse"
ECHEANCIER = "echeancier"
ABSENCE = "absence"
MAUVAIS_CONTACT = "mauvais_contact"
AUTRE = "autre"
CATEGORIES: tuple[str, ...] = (DEJA_PAYE, NON_RECU, LITIGE, PROMESSE, ECHEANCIER, ABSENCE, MAUVAIS_CONTACT, AUTRE)


def _rules(*pairs: tuple[str, float]) -> list[Rule]:
    return [(re.compile(pattern), weight) for pattern, weight in pairs]


_PAY = r"(?:regle|reglee|reglees|regles|paye|payee|payees|payes|vire|viree|solde|soldee|acquitte|acquittee|honore)"
_INVOICE = r"(?:la |cette |votre |vos |les |ces |une |de |d'|la dite )?(?:facture|fact\b|fa?cture|invoice|duplicata)"

RULES: dict[str, list[Rule]] = {
    DEJA_PAYE: _rules(
        (r"\b(?:reglement|paiement|virement|cheque)s?\b[^.\n]{0,30}\b(?:est|sont) (?:bien |deja )?"
         r"(?:parti|partis|partie|envoye|poste|passe)\b|\b(?:avons|ai) procede au (?:paiement|reglement|virement)\b|"
         r"\b(?:ai|avons) (?:paye|regle|solde|vire)\b|\bpar lcr\b", 3),
        (r"\bcompensee?s? (?:avec|par) (?:votre |notre |l'|un |cet )?avoir\b|\bil ne reste rien a (?:payer|regler)\b",
         3),
        (r"\bdeja (?:ete )?(?:regl|pay|vir|sold|acquitt)\w*", 3),
        (r"(?<!sera )(?<!seront )(?<!etre )(?<!vais )(?<!vous )(?<!je )(?<!nous )(?<!on )"
         r"\b(?:paye|regle|vire|acquitte)e?s? (?:hier|ce matin|par (?:cb|virement|"
         r"cheque|carte|prelevement)|en ligne|vendredi dernier|la semaine derniere|lors de|en (?:especes|octobre|"
         r"novembre)|le (?:\d|1er))", 3),
        (r"\b(?:ai|avons|a) (?:tout |bien |deja )+(?:regle|paye|vire|solde)\b", 3),
        (r"\b(?:virement|paiement|reglement|cheque)s? vous (?:a|ont) ete (?:envoye|adresse|poste|fait)s?\b", 3),
        (r"\bdeja (?:ete )?" + _PAY + r"\b", 3),
        (r"\b(?:a|ont|avons|ai|avait|avions|aurait) (?:bien |deja |pourtant |normalement )*(?:ete )?" + _PAY + r"\b", 2.5),
        (r"\b(?:est|sont|etait) (?:bien |deja |pourtant |normalement )*(?:" + _PAY + r")\b", 2.5),
        (r"\b(?:virement|paiement|reglement|cheque|prelevement)s? (?:a ete|ont ete|est|etait|a bien ete|"
         r"avait ete|de [^.\n]{0,20} a ete) (?:bien |deja )?(?:effectue|fait|envoye|emis|passe|execute|parti|"
         r"encaisse|debite|poste|realise)e?s?\b", 3),
        (r"\b(?:avons|ai|a) (?:bien |deja )?(?:effectue|fait|envoye|emis|passe|poste|execute)s? "
         r"(?:le |un |notre |mon |du |au )?(?:virement|paiement|reglement|cheque)", 3),
        (r"\b(?:preuve|justificatif|avis|ordre|confirmation|copie) (?:de |du |d')\s?(?:virement|paiement|reglement)", 2),
        (r"\bci-joint (?:la |le |l')?(?:preuve|justificatif|avis|copie|ordre)\b", 1),
        (r"\bdebite de (?:notre|mon) compte\b|\bdebite le\b", 2),
        (r"\b(?:already|has been|have been|was) (?:been )?(?:paid|settled|wired|transferred)\b", 3),
        (r"\b(?:we|i) (?:paid|settled|wired|transferred)\b", 3),
        (r"\bpayment was (?:made|sent|issued)\b|\bproof of payment\b|\bremittance advice\b", 3),
        (r"\bpaid (?:on|it|this|the invoice|in full)\b", 2.5),
        (r"\b(?:c'est|c est) (?:deja )?(?:regle|paye)\b|\bon (?:a|vous a) (?:deja )?(?:regle|paye|vire)\b", 3),
        (r"\bvous (?:a|avez) ete (?:regle|paye)s?\b|\ben regle\b", 3),
        (r"\bnos (?:comptes|ecritures) (?:montrent|indiquent)\b|\brelance (?:est )?(?:sans objet|inutile)\b", 1.5),
        (r"\b(?:se sont croises|s'est croisee|croise avec (?:notre|mon|le) (?:paiement|virement|reglement))\b", 2),
    ),
    NON_RECU: _rules(
        (r"\b(?:lien|fichier|pdf|piece jointe|document|telechargement)s? (?:ne|n') ?(?:fonctionne|s'ouvre|marche|"
         r"est pas accessible)\w*", 3),
        (r"\b(?:trouv|vois|retrouv|avons|ai)\w* (?:aucune|pas de|nulle) (?:trace (?:de |d')?)?(?:facture|invoice)", 2.5),
        (r"\b(?:me|nous) l'(?:envoyer|renvoyer|transmettre|adresser|faire parvenir)\b", 1.5),
        (r"\bno (?:record|trace) of\b|\bresend (?:it|the invoice)\b", 3),
        (r"\b(?:la|les|l') ?(?:renvoyer|reediter|rectifier|reemettre)\b|\b(?:reediter|reemettre|refaire) (?:la |une |"
         r"votre )?facture\b", 1.5),
        (r"\badresse de facturation\b|\bau nom de (?:la|notre) (?:holding|societe|filiale)\b", 1.5),
        (r"\bpas (?:la |de |d'|votre )?facture\b|\bque la relance\b", 2.5),
        (r"\b(?:pas|jamais|rien) (?:encore |bien )?(?:recu|eu|vu|trouve|retrouve)e?s? (?:de |d')?" + _INVOICE, 3),
        (_INVOICE + r"[^.\n?]{0,40}\b(?:pas|jamais) (?:ete |encore ete |bien ete )?"
                    r"(?:recue?s?|parvenue?s?|arrivee?s?)\b", 3),
        (r"\bne (?:l'|les )?(?:avons|ai|a) (?:jamais|pas) (?:recue?s?|eue?s?)\b", 2.5),
        (r"\b(?:pas|jamais|aucune) (?:de |d')?trace (?:de |d')?" + _INVOICE, 3),
        (r"\bintrouvable\b|\bne (?:la |les )?trouv(?:e|ons)s? pas\b|\bne (?:la |les )?retrouv(?:e|ons)s? pas\b", 2),
        (r"\b(?:renvoyer|renvoyez|transmettre|transmettez|envoyer|envoyez|faire parvenir|adresser|renvoi|"
         r"reenvoyer|communiquer|communiquez)(?:-moi|-nous)? (?:a nouveau |de nouveau )?(?:la |une |un |cette |"
         r"le |les |votre |vos |l')?(?:copie|duplicata|facture|exemplaire|pdf|double)", 2.5),
        (r"\b(?:copie|duplicata|double|exemplaire) (?:de |d')?(?:la |cette |votre )?facture\b", 2.5),
        (r"\b(?:chorus|chorus pro|plateforme|portail|ariba|coupa|basware|docuware|tungsten|esker|"
         r"dematerialis\w*|portail fournisseurs?|edi)\b", 2),
        (r"\b(?:deposer|deposez|depot|deposee|saisir|charger|uploader|soumettre)\b[^.\n]{0,30}"
         r"(?:chorus|plateforme|portail|ariba|coupa)", 1.5),
        (r"\b(?:bon de commande|numero de commande|n° de commande|po number|purchase order|numero d'engagement|"
         r"code service|numero de bon)\b", 1.5),
        (r"\bfacture (?:est )?(?:incomplete|illisible|non conforme|vide|corrompue?)\b|\bpiece jointe (?:est )?"
         r"(?:vide|illisible|absente|manquante)\b|\bpas de piece jointe\b|\bfichier (?:ne s'ouvre pas|illisible|"
         r"corrompu)\b", 2.5),
        (r"\b(?:never|not|haven't|have not|did not|didn't) (?:yet )?(?:received|receive|got|seen|find|found) "
         r"(?:the |this |your |any |an )?invoice\b", 3),
        (r"\b(?:send|resend|forward)(?: us| me)? (?:a |the |another )?(?:copy|invoice|duplicate)\b|\bcopy of the invoice\b",
         2.5),
        (r"\bquelle facture\b|\bde quelle facture\b|\bwhich invoice\b|\bpas de facture\b", 2),
        (r"\bspams?\b|\bindesirables\b", 1),
    ),
    LITIGE: _rules(
        (r"\bfacture rectificative\b|\bexonere\w*\b|\b(?:only|seulement) \d+ [^.\n]{0,20}(?:delivered|livre)\w*|"
         r"\bmissing (?:units|items|parts)\b|\bon hold\b|\ble prix [^.\n]{0,15}a change\b|"
         r"\b(?:paye|paie|regle|payerai|reglerai)\w* rien tant que\b|"
         r"\bquand vous aurez (?:remplace|repare|livre|corrige|rembourse|change|repris)\b", 3),
        (r"\b(?:tombe|tombent|est tombee?) en panne\b|\bpas de (?:paiement|reglement) tant que\b|"
         r"\bnon (?:prevue?s?|inclus(?:es?)?|compris(?:es?)?) (?:au|dans le|sur le) (?:devis|contrat|bon de commande)\b|"
         r"\b(?:demandons|demande|exigeons|attendons) un avoir\b", 3),
        (r"\b(?:tva|taux|prix|montant|tarif|quantite)s?\b[^.\n]{0,40}\b(?:devrai(?:t|ent)|aurai(?:t|ent) du)\b", 2.5),
        (r"\bpas pourquoi (?:je|nous|on) (?:payerai|paierai|reglerai|payerions|paierions|reglerions)\w*", 2.5),
        (r"\bne (?:ferme|marche|fonctionne|tient|demarre|chauffe|s'allume|s'ouvre|coule)\w* (?:toujours |plus |pas )*"
         r"(?:pas|plus|correctement|bien)\b", 2.5),
        (r"\bsuspend\w* (?:le |notre |tout |les )?(?:paiements?|reglements?)\b", 2.5),
        (r"\b(?:tarif|prix|montant|taux|remise|quantite)s? [^.\n]{0,30}n'(?:est|sont) pas (?:celui|celle|ceux|le bon|"
         r"la bonne|conforme)", 2.5),
        (r"\b(?:marchandises?|articles?|produits?|pieces?|colis|palettes?)\b[^.\n]{0,40}(?:retourne|renvoye|rendu|"
         r"repris)e?s?\b", 2.5),
        (r"\bsous reserve\b|\brepren\w+\b|\bcorriger\b", 1.5),
        (r"\b(?:invoice|facture|montant|amount) (?:is|est) (?:wrong|incorrect|incorrecte|faux|fausse|erronee?)\b", 2.5),
        (r"\b(?:were|was|been) (?:billed|charged|invoiced) for\b", 2),
        (r"\b(?:erreur|errone\w*) (?:sur|dans|de) (?:la |le |les )?(?:quantite|montant|prix|tarif|taux|tva|facture|"
         r"calcul|heures|nombre)", 2.5),
        (r"\b(?:mal (?:fait|faite|realise|realisee|fini)|bacle\w*|travail inacheve)\b", 2.5),
        (r"\bje (?:ne )?(?:paye|paie|regle) pas\b", 2),
        (r"\bpenalites? (?:de retard )?(?:contractuelles?|appliquees?)|\bapres deduction\b", 2),
        (r"\b(?:remise|rabais|ristourne|escompte)\b[^.\n]{0,40}(?:n'apparait pas|oubliee?|pas (?:ete )?(?:appliquee|"
         r"deduite|prise en compte))", 2.5),
        (r"\bpas ce que (?:nous avions|j'avais|nous avons|j'ai|on avait) (?:commande|demande|convenu)\b|"
         r"\breprendre (?:la|votre) marchandise\b", 2.5),
        (r"\bfactur\w* [^.\n]{0,60}alors (?:que|qu')", 2.5),
        (r"\bne (?:reglerons|paierons|payerons|reglerai|paierai|payerai) que\b|"
         r"\bvous (?:nous )?(?:facturez|avez facture)\b", 2.5),
        (r"\bil manque\b|\bmanque (?:des|deux|trois|une?|\d)\b", 2),
        (r"\bcontest(?:e|ons|ation|ons|ez|ee|er)\b|\blitige\b|\ben desaccord\b|\bdispute[ds]?\b|\bdisagree\b", 2.5),
        (r"\b(?:erreur|errone|erronee|incorrect|incorrecte|faux|fausse|inexact|inexacte|wrong|mistake|incorrectly)\b", 1.5),
        (r"\b(?:montant|prix|tarif|quantite|taux|remise|tva|ht|ttc|devis|amount|price|total)\b[^.\n]{0,50}"
         r"(?:erreur|errone|faux|fausse|incorrect|ne correspond|pas conforme|different|superieur|trop eleve|"
         r"pas le bon|double|wrong|does not match|doesn't match|higher)", 2.5),
        (r"\b(?:ne correspond\w*|correspond\w* pas|pas conforme|non conforme|ne colle pas|"
         r"doesn't match|does not match)\b(?!(?: pas)? (?:au|a|with the) (?:nom|titulaire|beneficiaire|name))", 2),
        (r"\b(?:factur(?:e|ee|er|es) (?:deux fois|en double|a tort|plusieurs fois|trop)|double facturation|"
         r"billed twice|charged twice|overcharged|surfactur\w*)\b", 3),
        (r"\b(?:jamais|pas) (?:ete |encore ete )?(?:livre|livree|livres|livrees|realise|realisee|effectuee?s?|"
         r"termine|terminee|installe|installee|fait|faite|commande|commandee)\b", 2),
        (r"\b(?:livraison|prestation|travaux|marchandise|colis|chantier|intervention|materiel|produit|produits|"
         r"delivery|goods|service|work)s?\b[^.\n]{0,60}(?:incomplete?s?|partielle?s?|defectueu(?:x|se)s?|abimee?s?"
         r"|endommagee?s?|non conforme|en retard|jamais arrive|manquant|casse|pas conforme|inacheve|pas termine|"
         r"mal fait|bacle|damaged|defective|incomplete|missing|faulty|not delivered|never arrived|broken)", 3),
        (r"\b(?:defectueu(?:x|se)s?|abimee?s?|endommagee?s?|casse(?:e|s)?|manquant(?:e|s)?|malfacons?|"
         r"reserves?|non-conformite|ne fonctionne (?:pas|plus)|hors service|damaged|defective|faulty|broken)\b", 2),
        (r"\b(?:avoir|credit note|geste commercial|reduction|ristourne|remboursement|refund)\b", 1.5),
        (r"\b(?:refuse|refusons|refusera|refuserons) (?:de (?:payer|regler)|cette facture|le paiement|la facture)\b|"
         r"\bne (?:payerons|paierons|reglerons|payerai|paierai|reglerai) pas\b|\b(?:won't|will not|refuse to) pay\b", 2.5),
        (r"\bpas (?:ce qui etait |ce qui a ete )?(?:prevu|convenu|commande)\b|\bhors devis\b|\bnon prevu au devis\b|"
         r"\bnot what (?:we|i) ordered\b|\bnot agreed\b", 2),
        (r"\b(?:a deja ete deduit|deduire|deduction|retenue|penalites? de retard (?:de votre part|contractuelles))\b", 1.5),
        (r"\b(?:reclamation|complaint)\b", 1.5),
        (r"\b(?:tant que|jusqu'a ce que|until) [^.\n]{0,60}(?:regle|resolu|corrige|repare|remplace|livre|fixed|"
         r"resolved|delivered|replaced)", 1.5),
    ),
    PROMESSE: _rules(
        (r"\bscheduled for payment\b|\bje m'occupe (?:du|de mon|de notre) (?:reglement|paiement|virement)\b|"
         r"\b(?:paiement|reglement|virement)s? (?:interviendra|interviendront|arrivera|arriveront)\b|"
         r"\b(?:je|nous|on) (?:vous )?(?:poste|postons|envoie|envoyons|depose|deposons) (?:le|mon|notre|un) cheque\b",
         3),
        (r"\b(?:virement|paiement|reglement|cheque)s?\b[^.\n]{1,30}?\b(?:sera|seront)\s+(?:bien |normalement |donc )?"
         r"(?:effectue|fait|emis|envoye|passe|programme|execute|vire|regle)\w*", 2.5),
        (r"\bvous serez (?:paye|regle|rembourse|solde)s?\b", 3),
        (r"\bpassera (?:dans|en|au|avec) (?:notre |le |la )?(?:prochaine?|paiement|reglement|virement)", 3),
        (r"\b(?:payment|transfer|wire) will (?:go out|be (?:made|sent|released|processed|issued))\b", 3),
        (r"\b(?:virement|paiement|reglement|cheque)s? (?:partira|partiront|arrivera|sera envoye|sera fait)\b", 3),
        (r"\b(?:je|nous|on) (?:vous )?(?:passe|passons|lance|lancons|envoie|envoyons|fait|m'en occupe|"
         r"nous en occupons|m'occupe)\b[^.\n]{0,40}(?:demain|lundi|mardi|mercredi|jeudi|vendredi|semaine|mois|le \d|"
         r"d'ici|avant)", 2.5),
        (r"\b(?:sera|seront|va etre|vont etre) (?:bien |donc |normalement )?(?:reglee?s?|payee?s?|soldee?s?|viree?s?|"
         r"honoree?s?|mise? en paiement)\b", 3),
        (r"\b(?:va|vont) (?:vous )?(?:regler|payer|virer|solder)\b", 2.5),
        (r"\b(?:paiement|virement|reglement|cheque)s? (?:est |sont )?(?:prevu|programme|planifie)e?s?\b", 3),
        (r"\bprocede(?:rons|rai|ra)\b[^.\n]{0,30}(?:paiement|reglement|virement)", 3),
        (r"\b(?:je|nous|on) (?:vous )?(?:reglerai|reglerons|reglera|paierai|payerai|paierons|payerons|paiera|payera|"
         r"virerai|virerons|virera|solderai|solderons|soldera|enverrai|enverrons|ferai|ferons|fera)\b", 3),
        (r"\b(?:je|nous|on) (?:vais|allons|va|vous) (?:vous )?(?:regler|payer|virer|solder|faire le virement|"
         r"proceder|lancer|envoyer le|passer le)\b", 2.5),
        (r"\b(?:je|nous|on) (?:vous )?(?:regle|reglons|paie|paye|payons|vire|virons|fais|faisons)\b[^.\n]{0,40}"
         r"(?:demain|lundi|mardi|mercredi|jeudi|vendredi|samedi|semaine|mois|le \d|d'ici|avant|des que|\d/)", 2.5),
        (r"\b(?:virement|paiement|reglement|cheque)s? (?:sera|seront|partira|partiront|va|vont|est|sont)\s+"
         r"(?:bien |normalement |donc )?(?:effectue|fait|emis|envoye|passe|programme|planifie|valide|lance|execute|"
         r"partir|etre|mis en paiement|prevu|pret|poste|parti)\w*", 2.5),
        (r"\b(?:mis en paiement|mise en paiement|programme(?:e|r)? (?:le |pour |au |un )|planifie (?:le|pour)|"
         r"prochaine? (?:campagne|session|run|tour|echeance) de (?:paiement|reglement|virement)s?|"
         r"en cours de (?:paiement|reglement|validation|traitement)|bon a payer|circuit de validation)", 2.5),
        (r"\b(?:will|shall|'ll|going to) (?:be )?(?:pay|paid|settle|settled|transfer|wire|process|processed|"
         r"release|released|scheduled)\b", 3),
        (r"\b(?:payment|transfer) (?:is |has been )?(?:scheduled|planned|due to go|on its way)\b|\bpayment run\b", 3),
        (r"\b(?:sous|d'ici|avant|au plus tard|des|by|before)\b", 0.5),
        (r"\b(?:je m'engage|nous nous engageons) a (?:vous )?(?:payer|regler|solder|virer)\b|"
         r"\b(?:passera|passerons|passerai|lancera|lancerons|fera|ferons) (?:le |notre |mon |un )?"
         r"(?:reglement|paiement|virement|cheque)\b|"
         r"\bvous (?:recevrez|aurez|allez recevoir) (?:le |votre |notre |un |son )?(?:paiement|reglement|virement|"
         r"cheque)\b", 3),
        (r"\b(?:promis|je m'engage|nous nous engageons|engagement|sans faute|des reception|des que (?:je|nous|"
         r"j'|on) (?:recois|recevons|serai|aurai|encaisse|suis))\b", 1.5),
        (r"\ble (?:temps|delai) de (?:faire|passer|lancer)\b|\bvalidation (?:interne|du directeur|de la direction)\b", 1),
        (r"\b(?:pas|plus) (?:d'|de )?oubli\b|\bdesole du retard\b|\bdesolee? (?:pour|du) (?:le |ce )?retard\b|"
         r"\b(?:sorry|apologies) for the delay\b|\bexcusez[- ](?:moi|nous)\b|\boubli de (?:ma|notre) part\b", 1),
    ),
    ECHEANCIER: _rules(
        (r"\b(?:des que possible|au plus vite|des que (?:je|nous) (?:pourrai|pourrons|peux|pouvons))\b"
         r"[^.\n]{0,80}(?:patienter|attente|en attendant)|\bmerci de patienter\b|"
         r"\breport (?:d'|de l'|de la )?(?:echeance|paiement|reglement)\b", 3),
        (r"\bpremier versement\b|\b1er versement\b|\bfirst instal?lment\b", 3),
        (r"(?:\b(?:acompte|une partie|la moitie)\b|\d+ ?(?:€|euros?))[^.\n]{0,80}(?:le (?:reste|solde)|puis)\b", 3),
        (r"\b(?:d'un|d un|en un) (?:seul )?coup\b|\ben une (?:seule )?fois\b", 2),
        (r"\b(?:deux|trois|quatre|cinq|six|\d) (?:fois|mensualites|versements|echeances|paiements|cheques)\b", 3),
        (r"\d+ ?(?:€|euros?) par mois\b|\bjusqu'a (?:complet )?(?:solde|apurement)\b|"
         r"\breport(?:er)? (?:de )?(?:l'|la |notre |mon )?(?:echeance|date)\b|"
         r"\bmoitie maintenant\b|\bla moitie (?:maintenant|ce mois|aujourd'hui)\b", 3),
        (r"\b(?:echeancier|echelonne\w*|etaler|etalement|etale|plusieurs (?:fois|mensualites|versements|paiements)|"
         r"(?:en |par )(?:deux|trois|quatre|cinq|six|\d) (?:fois|mensualites|versements|echeances|paiements)|"
         r"mensualites?|fractionne\w*|plan de (?:paiement|reglement|remboursement))\b", 3),
        (r"\b(?:delai|delais) (?:de paiement )?(?:supplementaire|de grace|additionnel|en plus)s?\b|"
         r"\b(?:plus de temps|un peu de temps|un delai|quelques (?:semaines|jours|mois) de plus|"
         r"reporter (?:le|l'|mon|notre) (?:paiement|echeance|reglement))\b", 2.5),
        (r"\b(?:accorder|accordez|octroyer|consentir|m'accorder|nous accorder)\b", 1.5),
        (r"\b(?:acompte|partiel|partiellement|une partie|le reste|le solde|la moitie|par mois|chaque mois|tous les mois|"
         r"premier versement|1er versement|(?:\d+|deux|trois) versements)\b", 1.5),
        (r"\b(?:difficultes?|tresorerie|tension|tresorie|redressement|sauvegarde|pas les moyens|serre|"
         r"mauvaise passe|periode difficile|cash flow|cash-flow)\b", 1.5),
        (r"\b(?:payment plan|instal?lments?|in (?:two|three|four|\d) (?:payments|parts)|more time|extension|"
         r"spread (?:the )?payments?|monthly payments?|partial payments?)\b", 3),
    ),
    ABSENCE: _rules(
        (r"\b(?:absente?s?|en conges?|en vacances|en deplacement|en formation|en arret (?:maladie)?|en conge "
         r"(?:maternite|parental)|hors du bureau|loin du bureau|pas au bureau)\b", 2),
        (r"\b(?:message|reponse|reply|response) automatique\b|\bautomatic (?:reply|response)\b|\bauto[- ]?reply\b|"
         r"\bout of (?:the )?office\b|\bautoreply\b|\bactuellement absent\w*\b", 3),
        (r"\b(?:de retour|retour (?:prevu|au bureau)?|je reviens|je serai de retour|back in the office|"
         r"i will be back|i'll be back|i will return|returning|return on)\b", 1.5),
        (r"\b(?:acces (?:limite|restreint|aux emails|a (?:ma|mes) messagerie)|pas acces|sans acces|"
         r"consulterai|limited access|no access)\b", 1.5),
        (r"\b(?:en cas d'urgence|pour toute urgence|for urgent matters|urgent matters|in case of emergency)\b", 1.5),
        (r"\b(?:fermeture annuelle|ferme(?:s|e)? (?:pour|du|jusqu)|closed (?:for|until))\b", 2),
        (r"\bne sera(?:i)? pas (?:transfere|lu|traite)\b|\bwill not be forwarded\b", 1.5),
    ),
    MAUVAIS_CONTACT: _rules(
        (r"\bi (?:have )?left\b|\bremove this address\b|\bnotre filiale\b|\bsa propre comptabilite\b|"
         r"\bje fais suivre (?:a|au|aux) (?:la|le|notre|mon|ma|nos)\b", 3),
        (r"\b(?:a pris sa retraite|est (?:parti|partie) a la retraite|(?:son|sa) (?:successeur|remplacant\w*)|"
         r"(?:a ete|est) remplacee? par)\b", 3),
        (r"\bconfond\w*\b|\bjamais travaille ensemble\b", 2.5),
        (r"\b(?:gerees?|traitees?|geres?) par (?:notre|le|la|nos)\b|\bcelle du standard\b", 2),
        (r"\b(?:ne suis pas|n'est pas|ne sommes pas|pas) (?:la (?:bonne )?personne|le bon interlocuteur|"
         r"la bonne interlocutrice|le bon service)\b", 3),
        (r"\btransfere\w* (?:a|au|vers)\b|\bnouveau (?:proprietaire|gerant|dirigeant|responsable|repreneur)\b", 2),
        (r"\b(?:trompe\w* de (?:personne|destinataire|adresse|societe|client)|erreur de (?:destinataire|personne|"
         r"adresse))\b|\bne connais pas (?:cette|votre) (?:societe|entreprise)\b", 3),
        (r"\bc'est (?:mon|notre|ma) (?:comptable|associee?|collegue|service|femme|mari|epouse|fils|fille)\b[^.\n]{0,30}"
         r"qui (?:s'occupe|gere|traite)", 3),
        (r"\bdecedee?\b|\bnotaire\b|\bmerci d'(?:ecrire|adresser|envoyer)\b", 2),
        (r"\b(?:ne (?:fait|fais|travaille|suis|s'occupe|m'occupe|gere) plus|a quitte|quitte (?:la societe|"
         r"l'entreprise|ses fonctions)|n'est plus (?:dans|chez|en poste|salarie|notre)|ne travaille plus|"
         r"plus partie (?:de|des) (?:nos|l'|la)|no longer (?:works?|with|at|in charge)|has left)\b", 3),
        (r"\b(?:mauvais|pas le bon|pas la bonne|mauvaise) (?:interlocut\w*|destinataire|contact|personne|adresse|"
         r"service|societe|client|entreprise)\b|\bwrong (?:person|contact|address|company|recipient)\b|"
         r"\bnot the right (?:person|contact)\b", 3),
        (r"\b(?:adressez[- ]vous|merci de (?:vous adresser|contacter|ecrire|transmettre|voir)|veuillez (?:contacter|"
         r"vous adresser|ecrire)|il faut (?:contacter|ecrire|voir)|(?:contactez|ecrivez|voyez)(?: plutot)?|"
         r"la bonne (?:personne|adresse|interlocutrice) (?:est|sera)|le bon (?:interlocuteur|contact) (?:est|sera)|"
         r"please (?:contact|write to|send (?:it|this|your invoices) to)|"
         r"transmis (?:a|au) (?:notre|mon|la|le|service))\b", 2),
        (r"\b(?:service (?:comptab\w*|compta|fournisseurs?|achats?|financier)|comptabilite fournisseurs?|"
         r"accounts payable|ap department|notre comptable|mon comptable|cabinet comptable|expert-comptable|"
         r"la compta)\b", 1),
        (r"[\w.+-]+@[\w-]+\.[\w.]+", 1),
        (r"\b(?:pas (?:concerne|client chez vous|la bonne societe)|ne (?:suis|sommes) pas (?:concerne|client)|"
         r"jamais (?:ete )?clients?|homonyme|n'avons jamais commande|not a customer|never ordered)\b", 2.5),
        (r"\b(?:cedee?|rachetee?|reprise? par|liquidation|nouvelle (?:adresse|societe|raison sociale|entite))\b", 1.5),
    ),
}
