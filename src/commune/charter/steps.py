"""The charter's five steps, in their order; each a small unit returning a decision and its
reason, in the language of the question.

1. refuse: the charter excludes the request, or the member's energy budget is spent.
2. reduce: the cheapest answer that suffices (the cache, or extraction that clears the
   collection's quality floor).
3. regulate: the quotas.
4. responsibility: the record of these decisions, under the charter's retention.
5. redirect: the smallest allowed model whose last evaluation clears the floor; extraction
   when none does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from commune.charter.catalogue import ModelCard, allowed, judge
from commune.charter.rules import Charter
from commune.govern.quotas import amount, figure, month, waiting
from commune.text.analysis import analyze
from commune.text.numbers import exact, percent, plural
from commune.text.say import prose

STEPS = ("refuse", "reduce", "regulate", "responsibility", "redirect")


@dataclass(frozen=True)
class Step:
    step: str
    outcome: str
    reason: str
    rule: str | None = None  # the charter rule that decided, where one did

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def _figure(value: float, spec: str, language: str) -> str:
    """A figure in the reason's language: "0,013 Wh" in French, "0.013 Wh" in English (as
    the catalogue writes the per-request cap's)."""
    text = format(value, spec)
    return text.replace(".", ",") if language == "fr" else text


def _terms(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """The text's terms as French reads it, then as English does (stems, accents folded, that
    language's stop words left out)."""
    return frozenset(analyze(text, "fr")), frozenset(analyze(text, "en"))


@lru_cache(maxsize=1024)
def _phrase_terms(phrase: str) -> tuple[frozenset[str], frozenset[str]]:
    """A refusal rule's phrase, analysed once per process rather than on every request."""
    return _terms(phrase)


def _says(asked: tuple[frozenset[str], frozenset[str]], phrase: str) -> bool:
    """Whether the question holds every word of ``phrase``, read in one language at a time.
    Read in both at once, one language's stop words were the other's words: the "un" of
    "évaluer un candidat" (a word to English) had to be in the question, so that "évaluer ce
    candidat" or "rate my employee" (for "rate an employee") escaped the rule."""
    return any(
        terms and terms <= question
        for terms, question in zip(_phrase_terms(phrase), asked, strict=True)
    )


def _renews(language: str, at: datetime) -> str:
    """When a member's monthly energy budget renews: the wait, then the UTC time, as a full
    quota says it (govern/quotas.QuotaExceeded): the month is UTC's, and a wait reads the
    same in every time zone."""
    end = month(at).end
    wait = waiting(max(1, int((end - at).total_seconds())))
    when = f"{end:%Y-%m-%d}"
    return prose(
        language,
        f"il se renouvelle dans {wait.replace(' days', ' jours')}, le {when} à "
        f"{end:%H:%M}, heure UTC",
        f"it renews in {wait}, on {when} {end:%H:%M} UTC",
    )


def refuse(
    charter: Charter,
    question: str,
    language: str,
    declared_use: str | None,
    member_month_wh: float | None,
    *,
    at: datetime | None = None,
) -> Step:
    """Refused when a refusal rule matches (a word or phrase of the question, or the
    member's declared use), or the member's monthly energy budget is spent (``at``: when the
    request came, in UTC; now when not given), saying when it renews."""
    asked = _terms(question)
    for rule in charter.utility.refuse:
        if declared_use is not None and declared_use in rule.uses:
            why = prose(
                language,
                f"l'usage déclaré par votre membre ({declared_use}) est exclu par la charte",
                f"your member's declared use ({declared_use}) is excluded by the charter",
            )
            return Step("refuse", "refused", f"{rule.message(language)} ({why})", rule.name)
        for phrase in rule.words:
            if _says(asked, phrase):
                why = prose(
                    language,
                    "règle « {rule} » de la charte : « {phrase} »",
                    "charter rule '{rule}': '{phrase}'",
                    rule=rule.name,
                    phrase=phrase,  # the charter's words, as it writes them (text/say.prose)
                )
                return Step("refuse", "refused", f"{rule.message(language)} ({why})", rule.name)
    cap = charter.sobriety.member_month_wh_cap
    if cap is not None and member_month_wh is not None and member_month_wh >= cap:
        return Step(
            "refuse",
            "refused",
            prose(
                language,
                "le budget énergétique mensuel de votre membre est épuisé "
                f"({_figure(member_month_wh, '.3g', 'fr')} Wh sur "
                f"{figure(cap).replace('.', ',')} Wh) : {{renews}}",
                # The cap as its charter sets it, without ":g"'s exponent: 1,000,000 Wh read
                # "1e+06 Wh" (govern/quotas.figure).
                f"your member's monthly energy budget is spent ({member_month_wh:.3g} Wh of "
                f"{figure(cap)} Wh): {{renews}}",
                # Said, as a full quota says it: the reason alone left the asker guessing
                # whether asking again tomorrow would do.
                renews=_renews(language, at or datetime.now(UTC)),
            ),
            "sobriety.member_month_wh_cap",
        )
    n = len(charter.utility.refuse)
    if n == 0:
        said = ("la charte ne fixe aucune règle de refus", "the charter sets no refusal rule")
    elif n == 1:  # « aucune des 1 règles » in every reply under a charter of one rule
        said = (
            "l'unique règle de refus de la charte ne s'applique pas",
            "the charter's one refusal rule does not apply",
        )
    else:
        said = (
            f"aucune des {n} règles de refus ne s'applique",
            f"none of the charter's {n} refusal rules applies",
        )
    return Step("refuse", "pass", prose(language, *said))


def reduce(
    charter: Charter,
    language: str,
    mode: str,
    cached: Any | None,
    extractive_score: float | None,
    scored_on: list[str],
    floor: float,
) -> Step:
    """The cheapest answer that suffices: a cached one, else extraction when evaluation
    shows it clears the floor (or when extraction was asked for)."""
    if cached is not None:
        if cached.cosine >= 0.9999:
            what = prose(language, "la même question", "the same question")
        else:
            what = prose(
                language,
                f"une question presque identique (cosinus {cached.cosine:.3f})",
                f"a near-duplicate question (cosine {cached.cosine:.3f})",
            )
        return Step(
            "reduce",
            "cached",
            prose(
                language,
                f"{what} a déjà reçu une réponse il y a {cached.age_s / 60:.0f} min, sur le même "
                "état des documents : réponse reprise du cache",
                f"{what} was answered {cached.age_s / 60:.0f} min ago on the same state of the "
                "documents: answer served from the cache",
            ),
            "sobriety.cache",
        )
    if mode == "extractive":
        return Step(
            "reduce",
            "extractive",
            prose(
                language,
                "une réponse par citation des sources a été demandée",
                "an answer quoting the sources was asked for",
            ),
        )
    where = ", ".join(scored_on)
    if mode == "generate":
        return Step(
            "reduce",
            "pass",
            prose(
                language,
                "une réponse rédigée par un modèle a été demandée",
                "an answer written by a model was asked for",
            ),
        )
    if charter.sobriety.mode_preference != "extractive-first":
        return Step(
            "reduce",
            "pass",
            prose(
                language,
                "la charte préfère la rédaction par un modèle : un modèle est cherché d'abord",
                "the charter prefers generation: a model is looked for first",
            ),
            "sobriety.mode_preference",
        )
    if extractive_score is not None and extractive_score >= floor:
        return Step(
            "reduce",
            "extractive",
            prose(
                language,
                f"l'extraction suffit : {percent(extractive_score, 0, 'fr')} de réponses justes à "
                f"l'évaluation sur {where}, seuil {percent(floor, 0, 'fr')}",
                f"extraction suffices: {extractive_score:.0%} correct in evaluation on {where}, "
                f"floor {floor:.0%}",
            ),
            "sobriety.quality_floor",
        )
    if extractive_score is None:
        why = prose(
            language,
            "l'extraction n'a pas été évaluée sur ces collections",
            "extraction has not been evaluated on these collections",
        )
    else:
        why = prose(
            language,
            f"l'extraction obtient {percent(extractive_score, 0, 'fr')} sur {where}, sous le "
            f"seuil de {percent(floor, 0, 'fr')}",
            f"extraction scores {extractive_score:.0%} on {where}, under the floor of {floor:.0%}",
        )
    return Step(
        "reduce",
        "pass",
        why + prose(language, " : un modèle est cherché", ": a model is looked for"),
    )


# A quota's words after its limit, one and several: French takes the one below two ("sur 1
# requête par jour"), as `commune member list` says it (cli/cooperative.FRENCH_QUOTAS).
_LABELS_FR = {
    "requests per day": ("requête par jour", "requêtes par jour"),
    "tokens per month": ("jeton par mois", "jetons par mois"),
    "Wh per month": ("Wh par mois", "Wh par mois"),
}


# text/messages.WHO, without loading that module on every request.
_WHO_FR = {"member": "le membre", "user": "l'utilisateur"}


def regulate(language: str, tightest: Any | None) -> Step:
    if tightest is None:
        return Step(
            "regulate",
            "pass",
            prose(
                language,
                "aucun quota ne s'applique à ce demandeur",
                "no quota applies to this caller",
            ),
        )
    # The words the quota error uses (text/messages.WHO): one name for one person. The
    # owner's kind only, its name as written: replaced in the whole text, a member named
    # "Club des user groups" read « le membre 'Club des l'utilisateur groups' ».
    kind, _, name = tightest.who.partition(" ")
    who_fr = f"{_WHO_FR.get(kind, kind)} {name}"
    one, many = _LABELS_FR.get(tightest.label, (tightest.label, tightest.label))
    unit_fr = one if abs(tightest.limit) < 2 else many
    return Step(
        "regulate",
        "pass",
        prose(
            language,
            f"dans les quotas : {{who}} a utilisé {figure(tightest.used).replace('.', ',')} "
            f"sur {figure(tightest.limit).replace('.', ',')} {unit_fr}",
            f"within quota: {{who}} used {figure(tightest.used)} of "
            f"{amount(tightest.label, tightest.limit)}",
            # A value, put in as written (text/say.prose): a name's "?" or "!" is not spaced.
            who=who_fr if language.lower().startswith("fr") else tightest.who,
        ),
    )


def over_quota(language: str, message: str) -> Step:
    """The quota's own message, in the question's language like every other step's reason
    (a French question's record kept it in English)."""
    from commune.text.messages import localise

    return Step("regulate", "over-quota", localise(message, language), "quotas")


def responsibility(charter: Charter, language: str, cached: bool = False) -> Step:
    """Where the decisions are kept, how long, and with what of the question; ``cached``:
    this request's answer may be kept in the answer cache, its question's text with it."""
    days = charter.utility.retention_days
    kept = charter.utility.keep_question == "text"
    # The answer cache keeps the question's text beside the answer (a near-duplicate is
    # told by its words, answering/cache.same_words), and its embedding, for the cache's
    # lifetime: "with only the question's hash" alone said the text was kept nowhere.
    hours = charter.sobriety.cache_ttl_hours
    also = ("", "")
    if cached and not kept:
        # Every decimal the charter gives (0.25 hours), as French and English count them.
        fr_h = f"{exact(hours, 'fr')} heure" + ("" if hours < 2 else "s")
        en_h = f"{exact(hours, 'en')} hour" + ("" if hours == 1 else "s")
        also = (
            f" ; le cache des réponses en garde le texte {fr_h} au plus",
            f"; the answer cache keeps its text for up to {en_h}",
        )
    return Step(
        "responsibility",
        "recorded",
        prose(
            language,
            # "1 jours", "1 days" under a retention of one day.
            "ces décisions sont consignées et gardées "
            + plural("fr", days, "{n} jour", "{n} jours")
            + (
                ", avec le texte de la question"
                if kept
                else ", avec l'empreinte de la question seulement"
            )
            + also[0],
            "these decisions are recorded and kept "
            + plural("en", days, "{n} day", "{n} days")
            + (", with the question's text" if kept else ", with only the question's hash")
            + also[1],
        ),
        "utility.retention_days",
    )


def redirect(
    charter: Charter,
    language: str,
    mode: str,
    reduced: str,
    requested: ModelCard | None,
    cards: list[ModelCard],
    scores: dict[str, float | None],
    collections: set[str],
    floor: float,
    estimated_tokens: int,
    *,
    from_peers: bool = False,
) -> tuple[Step, ModelCard | None]:
    """Choose who answers: extraction (no model), the model asked for if the charter
    allows it, else the smallest allowed model whose evaluation clears the floor.
    ``from_peers``: peer cooperatives' passages are in reach (only a local model then)."""
    if reduced == "cached":
        return Step(
            "redirect",
            "none",
            prose(language, "aucun modèle : réponse du cache", "no model: answer from the cache"),
        ), None
    if reduced == "extractive":
        return Step(
            "redirect",
            "extractive",
            prose(
                language,
                "aucun modèle : les phrases des sources sont citées",
                "no model: the sources' sentences are quoted",
            ),
        ), None
    if requested is not None:
        rule, why = judge(
            requested, charter, collections, language, estimated_tokens, from_peers=from_peers
        )
        if rule is None:
            return Step("redirect", "generate", why), requested
        return Step(
            "redirect",
            "extractive",
            why + prose(language, " : réponse par extraction", ": answered by extraction"),
            rule,
        ), None
    rejected = []
    for card in cards:
        ok, why = allowed(
            card, charter, collections, language, estimated_tokens, from_peers=from_peers
        )
        if not ok:
            rejected.append(why)
            continue
        score = scores.get(card.name)
        if score is None:
            rejected.append(
                prose(language, f"{card.name} : pas encore évalué", f"{card.name}: not evaluated")
            )
            continue
        if score < floor:
            rejected.append(
                prose(
                    language,
                    f"{card.name} : {percent(score, 0, 'fr')} à l'évaluation, sous le seuil de "
                    f"{percent(floor, 0, 'fr')}",
                    f"{card.name}: {score:.0%} in evaluation, under the floor of {floor:.0%}",
                )
            )
            continue
        return Step(
            "redirect",
            "generate",
            prose(
                language,
                f"{card.name}, le plus petit modèle admis qui atteint le seuil "
                f"({percent(score, 0, 'fr')} ≥ {percent(floor, 0, 'fr')})",
                f"{card.name}, the smallest allowed model that clears the floor ({score:.0%} ≥ "
                f"{floor:.0%})",
            ),
            "sobriety.quality_floor",
        ), card
    if not cards:
        return Step(
            "redirect",
            "extractive",
            prose(
                language,
                "aucun modèle n'est configuré : réponse par extraction",
                "no model is configured: answered by extraction",
            ),
        ), None
    detail = prose(language, " ; ", "; ").join(rejected)  # French spaces its semicolon
    return Step(
        "redirect",
        "extractive",
        prose(
            language,
            f"aucun modèle admis n'atteint le seuil ({detail}) : réponse par extraction",
            f"no allowed model clears the floor ({detail}): answered by extraction",
        ),
        "sobriety.quality_floor",
    ), None


def override_notice(
    language: str,
    mode: str,
    requested: ModelCard | None,
    chosen: ModelCard | None,
    redirect_step: Step,
) -> str | None:
    """One line for the reply when the charter answers otherwise than asked (extraction or
    another model instead of the model asked for), with the redirect's reason; None when it
    answers as asked (or nothing in particular was asked: mode auto)."""
    if mode != "generate" or requested is None:
        return None
    if chosen is not None and chosen.name == requested.name:
        return None
    instead = (
        prose(language, f"le modèle {chosen.name}", f"model {chosen.name}")
        if chosen is not None
        else prose(language, "une citation des sources", "quoting the sources")
    )
    return prose(
        language,
        f"La charte a répondu par {instead} au lieu du modèle {requested.name} demandé : "
        f"{redirect_step.reason}",
        f"The charter answered by {instead} instead of the model {requested.name} you asked "
        f"for: {redirect_step.reason}",
    )


def refusal_notice(language: str, step: Step) -> str:
    """The one line a refused request's reply carries, naming the rule that refused it."""
    rule = step.rule or "charter"
    return prose(
        language,
        f"Demande refusée par la charte (règle « {rule} »)",
        f"Request refused by the charter (rule '{rule}')",
    )
