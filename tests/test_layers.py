"""No package imports one above it (docs/layers.md): the layers are read from the imports.

Every module of every package is parsed (`ast`, nothing is imported), and every import
counts: at the top, inside functions, under `TYPE_CHECKING`. A known violation the
delivery move will fix is listed below; the list may only shrink.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. A package imports its own modules and those of lower ranks only.
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"models", "locales"}),
    frozenset({"core"}),
    frozenset({"delivery"}),
    frozenset({"scheduler"}),
    frozenset({"handlers"}),
    # Siblings: the edges of the product. None imports another, except the sandbox, which
    # mounts its fake Bot API and its page on the product's web app: it sits above web/.
    frozenset({"bot", "web", "cli", "sandbox"}),
    frozenset({"docsgen"}),  # reads the whole house
    frozenset({"main"}),
)
SIBLING_IMPORTS = frozenset({("sandbox", "web")})
# Not part of the product's layers: they may import anything.
OUTSIDE = frozenset({"tests", "bench"})

# (importing file, imported module): known violations. Only remove entries from here.
KNOWN_VIOLATIONS = frozenset(
    {
        # fixed by the delivery move: the outbox becomes delivery/, below handlers/ and
        # scheduler/.
        ("handlers/broadcasts.py", "bot.outbox"),
        ("handlers/funnel.py", "bot.outbox"),
        ("handlers/reviews.py", "bot.outbox"),
        ("handlers/webinar_notices.py", "bot.outbox"),
        ("handlers/partner_webinar_notices.py", "bot.outbox"),
        ("scheduler/messages.py", "bot.outbox"),
        # the buttons consumers put on their messages: they move with the outbox.
        ("handlers/funnel.py", "bot.callbacks"),
        ("handlers/reviews.py", "bot.callbacks"),
        ("handlers/partner_webinar_notices.py", "bot.callbacks"),
    }
)

RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def package_of(path: Path) -> str:
    rel = path.relative_to(ROOT)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def modules() -> Iterator[Path]:
    """`main.py` and every module of every top-level package (a folder with `__init__.py`)."""
    for entry in sorted(ROOT.iterdir()):
        if entry.name.startswith(".") or entry.name in OUTSIDE:
            continue
        if entry.suffix == ".py":
            yield entry
        elif (entry / "__init__.py").is_file():
            yield from sorted(entry.rglob("*.py"))


def imported(path: Path) -> Iterator[str]:
    """Every absolute module name `path` imports, wherever the import statement stands."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module
        # A relative import stays inside its own package: nothing to check.


def allowed(importer: str, target: str) -> bool:
    if importer == target:
        return True
    if RANK[target] < RANK[importer]:
        return True
    return (importer, target) in SIBLING_IMPORTS


def violations() -> set[tuple[str, str]]:
    found = set()
    for path in modules():
        importer = package_of(path)
        for module in imported(path):
            target = module.split(".")[0]
            if target in RANK and not allowed(importer, target):
                found.add((path.relative_to(ROOT).as_posix(), module))
    return found


def test_every_package_has_its_place_in_the_layers() -> None:
    unplaced = sorted({package_of(p) for p in modules()} - RANK.keys())
    assert not unplaced, f"add {unplaced} to LAYERS here and to docs/layers.md"


def test_no_package_imports_one_above_it() -> None:
    new = sorted(violations() - KNOWN_VIOLATIONS)
    assert not new, "imports against the layer order (docs/layers.md):\n" + "\n".join(
        f"  {file} imports {module}" for file, module in new
    )


def test_the_known_violations_are_still_there() -> None:
    # A fixed one must leave KNOWN_VIOLATIONS, so it cannot come back unnoticed.
    gone = sorted(KNOWN_VIOLATIONS - violations())
    assert not gone, f"fixed, remove from KNOWN_VIOLATIONS: {gone}"


def test_the_check_sees_imports_inside_functions_and_type_checking(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from bot.outbox import Button\n"
        "def f():\n    import web.app\n    from . import sibling\n"
    )
    assert set(imported(module)) == {"typing", "bot.outbox", "web.app"}
    assert not allowed("core", "bot")
    assert not allowed("bot", "web")
    assert allowed("sandbox", "web")
    assert not allowed("web", "sandbox")
    assert allowed("bot", "handlers")
