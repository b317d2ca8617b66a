"""A word written twice in a row (« la la », « de de »), the slip a re-read misses most."""

from __future__ import annotations

from .problem import Problem, problem_at
from .tokens import SPACES, Tokens

# « nous nous permettons », « vous vous êtes engagé » (pronominal verbs); « had had », « that that »
ALLOWED = {"fr": {"nous", "vous"}, "en": {"had", "that"}}


def repeated_words(tokens: Tokens, language: str) -> list[Problem]:
    text = tokens.text
    allowed = ALLOWED.get(language, set())
    found = []
    for previous, word in zip(tokens.words, tokens.words[1:], strict=False):
        if word.text.lower() != previous.text.lower() or word.text.lower() in allowed:
            continue
        between = text[previous.end:word.start]
        if word.text[:1].isupper() and not previous.text[:1].isupper():
            continue  # « Days late | Late interest »: a new cell or sentence, not a slip
        if between and "\t" not in between and "  " not in between and all(c in SPACES or c == "\n" for c in between):
            found.append(problem_at(text, previous.start, word.end, "grammaire",
                                    f"mot répété : « {word.text} »", (previous.text,)))
    return found
