"""Spanish: the closed word classes the verifier reads (``gateway.cache.lexicon``)."""

from __future__ import annotations

from gateway.cache.lexicon import INTERJECTIONS, Lexicon, classes, dates, numbers, phrases, words

# fmt: off
SPANISH = Lexicon(
    language="es",
    stemmer="spanish",
    ignorable=INTERJECTIONS
    | words(
        """el la los las lo un una unos unas yo me mi mis mio tu te ti tus usted ustedes
        nosotros nos nuestro nuestra vosotros os el ella ellos ellas le les se su sus este
        esta estos estas ese esa esos esas eso esto es son era eran ser sido estar estoy
        esta estan he has ha hemos han hay habia puedo puedes puede podemos pueden podria
        podrias hacer hago hace hacen que cual cuales como bueno pues vale oye manera forma
        modo entonces explicar explica explicas explicame eh"""
    ),
    phrases=phrases(
        """
        por favor
        porfa
        porfavor
        gracias de antemano
        muchas gracias
        mil gracias
        gracias
        de antemano
        hola
        buenas
        buenos dias
        buenas tardes
        una pregunta
        una pregunta rapida
        pregunta rapida
        tengo una pregunta
        tengo una duda
        una duda
        quisiera saber
        me gustaria saber
        quiero saber
        necesito saber
        me pregunto
        me preguntaba
        me puedes decir
        me podrias decir
        me puede decir
        me podria decir
        puedes decirme
        podrias decirme
        dime
        digame
        sabes
        sabe usted
        alguien sabe
        me puedes explicar
        me podrias explicar
        puedes explicarme
        explicame
        ayudame a entender
        cual es la mejor manera de
        cual es la mejor forma de
        cual es la manera de
        cual es la forma de
        la mejor manera de
        la mejor forma de
        de que manera
        de que forma
        hay alguna manera de
        hay alguna forma de
        hay manera de
        hay forma de
        es posible
        como puedo
        como se puede
        como podemos
        como hago para
        como hacer para
        como se hace para
        como hago
        como se
        que es
        en resumen
        por cierto
        hola a todos
        buenas a todos
        hola chicos
        por curiosidad
        solo por curiosidad
        soy nuevo en esto
        soy nueva en esto
        soy principiante
        pregunta tonta
        es urgente
        urgente
        necesito ayuda
        ayuda por favor
        ayudame
        ayudenme
        cualquier ayuda es bienvenida
        se agradece cualquier ayuda
        agradezco cualquier ayuda
        algun consejo
        cualquier consejo se agradece
        se agradece cualquier consejo
        realmente
        gracias por la ayuda
        gracias por tu ayuda
        en realidad
        o sea
        bueno
        pues
        me puedes
        me podrias
        a ver
        queria saber
        queria preguntar
        quisiera preguntar
        me gustaria preguntar
        disculpe
        disculpa
        perdona
        perdone
        seria tan amable de
        serias tan amable de
        decirme
        indicarme
        necesito saberlo ya
        necesito saberlo
        me ayudas a entender
        me ayudarias a entender
        me explicas
        me podria indicar
        me puede indicar
        me podrias indicar
        podrias
        puedes
        """
    ),
    negations=words("no nunca jamas nada nadie ningun ninguna ninguno ningunos ningunas tampoco sin ni"),
    quantifiers=classes(
        {
            "todo toda todos todas entero entera": "all", "cada": "each",
            "algun alguna alguno algunos algunas": "some", "cualquier cualquiera": "any",
            "varios varias": "several", "muchos muchas mucho mucha": "many",
            "pocos pocas poco poca": "few", "ambos ambas": "both",
            "solo solamente unicamente unico unica": "only", "menos": "less", "mas": "more",
            "mayoria": "most",
        }
    ),
    markers=classes(
        {
            "a al": "a", "de del": "de", "en": "en", "con": "con", "por": "por",
            "para": "para", "entre": "entre", "hacia": "hacia", "desde": "desde",
            "hasta": "hasta", "sobre": "sobre", "bajo": "bajo", "ante": "ante", "tras": "tras",
            "contra": "contra", "durante": "durante", "si": "si", "cuando": "cuando",
            "porque": "porque", "antes": "antes", "despues": "despues", "segun": "segun",
            "mediante": "mediante", "via": "via", "encima": "encima", "debajo": "debajo",
            "dentro": "dentro", "fuera": "fuera", "aunque": "aunque", "mientras": "mientras",
        }
    ),
    coordinators=classes({"y e": "and", "o u": "or", "vs versus": "vs"}),
    questions=classes(
        {"quien quienes": "who", "donde adonde": "where", "quiwhy": "why", "cuanto cuanta cuantos cuantas": "howmuch"}
    ),
    numbers=numbers(
        """cero uno dos tres cuatro cinco seis siete ocho nueve diez once doce trece catorce
        quince dieciseis diecisiete dieciocho diecinueve""",
        "veinte treinta cuarenta cincuenta sesenta setenta ochenta noventa",
        {
            "cien": "100", "ciento": "100", "mil": "1000", "millon": "1e6", "millones": "1e6",
            "docena": "12", "mitad": "0.5", "medio": "0.5", "media": "0.5", "cuarto": "0.25",
            "primero": "1st", "primer": "1st", "primera": "1st", "segundo": "2nd",
            "segunda": "2nd", "tercero": "3rd", "tercer": "3rd", "tercera": "3rd",
            "cuarta": "4th", "quinto": "5th", "quinta": "5th", "ultimo": "last",
            "ultima": "last", "doble": "2x", "triple": "3x", "veintiuno": "21",
            "veintidos": "22", "veintitres": "23", "veinticuatro": "24", "veinticinco": "25",
        },
    ),
    patterns=(
        r"(?:me )?(?:puedes|podrias|podria|puede|pudieras|pudiera) (?:por favor )?"
        r"(?:decir|explicar|indicar|ayudar a entender|aclarar)(?:me)?",
        r"(?:me )?(?:dices|explicas|indicas|aclaras)",
        r"(?:quisiera|queria|me gustaria|necesito|quiero) (?:saber|preguntar|entender)",
        r"(?:alguien|alguno) (?:sabe|conoce)",
        r"(?:una )?(?:pregunta|duda|consulta) (?:rapida|tonta|sencilla|de novato)",
        r"(?:muchas |mil )?gracias(?: de antemano| por adelantado)?"
        r"(?: (?:a todos|por (?:la|tu|su|vuestra) (?:ayuda|respuesta)))?",
        r"(?:buenos dias|buenas tardes|buenas noches|buenas|hola|saludos)"
        r"(?: a todos| chicos| amigos| gente)?",
        r"(?:cualquier|toda) (?:ayuda|consejo|sugerencia) (?:es|sera) bienvenid[ao]",
    ),
    subordinators=words("si cuando porque aunque mientras"),
    settings=frozenset({"en", "con", "bajo"}),
    dates=dates(
        months="enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
        abbreviations="ene feb mar abr _ jun jul ago sept oct nov dic",
        weekdays="lunes martes miercoles jueves viernes sabado domingo",
        relative={"hoy": "today", "manana": "tomorrow", "ayer": "yesterday", "proximo": "next", "proxima": "next", "proximos": "next", "proximas": "next"},
    ),
    determiners=words(
        "el la los las lo un una unos unas mi mis tu tus su sus nuestro nuestra nuestros nuestras este esta estos estas ese esa esos esas"
    ),
    modals=classes({"debo debes debe debemos deben deberia deberias": "should", "tengo-que": "must"}),
    asking={
        "quien": "who", "quienes": "who", "cuando": "when", "donde": "where",
        "adonde": "where", "por que": "why", "cuanto": "amount", "cuanta": "amount",
        "cuantos": "amount", "cuantas": "amount",
    },
    negating_prefixes=("des", "in", "im", "dis", "anti", "contra"),
    opposed_prefixes=(("im", "ex"), ("in", "ex"), ("sobre", "sub"), ("hiper", "hipo")),
)
# fmt: on
