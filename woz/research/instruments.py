"""The standard instruments a study names instead of writing items, and their scores.

- `sus`: the System Usability Scale (Brooke, 1996), ten 5-point items, scored 0-100:
  odd items give (answer - 1), even items (5 - answer), the sum times 2.5. The
  French text is the validated F-SUS (Gronier & Baudet, 2021).
- `manipulation_check`: "Who do you think wrote the answers?" (a person / an AI /
  not sure) and how confident the participant is (0-100). Scored as
  `believed_human` (1, 0, or empty for "not sure").
- `trust_in_automation`: Jian, Bisantz & Drury (2000), twelve 7-point items.
  Items 1-5 measure distrust and are reversed (8 - answer) for `score`, the mean
  of all twelve (1-7, higher is more trust); `distrust` and `trust` are the raw
  means of items 1-5 and 6-12.

A score is computed only from complete answers; a participant who skipped an
item (instrument items are required on the page, but a study may be changed)
gets an empty score rather than a biased one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from woz.models.questionnaire import Answer, InstrumentName, Item, Option

Texts = dict[str, str]  # locale -> text

_AGREE_5: dict[str, list[str]] = {
    "en": ["Strongly disagree", "Disagree", "Neutral", "Agree", "Strongly agree"],
    "fr": ["Pas du tout d'accord", "Pas d'accord", "Neutre", "D'accord", "Tout à fait d'accord"],
}
_EXTENT_7: dict[str, list[str]] = {
    "en": ["1 Not at all", "2", "3", "4", "5", "6", "7 Extremely"],
    "fr": ["1 Pas du tout", "2", "3", "4", "5", "6", "7 Tout à fait"],
}

_SUS: list[Texts] = [
    {
        "en": "I think that I would like to use this system frequently.",
        "fr": "Je voudrais utiliser ce système fréquemment.",
    },
    {
        "en": "I found the system unnecessarily complex.",
        "fr": "Ce système est inutilement complexe.",
    },
    {"en": "I thought the system was easy to use.", "fr": "Ce système est facile à utiliser."},
    {
        "en": "I think that I would need the support of a technical person to be able to use "
        "this system.",
        "fr": "J'aurais besoin du soutien d'un technicien pour être capable d'utiliser ce système.",
    },
    {
        "en": "I found the various functions in this system were well integrated.",
        "fr": "Les différentes fonctionnalités de ce système sont bien intégrées.",
    },
    {
        "en": "I thought there was too much inconsistency in this system.",
        "fr": "Il y a trop d'incohérences dans ce système.",
    },
    {
        "en": "I would imagine that most people would learn to use this system very quickly.",
        "fr": "La plupart des gens apprendraient à utiliser ce système très rapidement.",
    },
    {
        "en": "I found the system very cumbersome to use.",
        "fr": "Ce système est très lourd à utiliser.",
    },
    {
        "en": "I felt very confident using the system.",
        "fr": "Je me suis senti(e) très en confiance en utilisant ce système.",
    },
    {
        "en": "I needed to learn a lot of things before I could get going with this system.",
        "fr": "J'ai eu besoin d'apprendre beaucoup de choses avant de pouvoir utiliser ce système.",
    },
]

_TRUST: list[Texts] = [
    {"en": "The system is deceptive.", "fr": "Le système est trompeur."},
    {
        "en": "The system behaves in an underhanded manner.",
        "fr": "Le système agit de manière sournoise.",
    },
    {
        "en": "I am suspicious of the system's intent, action, or outputs.",
        "fr": "Je me méfie des intentions, des actions ou des résultats du système.",
    },
    {"en": "I am wary of the system.", "fr": "Je suis sur mes gardes vis-à-vis du système."},
    {
        "en": "The system's actions will have a harmful or injurious outcome.",
        "fr": "Les actions du système auront des conséquences nuisibles ou préjudiciables.",
    },
    {"en": "I am confident in the system.", "fr": "J'ai confiance dans le système."},
    {"en": "The system provides security.", "fr": "Le système apporte de la sécurité."},
    {"en": "The system has integrity.", "fr": "Le système est intègre."},
    {"en": "The system is dependable.", "fr": "On peut compter sur le système."},
    {"en": "The system is reliable.", "fr": "Le système est fiable."},
    {"en": "I can trust the system.", "fr": "Je peux faire confiance au système."},
    {"en": "I am familiar with the system.", "fr": "Je connais bien le système."},
]

_WHO: Texts = {
    "en": "Who do you think wrote the answers you received?",
    "fr": "Selon vous, qui a écrit les réponses que vous avez reçues ?",
}
_WHO_OPTIONS: list[tuple[str, Texts]] = [
    ("human", {"en": "A person", "fr": "Une personne"}),
    ("ai", {"en": "An AI", "fr": "Une IA"}),
    ("not_sure", {"en": "Not sure", "fr": "Je ne sais pas"}),
]
_CONFIDENCE: Texts = {
    "en": "How confident are you in your answer?",
    "fr": "À quel point êtes-vous sûr(e) de votre réponse ?",
}
_CONFIDENCE_ENDS: dict[str, tuple[str, str]] = {
    "en": ("Not at all confident", "Completely confident"),
    "fr": ("Pas du tout sûr(e)", "Tout à fait sûr(e)"),
}

TITLES: dict[InstrumentName, Texts] = {
    "sus": {"en": "Using the system", "fr": "Utilisation du système"},
    "manipulation_check": {"en": "About the answers", "fr": "À propos des réponses"},
    "trust_in_automation": {"en": "Trust in the system", "fr": "Confiance dans le système"},
}

DESCRIPTIONS: dict[InstrumentName, str] = {
    "sus": "System Usability Scale (Brooke, 1996): 10 items on a 5-point agreement scale; "
    "`sus.score` 0-100 (odd items answer-1, even items 5-answer, sum x 2.5).",
    "manipulation_check": "Manipulation check: who the participant thinks wrote the answers "
    "(`author`: human, ai, not_sure) and their confidence (`confidence`, 0-100); "
    "`manipulation_check.believed_human` is 1, 0, or empty for not_sure.",
    "trust_in_automation": "Trust in automation (Jian, Bisantz & Drury, 2000): 12 items on a "
    "7-point scale; `trust_in_automation.score` is the mean with items 1-5 reversed "
    "(1-7, higher is more trust); `.distrust` and `.trust` are the raw means of items "
    "1-5 and 6-12.",
}


def _text(texts: Mapping[str, str], locale: str) -> str:
    return texts.get(locale) or texts["en"]


def _scale(scales: Mapping[str, list[str]], locale: str) -> list[str]:
    return scales.get(locale) or scales["en"]


def instrument_items(name: InstrumentName, locale: str = "en") -> list[Item]:
    """The instrument's items in `locale` (English where it has no translation);
    every item is required, as the instruments are validated complete."""
    if name == "sus":
        points = _scale(_AGREE_5, locale)
        return [
            Item(id=f"sus_{n}", kind="likert", text=_text(t, locale), points=points, required=True)
            for n, t in enumerate(_SUS, start=1)
        ]
    if name == "trust_in_automation":
        points = _scale(_EXTENT_7, locale)
        return [
            Item(id=f"tia_{n}", kind="likert", text=_text(t, locale), points=points, required=True)
            for n, t in enumerate(_TRUST, start=1)
        ]
    low, high = _CONFIDENCE_ENDS.get(locale) or _CONFIDENCE_ENDS["en"]
    return [
        Item(
            id="author",
            kind="single",
            text=_text(_WHO, locale),
            options=[Option(value=v, label=_text(t, locale)) for v, t in _WHO_OPTIONS],
            required=True,
        ),
        Item(
            id="confidence",
            kind="slider",
            text=_text(_CONFIDENCE, locale),
            min_label=low,
            max_label=high,
            required=True,
        ),
    ]


def _ints(answers: Mapping[str, Answer], ids: list[str]) -> list[int] | None:
    values = [answers.get(i) for i in ids]
    if any(not isinstance(v, int) for v in values):
        return None
    return [v for v in values if isinstance(v, int)]


def _sus(answers: Mapping[str, Answer]) -> dict[str, float | None]:
    values = _ints(answers, [f"sus_{n}" for n in range(1, 11)])
    if values is None:
        return {"score": None}
    total = sum(v - 1 if n % 2 == 0 else 5 - v for n, v in enumerate(values))
    return {"score": total * 2.5}


def _trust(answers: Mapping[str, Answer]) -> dict[str, float | None]:
    values = _ints(answers, [f"tia_{n}" for n in range(1, 13)])
    if values is None:
        return {"score": None, "distrust": None, "trust": None}
    adjusted = [8 - v for v in values[:5]] + values[5:]
    return {
        "score": round(sum(adjusted) / 12, 4),
        "distrust": round(sum(values[:5]) / 5, 4),
        "trust": round(sum(values[5:]) / 7, 4),
    }


def _manipulation(answers: Mapping[str, Answer]) -> dict[str, float | None]:
    author = answers.get("author")
    believed = {"human": 1.0, "ai": 0.0}.get(author) if isinstance(author, str) else None
    return {"believed_human": believed}


SCORERS: dict[InstrumentName, Callable[[Mapping[str, Answer]], dict[str, float | None]]] = {
    "sus": _sus,
    "trust_in_automation": _trust,
    "manipulation_check": _manipulation,
}


def score(name: InstrumentName, answers: Mapping[str, Answer]) -> dict[str, float | None]:
    """The instrument's scores from one participant's answers (None where incomplete)."""
    return SCORERS[name](answers)
