"""The house's layers, read from the code's own imports: every arrow points down.

Each package of ``commune`` sits on one floor. A module may import modules on its own floor
or below, never above; no two modules import each other, however indirectly; and no module
takes another module's private name. Imports inside functions and under ``TYPE_CHECKING``
count like any other: hiding an upward arrow inside a function does not make it go down.
docs/architecture.md draws the same floors.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "commune"

# Bottom first. A module's floor is that of the longest prefix listed here.
FLOORS: list[tuple[str, ...]] = [
    ("commune", "commune.errors", "commune.text"),
    ("commune.config",),
    ("commune.store", "commune.embed", "commune.generate"),
    ("commune.govern",),
    ("commune.account",),
    ("commune.ingest",),
    ("commune.index",),
    ("commune.commons",),
    ("commune.charter",),
    ("commune.answering",),
    ("commune.evaluation", "commune.stack"),
    ("commune.core",),
    ("commune.http",),
    ("commune.web",),
    ("commune.api",),
    ("commune.cli",),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def floor_of(module: str) -> int:
    best, floor = -1, -1
    for i, names in enumerate(FLOORS):
        for name in names:
            if (module == name or module.startswith(name + ".")) and len(name) > best:
                best, floor = len(name), i
    return floor


def imports_of(path: Path, module: str) -> list[tuple[str, list[str], int]]:
    """(imported module, names taken, line) for every import of a commune module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            names = [a.name for a in node.names]
            # `from commune.x import y` may name the submodule commune.x.y.
            for name in names:
                sub = f"{base}.{name}"
                if (PACKAGE.parent / sub.replace(".", "/")).with_suffix(".py").exists() or (
                    PACKAGE.parent / sub.replace(".", "/") / "__init__.py"
                ).exists():
                    found.append((sub, [], node.lineno))
                else:
                    found.append((base, [name], node.lineno))
    return [f for f in found if f[0] == "commune" or f[0].startswith("commune.")]


def graph() -> dict[str, list[tuple[str, list[str], int]]]:
    return {
        module_name(p): imports_of(p, module_name(p))
        for p in sorted(PACKAGE.rglob("*.py"))
        if "migrations" not in p.parts
    }


def test_every_module_has_a_floor() -> None:
    homeless = [m for m in graph() if floor_of(m) < 0]
    assert not homeless, f"add these to FLOORS (and docs/architecture.md): {homeless}"


def test_no_import_runs_upward() -> None:
    upward = []
    for module, imports in graph().items():
        for target, _, line in imports:
            if floor_of(target) > floor_of(module):
                upward.append(f"{module}:{line} -> {target}")
    assert not upward, "imports that run back up:\n" + "\n".join(upward)


def test_no_circle() -> None:
    edges = {m: {t for t, _, _ in imps if t != m} for m, imps in graph().items()}
    # A package's __init__ handing on names from its own modules is not a circle.
    for m in edges:
        edges[m] = {t for t in edges[m] if not (t in edges and m.startswith(t + "."))}
    circles, state = [], dict.fromkeys(edges, 0)

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                circles.append(" -> ".join(trail[trail.index(nxt) :] + [node, nxt]))
            elif state.get(nxt) == 0:
                visit(nxt, trail + [node])
        state[node] = 2

    for node in sorted(edges):
        if state[node] == 0:
            visit(node, [])
    assert not circles, "import circles:\n" + "\n".join(circles)


def test_no_private_name_taken_across_modules() -> None:
    taken = [
        f"{module}:{line} takes {target}.{name}"
        for module, imports in graph().items()
        for target, names, line in imports
        for name in names
        if name.startswith("_") and not name.startswith("__") and target != module
    ]
    assert not taken, "private names used from another module:\n" + "\n".join(taken)


# The faces: thin over the library (STYLE.md, "library first"), they reach the database only
# through the facade, which checks the policy and writes the audit row whichever face called.
FACES = ("commune.cli", "commune.api", "commune.web", "commune.http")


# store.db's functions that open an engine, or hand out a connection of one's own.
ENGINE_MAKERS = {"make_engine", "open_database", "within", "write_transaction"}


def engine_uses(path: Path) -> list[int]:
    """The lines where ``path`` takes an ``engine`` attribute (``commune.engine``), the
    facade's private one (``commune._engine``) or either by name (``getattr``), is handed an
    Engine, or imports what opens one (SQLAlchemy, store.db's engine makers): the layers
    test reads imports, and a face holding the facade reached the database through it
    without importing anything below. Each was a way round the rule that it did not see."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in ("engine", "_engine"):
            lines.append(node.lineno)
        elif isinstance(node, ast.Name) and node.id == "Engine":
            lines.append(node.lineno)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("getattr", "setattr", "hasattr")
            and any(
                isinstance(a, ast.Constant) and a.value in ("engine", "_engine")
                for a in node.args[1:2]
            )
        ):
            lines.append(node.lineno)
        elif isinstance(node, ast.Import) and any(
            a.name.split(".")[0] == "sqlalchemy" for a in node.names
        ):
            lines.append(node.lineno)
        elif isinstance(node, ast.ImportFrom) and (
            (node.module or "").split(".")[0] == "sqlalchemy"
            or (
                node.module == "commune.store.db"
                and any(a.name in ENGINE_MAKERS for a in node.names)
            )
        ):
            lines.append(node.lineno)
    return sorted(set(lines))


def test_no_face_reaches_the_engine() -> None:
    reached = [
        f"{module_name(p)}:{line}"
        for p in sorted(PACKAGE.rglob("*.py"))
        if module_name(p).startswith(FACES)
        for line in engine_uses(p)
    ]
    assert not reached, (
        "faces reaching the database engine (ask the facade, core.Commune, instead):\n"
        + "\n".join(reached)
    )


def test_the_engine_rule_sees_a_face_reaching_it(tmp_path: Path) -> None:
    face = tmp_path / "route.py"
    face.write_text(
        "def page(commune):\n    with commune.engine.connect() as conn:\n        return conn\n"
    )
    assert engine_uses(face) == [2]


@pytest.mark.parametrize(
    "source",
    [
        "def page(commune):\n    return commune._engine.connect()\n",
        "def page(commune):\n    return getattr(commune, 'engine').connect()\n",
        "def page(commune):\n    from commune.store.db import open_database\n",
        "def page(commune):\n    from sqlalchemy import create_engine as ce\n",
        "def page(commune):\n    import sqlalchemy\n",
    ],
    ids=["private", "getattr", "store-db", "sqlalchemy-from", "sqlalchemy-import"],
)
def test_the_engine_rule_sees_the_ways_round_it(tmp_path: Path, source: str) -> None:
    """The facade's private engine, the attribute by name, or an engine of the face's own:
    each reached the database as ``commune.engine`` did, and the rule saw none of them."""
    face = tmp_path / "route.py"
    face.write_text(source)
    assert engine_uses(face) == [2]


@pytest.mark.parametrize(
    ("module", "expected"),
    [("commune.answering.path", "commune.answering"), ("commune.store.db", "commune.store")],
)
def test_floors_are_read_as_prefixes(module: str, expected: str) -> None:
    assert floor_of(module) == floor_of(expected) >= 0
