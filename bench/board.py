"""Benchmark: the needs & offers board through the whole core, on SQLite with FTS5.

Seeds M members (default 50,000, as bench/dispatch.py does) and posts in bulk (Core inserts
into ``post``, ``post_tag`` and ``search_document``; the FTS5 triggers fill ``search_fts``)
into a fresh SQLite file in a temporary directory. The posts are multilingual (nl/fr/en)
needs and offers built from word lists: common words, a Zipf tail and many rare names.
It then drives ``adapters.memory.MemoryAdapter`` sequentially from one asyncio loop at two
sizes of the board — first ``--small`` posts (default 10,000), then topped up to ``--posts``
(default 100,000) — and reports latency percentiles beside the targets of the issue:

    `board search` p99 ≤ 15 ms; filtered `board list` p99 ≤ 10 ms; matching at post time
    (`need post` / `offer post`) p99 ≤ 20 ms; full-text search ≥ 20× faster than the same
    search done as a LIKE scan; each grows ≤ 2× from 10,000 to 100,000 posts.

Run from the repository root:

    .venv/bin/python bench/board.py [--members 50000] [--posts 100000] [--small 10000]
                                    [--calls 1000] [--scan-calls 300]
                                    [--profile search|list|post|all] [--explain]
                                    [--no-gc-freeze]

At each size the read-only phases run first (on exactly that many posts), then the posting
phase, which adds one post per call. ``--profile`` runs the chosen phase(s) at the large size
under cProfile and prints the hotspots; ``--explain`` prints the SQL of one call of each
command at the large size with its time and SQLite's EXPLAIN QUERY PLAN. Once the app is
built, the bench does what ``samen run`` does before it serves: it freezes start-up out of the
garbage collector and sets the app's thresholds (``bot.app.keep_start_up_out_of_collections``);
``--no-gc-freeze`` leaves CPython's defaults, to compare.
This is a benchmark, not a test: it never fails a build, it prints figures (it stops only
when a reply is an error or the searches find nothing, as then the figures would mean little).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import logging
import os
import pstats
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, insert, text  # noqa: E402
from sqlmodel import Session, col, select  # noqa: E402

from adapters.memory import MemoryAdapter  # noqa: E402
from bench.dispatch import (  # noqa: E402
    SKILLS,
    Stats,
    machine_info,
    make_app,
    print_hotspots,
)
from bench.dispatch import seed as seed_members  # noqa: E402
from bench.kit import (  # noqa: E402
    Targets,
    add_postgres,
    add_smoke,
    apply_smoke,
    database_row,
    scratch_database,
    verdict,
)
from bot.app import App, keep_start_up_out_of_collections  # noqa: E402
from commands.matching import matching_members, matching_posts  # noqa: E402
from storage.board import (  # noqa: E402
    CLOSED,
    EXPIRED,
    NEED,
    OFFER,
    OPEN,
    Post,
    PostTag,
    listing_values,
    tags_of,
)
from storage.folding import fold  # noqa: E402
from storage.listing import PostListing, facets_of  # noqa: E402
from storage.listing import listing_rows as rows_of_listing  # noqa: E402
from storage.search import POST, SearchDocument, search, search_by_scan  # noqa: E402

TARGET_SEARCH_P99_MS = 15.0
TARGET_LIST_P99_MS = 10.0
TARGET_POST_P99_MS = 20.0
TARGET_FTS_SPEEDUP = 20.0
TARGET_GROWTH = 2.0
MIN_HIT_RATE = 0.5  # below this the search figures would be of empty searches

T = TypeVar("T")

# -- the words posts are made of -------------------------------------------------------------

LANGS = ("nl", "fr", "en")
LANG_WEIGHTS = (0.45, 0.40, 0.15)


def _l(nl: str, fr: str, en: str) -> dict[str, tuple[str, ...]]:
    """One list per language, each given as "a|b|c"."""
    return {"nl": tuple(nl.split("|")), "fr": tuple(fr.split("|")), "en": tuple(en.split("|"))}


@dataclass(frozen=True)
class Topic:
    """What a post is about: who is wanted or offered, which gear, which job; its sectors."""

    sectors: tuple[str, ...]
    roles: dict[str, tuple[str, ...]]
    items: dict[str, tuple[str, ...]]
    tasks: dict[str, tuple[str, ...]]
    tags: tuple[str, ...]
    remote: float = 0.05  # the chance that it can be done remotely
    task_category: str = "work"


TOPICS: tuple[tuple[Topic, float], ...] = (
    (
        Topic(
            ("audiovisual", "music", "events"),
            _l(
                "Geluidstechnicus|Klankman|Geluidsmixer|Monitortechnicus",
                "Ingénieur du son|Technicien son|Régisseur son|Preneur de son",
                "Sound engineer|Live sound mixer|Boom operator|Monitor engineer",
            ),
            _l(
                "Mengtafel|Geluidsinstallatie|Draadloze microfoon|Subwoofer",
                "Table de mixage|Sono|Micro HF|Caisson de basse",
                "Mixing desk|PA system|Wireless microphone|Subwoofer",
            ),
            _l(
                "Geluid voor een openluchtconcert|Opname van een koor",
                "Sonorisation d'un concert en plein air|Enregistrement d'une chorale",
                "Sound for an open-air gig|Recording a choir",
            ),
            ("sound", "geluid", "son", "live", "mixing", "audio"),
        ),
        1.6,
    ),
    (
        Topic(
            ("performing-arts", "events", "audiovisual"),
            _l(
                "Lichttechnicus|Lichtontwerper|Belichter",
                "Technicien lumière|Éclairagiste|Créateur lumière",
                "Lighting designer|Lighting technician|Gaffer",
            ),
            _l(
                "Lichttafel|Led-spots|Moving heads|Rookmachine",
                "Console lumière|Projecteurs LED|Découpes|Machine à fumée",
                "Lighting console|LED par cans|Moving heads|Haze machine",
            ),
            _l(
                "Lichtplan voor een voorstelling|Belichting van een tentoonstelling",
                "Plan de feux pour un spectacle|Éclairage d'une exposition",
                "Lighting plot for a show|Lighting an exhibition",
            ),
            ("licht", "lumiere", "light", "lighting", "led"),
        ),
        1.2,
    ),
    (
        Topic(
            ("audiovisual",),
            _l(
                "Cameraman|Camera-assistent|Monteur|Filmregisseur|Kleurcorrector",
                "Cadreur|Chef opérateur|Monteur vidéo|Réalisatrice|Étalonneur",
                "Camera operator|Video editor|Director of photography|Colourist|Focus puller",
            ),
            _l(
                "Camera|Statief|Gimbal|Lenzenset",
                "Caméra|Trépied|Stabilisateur|Jeu d'objectifs",
                "Cinema camera|Tripod|Gimbal|Lens kit",
            ),
            _l(
                "Montage van een kortfilm|Aftermovie van een festival|Filmopnames",
                "Montage d'un court métrage|Captation d'un spectacle|Tournage d'un clip",
                "Editing a short film|Festival aftermovie|Filming a music video",
            ),
            ("camera", "film", "video", "montage", "editing", "tournage"),
            0.15,
        ),
        1.5,
    ),
    (
        Topic(
            ("performing-arts",),
            _l(
                "Toneelregisseur|Decorbouwer|Podiumtechnicus|Acteur|Actrice|Productieleider",
                "Régisseur|Metteur en scène|Comédien|Comédienne|Constructeur de décors",
                "Stage manager|Set builder|Actor|Stagehand|Theatre director",
            ),
            _l(
                "Decorstukken|Podiumelementen|Tribune|Zwarte doeken",
                "Gradins|Pendrillons|Praticables|Accessoires de scène",
                "Stage platforms|Props|Seating risers|Black drapes",
            ),
            _l(
                "Decor bouwen voor een theaterproductie|Technische fiche opstellen",
                "Construire un décor pour le théâtre de rue|Rédiger une fiche technique",
                "Building a set for a theatre show|Writing a technical rider",
            ),
            ("theater", "theatre", "podium", "scene", "stage", "decor"),
        ),
        1.4,
    ),
    (
        Topic(
            ("performing-arts", "training"),
            _l(
                "Danser|Danseres|Choreograaf|Repetitor",
                "Danseur|Danseuse|Chorégraphe|Répétiteur",
                "Dancer|Choreographer|Rehearsal director",
            ),
            _l(
                "Dansvloer|Repetitieruimte|Spiegelwand",
                "Tapis de danse|Studio de répétition|Barre de danse",
                "Dance floor|Rehearsal studio|Ballet barre",
            ),
            _l(
                "Choreografie voor een videoclip|Dansles voor kinderen",
                "Chorégraphie pour un clip|Cours de danse pour enfants",
                "Choreography for a music video|Dance class for children",
            ),
            ("dans", "danse", "dance", "choreografie", "choregraphie"),
        ),
        0.9,
    ),
    (
        Topic(
            ("graphic-design", "visual-arts"),
            _l(
                "Grafisch ontwerper|Illustrator|Art director|Typograaf",
                "Graphiste|Illustratrice|Directeur artistique|Typographe",
                "Graphic designer|Illustrator|Art director|Typographer",
            ),
            _l(
                "Risoprinter|Zeefdrukraam|Grootformaat printer",
                "Risographe|Cadre de sérigraphie|Traceur grand format",
                "Risograph|Screen printing frame|Large-format printer",
            ),
            _l(
                "Logo en huisstijl|Affiche voor een festival|Lay-out van een brochure",
                "Logo et identité visuelle|Affiche pour un festival|Mise en page d'un catalogue",
                "Logo and visual identity|Poster for a festival|Layout of a brochure",
            ),
            ("grafisch", "graphisme", "design", "logo", "print", "affiche"),
            0.6,
        ),
        1.3,
    ),
    (
        Topic(
            ("events", "performing-arts", "music"),
            _l(
                "Chauffeur|Roadie|Stagehand|Tourmanager",
                "Chauffeur|Roadie|Manutentionnaire|Régisseur de tournée",
                "Driver|Roadie|Tour manager|Loader",
            ),
            _l(
                "Bestelwagen met chauffeur|Aanhangwagen|Vrachtwagen|Bestelwagen",
                "Camionnette avec chauffeur|Remorque|Camion|Camionnette",
                "Van with driver|Trailer|Truck|Van",
            ),
            _l(
                "Transport van decor naar Frankrijk|Verhuis van een atelier",
                "Transport de décor vers la France|Déménagement d'un atelier",
                "Van with driver for a tour|Moving a studio",
            ),
            ("transport", "van", "camionnette", "bestelwagen", "tour", "tournee"),
            0.0,
            "logistics",
        ),
        1.0,
    ),
    (
        Topic(
            ("writing", "training", "performing-arts"),
            _l(
                "Boekhouder|Dossierschrijver|Zakelijk leider|Productieleider",
                "Comptable|Chargée de production|Administrateur|Chargé de diffusion",
                "Bookkeeper|Fundraiser|Production manager|Grant writer",
            ),
            _l(
                "Kantoorruimte|Boekhoudsoftware|Vergaderzaal",
                "Bureau partagé|Logiciel de comptabilité|Salle de réunion",
                "Desk space|Accounting software|Meeting room",
            ),
            _l(
                "Subsidiedossier schrijven|Boekhouding bijhouden|Hulp bij btw-aangifte|"
                "Contracten nalezen|Projectaanvraag indienen",
                "Dossier de subvention|Comptabilité d'une asbl|Déclaration TVA|"
                "Relecture de contrats|Demande de subside",
                "Grant application|Bookkeeping for a nonprofit|VAT return|Contract review|"
                "Funding application",
            ),
            ("subsidie", "subvention", "grant", "admin", "boekhouding", "comptabilite"),
            0.5,
            "admin",
        ),
        1.0,
    ),
    (
        Topic(
            ("writing",),
            _l(
                "Vertaler NL-FR|Tekstschrijver|Eindredacteur|Ondertitelaar",
                "Traducteur|Traductrice|Rédactrice|Correcteur|Sous-titreur",
                "Translator|Copywriter|Proofreader|Subtitler",
            ),
            _l(
                "Woordenboeken|Stille werkplek",
                "Dictionnaires|Espace de travail calme",
                "Dictionaries|Quiet workspace",
            ),
            _l(
                "Vertaling van een website|Ondertiteling van een documentaire|Persbericht",
                "Traduction d'un catalogue|Sous-titrage d'un documentaire|Communiqué de presse",
                "Translation of a press kit|Subtitles for a documentary|Press release",
            ),
            ("vertaling", "traduction", "translation", "tekst", "subtitles", "redaction"),
            0.8,
        ),
        1.0,
    ),
    (
        Topic(
            ("it",),
            _l(
                "Webontwikkelaar|Programmeur|UX-ontwerper|Systeembeheerder",
                "Développeur web|Développeuse|Intégrateur|Administrateur système",
                "Web developer|Python developer|UX designer|Sysadmin",
            ),
            _l(
                "Laptop|Server|Beamer|Tablet",
                "Ordinateur portable|Serveur|Projecteur vidéo|Tablette",
                "Laptop|Server|Projector|Tablet",
            ),
            _l(
                "Website bouwen voor een gezelschap|Webshop opzetten|Ticketing koppelen",
                "Site web pour une compagnie|Boutique en ligne|Billetterie en ligne",
                "Website for a theatre company|Online shop|Ticketing integration",
            ),
            ("web", "website", "wordpress", "python", "app", "ux"),
            0.8,
        ),
        1.1,
    ),
    (
        Topic(
            ("interior-design", "visual-arts"),
            _l(
                "Interieurarchitect|Meubelmaker|Schrijnwerker|Stoffeerder",
                "Architecte d'intérieur|Menuisier|Ébéniste|Tapissier",
                "Interior architect|Furniture maker|Carpenter|Upholsterer",
            ),
            _l(
                "Werkplaats|Plaatzaag|CNC-freesmachine|Werkbank",
                "Atelier bois|Scie à panneaux|Fraiseuse CNC|Établi",
                "Workshop space|Panel saw|CNC router|Workbench",
            ),
            _l(
                "Inrichting van een winkel|Maatmeubel voor een foyer",
                "Aménagement d'une boutique|Mobilier sur mesure pour un foyer",
                "Shop fit-out|Custom furniture for a foyer",
            ),
            ("interieur", "meubel", "bois", "hout", "furniture", "atelier"),
        ),
        0.8,
    ),
    (
        Topic(
            ("visual-arts", "audiovisual", "events"),
            _l(
                "Fotograaf|Fotografe|Beeldbewerker",
                "Photographe|Retoucheuse photo",
                "Photographer|Photo retoucher",
            ),
            _l(
                "Fotostudio|Flitsers|Achtergrondpapier",
                "Studio photo|Flashs de studio|Fond papier",
                "Photo studio|Studio strobes|Paper backdrop",
            ),
            _l(
                "Portretten van een gezelschap|Foto's van een voorstelling",
                "Portraits d'une compagnie|Photos de spectacle",
                "Portraits of a company|Production photos of a show",
            ),
            ("foto", "photo", "portrait", "fotografie", "photographie"),
            0.1,
        ),
        1.0,
    ),
    (
        Topic(
            ("music", "events"),
            _l(
                "Pianist|Drummer|Zangeres|Componist|Bassist",
                "Pianiste|Batteur|Chanteuse|Compositeur|Bassiste",
                "Bass player|Singer|Composer|Music producer|Drummer",
            ),
            _l(
                "Repetitielokaal|Piano|Drumstel|Backline",
                "Local de répétition|Piano|Batterie|Backline",
                "Rehearsal room|Piano|Drum kit|Backline",
            ),
            _l(
                "Muziek voor een voorstelling|Opname van een demo",
                "Musique pour un spectacle|Enregistrement d'une maquette",
                "Music for a show|Recording a demo",
            ),
            ("muziek", "musique", "music", "band", "concert"),
            0.2,
        ),
        1.2,
    ),
    (
        Topic(
            ("training",),
            _l(
                "Workshopbegeleider|Coach|Docent|Lesgever",
                "Formatrice|Animateur d'atelier|Coach|Enseignant",
                "Workshop facilitator|Trainer|Coach|Teacher",
            ),
            _l(
                "Lokaal voor een workshop|Flipover|Vergaderzaal",
                "Salle de formation|Tableau blanc|Salle de réunion",
                "Training room|Whiteboard|Meeting room",
            ),
            _l(
                "Workshop geven aan jongeren|Opleiding organiseren",
                "Atelier pour enfants|Formation pour adultes",
                "Workshop for teenagers|Training day for a team",
            ),
            ("workshop", "atelier", "training", "formation", "opleiding"),
            0.4,
        ),
        0.8,
    ),
    (
        Topic(
            ("performing-arts", "audiovisual"),
            _l(
                "Kostuumontwerper|Grimeur|Naaister|Kleedster",
                "Costumière|Maquilleuse|Habilleuse|Couturière",
                "Costume designer|Make-up artist|Dresser|Seamstress",
            ),
            _l(
                "Naaimachine|Kostuums|Paspop",
                "Machine à coudre|Costumes d'époque|Mannequin de couture",
                "Sewing machine|Period costumes|Dress form",
            ),
            _l(
                "Kostuums maken voor een voorstelling|Grime voor een filmopname",
                "Costumes pour un spectacle|Maquillage pour un tournage",
                "Costumes for a show|Make-up for a film shoot",
            ),
            ("kostuum", "costume", "grime", "maquillage", "makeup"),
        ),
        0.7,
    ),
)
TOPIC_WEIGHTS = tuple(w for _, w in TOPICS)

CONTEXTS = _l(
    "voor een festival|voor een theatervoorstelling|voor een kortfilm|voor een documentaire|"
    "voor een dansvoorstelling|voor een tournee|voor een concert|voor een tentoonstelling|"
    "voor een bedrijfsevent|voor een straattheaterproductie|voor een webserie|voor een podcast|"
    "voor een kinderworkshop|voor een buurtfeest|voor een opera",
    "pour un festival|pour le théâtre de rue|pour un court métrage|pour un documentaire|"
    "pour un spectacle de danse|pour une tournée|pour un concert|pour une exposition|"
    "pour un événement d'entreprise|pour un clip|pour une web-série|pour un podcast|"
    "pour un atelier enfants|pour une fête de quartier|pour un opéra",
    "for a festival|for a dance piece|for a short film|for a documentary|for a tour|"
    "for a concert|for an exhibition|for a corporate event|for a music video|for a podcast|"
    "for a theatre show|for a street party|for an opera",
)
NEED_TITLES = _l(
    "{Role} gezocht {ctx}|Op zoek naar een {role} {ctx}|{Role} nodig {ctx}|{Item} gezocht {ctx}|"
    "Wie leent ons een {item}?|Hulp gezocht: {task}|{Task}",
    "Cherche {role} {ctx}|{Role} {ctx}|Besoin d'un·e {role} {ctx}|Recherche {item} {ctx}|"
    "{Item} à emprunter {ctx}|Aide pour {task}|{Task}",
    "{Role} wanted {ctx}|Looking for a {role} {ctx}|{Role} {ctx}|{Item} needed {ctx}|"
    "Can anyone lend a {item}?|Help with {task}|{Task}",
)
OFFER_TITLES = _l(
    "{Role} beschikbaar {ctx}|Ervaren {role} biedt hulp aan|{Item} te huur|{Item} uit te lenen|"
    "Ik help met {task}|{Role} met eigen materiaal",
    "{Role} disponible {ctx}|{Role} expérimenté·e propose ses services|{Item} à louer|"
    "Je prête {item}|Je peux aider pour {task}|{Role} avec son matériel",
    "{Role} available {ctx}|Experienced {role} offers help|{Item} for hire|{Item} to lend|"
    "I can help with {task}|{Role} with own gear",
)
SENTENCES = _l(
    "We zoeken iemand met ervaring, liefst in de buurt van {city}.|"
    "Datum: {day} {month}, vanaf {hour}u.|Budget: {n} euro, onkosten vergoed.|"
    "Het project heet {Name}.|Repetities in zaal {Name} te {city}.|Contact via privébericht.|"
    "Ervaring met {skill} is een plus.|{words}.|{words}.|Vrijwillig, maar met maaltijd en drank.|"
    "Beschikbaar op weekdagen en in het weekend.",
    "Nous cherchons quelqu'un d'expérimenté, idéalement près de {city}.|"
    "Date : le {day} {month}, à partir de {hour}h.|Budget : {n} euros, frais remboursés.|"
    "Le projet s'appelle {Name}.|Répétitions à la salle {Name}, {city}.|"
    "Contactez-moi en message privé.|Une expérience en {skill} est un plus.|{words}.|{words}.|"
    "Bénévole, repas et boissons offerts.|Disponible en semaine et le week-end.",
    "We are looking for someone experienced, ideally near {city}.|"
    "Date: {day} {month}, from {hour}:00.|Budget: {n} euros, expenses paid.|"
    "The project is called {Name}.|Rehearsals at {Name} hall in {city}.|"
    "Send me a direct message.|Experience with {skill} is a plus.|{words}.|{words}.|"
    "Volunteer, with food and drinks.|Available on weekdays and weekends.",
)
MONTHS = _l(
    "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober|november|december",
    "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre",
    "January|February|March|April|May|June|July|August|September|October|November|December",
)
CITIES = (
    "Gent|Brussel|Bruxelles|Antwerpen|Liège|Namur|Leuven|Charleroi|Mechelen|Brugge|Kortrijk|"
    "Hasselt|Mons|Tournai|Ostende|Aalst|Genk|Louvain-la-Neuve|Arlon|Eupen|Sint-Niklaas|Verviers"
).split("|")
# Running words in Zipf order (the first are the most common), so term frequencies are skewed.
ZIPF_WORDS = _l(
    "de|het|een|van|en|in|is|met|voor|op|te|we|zijn|ook|graag|nog|project|ervaring|samen|"
    "werken|mensen|nieuwe|creatief|team|snel|goed|tijd|dag|week|kunst|cultuur|stad|jonge|"
    "makers|vrijwilligers|productie|betaald|flexibel|technisch|artistiek|publiek|ruimte|"
    "materiaal|repetitie|premiere|voorstelling|residentie|atelier|collectief|zomer|winter|"
    "najaar|voorjaar|kleinschalig|internationaal|lokaal|duurzaam|tweedehands|budget|"
    "planning|opbouw|afbouw|avond|nacht|zondag|zaterdag|vrijdag|ervaren|beginnend|student",
    "le|la|de|des|et|un|une|pour|en|du|avec|est|nous|sur|aussi|projet|expérience|ensemble|"
    "travail|personnes|nouveau|créatif|équipe|rapide|bien|temps|jour|semaine|art|culture|"
    "ville|jeunes|artistes|bénévoles|production|rémunéré|flexible|technique|artistique|"
    "public|espace|matériel|répétition|première|spectacle|résidence|atelier|collectif|été|"
    "hiver|automne|printemps|local|international|durable|seconde-main|budget|planning|"
    "montage|démontage|soirée|nuit|dimanche|samedi|vendredi|confirmé|débutant|étudiant",
    "the|a|for|and|of|to|in|with|is|we|on|also|project|experience|together|work|people|new|"
    "creative|team|quick|good|time|day|week|art|culture|city|young|makers|volunteers|"
    "production|paid|flexible|technical|artistic|audience|space|gear|rehearsal|premiere|"
    "show|residency|studio|collective|summer|winter|autumn|spring|small|international|local|"
    "sustainable|second-hand|budget|schedule|load-in|load-out|evening|night|sunday|saturday|"
    "friday|experienced|beginner|student",
)
SYLLABLES = (
    "ka lo mer vin dra tos pel zu rin bo sta quel nor fi dex ari lum bel tra mon gue vek "
    "sil ohr jan pix"
).split()
GENERIC_TAGS = (
    "live|urgent|freelance|vrijwilliger|benevolat|volunteer|paid|betaald|weekend|zomer|"
    "festival|tournee|kids|jeugd|duurzaam|brussels"
).split("|")
# What members type into `!board search`: 1–2 words, prefixes, forms without accents.
QUERIES = tuple(
    (
        "geluid|theatre|theater|camera|licht|van|montage film|graphisme|subsid|festival|"
        "lumiere|sound engineer|dans|danse|choreo|kortfilm|court metrage|short film|"
        "documentaire|vertaling|traduction|translator|web|website|developpeur|boekhoud|"
        "comptab|fotograaf|photographe|kostuum|costume|decor|camionnette|bestelwagen|"
        "mixing desk|table de mixage|regisseur|podium|workshop|atelier|grafisch|illustr|"
        "meubel|menuisier|piano|repetitie|studio|tour|ebeniste|subtitles"
    ).split("|")
)


def _cap(word: str) -> str:
    return word[:1].upper() + word[1:]


def _low(word: str) -> str:
    """Lower-case the first letter of a word in a sentence ("UX designer" stays)."""
    return word[:1].lower() + word[1:] if word[1:2].islower() else word


@dataclass(frozen=True)
class PostText:
    kind: str
    lang: str
    title: str
    description: str
    category: str
    sector: str | None
    region: str | None
    remote: bool
    tags: tuple[str, ...]  # folded keys, as the commands store them


class Writer:
    """Realistic needs and offers, seeded: a topic, a language, a title, a few sentences."""

    def __init__(self, rng: random.Random, sectors: Sequence[str], regions: Sequence[str]):
        self.rng = rng
        self.sectors = list(sectors)
        self.regions = list(regions)
        # Some regions are busier than others (seeded weights, as in bench/dispatch.py).
        self.region_weights = [rng.uniform(0.5, 3.0) for _ in self.regions]
        self.zipf = {
            lang: [1 / (rank + 1) for rank in range(len(ZIPF_WORDS[lang]))] for lang in LANGS
        }

    def name(self) -> str:
        """A rare made-up name (a project, a venue): the long tail of the vocabulary."""
        return _cap("".join(self.rng.choices(SYLLABLES, k=self.rng.randint(2, 4))))

    def sentence(self, lang: str) -> str:
        rng = self.rng
        template = rng.choice(SENTENCES[lang])
        if "{words}" in template:
            picked = rng.choices(ZIPF_WORDS[lang], self.zipf[lang], k=rng.randint(4, 10))
            if rng.random() < 0.5:
                picked.insert(rng.randrange(len(picked) + 1), self.name().lower())
            return _cap(template.format(words=" ".join(picked)))
        return template.format(
            city=rng.choice(CITIES),
            day=rng.randint(1, 28),
            month=rng.choice(MONTHS[lang]),
            hour=rng.randint(8, 21),
            n=rng.choice((50, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500)),
            Name=self.name(),
            skill=rng.choice(SKILLS),
        )

    def post(self, kind: str | None = None) -> PostText:
        rng = self.rng
        kind = kind or rng.choice((NEED, OFFER))
        lang = rng.choices(LANGS, LANG_WEIGHTS)[0]
        topic = rng.choices([t for t, _ in TOPICS], TOPIC_WEIGHTS)[0]
        template = rng.choice((NEED_TITLES if kind == NEED else OFFER_TITLES)[lang])
        role = rng.choice(topic.roles[lang])
        item = rng.choice(topic.items[lang])
        task = rng.choice(topic.tasks[lang])
        ctx = rng.choice(CONTEXTS[lang]) if rng.random() < 0.7 else ""
        if rng.random() < 0.2:
            ctx += (" à " if lang == "fr" else " in ") + rng.choice(CITIES)
        title = template.format(
            Role=role,
            role=_low(role),
            Item=item,
            item=_low(item),
            Task=task,
            task=_low(task),
            ctx=ctx,
        )
        title = " ".join(title.split())[:120]
        if "{Item}" in template or "{item}" in template:
            category = "logistics" if topic.task_category == "logistics" else "material"
        elif "{Task}" in template or "{task}" in template:
            category = topic.task_category
        else:
            category = "work"
        if rng.random() < 0.03:
            category = "other"
        sentences = [self.sentence(lang) for _ in range(rng.randint(0, 4))]
        description = " ".join(sentences)
        sector = rng.choice(topic.sectors) if rng.random() < 0.85 else None
        region = rng.choices(self.regions, self.region_weights)[0] if rng.random() < 0.85 else None
        remote = rng.random() < max(topic.remote, 0.03)
        pool = list(topic.tags) + GENERIC_TAGS
        tags = tuple(dict.fromkeys(fold(t) for t in rng.sample(pool, rng.randint(0, 4))))
        return PostText(kind, lang, title, description, category, sector, region, remote, tags)


# -- seeding ---------------------------------------------------------------------------------


def document_body(title: str, description: str, tags: Sequence[str]) -> str:
    """What storage.board.reindex stores: title, description and the tags (sorted), folded."""
    return fold(" ".join([title, description, *sorted(tags)]))


def seed_posts(app: App, writer: Writer, count: int, members: int) -> None:
    """Bulk-insert ``count`` posts (ids after the highest), their tags and search documents.

    One transaction per 10,000 posts, each followed by ANALYZE. Without the ANALYZE, on this
    machine, successive batches of 10,000 documents got ever slower (0.9 s, 5 s, 10 s, 19 s)
    in the FTS5 trigger, whether committed one by one or in one transaction; with it (or with
    a 200 MB page cache) each batch stays near one second. The cause was not pinned down."""
    rng = writer.rng
    now = datetime.now(UTC)
    outcomes = ("found_in_community", "found_elsewhere", "withdrawn")
    batch = 10_000
    post_rows: list[dict[str, object]] = []
    tag_rows: list[dict[str, object]] = []
    document_rows: list[dict[str, object]] = []
    listing_rows: list[dict[str, object]] = []

    def flush() -> None:
        with app.database.engine.begin() as connection:
            for model, rows in (
                (Post, post_rows),
                (PostTag, tag_rows),
                (SearchDocument, document_rows),
                (PostListing, listing_rows),
            ):
                if rows:
                    connection.execute(insert(model), rows)
                    rows.clear()
            if connection.dialect.name == "postgresql":
                # the posts were given their ids: move the sequence past them
                connection.exec_driver_sql(
                    "SELECT setval(pg_get_serial_sequence('post', 'id'), "
                    "(SELECT coalesce(max(id), 1) FROM post))"
                )
            connection.exec_driver_sql("ANALYZE")

    with app.database.engine.connect() as connection:
        first = (
            int(connection.execute(select(func.coalesce(func.max(Post.id), 0))).scalar_one()) + 1
        )
    for post_id in range(first, first + count):
        p = writer.post()
        created = now - timedelta(days=rng.uniform(0, 60))
        roll = rng.random()
        status = OPEN if roll < 0.85 else (CLOSED if roll < 0.95 else EXPIRED)
        if status == EXPIRED:
            valid_until = min(created + timedelta(days=30), now - timedelta(hours=1))
            closed_at: datetime | None = valid_until
            outcome: str | None = EXPIRED
        elif status == CLOSED:
            valid_until = now + timedelta(days=rng.uniform(1, 30))
            closed_at = created + (now - created) * rng.random()
            outcome = rng.choice(outcomes)
        else:
            valid_until = now + timedelta(days=rng.uniform(1, 60))
            closed_at, outcome = None, None
        post_rows.append(
            {
                "id": post_id,
                "kind": p.kind,
                "author_id": rng.randint(1, members),
                "title": p.title,
                "description": p.description,
                "category": p.category,
                "sector": p.sector,
                "region": p.region,
                "remote": p.remote,
                "status": status,
                "outcome": outcome,
                "closed_with_id": None,
                "valid_until": valid_until,
                "expiry_warned": False,
                "created_at": created,
                "closed_at": closed_at,
            }
        )
        tag_rows.extend({"post_id": post_id, "tag": tag} for tag in p.tags)
        if status != OPEN:  # only open posts are in the search index and the list
            continue
        listing_rows.extend(
            rows_of_listing(
                post_id,
                created,
                {"kind": p.kind, "category": p.category, "sector": p.sector, "region": p.region},
            )
        )
        document_rows.append(
            {
                "source": POST,
                "source_id": post_id,
                "kind": p.kind,
                "sector": p.sector,
                "region": p.region,
                "body": document_body(p.title, p.description, p.tags),
                "created_at": created,
            }
        )
        if len(post_rows) >= batch:
            flush()
    flush()


def count_posts(app: App) -> int:
    with app.database.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(Post)).scalar_one())


def verify_index(app: App, rng: random.Random, sample: int = 200) -> float:
    """Check the seeded documents are what the commands would write, and that the FTS5 index
    agrees with its content table; returns the seconds the check took."""
    started = time.perf_counter()
    with app.database.session() as session:
        connection = session.connection()
        # Only open posts (and open slots, none here) have a search document.
        posts = connection.execute(
            select(func.count()).select_from(Post).where(col(Post.status) == OPEN)
        ).scalar_one()
        documents = connection.execute(
            select(func.count())
            .select_from(SearchDocument)
            .where(col(SearchDocument.source) == POST)
        ).scalar_one()
        if posts != documents:
            raise SystemExit(f"{posts} open posts but {documents} search documents of posts")
        listed = connection.execute(
            select(func.count(func.distinct(PostListing.post_id)))
        ).scalar_one()
        if posts != listed:
            raise SystemExit(f"{posts} open posts but {listed} posts in the board list")
        fts5 = app.database.is_sqlite  # PostgreSQL: a GIN index, nothing of its own to check
        if fts5:
            # 'integrity-check' with rank 1 also compares the index with the external content.
            connection.exec_driver_sql(
                "INSERT INTO search_fts(search_fts, rank) VALUES('integrity-check', 1)"
            )
        top = int(connection.execute(select(func.max(Post.id))).scalar_one())
        for post_id in rng.sample(range(1, top + 1), min(sample, top)):
            post = session.get(Post, post_id)
            document = session.exec(
                select(SearchDocument).where(
                    SearchDocument.source == POST, SearchDocument.source_id == post_id
                )
            ).first()
            if post is None or (document is None) == (post.status == OPEN):
                raise SystemExit(f"post #{post_id}: its document should exist iff it is open")
            facets = set(
                connection.execute(
                    select(PostListing.facet).where(col(PostListing.post_id) == post_id)
                ).scalars()
            )
            expected_facets = facets_of(listing_values(post)) if post.status == OPEN else set()
            if facets != expected_facets:
                raise SystemExit(f"post #{post_id} is not in the board list as reindex puts it")
            if document is None:
                continue
            expected = document_body(post.title, post.description, tags_of(session, post_id))
            same = document.body == expected and (
                document.kind,
                document.sector,
                document.region,
            ) == (post.kind, post.sector, post.region)
            if not same:
                raise SystemExit(f"the document of post #{post_id} is not what reindex writes")
            first_words = re.findall(r"[0-9a-z]+", expected)[:3]
            if first_words and fts5:
                hits = connection.execute(
                    text(
                        "SELECT count(*) FROM search_fts WHERE search_fts MATCH :m AND rowid = :r"
                    ),
                    {"m": " AND ".join(f'"{w}"' for w in first_words), "r": document.id},
                ).scalar_one()
                if hits != 1:
                    raise SystemExit(f"FTS5 does not find post #{post_id} by its first words")
        session.rollback()
    return time.perf_counter() - started


def vocabulary(app: App, top: int = 12) -> tuple[int, list[tuple[str, int]]]:
    """The number of distinct terms in the index and the most common ones (in documents);
    (-1, []) on PostgreSQL, whose GIN index has no vocabulary table."""
    if not app.database.is_sqlite:
        return -1, []
    with app.database.engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE VIRTUAL TABLE IF NOT EXISTS temp.bench_vocab "
            "USING fts5vocab(main, search_fts, 'row')"
        )
        terms = int(
            connection.exec_driver_sql("SELECT count(*) FROM temp.bench_vocab").scalar_one()
        )
        common = connection.exec_driver_sql(
            f"SELECT term, doc FROM temp.bench_vocab ORDER BY doc DESC LIMIT {top}"
        ).all()
        connection.exec_driver_sql("DROP TABLE temp.bench_vocab")
    return terms, [(str(t), int(d)) for t, d in common]


def match_counts(app: App, queries: Sequence[str]) -> dict[str, int]:
    """How many documents (open or not) each query matches in the FTS index."""
    found: dict[str, int] = {}
    sqlite = app.database.is_sqlite
    counting = (
        "SELECT count(*) FROM search_fts WHERE search_fts MATCH :m"
        if sqlite
        else "SELECT count(*) FROM search_document WHERE body_tsv @@ to_tsquery('simple', :m)"
    )
    with app.database.engine.connect() as connection:
        for query in queries:
            words = re.findall(r"[0-9a-z]+", fold(query))
            match = (
                " AND ".join(f'"{w}"*' for w in words)
                if sqlite
                else " & ".join(f"{w}:*" for w in words)
            )
            found[query] = int(connection.execute(text(counting), {"m": match}).scalar_one())
    return found


# -- calls -----------------------------------------------------------------------------------

Call = tuple[str, str, str]  # user, line, a key to group the latencies by (the query)


def search_calls(rng: random.Random, members: int, count: int) -> list[Call]:
    calls = []
    for _ in range(count):
        query = rng.choice(QUERIES)
        calls.append((f"m{rng.randint(1, members)}", f"!board search {query}", query))
    return calls


def list_calls(
    rng: random.Random, members: int, count: int, sectors: list[str], regions: list[str]
) -> list[Call]:
    categories = ("work", "work", "work", "material", "logistics", "admin", "other")
    calls = []
    for _ in range(count):
        options = {
            "kind": rng.choice((NEED, OFFER)),
            "sector": rng.choice(sectors),
            "region": rng.choice(regions),
            "category": rng.choice(categories),
        }
        chosen = rng.sample(sorted(options), rng.randint(2, 4))
        line = "!board list " + " ".join(f"{k}={options[k]}" for k in sorted(chosen))
        calls.append((f"m{rng.randint(1, members)}", line, ",".join(sorted(chosen))))
    return calls


def post_calls(writer: Writer, members: int, count: int) -> list[Call]:
    calls = []
    rng = writer.rng
    for _ in range(count):
        p = writer.post()
        line = f"!{p.kind} post {p.title}"
        if p.description:
            line += f' description="{p.description}"'
        line += f" category={p.category}"
        if p.sector:
            line += f" sector={p.sector}"
        if p.region:
            line += f" region={p.region}"
        if p.remote:
            line += " remote=yes"
        if p.tags:
            line += " tags=" + ",".join(p.tags)
        calls.append((f"m{rng.randint(1, members)}", line, p.kind))
    return calls


# -- measuring -------------------------------------------------------------------------------


@dataclass
class Measured:
    stats: Stats  # until the answer was shown: what the member waits for
    found: int = 0  # calls that had a result (hits, posts listed, suggestions)
    whole: Stats | None = None  # until the notifications to others were out too
    by_key: dict[str, list[float]] = field(default_factory=dict)

    @property
    def hit_rate(self) -> float:
        return self.found / self.stats.count if self.stats.count else float("nan")


async def measure_say(name: str, bot: MemoryAdapter, calls: Sequence[Call]) -> Measured:
    clock = time.perf_counter
    latencies: list[float] = []
    wholes: list[float] = []
    by_key: defaultdict[str, list[float]] = defaultdict(list)
    found = 0
    say = bot.say
    started = clock()
    for user, line, key in calls:
        before = clock()
        reply = await say(user, line)
        done = clock()
        spent = bot.answered_at - before
        latencies.append(spent)
        wholes.append(done - before)
        by_key[key].append(spent)
        if reply.is_error:
            raise SystemExit(f"{name}: {user} said {line!r} and got an error: {reply.plain()}")
        found += bool(reply.fields) if line.startswith(("!need", "!offer")) else bool(reply.title)
    elapsed = clock() - started
    bot.replies.clear()
    bot.inbox.clear()
    bot.log.clear()
    whole = Stats.of(f"{name}, with notifications", wholes, elapsed)
    return Measured(Stats.of(name, latencies, elapsed), found, whole=whole, by_key=dict(by_key))


UNRANKED_SQL = """
    SELECT d.source, d.source_id
    FROM search_fts JOIN search_document d ON d.id = search_fts.rowid
    WHERE search_fts MATCH :match LIMIT 10"""


def _fts_unranked(session: Session, folded: str) -> object:
    match = " AND ".join(f'"{t}"*' for t in re.findall(r"[0-9a-z]+", folded))
    return session.connection().execute(text(UNRANKED_SQL), {"match": match}).all()


def _like_all(session: Session, folded: str) -> object:
    terms = re.findall(r"[0-9a-z]+", folded)
    statement = select(func.count()).where(
        *(col(SearchDocument.body).contains(t, autoescape=True) for t in terms),
    )
    return session.exec(statement).one()


DIRECT: dict[str, tuple[str, Callable[[Session, str], object]]] = {
    "fts": ("search (FTS5)", lambda session, q: search(session, q, limit=10)),
    "like": ("search_by_scan (LIKE)", lambda session, q: search_by_scan(session, q, limit=10)),
    "fts_unranked": ("FTS5, any 10 matches, unranked", _fts_unranked),
    "like_all": ("LIKE, counting every match", _like_all),
}


def measure_fts_and_scan(app: App, queries: Sequence[str]) -> dict[str, Measured]:
    """`storage.search.search` and `search_by_scan` on the same queries, one after the other;
    and for reference, FTS5 without ranking (any 10 matches, as the LIKE scan returns) and a
    LIKE scan that sees every match (as ranking or a total would need)."""
    clock = time.perf_counter
    direct = {
        key: entry
        for key, entry in DIRECT.items()
        if app.database.is_sqlite or key != "fts_unranked"  # that one reads FTS5 itself
    }
    spent: dict[str, list[float]] = {key: [] for key in direct}
    found = dict.fromkeys(direct, 0)
    with app.database.session() as session:
        started = clock()
        for query in queries:
            folded = fold(query)
            for key, (_name, action) in direct.items():
                before = clock()
                result = action(session, folded)
                spent[key].append(clock() - before)
                found[key] += bool(result)
        elapsed = clock() - started
        session.rollback()
    return {
        key: Measured(Stats.of(DIRECT[key][0], spent[key], elapsed), found[key]) for key in direct
    }


def measure_matching(app: App, rng: random.Random, count: int) -> Measured:
    """``matching_posts`` + ``matching_members`` alone, for existing open posts."""
    clock = time.perf_counter
    latencies: list[float] = []
    found = 0
    with app.database.session() as session:
        ids = list(
            session.exec(
                select(Post.id).where(Post.status == OPEN).order_by(func.random()).limit(count)
            )
        )
        started = clock()
        for post_id in ids:
            session.expunge_all()
            post = session.get(Post, post_id)
            assert post is not None
            tags = tags_of(session, post.id or 0)
            before = clock()
            posts = matching_posts(session, post, tags)
            members = matching_members(
                session,
                sector=post.sector,
                region=post.region,
                text=f"{post.title} {' '.join(tags)}",
                exclude={post.author_id},
                viewer_id=post.author_id,
            )
            latencies.append(clock() - before)
            found += bool(posts or members)
        elapsed = clock() - started
        session.rollback()
    return Measured(Stats.of("matching alone", latencies, elapsed), found)


def profiled(enabled: bool, action: Callable[[], T]) -> tuple[T, pstats.Stats | None]:
    if not enabled:
        return action(), None
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        result = action()
    finally:
        profiler.disable()
    return result, pstats.Stats(profiler)


@dataclass(frozen=True)
class Statement:
    sql: str
    parameters: Any
    seconds: float


@contextmanager
def captured(app: App) -> Iterator[list[Statement]]:
    """The SQL statements executed inside the block, with their parameters and times."""
    found: list[Statement] = []
    starts: list[float] = []

    def before(*args: Any) -> None:
        starts.append(time.perf_counter())

    def after(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        found.append(Statement(statement, parameters, time.perf_counter() - starts.pop()))

    engine = app.database.engine
    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def explain(app: App, statements: Sequence[Statement]) -> None:
    raw = app.database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for statement in statements:
            sql = " ".join(statement.sql.split())
            print(f"\n- {statement.seconds * 1000:.2f} ms — `{sql[:400]}`")
            print(f"  parameters: `{str(statement.parameters)[:200]}`")
            if not sql.upper().startswith("SELECT"):
                continue
            cursor.execute("EXPLAIN QUERY PLAN " + statement.sql, statement.parameters)
            for row in cursor.fetchall():
                print(f"  - plan: {row[3]}")
        cursor.close()
    finally:
        raw.close()


# -- one size of the board -------------------------------------------------------------------


@dataclass
class SizeResult:
    posts: int
    ops: dict[str, Measured] = field(default_factory=dict)
    posts_after: int = 0
    matches: dict[str, int] = field(default_factory=dict)


@dataclass
class Profiled:
    stats: pstats.Stats
    statements: list[Statement]


def run_size(
    app: App,
    bot: MemoryAdapter,
    loop: asyncio.AbstractEventLoop,
    args: argparse.Namespace,
    rng: random.Random,
    writer: Writer,
    profile: set[str],
) -> tuple[SizeResult, dict[str, Profiled]]:
    run = loop.run_until_complete
    sectors = app.settings.sector_levels.leaves()
    regions = app.settings.region_levels.leaves()
    result = SizeResult(count_posts(app))
    profiles: dict[str, Profiled] = {}
    result.matches = match_counts(app, QUERIES)

    def phase(key: str, name: str, calls: Sequence[Call]) -> None:
        gc.collect()
        if key not in profile:
            result.ops[key] = run(measure_say(name, bot, calls))
            return
        with captured(app) as statements:
            result.ops[key], stats = profiled(True, lambda: run(measure_say(name, bot, calls)))
        assert stats is not None
        profiles[key] = Profiled(stats, statements)

    # Warm up the read paths: imports, statement caches, translators, SQLite's page cache.
    run(measure_say("warm-up search", bot, search_calls(rng, args.members, args.warmup)))
    warm_lists = list_calls(rng, args.members, args.warmup, sectors, regions)
    run(measure_say("warm-up list", bot, warm_lists))
    phase("search", "!board search", search_calls(rng, args.members, args.calls))
    phase(
        "list",
        "!board list (filtered)",
        list_calls(rng, args.members, args.calls, sectors, regions),
    )
    gc.collect()
    queries = [rng.choice(QUERIES) for _ in range(args.scan_calls)]
    result.ops.update(measure_fts_and_scan(app, queries))
    gc.collect()
    result.ops["match"] = measure_matching(app, rng, args.calls)
    # Then the writes: each call adds a post.
    run(measure_say("warm-up post", bot, post_calls(writer, args.members, args.warmup)))
    phase("post", "!need/!offer post", post_calls(writer, args.members, args.calls))
    result.posts_after = count_posts(app)
    return result, profiles


def print_sql_breakdown(
    title: str, statements: Sequence[Statement], total_seconds: float, top: int = 12
) -> None:
    """Where the SQL time of a phase went, by statement (IN lists and column lists elided)."""
    groups: defaultdict[str, list[float]] = defaultdict(list)
    for statement in statements:
        shape = " ".join(statement.sql.split())
        shape = re.sub(r"\(\?(, \?)+\)", "(?…)", shape)
        shape = re.sub(r"(\([^()]*\))(?: OR \1)+", r"\1 OR …", shape)
        shape = re.sub(r"^SELECT (.{60,}?) FROM ", "SELECT … FROM ", shape)
        groups[shape].append(statement.seconds)
    in_sql = sum(s.seconds for s in statements)
    print(
        f"\n### SQL time: {title} ({len(statements):,} statements, {in_sql:.2f} s of "
        f"{total_seconds:.2f} s)\n"
    )
    print("| share of phase | total s | calls | mean ms | max ms | statement |")
    print("|---:|---:|---:|---:|---:|---|")
    ranked = sorted(groups.items(), key=lambda kv: -sum(kv[1]))
    for shape, times in ranked[:top]:
        total = sum(times)
        print(
            f"| {total / total_seconds:6.1%} | {total:.3f} | {len(times):,} "
            f"| {total / len(times) * 1000:.2f} | {max(times) * 1000:.2f} | `{shape[:230]}` |"
        )


def explain_commands(
    app: App,
    bot: MemoryAdapter,
    loop: asyncio.AbstractEventLoop,
    result: SizeResult,
    writer: Writer,
) -> None:
    """One call of each command, its statements, their times and plans."""
    slowest = max(
        result.ops["search"].by_key.items(), key=lambda kv: sorted(kv[1])[len(kv[1]) // 2]
    )[0]
    lines = [
        ("m1", f"!board search {slowest}"),
        ("m1", "!board list kind=need sector=audiovisual region=brussels category=work"),
        ("m1", "!board list kind=offer region=gent"),
        ("m2", post_calls(writer, 2, 1)[0][1]),
    ]
    print(f"\n## SQL of one call each at {result.posts_after:,} posts, with EXPLAIN QUERY PLAN")
    for user, line in lines:
        with captured(app) as statements:
            reply = loop.run_until_complete(bot.say(user, line))
        total = sum(s.seconds for s in statements)
        print(f"\n### `{line[:160]}` — {len(statements)} statements, {total * 1000:.2f} ms in SQL")
        print(f"(reply: {reply.title or reply.text[:80]!r})")
        explain(app, statements)
    with app.database.session() as session, captured(app) as statements:
        search_by_scan(session, fold(slowest), limit=10)
    print(f"\n### search_by_scan({slowest!r})")
    explain(app, statements)


# -- reporting -------------------------------------------------------------------------------

OPS = (
    # key, label, p99 target in ms (None: no target)
    ("search", "`!board search <words>`", TARGET_SEARCH_P99_MS),
    ("list", "`!board list` with 2–4 filters", TARGET_LIST_P99_MS),
    ("post", "`!need post` / `!offer post` (matching at post time)", TARGET_POST_P99_MS),
    ("match", "matching alone (`matching_posts` + `matching_members`)", None),
    ("fts", "`storage.search.search` (FTS5), direct", None),
    ("like", "`storage.search.search_by_scan` (LIKE), direct", None),
)


def write_targets(args: argparse.Namespace, sizes: list[SizeResult]) -> None:
    """The targets for `python -m bench`: p99 at the large size, growth, FTS against LIKE."""
    targets = Targets("board")
    large = sizes[-1]
    for key, label, target in OPS:
        if target is not None:
            p99 = large.ops[key].stats.pct(99)
            targets.add(
                f"{label} p99 at {large.posts:,} posts",
                f"{p99:.2f} ms",
                f"≤ {target:g} ms",
                p99 <= target,
            )
    if len(sizes) == 2:
        small = sizes[0]
        for key, label, target in OPS:
            if target is not None:
                growth = large.ops[key].stats.pct(99) / small.ops[key].stats.pct(99)
                targets.add(
                    f"{label} p99 growth {small.posts:,} → {large.posts:,} posts",
                    f"{growth:.2f}×",
                    f"≤ {TARGET_GROWTH:g}×",
                    growth <= TARGET_GROWTH,
                )
    fts, like = large.ops["fts"].stats, large.ops["like"].stats
    speedup = like.pct(50) / fts.pct(50)
    targets.add(
        f"FTS5 against a LIKE scan (medians) at {large.posts:,} posts",
        f"{speedup:.1f}×",
        f"≥ {TARGET_FTS_SPEEDUP:g}×",
        speedup >= TARGET_FTS_SPEEDUP,
    )
    targets.write(args.json)


def report(
    args: argparse.Namespace,
    sizes: list[SizeResult],
    seeding: list[tuple[str, float]],
    terms: tuple[int, list[tuple[str, int]]],
    load: tuple[tuple[float, float, float], tuple[float, float, float]],
) -> None:
    print("\n## Samen board benchmark\n")
    print("| machine | |")
    print("|---|---|")
    for key, value in machine_info():
        print(f"| {key} | {value} |")
    print(f"| database | {args.database} |")
    first, last = load
    print(
        f"| load average (1, 5, 15 min) | at the first measurement {first[0]:.2f} {first[1]:.2f} "
        f"{first[2]:.2f}; at the end {last[0]:.2f} {last[1]:.2f} {last[2]:.2f} |"
    )
    print(
        f"| setup | {args.members:,} members, posts seeded in bulk, "
        + (
            "a new PostgreSQL database (GIN index on a stored tsvector)"
            if args.postgres
            else "SQLite (WAL) in a temp dir (FTS5 by the triggers)"
        )
        + ", MemoryAdapter, sequential calls, seed "
        f"{args.seed}; "
        + (
            "start-up frozen out of the GC and its thresholds set, as `samen run` does"
            if args.gc_freeze
            else "CPython's GC defaults (--no-gc-freeze)"
        )
        + " |"
    )
    for label, seconds in seeding:
        print(f"| {label} | {seconds:.2f} s |")
    if terms[0] >= 0:
        common = ", ".join(f"{t} {d:,}" for t, d in terms[1])
        print(f"| index | {terms[0]:,} distinct terms; most common (documents): {common} |")
    else:
        print("| index | PostgreSQL: a GIN index on the stored column body_tsv |")

    print("\n### Latency through the whole core\n")
    print(
        "| operation | posts | calls | with result | p50 ms | p95 ms | p99 ms | max ms "
        "| target | met |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|:-:|")
    for key, label, target in OPS:
        for size in sizes:
            m = size.ops[key]
            s = m.stats
            goal = f"p99 ≤ {target:g} ms" if target is not None else "—"
            met = verdict(s.pct(99) <= target) if target is not None else ""
            posts = f"{size.posts:,}" + (f"→{size.posts_after:,}" if key == "post" else "")
            print(
                f"| {label} | {posts} | {s.count:,} | {m.hit_rate:.0%} | {s.pct(50):.2f} "
                f"| {s.pct(95):.2f} | {s.pct(99):.2f} | {s.max_ms:.2f} | {goal} | {met} |"
            )
            if key == "post" and m.whole is not None:
                w = m.whole
                print(
                    f"| ↳ until the matched authors' notifications are out too | {posts} "
                    f"| {w.count:,} | | {w.pct(50):.2f} | {w.pct(95):.2f} | {w.pct(99):.2f} "
                    f"| {w.max_ms:.2f} | | |"
                )

    print("\n### Full-text search against a LIKE scan (same queries, same session)\n")
    print(
        "| posts | queries | FTS p50 ms | FTS p99 ms | LIKE p50 ms | LIKE p99 ms "
        "| LIKE/FTS (medians) | LIKE/FTS (p99) | target | met |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---|:-:|")
    for size in sizes:
        fts, like = size.ops["fts"].stats, size.ops["like"].stats
        ratio = like.pct(50) / fts.pct(50)
        print(
            f"| {size.posts:,} | {fts.count:,} | {fts.pct(50):.2f} | {fts.pct(99):.2f} "
            f"| {like.pct(50):.2f} | {like.pct(99):.2f} | {ratio:.1f}× "
            f"| {like.pct(99) / fts.pct(99):.1f}× | ≥ {TARGET_FTS_SPEEDUP:g}× "
            f"| {verdict(ratio >= TARGET_FTS_SPEEDUP)} |"
        )

    if "fts_unranked" not in sizes[-1].ops:
        print("\n(The unranked FTS5 reference is SQLite's own; not measured on PostgreSQL.)")
    else:
        print_unranked_reference(sizes)
    print_growth_and_queries(args, sizes)


def print_unranked_reference(sizes: list[SizeResult]) -> None:
    print(
        "\nFor reference (same queries): FTS5 returning any 10 matches without ranking, and a "
        "LIKE scan that sees every match (what ranking or a total needs):\n"
    )
    print(
        "| posts | FTS unranked p50 ms | p99 ms | LIKE every match p50 ms | p99 ms "
        "| ratio of medians |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        fts, like = size.ops["fts_unranked"].stats, size.ops["like_all"].stats
        print(
            f"| {size.posts:,} | {fts.pct(50):.2f} | {fts.pct(99):.2f} | {like.pct(50):.2f} "
            f"| {like.pct(99):.2f} | {like.pct(50) / fts.pct(50):.1f}× |"
        )


def print_growth_and_queries(args: argparse.Namespace, sizes: list[SizeResult]) -> None:
    if len(sizes) == 2:
        small, large = sizes
        print(f"\n### Growth from {small.posts:,} to {large.posts:,} posts\n")
        print("| operation | p50 ratio | p99 ratio | target | met |")
        print("|---|---:|---:|---|:-:|")
        for key, label, _target in OPS:
            a, b = small.ops[key].stats, large.ops[key].stats
            r50, r99 = b.pct(50) / a.pct(50), b.pct(99) / a.pct(99)
            print(
                f"| {label} | {r50:.2f}× | {r99:.2f}× | p99 ≤ {TARGET_GROWTH:g}× "
                f"| {verdict(r99 <= TARGET_GROWTH)} |"
            )

    write_targets(args, sizes)
    large = sizes[-1]
    print(f"\n### `!board search` by query at {large.posts:,} posts (slowest 12 by median)\n")
    print(
        "| query | matches (all docs) | calls | p50 ms | max ms |"
        + (f" p50 ms at {sizes[0].posts:,} |" if len(sizes) == 2 else "")
    )
    print("|---|---:|---:|---:|---:|" + ("---:|" if len(sizes) == 2 else ""))
    rows = []
    for query, latencies in large.ops["search"].by_key.items():
        ordered = sorted(latencies)
        rows.append((ordered[len(ordered) // 2], query, ordered))
    rows.sort(reverse=True)
    for median, query, ordered in rows[:12]:
        line = (
            f"| {query} | {large.matches.get(query, 0):,} | {len(ordered)} | {median * 1000:.2f} "
            f"| {ordered[-1] * 1000:.2f} |"
        )
        if len(sizes) == 2:
            before = sorted(sizes[0].ops["search"].by_key.get(query, [float("nan")]))
            line += f" {before[len(before) // 2] * 1000:.2f} |"
        print(line)
    no_hits = [q for q, n in large.matches.items() if n == 0]
    print(f"\nQueries without any match: {', '.join(no_hits) or 'none'}.")


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--members", type=int, default=50_000, help="members to seed")
    parser.add_argument("--posts", type=int, default=100_000, help="posts at the large size")
    parser.add_argument("--small", type=int, default=10_000, help="posts at the small size")
    parser.add_argument("--calls", type=int, default=1_000, help="calls of each command")
    parser.add_argument(
        "--scan-calls", type=int, default=300, help="queries of the FTS-against-LIKE comparison"
    )
    parser.add_argument("--warmup", type=int, default=100, help="warm-up calls of each command")
    parser.add_argument("--seed", type=int, default=42, help="random seed")
    parser.add_argument(
        "--profile",
        choices=("search", "list", "post", "all"),
        help="run the measured phase(s) at the large size under cProfile; print the hotspots",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="print the SQL of one call of each command at the large size, with query plans",
    )
    parser.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="leave CPython's GC defaults (App.run freezes start-up out of collections)",
    )
    add_postgres(parser)
    add_smoke(parser)
    args = parser.parse_args(argv)
    apply_smoke(args, members=300, posts=600, small=300, calls=20, scan_calls=10, warmup=5)
    if min(args.members, args.posts, args.calls, args.scan_calls) < 1 or args.small < 0:
        parser.error("--members, --posts, --calls and --scan-calls must be at least 1")
    if args.small >= args.posts:
        args.small = 0
    return args


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    rng = random.Random(args.seed)
    targets = [n for n in (args.small, args.posts) if n]
    with (
        tempfile.TemporaryDirectory(prefix="samen-bench-board-") as tmp,
        scratch_database(args.postgres, Path(tmp)) as url,
    ):
        app = make_app(url)
        args.database = database_row(url)[1]
        try:
            seeding: list[tuple[str, float]] = []
            started = time.perf_counter()
            seed_members(app, args.members, rng, recent_seen=False)
            seeding.append((f"seeding {args.members:,} members", time.perf_counter() - started))
            print(f"seeded {args.members:,} members in {seeding[-1][1]:.2f} s", file=sys.stderr)
            sectors = app.settings.sector_levels.leaves()
            regions = app.settings.region_levels.leaves()
            writer = Writer(rng, sectors, regions)
            bot = MemoryAdapter(app)
            if args.gc_freeze:
                # what App.run does once the app is built, before it serves
                keep_start_up_out_of_collections()
            loop = asyncio.new_event_loop()
            sizes: list[SizeResult] = []
            profiles: dict[str, Profiled] = {}
            load_before = os.getloadavg()
            try:
                for index, target in enumerate(targets):
                    missing = target - count_posts(app)
                    started = time.perf_counter()
                    seed_posts(app, writer, missing, args.members)
                    took = time.perf_counter() - started
                    seeding.append((f"seeding {missing:,} posts (to {target:,})", took))
                    checked = verify_index(app, rng)
                    seeding.append((f"checking the index at {target:,} posts", checked))
                    print(
                        f"seeded {missing:,} posts in {took:.2f} s (checked in {checked:.2f} s)",
                        file=sys.stderr,
                    )
                    last = index == len(targets) - 1
                    chosen = set()
                    if last and args.profile:
                        chosen = (
                            {"search", "list", "post"} if args.profile == "all" else {args.profile}
                        )
                    result, found = run_size(app, bot, loop, args, rng, writer, chosen)
                    profiles.update(found)
                    sizes.append(result)
                    search_rate = result.ops["search"].hit_rate
                    print(
                        f"measured at {result.posts:,} posts: search hit rate {search_rate:.0%}",
                        file=sys.stderr,
                    )
                    if search_rate < MIN_HIT_RATE:
                        raise SystemExit(f"only {search_rate:.0%} of the searches found anything")
                # One reply of each, so a reader can see the work is real.
                for line in (
                    "!board search geluid",
                    "!board list kind=need sector=audiovisual region=brussels",
                    post_calls(writer, args.members, 1)[0][1],
                ):
                    sample = loop.run_until_complete(bot.say("m1", line)).plain()
                    print(f"\n--- m1: {line}\n{sample[:700]}", file=sys.stderr)
                load = (load_before, os.getloadavg())
                report(args, sizes, seeding, vocabulary(app), load)
                if args.explain and not app.database.is_sqlite:
                    print("(--explain shows SQLite's query plans; not on PostgreSQL)")
                elif args.explain:
                    explain_commands(app, bot, loop, sizes[-1], writer)
            finally:
                loop.close()
            for key, profile in profiles.items():
                total = sizes[-1].ops[key].stats.seconds
                title = f"`{key}` at {sizes[-1].posts:,} posts"
                print_hotspots(title, profile.stats, total)
                print_sql_breakdown(title, profile.statements, total)
            if profiles:
                print(
                    "\n(cProfile adds overhead: the figures of the profiled phases were measured "
                    "*with* the profiler on; run without --profile for the real numbers.)"
                )
        finally:
            app.database.dispose()


if __name__ == "__main__":
    main()
