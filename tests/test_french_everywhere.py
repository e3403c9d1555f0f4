"""Every error the library raises has its French (issue 24: French by default).

Commune's people are French public bodies and associations. The library raises its errors
in English and the faces show them through ``text.messages.localise``, which leaves a
message it does not know in English: about a hundred such messages once reached French
readers, each unnoticed until someone met it. This test reads every ``.py`` of the package,
finds each call to CommuneError or one of its subclasses (and any other ``*Error`` class the
package defines) whose message is a string or an f-string, fills each placeholder with a
few sample values, and asks for its French: a new English error without French fails here,
naming its file and line and the message it tried."""

from __future__ import annotations

import ast
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

import commune
from commune.commons.payouts import as_amount
from commune.errors import CommuneError
from commune.evaluation.suite import parse_case
from commune.govern.quotas import QuotaExceeded
from commune.ingest.pipeline import check_source
from commune.ingest.upload import BINARY
from commune.text.messages import localise
from commune.text.typography import ORDINARY_SPACE

SRC = Path(commune.__file__).parent
# Each placeholder is tried with each of these; a site passes if one filling has its French.
SAMPLES: tuple[object, ...] = ("abc", 3, "notes.txt", 2.5)
# Placeholders whose value the AST cannot follow (a caller's argument, a loop's): every value
# the code puts there must have its French. Keyed by (file, the placeholder's source).
VALUES: dict[tuple[str, str], tuple[str, ...]] = {
    ("account/calibration.py", "counted_runs(runs)"): ("1 run", "3 runs"),
    ("evaluation/runner.py", "c.named"): ("question 'q4' (line 4)", "question 'q4'"),
    ("ingest/distributed.py", "_kept(stored)"): (
        "nothing was added",
        "1 document added or updated before it is kept",
        "4 documents added or updated before it are kept",
    ),
    ("ingest/distributed.py", "shown"): ("0.5", "0.25"),
    ("answering/search.py", "what"): ("question", "query", "input"),
    ("api/routes/usage.py", "name"): ("start", "end"),
    ("charter/rules.py", "where"): ("charter.toml, line 3", "charter.toml"),
    ("charter/rules.py", "name"): ("answer.mode",),
    ("charter/rules.py", "reason"): ("must be a table",),
    ("govern/accounts.py", "who"): (
        "the operator",
        "a cooperative admin from Ville A, or the operator",
    ),
    ("commons/library.py", "what"): ("collection", "contributor"),
    # errors.shown quotes the value it cuts (repr)
    ("commons/library.py", "shown(name)"): ("'Ville de Lyon'",),
    ("api/openai.py", "name"): ("logprobs", "audio"),
    # A model's name as the faces quote it, cut (errors.shown): a client's default, and ours.
    ("api/openai.py", "quoted(model)"): ("'gpt-4o-mini'", "'use-multilingual-v3'"),
    ("api/openai.py", "quoted(req.model)"): ("'text-embedding-3-small'",),
    ("generate/registry.py", "shown(name)"): ("'gpt-4o-mini'", "'smollm2'"),
    ("generate/registry.py", "cut(name)"): ("gpt-4o-mini",),
    ("commons/library.py", "current['visibility']"): ("private", "shared", "public"),
    ("commons/library.py", "current['owner'] or 'none'"): ("Ville de Lyon", "none"),
    ("commons/payouts.py", "what"): ("the payouts fund", "the fund", "the amount"),
    ("commons/payouts.py", "issued"): ("2026-11",),
    ("commons/payouts.py", "month_after(issued)"): ("2026-12",),
    ("commons/opendata.py", "where"): (
        "documents.jsonl, line 3",
        "documents.jsonl, line 3, history 1",
    ),
    ("commons/opendata.py", "', '.join(missing)"): ("licence", "licence, added_at"),
    ("config.py", "_KINDS[expected]"): (
        "a whole number",
        "a number",
        "a string in quotes",
        "true or false",
        "a list of strings",
    ),
    ("config.py", "_KINDS[str]"): ("a string in quotes",),
    # A model's backend with its article (config._ARTICLE).
    ("config.py", "_ARTICLE[backend]"): ("a", "an"),
    ("config.py", "backend"): ("llamacpp", "openai"),
    ("config.py", "_KINDS[float]"): ("a number",),
    ("charter/rules.py", "tables[0]"): ("[web]", "[limits]", "[answer]"),
    ("evaluation/suite.py", "where"): ("cases.jsonl line 3",),
    ("govern/admin.py", "member['kind']"): ("town", "association", "public-body"),
    # Every reason licences.malformed gives, as it gives them.
    ("govern/licences.py", "malformed(expression)"): (
        "unbalanced parentheses",
        "Classpath-exception-2.0 is an exception: it follows WITH, as in GPL-2.0-or-later "
        "WITH Classpath-exception-2.0",
        "after WITH comes a licence exception such as Classpath-exception-2.0, not GPL-2.0",
        "each AND, OR or WITH needs a licence on either side",
        "'/' does not join licences: write OR (either) or AND (both)",
        "two licences side by side: write OR (either) or AND (both) before Apache-2.0",
        "WITH comes once, between a licence and its exception, as in GPL-2.0-or-later WITH "
        "Classpath-exception-2.0",
        "incomplete or malformed expression",
    ),
    ("govern/licences.py", "misspelt[0]"): ("LicenseRef-Ville de Lyon", "licenseref-ville_lyon"),
    ("govern/licences.py", "spelt"): ("LicenseRef-Ville-de-Lyon",),
    ("govern/members.py", "kind"): ("user", "member"),
    ("govern/quotas.py", "who"): ("member 'Ville de Lyon'", "user 'marie.durand'"),
    ("govern/quotas.py", "whose"): ("its", "their"),
    ("govern/quotas.py", "by"): (
        ": a cooperative admin, or the operator, can raise it",
        ": an admin of Ville de Lyon, a cooperative admin, or the operator, can raise it",
        ": an admin of Agglo du Val, a cooperative admin, or the operator, can raise it",
    ),
    ("govern/quotas.py", "amount(label, limit)"): (
        "1 request per day",
        "2 requests per day",
        "1 token per month",
        "200000 tokens per month",
        "2.5 Wh per month",
    ),
    ("http/signins.py", "what"): ("API keys", "sign-ins"),
    ("http/signins.py", "waiting(wait)"): ("1 min", "2 min", "1 h 01 min"),
    ("ingest/dila.py", "why"): (
        "its root element is <rss>, not <Publication>",
        "root element 'rss', not a DILA Publication",
        "no xml-js element tree, not a DILA Publication",
    ),
    ("ingest/upload.py", "what"): tuple(BINARY.values()),
    ("ingest/pipeline.py", "said"): (
        "1 file of another type",
        "3 files of other types, 1 archive to unpack first",
        "2 archives to unpack first, 4 excluded by --exclude, 1 link to a folder not followed",
        "1 excluded by --exclude, 2 links to folders not followed",
        "1 hidden file (its name starts with a dot)",
        "1 file of another type, 2 hidden files (their names start with a dot)",
    ),
}
# The hint a class writes itself, in place of its second argument.
HINTS = {"QuotaExceeded": "retry in 1 h 00 min, after 2026-12-01 00:00 UTC"}
# Helpers that raise for their callers: (file, method) -> (the argument that is the reason,
# the message it ends, the hint). Each call is a site of its own, its reason sampled.
HELPERS = {
    ("charter/rules.py", "fail"): (
        2,
        "charter.toml, line 3: answer.mode: ",
        "fix the charter (docs/charter.md) and start again",
    ),
}
# Sites that may stay English, each with its reason: (file, the words the message starts
# with) -> why. None today; keep it that way, or small.
EXEMPT: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Site:
    path: str  # relative to the package
    line: int
    message: ast.expr
    hint: ast.expr | None


Found = tuple[list[Site], dict[str, dict[str, object]]]  # the sites, each module's constants


def _modules() -> dict[str, ast.Module]:
    return {
        f.relative_to(SRC).as_posix(): ast.parse(f.read_text(encoding="utf-8"))
        for f in sorted(SRC.rglob("*.py"))
    }


def _error_classes(modules: dict[str, ast.Module]) -> set[str]:
    """CommuneError, every class of the package derived from it, and any other ``*Error``
    class the package defines."""
    bases: dict[str, set[str]] = {}
    for tree in modules.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, set()).update(
                    b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
                )
    found = {"CommuneError"}
    while more := {c for c, b in bases.items() if b & found} - found:
        found |= more
    return found | {c for c in bases if c.endswith("Error")}


def _constants(tree: ast.Module) -> dict[str, object]:
    """A module's constants (``CONFIG_FILE = "commune.toml"``), as its messages name them."""
    out: dict[str, object] = {}
    for node in tree.body:
        if (
            isinstance(node, ast.Assign | ast.AnnAssign)
            and isinstance(target := getattr(node, "target", None) or node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
        ):
            out[target.id] = node.value.value
    return out


def _locals(function: ast.AST) -> dict[str, ast.expr]:
    """The names a function sets once to a string or an f-string (``where = f"models.{name}
    in {CONFIG_FILE}"``): a message that says ``{where}`` says that."""
    seen: dict[str, list[ast.expr]] = {}
    for node in ast.walk(function):
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            if isinstance(node.targets[0], ast.Name):
                seen.setdefault(node.targets[0].id, []).append(node.value)
    return {
        name: values[0]
        for name, values in seen.items()
        if len(values) == 1 and isinstance(values[0], ast.JoinedStr | ast.Constant)
    }


def _inline(node: ast.expr, names: dict[str, ast.expr]) -> ast.expr:
    if not isinstance(node, ast.JoinedStr):
        return node
    parts: list[ast.expr] = []
    for part in node.values:
        name = _plain_name(part)
        value = names.get(name) if name else None
        if isinstance(value, ast.JoinedStr):
            parts.extend(value.values)
        elif isinstance(value, ast.Constant) and isinstance(value.value, str):
            parts.append(value)
        else:
            parts.append(part)
    return ast.JoinedStr(parts)


def _plain_name(part: ast.expr) -> str | None:
    """The name a placeholder says as it is (``{where}``, not ``{where!r}``)."""
    if (
        isinstance(part, ast.FormattedValue)
        and isinstance(part.value, ast.Name)
        and part.conversion == -1
        and part.format_spec is None
    ):
        return part.value.id
    return None


def _text(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _calls(tree: ast.AST, function: ast.AST | None = None) -> Iterator[tuple[ast.Call, ast.AST]]:
    """Every call with the innermost function that holds it (the module for none)."""
    for node in ast.iter_child_nodes(tree):
        inner = node if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else function
        if isinstance(node, ast.Call):
            yield node, function or tree
        yield from _calls(node, inner)


def _sites(modules: dict[str, ast.Module], classes: set[str]) -> Iterator[Site]:
    for path, tree in modules.items():
        names: dict[int, dict[str, ast.expr]] = {}
        for call, function in _calls(tree):
            func = call.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            helper = HELPERS.get((path, name or ""))
            if helper is not None and len(call.args) > helper[0] and _text(call.args[helper[0]]):
                reason = call.args[helper[0]]
                parts = reason.values if isinstance(reason, ast.JoinedStr) else [reason]
                message = ast.JoinedStr([ast.Constant(helper[1]), *parts])
                yield Site(path, call.lineno, message, ast.Constant(helper[2]))
                continue
            if name not in classes or not call.args or not _text(call.args[0]):
                continue
            hint = call.args[1] if len(call.args) > 1 else None
            hint = next((k.value for k in call.keywords if k.arg == "hint"), hint)
            if name in HINTS:
                hint = ast.Constant(HINTS[name])
            known = names.setdefault(id(function), _locals(function))
            message = _inline(call.args[0], known)
            yield Site(path, call.lineno, message, hint and _inline(hint, known))


def _branches(node: ast.expr | None) -> list[ast.expr | None]:
    """A hint chosen by a condition is each of its branches."""
    if isinstance(node, ast.IfExp):
        return _branches(node.body) + _branches(node.orelse)
    return [node]


def _placeholders(node: ast.expr | None) -> list[str]:
    if not isinstance(node, ast.JoinedStr):
        return []
    out = []
    for part in node.values:
        if isinstance(part, ast.FormattedValue):
            out.append(ast.unparse(part.value))
            out.extend(_placeholders(part.format_spec))
    return out


def _fill(node: ast.expr | None, values: dict[str, object]) -> str | None:
    """The text of a string or f-string, each placeholder's value converted and formatted as
    the code does it; None for anything else."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if not isinstance(node, ast.JoinedStr):
        return None
    out = []
    for part in node.values:
        if isinstance(part, ast.Constant):
            out.append(str(part.value))
            continue
        assert isinstance(part, ast.FormattedValue)
        value = values[ast.unparse(part.value)]
        value = {ord("r"): repr, ord("a"): ascii}.get(part.conversion, lambda v: v)(value)
        spec = _fill(part.format_spec, values) or ""
        try:
            out.append(format(value, spec))
        except (TypeError, ValueError):
            out.append(str(value))
    return "".join(out)


# English's small words: one left in the French line is an English half that a looser pattern
# let through ("cannot listen on X : permission refusée").
_ENGLISH = re.compile(r"\b(?:the|is|are|must|cannot|could|not|with|from|was|this|that|has)\b")


def _english_left(french: str) -> bool:
    """Whether ``french`` holds English small words outside its quoted values, code, options
    and brackets."""
    # A quoted value opens after a space or a bracket: "d'écouter" is French's elision.
    prose = re.sub(r"`[^`]*`|(?<!\w)'[^']*'|\"[^\"]*\"|\[[^\]]*\]|--?[A-Za-z][\w-]*", " ", french)
    return _ENGLISH.search(prose) is not None


def _has_french(message: str, hint: str | None) -> bool:
    """The line the user reads has its French, with no English small word left and French
    typography (no ordinary space before « : ; ? ! » or inside « », text/typography.py),
    and so do both its halves."""
    full = f"{message} ({hint})" if hint else message
    said = localise(full, "fr")
    return (
        said != full
        and localise(message, "fr") != message
        and (hint is None or localise(hint, "fr") != hint)
        and not _english_left(said)
        and ORDINARY_SPACE.search(said) is None
    )


def _untranslated(site: Site, constants: dict[str, object]) -> list[str]:
    """The site's messages without French, one per value the code gives (VALUES) and per
    branch of a conditional hint: empty when each has its French for some sample."""
    missing = []
    for hint in _branches(site.hint):
        keys = sorted(set(_placeholders(site.message) + _placeholders(hint)))
        given = {k: VALUES[(site.path, k)] for k in keys if (site.path, k) in VALUES}
        fixed = {k: constants[k] for k in keys if k in constants and k not in given}
        free = [k for k in keys if k not in given and k not in fixed]
        for chosen in itertools.product(*given.values()):
            base = {**fixed, **dict(zip(given, chosen, strict=True))}
            # The same sample in every placeholder first, then each mix of them.
            same = ({k: s for k in free} for s in SAMPLES)
            mixes = itertools.product(SAMPLES, repeat=len(free)) if len(free) <= 5 else ()
            mixed = (dict(zip(free, mix, strict=True)) for mix in mixes)
            tried = ""
            for values in itertools.chain(same, mixed):
                message = _fill(site.message, {**base, **values})
                said = _fill(hint, {**base, **values})
                assert message is not None
                tried = f"{message} ({said})" if said else message
                if _has_french(message, said):
                    break
            else:
                missing.append(tried)
    return missing


def _exempt(site: Site) -> bool:
    start = _fill(site.message, {k: "" for k in _placeholders(site.message)}) or ""
    return any(site.path == path and start.startswith(words) for path, words in EXEMPT)


@pytest.fixture(scope="module")
def sites() -> Found:
    modules = _modules()
    found = list(_sites(modules, _error_classes(modules)))
    return found, {path: _constants(tree) for path, tree in modules.items()}


def test_every_error_has_its_french(sites: Found) -> None:
    found, constants = sites
    assert len(found) > 250  # the walk finds the package's errors
    missing = [
        f"{site.path}:{site.line}: {message}"
        for site in found
        if not _exempt(site)
        for message in _untranslated(site, constants[site.path])
    ]
    assert not missing, (
        "English errors without French, or with ordinary spaces before French marks "
        "(text/messages.py):\n" + "\n".join(missing)
    )


def test_each_exemption_and_given_value_still_names_a_site(sites: Found) -> None:
    found, _ = sites
    for path, words in EXEMPT:
        assert any(s.path == path and _exempt(s) for s in found), (path, words)
    said = {(s.path, k) for s in found for k in _placeholders(s.message) + _placeholders(s.hint)}
    assert not set(VALUES) - said, "a placeholder of VALUES is gone: update VALUES"


def _message(error: Callable[[], object]) -> str:
    """The line a user reads of the error ``error()`` raises or returns."""
    try:
        made = error()
    except CommuneError as exc:
        return str(exc)
    assert isinstance(made, CommuneError), made
    return str(made)


def _backup_failed() -> CommuneError:
    return CommuneError(  # as store/backup.py words it, with a full disk's reason
        "writing the backup into /srv/sauvegardes/2026-12-01 failed: No space left on device",
        "free some space on the disk holding /srv/sauvegardes, or back up elsewhere",
    )


@pytest.mark.parametrize(
    ("error", "french"),
    [
        (lambda: as_amount("-3"), "le montant doit être positif ou nul, reçu -3"),
        (
            lambda: check_source("javascript:alert(1)"),
            "source refusée 'javascript:alert(1)'\u00a0: 'javascript' n'est pas une adresse de "
            "document (donnez une URI http(s) ou un chemin (schémas admis\u00a0: http, https, ftp, "
            "ftps, file, urn, doi))",
        ),
        (
            lambda: parse_case(
                {
                    "question": "Où déposer le verre ?",
                    "language": "fr",
                    "collection": "mairie",
                    "split": "train",
                },
                "cases.jsonl line 3",
                3,
            ),
            "cases.jsonl ligne 3\u00a0: split doit valoir 'dev' ou 'test', reçu 'train'",
        ),
        (
            lambda: QuotaExceeded(
                "member 'Ville de Lyon' has used its quota of 200000 tokens per month "
                "(200000 used)",
                "tokens per month",
                3600,
                datetime(2026, 12, 1, tzinfo=UTC),
            ),
            "le membre 'Ville de Lyon' a épuisé son quota de jetons par mois (limite 200000, "
            "déjà 200000) (réessayez dans 1 h 00 min, après le 2026-12-01 à 00:00, heure UTC)",
        ),
        (
            _backup_failed,
            "l'écriture de la sauvegarde dans /srv/sauvegardes/2026-12-01 a échoué\u00a0: plus de "
            "place sur le disque (libérez de la place sur le disque qui contient "
            "/srv/sauvegardes, ou sauvegardez ailleurs)",
        ),
    ],
    ids=["amount", "source", "suite", "quota", "backup"],
)
def test_real_messages_read_this_french(error: Callable[[], object], french: str) -> None:
    assert localise(_message(error), "fr") == french


def test_a_line_left_half_english_is_caught() -> None:
    """A looser pattern tried first once left a line's start English ("cannot listen on …:
    permission refusée"): the check reads the French line itself, not only that it changed."""
    assert _english_left("cannot listen on 0.0.0.0:80 : permission refusée")
    assert not _english_left(
        "impossible d'écouter sur 0.0.0.0:80 : permission refusée (donnez --from 2026-12, "
        "`man -l FILE`, 'the name', [limits] max_file_mb)"
    )
