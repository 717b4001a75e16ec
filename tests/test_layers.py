"""The import layers of docs/architecture.md, checked on the source (no import is executed).

Every ``import`` and ``from ... import`` counts, at module level or inside a function, under
``if TYPE_CHECKING:`` too: a module may import only from its own layer or the layers below it,
siblings in one layer marked independent may not import each other, and no modules import each
other in a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "tendon_pipeline"
# where each installed package's source lives (pyproject's package-dir)
SOURCES = {PACKAGE: ROOT / "src" / PACKAGE, f"{PACKAGE}.flows": ROOT / "flows",
           f"{PACKAGE}.connectors": ROOT / "connectors"}

# Top to bottom. A layer is a list of independent siblings (none may import another).
LAYERS: list[list[str]] = [
    ["cli"],  # the `tendon` command: parse, call, print
    ["web"],  # the web pages of `tendon serve`: sign-in, routes, templates
    ["examples"],  # example data and the demo (not production code)
    ["runtime"],  # runs flows: run_batch, run_backfill, the watcher
    ["flows"],  # thin Prefect flows and tasks
    ["orchestration"],  # Prefect plumbing the flows use: embedded mode, events, the Dask runner
    ["report"],  # the runner's page, the coach board, Prefect artifacts
    ["app"],  # the use cases: ingest, evaluate, status, delivery, backfill
    ["config"],  # the one Settings class and its reference
    ["warehouse", "connectors"],  # DuckDB/DuckLake storage | sources and notifiers
    ["fit"],  # FIT decoding
    ["domain"],  # pure domain core
    ["errors", "fileio", "faults"],  # cross-cutting
]


def _modules() -> Iterator[tuple[str, Path]]:
    for package, folder in SOURCES.items():
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            if package == PACKAGE and parts and parts[0] in ("flows", "connectors"):
                continue
            yield ".".join([package, *parts]), path


MODULES = dict(_modules())


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    base = package[:len(package) - node.level + 1]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(module: str, path: Path) -> set[str]:
    """The project modules ``module`` imports (``from pkg import sub`` counts as pkg.sub)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, path, node)
            names = [f"{target}.{a.name}" if f"{target}.{a.name}" in MODULES else target for a in node.names]
        else:
            continue
        found.update(_known(name) for name in names if name.startswith(PACKAGE) and _known(name))
    found.discard(module)
    return found


def _known(name: str) -> str:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


GRAPH = {module: imports_of(module, path) for module, path in MODULES.items()}


def layer_of(module: str) -> tuple[int, str] | None:
    top = module.split(".")[1] if "." in module else ""
    for number, siblings in enumerate(LAYERS):
        if top in siblings:
            return number, top
    return None


def test_every_module_belongs_to_a_layer():
    loose = [m for m in MODULES if m != PACKAGE and layer_of(m) is None]
    assert loose == [], f"add these to a layer in tests/test_layers.py and docs/architecture.md: {loose}"


def test_no_module_imports_from_a_layer_above_or_an_independent_sibling():
    wrong = []
    for module, imported in GRAPH.items():
        mine = layer_of(module)
        for target in imported:
            theirs = layer_of(target)
            if mine is None or theirs is None:
                continue
            if theirs[0] < mine[0]:
                wrong.append(f"{module} imports {target} (layer '{theirs[1]}' is above '{mine[1]}')")
            elif theirs[0] == mine[0] and theirs[1] != mine[1]:
                wrong.append(f"{module} imports {target} (independent siblings '{mine[1]}' and '{theirs[1]}')")
    assert wrong == [], "\n".join(sorted(wrong))


def test_no_import_cycles():
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in GRAPH.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for module in GRAPH:
        if module not in index:
            visit(module)
    assert cycles == [], f"modules importing each other: {cycles}"


@pytest.mark.parametrize("source, expected", [
    ("def f():\n    from tendon_pipeline.cli.main import cli\n", "tendon_pipeline.cli.main"),
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import tendon_pipeline.runtime.batch\n",
     "tendon_pipeline.runtime.batch"),
    ("from tendon_pipeline.orchestration import events\n", "tendon_pipeline.orchestration.events"),
    ("from .models import Alert\n", "tendon_pipeline.domain.models"),
])
def test_the_check_sees_imports_inside_functions_type_checking_blocks_and_relative_ones(tmp_path, source, expected):
    path = tmp_path / "plan.py"
    path.write_text(source)
    assert imports_of("tendon_pipeline.domain.plan", path) == {expected}
