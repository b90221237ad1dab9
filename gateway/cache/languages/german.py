"""German: the closed word classes the verifier reads (``gateway.cache.lexicon``)."""

from __future__ import annotations

from gateway.cache.lexicon import INTERJECTIONS, Lexicon, classes, dates, numbers, phrases, words

# fmt: off
GERMAN = Lexicon(
    language="de",
    stemmer="german",
    ignorable=INTERJECTIONS
    | words(
        """der die das den dem des ein eine einen einem einer eines ich mich mir mein meine
        meinen meinem meiner du dich dir dein deine deinen er sie es ihn ihm ihr ihre ihren
        ihrem wir uns unser unsere euch euer sich man ist sind war waren bin bist sein
        gewesen wird werden wurde wurden hat habe hast haben hatte kann kannst koennen
        koennte koenntest koennten tun tut mache macht machen was welche welcher welches
        welchen wie denn eigentlich mal doch ja bitte halt eben genau also so hier da dies
        diese dieser dieses diesen diesem art weise dann erklaeren erklaere erklaer erklaert"""
    ),
    phrases=phrases(
        """
        danke im voraus
        vielen dank im voraus
        vielen dank
        danke schoen
        danke
        bitte
        hallo
        hi
        guten tag
        moin
        servus
        kurze frage
        eine kurze frage
        ich habe eine frage
        ich haette eine frage
        ich wollte fragen
        ich wollte mal fragen
        ich moechte wissen
        ich wuerde gerne wissen
        ich wuesste gerne
        ich frage mich
        weisst du
        wissen sie
        weiss jemand
        kannst du mir sagen
        koennen sie mir sagen
        koenntest du mir sagen
        koennten sie mir sagen
        sag mir
        sagen sie mir
        kannst du mir erklaeren
        koennen sie mir erklaeren
        erklaer mir
        erklaere mir
        hilf mir zu verstehen
        was ist der beste weg
        was ist die beste methode
        der beste weg
        am besten
        gibt es eine moeglichkeit
        gibt es einen weg
        ist es moeglich
        wie kann ich
        wie kann man
        wie koennen wir
        wie mache ich
        wie macht man
        wie geht
        auf welche weise
        uebrigens
        kurz gesagt
        hallo zusammen
        hallo leute
        hi leute
        hey leute
        liebe gruesse
        lg
        mfg
        viele gruesse
        gruss
        aus neugier
        nur aus neugier
        ich bin neu hier
        ich bin anfaenger
        anfaengerfrage
        dumme frage
        es ist dringend
        dringend
        ich brauche hilfe
        brauche hilfe
        hilfe
        fuer jede hilfe dankbar
        danke fuer die hilfe
        danke fuer eure hilfe
        jemand eine idee
        hat jemand eine idee
        irgendwelche tipps
        tipps
        eigentlich
        sozusagen
        aehm
        aeh
        also mal ehrlich
        mal ehrlich
        hab mal eine frage
        haette mal eine frage
        hab eine frage
        vielen dank schon mal
        danke schon mal
        schon mal danke
        guten abend
        guten morgen
        bin fuer jeden tipp dankbar
        fuer jeden tipp dankbar
        wuerden sie mir freundlicherweise
        koennten sie mir bitte sagen
        kannst du mir helfen zu verstehen
        koennen sie mir helfen zu verstehen
        kannst du
        koennen sie
        koenntest du
        koennten sie
        """
    ),
    negations=words(
        """nicht kein keine keinen keinem keiner keines nie niemals nichts niemand ohne
        weder nirgends nirgendwo keinesfalls keineswegs"""
    ),
    quantifiers=classes(
        {
            "alle allen aller alles ganz ganze ganzen": "all",
            "jeder jede jedes jeden jedem": "each",
            "einige einigen einiger manche manchen etwas": "some",
            "irgendein irgendeine irgendeinen irgendwelche": "any",
            "mehrere mehreren": "several", "viele vielen viel": "many",
            "wenige wenigen wenig": "few", "beide beiden": "both",
            "nur ausschliesslich einzig einzige": "only", "weniger": "less", "mehr": "more",
            "mindestens": "least", "hoechstens": "most",
            "entweder": "either", "sowohl": "both",
            "meisten meiste": "most",
        }
    ),
    markers=classes(
        {
            "zu zum zur": "zu", "von vom": "von", "nach": "nach", "aus": "aus",
            "in im ins": "in", "an am ans": "an", "auf aufs": "auf", "fuer": "fuer",
            "mit": "mit", "ueber": "ueber", "unter": "unter", "zwischen": "zwischen",
            "bei beim": "bei", "seit": "seit", "bis": "bis", "gegen": "gegen",
            "durch": "durch", "um": "um", "vor": "vor", "hinter": "hinter", "neben": "neben",
            "als": "als", "wenn": "wenn", "falls": "wenn", "weil": "weil", "ob": "ob",
            "dass": "dass", "waehrend": "waehrend", "nachdem": "nachdem", "bevor": "bevor",
            "gemaess": "gemaess", "laut": "laut", "trotz": "trotz", "statt": "statt",
            "anstatt": "statt", "ausser": "ausser", "pro": "pro", "je": "pro",
            "obwohl": "obwohl",
        }
    ),
    coordinators=classes({"und sowie": "and", "oder": "or", "vs versus": "vs"}),
    questions=classes({"wer": "who", "wen wem": "whom", "wessen": "whose", "wo wohin woher": "where", "warum wieso weshalb": "why", "wann": "when", "wieviel wieviele": "howmuch"}),
    numbers=numbers(
        """null eins zwei drei vier fuenf sechs sieben acht neun zehn elf zwoelf dreizehn
        vierzehn fuenfzehn sechzehn siebzehn achtzehn neunzehn""",
        "zwanzig dreissig vierzig fuenfzig sechzig siebzig achtzig neunzig",
        {
            "hundert": "100", "tausend": "1000", "million": "1e6", "millionen": "1e6",
            "milliarde": "1e9", "dutzend": "12", "haelfte": "0.5", "halb": "0.5",
            "halbe": "0.5", "viertel": "0.25", "erste": "1st", "ersten": "1st",
            "erster": "1st", "zweite": "2nd", "zweiten": "2nd", "dritte": "3rd",
            "dritten": "3rd", "vierte": "4th", "fuenfte": "5th", "letzte": "last",
            "letzten": "last", "doppelt": "2x", "dreifach": "3x", "zwei-mal": "2x",
        },
    ),
    patterns=(
        r"(?:kannst|koenntest) du(?: mir)?(?: bitte)?(?: mal)?(?: kurz)? "
        r"(?:sagen|erklaeren|helfen(?: zu verstehen)?)",
        r"(?:koennen|koennten|wuerden) sie(?: mir)?(?: bitte)?(?: freundlicherweise)? "
        r"(?:sagen|erklaeren|helfen(?: zu verstehen)?)",
        r"(?:ich moechte|ich wuerde gerne|ich wuerde gern|ich wuesste gerne|ich wuesste gern) "
        r"(?:mal )?(?:wissen|verstehen)",
        r"(?:weiss|kennt) (?:jemand|einer|wer)",
        r"(?:eine )?(?:kurze|schnelle|dumme|einfache) frage",
        r"(?:vielen |tausend |besten )?dank(?:e)?(?: schoen)?(?: im voraus| schon mal| vorab)?"
        r"(?: fuer (?:die|eure|ihre|deine) (?:hilfe|antwort|antworten))?",
        r"(?:hallo|hi|hey|moin|servus|gruess gott|guten tag)(?: zusammen| leute| alle| ihr)?",
        r"(?:fuer )?jede hilfe (?:ist )?willkommen",
    ),
    subordinators=words("wenn falls weil ob dass nachdem bevor waehrend obwohl"),
    settings=frozenset({"in", "auf", "mit", "unter", "bei", "an"}),
    dates=dates(
        months="januar februar maerz april mai juni juli august september oktober november dezember",
        abbreviations="jan feb maer apr _ jun jul aug sep okt nov dez",
        weekdays="montag dienstag mittwoch donnerstag freitag samstag sonntag",
        relative={"heute": "today", "morgen": "tomorrow", "gestern": "yesterday", "naechste": "next", "naechsten": "next", "naechster": "next", "naechstes": "next", "naechstem": "next"},
    ),
    determiners=words(
        """der die das den dem des ein eine einen einem einer eines mein meine meinen meinem
        meiner dein deine deinen sein seine seinen ihr ihre ihren unser unsere unseren
        dieser diese dieses diesen diesem"""
    ),
    verb_final=True,
    modals=classes({"soll sollte solltest sollen sollten": "should", "muss musst muessen": "must", "darf darfst duerfen": "may"}),
    asking={
        "wer": "who", "wen": "who", "wem": "who", "wessen": "who", "wann": "when",
        "wo": "where", "wohin": "where", "woher": "where", "warum": "why", "wieso": "why",
        "weshalb": "why", "wie viel": "amount", "wie viele": "amount", "wieviel": "amount",
        "wieviele": "amount",
    },
    negating_prefixes=("un", "miss", "nicht", "anti", "gegen", "de", "des", "ver"),
    opposed_prefixes=(("an", "ab"), ("ein", "aus"), ("auf", "ab"), ("auf", "zu"), ("hyper", "hypo")),
)
# fmt: on
