"""No package imports one above it (docs/layers.md): the layers are read from the imports.

Every module of every package is parsed (`ast`, nothing is imported), and every import
counts: at the top, inside functions, under `TYPE_CHECKING`. There is no allow-list: an
import against the order is fixed where it stands, or the order in docs/layers.md changes.
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

RANK = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def package_of(path: Path, root: Path = ROOT) -> str:
    rel = path.relative_to(root)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def modules(root: Path = ROOT) -> Iterator[Path]:
    """`main.py` and every module of every top-level package (a folder with `__init__.py`)."""
    for entry in sorted(root.iterdir()):
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


def violations(root: Path = ROOT) -> set[tuple[str, str]]:
    found = set()
    for path in modules(root):
        importer = package_of(path, root)
        for module in imported(path):
            target = module.split(".")[0]
            if target in RANK and not allowed(importer, target):
                found.add((path.relative_to(root).as_posix(), module))
    return found


def test_every_package_has_its_place_in_the_layers() -> None:
    unplaced = sorted({package_of(p) for p in modules()} - RANK.keys())
    assert not unplaced, f"add {unplaced} to LAYERS here and to docs/layers.md"


def test_no_package_imports_one_above_it() -> None:
    found = sorted(violations())
    assert not found, "imports against the layer order (docs/layers.md):\n" + "\n".join(
        f"  {file} imports {module}" for file, module in found
    )


def test_the_check_sees_imports_inside_functions_and_type_checking(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from delivery.outbox import Button\n"
        "def f():\n    import web.app\n    from . import sibling\n"
    )
    assert set(imported(module)) == {"typing", "delivery.outbox", "web.app"}
    assert not allowed("core", "bot")
    assert not allowed("bot", "web")
    assert allowed("sandbox", "web")
    assert not allowed("web", "sandbox")
    assert allowed("bot", "handlers")
    assert allowed("scheduler", "delivery")
    assert not allowed("delivery", "scheduler")
    assert not allowed("core", "delivery")


def test_the_check_fails_on_an_upward_import(tmp_path: Path) -> None:
    # The house in miniature: delivery/ reaching up to bot/ is found, the way down is not.
    for package in ("delivery", "bot"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "delivery" / "outbox.py").write_text("def f():\n    from bot.setup import x\n")
    (tmp_path / "bot" / "setup.py").write_text("from delivery.outbox import f\n")
    assert violations(tmp_path) == {("delivery/outbox.py", "bot.setup")}
