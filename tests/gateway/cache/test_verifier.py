"""The verifier serves a near-match only on positive evidence that it asks the same thing,
in the four languages it reads, and refuses every other language."""

from __future__ import annotations

import pytest

from gateway.cache import language
from gateway.cache.verifier import Difference, difference

NEAR_MISSES = [
    ("Is it safe to eat raw eggs?", "Is it not safe to eat raw eggs?"),
    ("Why can dogs eat grapes?", "Why can't dogs eat grapes?"),
    ("Is this mushroom edible?", "Is this mushroom inedible?"),
    ("Is the bridge safe?", "Is the bridge unsafe?"),
    ("Convert 5 miles to km.", "Convert 50 miles to km."),
    ("Convert 1,000 miles to km.", "Convert 100 miles to km."),
    ("Give me three ideas.", "Give me four ideas."),
    ("What is the second tallest building?", "What is the tallest building?"),
    ("What is the capital of France?", "What is the capital of Spain?"),
    ("Who founded Apple?", "Who founded Microsoft?"),
    ("What is the weather in Paris on Monday?", "What is the weather in Paris on Friday?"),
    ("Will it rain today?", "Will it rain tomorrow?"),
    ("What happened in March 1969?", "What happened in July 1969?"),
    ("How do I center a div horizontally?", "How do I center a div vertically?"),
    ("What is the population of Tokyo?", "What is the population density of Tokyo?"),
    (
        "How long is the flight from London to Paris?",
        "How long is the flight from Paris to London?",
    ),
    ("How do I convert a string to an integer?", "How do I convert an integer to a string?"),
    ("How do I increase my credit score?", "How do I decrease my credit score?"),
    ("Is it a good time to buy a house?", "Is it a good time to sell a house?"),
    ("What is the height of a kitchen door?", "What is the width of a kitchen door?"),
    ("How do I open a file in Python?", "How do I create a file in Python?"),
    ("How do I start a Docker container?", "How do I stop a Docker container?"),
    ("Who wrote Hamlet?", "When was Hamlet written?"),
    ("Where was Mozart born?", "When was Mozart born?"),
    ("Why did the Roman Empire fall?", "How did the Roman Empire fall?"),
    ("Does smoking cause cancer?", "Does cancer cause smoking?"),
    ("Do all birds fly?", "Do some birds fly?"),
    ("Should I redirect HTTP to HTTPS?", "Should I redirect HTTPS to HTTP?"),
    ("Comment convertir des euros en dollars ?", "Comment convertir des dollars en euros ?"),
    ("What does 😀 mean?", "What does 😂 mean?"),
    ("How do I learn C++?", "How do I learn C?"),
    ("What is 5% of 200?", "What is 5 of 200?"),
    ("What is 3+4?", "What is 3*4?"),
    (
        "What time is it in Tokyo when it's noon in London?",
        "What time is it in London when it's noon in Tokyo?",
    ),
    (
        "Combien de cuillères à café dans une cuillère à soupe ?",
        "Combien de cuillères à soupe dans une cuillère à café ?",
    ),
    ("Je ne mange plus de viande, que faire ?", "Je mange plus de viande, que faire ?"),
    ("Faut-il déclarer tous les revenus ?", "Faut-il déclarer certains revenus ?"),
    ("Quel temps fera-t-il le 3 mars à Lyon ?", "Quel temps fera-t-il le 3 avril à Lyon ?"),
    (
        "¿Cómo paso dinero de mi cuenta de ahorro a la cuenta corriente?",
        "¿Cómo paso dinero de la cuenta corriente a mi cuenta de ahorro?",
    ),
    ("¿Se puede congelar el arroz cocido?", "¿No se puede congelar el arroz cocido?"),
    ("Wer hat Caesar ermordet?", "Wen hat Caesar ermordet?"),
    ("Ist ein Kreis immer eine Ellipse?", "Ist eine Ellipse immer ein Kreis?"),
    ("Wie sortiere ich eine Liste absteigend?", "Wie sortiere ich eine Liste aufsteigend?"),
    (
        "Bekomme ich Kindergeld, wenn ich in Deutschland arbeite, aber nicht hier wohne?",
        "Bekomme ich Kindergeld, wenn ich in Deutschland wohne, aber nicht hier arbeite?",
    ),
]


@pytest.mark.parametrize(("cached", "query"), NEAR_MISSES)
def test_near_misses_are_refused_both_ways(cached: str, query: str) -> None:
    assert difference(query, cached) is not None
    assert difference(cached, query) is not None


@pytest.mark.parametrize(
    ("cached", "query", "kind"),
    [
        ("Is it safe to eat raw eggs?", "Is it not safe to eat raw eggs?", Difference.NEGATION),
        ("Convert 5 miles to km.", "Convert 50 miles to km.", Difference.NUMBER),
        ("What happened in March 1969?", "What happened in July 1969?", Difference.DATE),
        ("Do all birds fly?", "Do some birds fly?", Difference.QUANTIFIER),
        ("Where was Mozart born?", "Why was Mozart born?", Difference.QUESTION),
        ("Who founded Apple?", "Who founded Microsoft?", Difference.ENTITY),
        ("Does smoking cause cancer?", "Does cancer cause smoking?", Difference.ORDER),
        (
            "How long is the flight from London to Paris?",
            "How long is the flight from Paris to London?",
            Difference.ORDER,
        ),
    ],
)
def test_a_refusal_names_its_reason(cached: str, query: str, kind: Difference) -> None:
    assert difference(query, cached) is kind


@pytest.mark.parametrize(
    ("cached", "query"),
    [
        ("How do I reverse a list in Python?", "In Python, how do you reverse a list?"),
        ("How do I reverse a list in Python?", "how do i reverse a list in pyhton"),
        ("what is the capital of france?", "What is the capital of France?"),
        ("Is the Louvre open on Tuesday?", "Is the Louvre open on Tuesdays?"),
        ("Explain how photosynthesis works.", "How does photosynthesis work?"),
        (
            "What is the difference between TCP and UDP?",
            "What's the difference between UDP and TCP?",
        ),
        (
            "What's the difference between baking soda and baking powder?",
            "Hi! What's the difference between baking powder and baking soda? Thanks in advance",
        ),
        (
            "If I freeze bread, how long will it stay good?",
            "How long will bread stay good if I freeze it?",
        ),
        (
            "How do I add a new user to sudoers on Ubuntu?",
            "ubuntu - how do i add a new user to sudoers",
        ),
        (
            "Comment inverser une liste en Python ?",
            "Bonjour, comment on fait pour inverser une liste en python svp ? Merci d'avance",
        ),
        ("Peut-on congeler du riz cuit ?", "Peut on congeler du riz cuti ?"),
        ("Comment dit-on merci en allemand ?", "Bonjour ! Comment dit-on merci en allemand ? 😊"),
        ("What is 3 + 4?", "What is 3+4?"),
        (
            "¿Cómo puedo invertir una lista en Python?",
            "Hola, ¿cómo puedo invertir una lista en Python? Gracias",
        ),
        (
            "¿Cómo elimino filas duplicadas en Google Sheets?",
            "En Google Sheets, ¿cómo elimino filas duplicadas?",
        ),
        (
            "Wie kann ich eine Liste in Python umkehren?",
            "Hallo, wie kann ich in Python eine Liste umkehren?",
        ),
        (
            "Könnten Sie mir bitte sagen, wie man den Umfang eines Kreises berechnet?",
            "Wie berechnet man den Umfang eines Kreises?",
        ),
    ],
)
def test_the_same_question_written_otherwise_passes(cached: str, query: str) -> None:
    assert difference(query, cached) is None
    assert difference(cached, query) is None


@pytest.mark.parametrize(
    ("cached", "query"),
    [
        ("Come posso invertire una lista in Python?", "Come posso invertire una lista in Python?!"),
        ("Como posso inverter uma lista em Python?", "Como posso inverter uma lista em Python"),
        ("Hoe kan ik een lijst omkeren in Python?", "Hoe kan ik een lijst in Python omkeren?"),
        ("How do I reverse a list in Python?", "Comment inverser une liste en Python ?"),
    ],
)
def test_a_language_it_cannot_judge_is_refused(cached: str, query: str) -> None:
    assert difference(query, cached) is Difference.LANGUAGE


def test_each_language_is_known() -> None:
    assert language.detect("How do I reverse a list in Python?") == "en"
    assert language.detect("Comment inverser une liste en Python ?") == "fr"
    assert language.detect("¿Cómo puedo invertir una lista en Python?") == "es"
    assert language.detect("Wie kann ich eine Liste in Python umkehren?") == "de"
    assert language.detect("Come posso invertire una lista in Python?") is None
    assert language.detect("12345 ?!") is None
