"""The languages the cache verifier reads, each its closed word classes."""

from __future__ import annotations

from gateway.cache.languages.english import ENGLISH
from gateway.cache.languages.french import FRENCH
from gateway.cache.languages.german import GERMAN
from gateway.cache.languages.spanish import SPANISH
from gateway.cache.lexicon import LANGUAGES, Lexicon

LEXICONS: dict[str, Lexicon] = {lex.language: lex for lex in (ENGLISH, FRENCH, SPANISH, GERMAN)}
assert tuple(LEXICONS) == LANGUAGES
