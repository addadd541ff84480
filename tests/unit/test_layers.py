"""The package layout shows the architecture: modules import only from their own layer or below.

A facade knows wire formats, the dispatcher knows tasks and operators, the store
knows rows; an import upwards (the store reaching into research, a page into the
CLI) is how those lines blur. Imports needed only for type annotations
(`if TYPE_CHECKING:`) are exempt: they create no dependency at run time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import woz

ROOT = Path(woz.__file__).parent

# Lowest first. A module belongs to the layer of the longest prefix naming it.
LAYERS: list[tuple[str, ...]] = [
    (
        "woz.models",
        "woz.errors",
        "woz.jsontext",
        "woz.bounded",
        "woz.off_loop",
        "woz.text_table",
        "woz.config",
        "woz.logging",
        "woz.context",  # typed keys only: what they hold is imported for typing
    ),
    ("woz.store",),
    ("woz.auth", "woz.media", "woz.assist"),
    ("woz.research",),
    ("woz.dispatch", "woz.export", "woz.study"),
    ("woz.operators",),
    ("woz.api",),
    ("woz.web",),
    (
        "woz.runtime",
        "woz.served",
        "woz.control",
        "woz.log_summary",
        "woz.app",
        "woz.testing",
    ),
    ("woz.cli", "woz.__main__"),
]


def layer_of(module: str) -> int:
    best: tuple[int, int] | None = None  # (prefix length, layer)
    for rank, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and (
                best is None or len(prefix) > best[0]
            ):
                best = (len(prefix), rank)
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best[1]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(tree: ast.Module) -> list[tuple[int, str]]:
    """`woz.*` modules imported outside `if TYPE_CHECKING:` blocks, with line numbers."""
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    found = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        found += [(node.lineno, name) for name in names if name.startswith("woz.")]
    return found


def test_every_import_goes_down_or_sideways() -> None:
    """No module imports from a layer above its own."""
    upward = []
    for path in sorted(ROOT.rglob("*.py")):
        importer = module_name(path)
        for line, imported in runtime_imports(ast.parse(path.read_text())):
            if layer_of(imported) > layer_of(importer):
                upward.append(f"{path.relative_to(ROOT.parent)}:{line} {importer} -> {imported}")
    assert upward == []
