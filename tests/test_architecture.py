"""The package's shape, checked: no import cycles, layers that import only downwards, each
third-party engine imported in one place, and modules small enough to read.

The map these rules come from is ``docs/architecture.md``; a change that needs a new edge
changes the table here and the map there, on purpose.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "llmlab_jupyter"
MAX_LINES = 420  # "about 400": one job per module


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # what it imports, dotted (a module, or a module's attribute)
    line: int
    kind: str  # "top", "lazy" (inside a function) or "typing" (under TYPE_CHECKING)


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT)
        if "migrations" in rel.parts:
            continue
        parts = list(rel.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


MODULES = _modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, kind: str) -> Iterator[tuple[ast.AST, str]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for sub in child.body:
                yield sub, "typing"
                yield from _walk(sub, "typing")
            for sub in child.orelse:
                yield sub, kind
                yield from _walk(sub, kind)
            continue
        inner = "lazy" if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else kind
        if kind == "typing":
            inner = "typing"
        yield child, kind
        yield from _walk(child, inner)


def imports_of(module: str) -> list[Import]:
    """Every import statement of ``module``: top level, inside functions, for typing only."""
    path = MODULES[module]
    base = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node, kind in _walk(ast.parse(path.read_text(), str(path)), "top"):
        if isinstance(node, ast.Import):
            found += [Import(module, a.name, node.lineno, kind) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                prefix = base[: len(base) - node.level + 1]
                source = ".".join(prefix + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            for alias in node.names:
                sub = f"{source}.{alias.name}"
                found.append(Import(module, sub if sub in MODULES else source, node.lineno, kind))
    return found


ALL_IMPORTS = [imp for module in MODULES for imp in imports_of(module)]


def internal_graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (any kind of import counts)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in ALL_IMPORTS:
        if imp.target in MODULES and imp.target != imp.module:
            graph[imp.module].add(imp.target)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(set(graph) | {n for targets in graph.values() for n in targets}):
        if node not in index:
            visit(node)
    return found


def layer_of(module: str) -> str:
    """``llmlab_jupyter.store.orm`` -> ``store``; ``llmlab_jupyter.app`` -> ``app``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


# What each layer (a subpackage or a top-level module) may import from the others. Lower
# layers never import higher ones; see docs/architecture.md for why each edge exists.
DOMAIN = {
    "_version",
    "exceptions",
    "prompts",
    "datasets",
    "models",
    "leases",
    "config",
    "job_tokens",
}
ALLOWED: dict[str, set[str]] = {
    "_version": set(),
    "exceptions": set(),
    "leases": set(),
    "job_tokens": {"exceptions"},
    "config": {"exceptions"},
    "prompts": {"exceptions"},
    "datasets": {"exceptions", "prompts"},
    "models": {"prompts"},
    "reports": {"exceptions"},
    "portable": {"exceptions", "prompts", "datasets", "models"},
    "artifacts": {"exceptions", "datasets"},
    "store": {"exceptions", "leases", "models", "artifacts"},
    "metrics": {"store"},
    "gateway": {"exceptions", "store"},
    "experiments": {"exceptions", "leases", "models", "prompts", "store", "gateway"},
    # the worker processes' entry points (executors.local, executors.celery_app) build their
    # own Services; the executors themselves only see the JobHost protocol
    "executors": {"exceptions", "config", "job_tokens", "leases", "models", "store", "services"},
    "services": DOMAIN
    | {"artifacts", "executors", "experiments", "gateway", "portable", "reports", "store"},
    "widgets": {"exceptions", "experiments"},
    "sdk": DOMAIN | {"experiments", "hub", "services", "widgets"},
    "cli": DOMAIN | {"executors", "experiments", "hub", "portable", "sdk", "services", "store"},
    "server": DOMAIN | {"experiments", "metrics", "reports", "services", "store"},
    "app": DOMAIN | {"experiments", "hub", "metrics", "server", "services", "store"},
    # the Hub service's process, identities, the remote mode's forwarding and job tokens;
    # serve.py names the extension by its package, so nothing here imports app
    "hub": DOMAIN | {"server", "services", "store"},
    "demo": {"sdk"},
    "testing": set(),
    "__init__": {"_version", "app", "sdk"},
}

# Each third-party engine is imported in one place, which translates its errors into ours.
ENGINES: dict[str, tuple[str, ...]] = {
    "sqlalchemy": ("store/",),
    "alembic": ("store/",),
    "psycopg": ("store/",),
    "litellm": ("gateway/litellm_provider.py",),
    "llama_cpp": ("gateway/local_provider.py",),
    "aiohttp": ("gateway/", "testing/", "hub/forward.py"),
    "redis": ("gateway/cache.py",),
    "boto3": ("artifacts/s3.py",),
    "botocore": ("artifacts/s3.py",),
    "papermill": ("executors/papermill_run.py",),
    "celery": ("executors/celery_app.py",),
    "kombu": ("executors/celery_app.py",),
    "billiard": ("executors/celery_app.py",),
    "croniter": ("services/schedules.py",),
    "bokeh": ("widgets/charts.py",),
    "ipywidgets": ("widgets/",),
    "jinja2": ("prompts.py",),
    "nbconvert": ("reports.py",),
    "nbformat": ("reports.py",),
    "prometheus_client": ("metrics.py",),
    "click": ("cli/",),
    "httpx": ("sdk/http/",),
    "tornado": ("app.py", "server/", "hub/"),
    "jupyter_server": ("app.py", "server/", "hub/"),
    "jupyterhub": ("hub/",),
}


def test_the_package_has_no_import_cycle() -> None:
    found = cycles(internal_graph())
    assert found == [], "import cycles (every import counts, typing-only ones too):\n" + "\n".join(
        " <-> ".join(c) for c in found
    )


def test_the_cycle_finder_finds_cycles_through_any_kind_of_import() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"f"}, "f": {"e"}}
    assert cycles(graph) == [["a", "b", "c"], ["e", "f"]]
    assert cycles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []
    kinds = {imp.kind for imp in ALL_IMPORTS}
    assert kinds == {"top", "lazy", "typing"}  # all three are read, and all count


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_what_the_map_allows(layer: str) -> None:
    wrong = sorted(
        f"{imp.module}:{imp.line} imports {imp.target}"
        for imp in ALL_IMPORTS
        if layer_of(imp.module) == layer
        and imp.target.startswith("llmlab_jupyter.")
        and layer_of(imp.target) not in ALLOWED[layer] | {layer}
    )
    assert wrong == [], "\n".join(wrong)


def test_every_layer_is_in_the_map() -> None:
    assert {layer_of(m) for m in MODULES} <= set(ALLOWED)


def test_nothing_below_the_handlers_imports_the_server() -> None:
    below = set(ALLOWED) - {"server", "app", "hub", "__init__"}  # hub hosts the handlers too
    wrong = [
        f"{imp.module}:{imp.line}"
        for imp in ALL_IMPORTS
        if layer_of(imp.module) in below
        and layer_of(imp.target) in ("server", "app")
        and imp.target.startswith("llmlab_jupyter")
    ]
    assert wrong == []


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_each_engine_is_imported_in_one_place(engine: str) -> None:
    places = ENGINES[engine]
    wrong = sorted(
        f"{imp.module}:{imp.line}"
        for imp in ALL_IMPORTS
        if imp.target.split(".")[0] == engine
        and not MODULES[imp.module].relative_to(PACKAGE).as_posix().startswith(places)
    )
    assert wrong == [], f"{engine} may only be imported in {places}: {wrong}"


def _source_files() -> list[Path]:
    py = [p for p in MODULES.values()]
    ts = sorted((ROOT / "labextension" / "src").rglob("*.ts*"))
    return py + [p for p in ts if "__tests__" not in p.parts]


@pytest.mark.parametrize("path", _source_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_module_is_longer_than_about_400_lines(path: Path) -> None:
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines: split it"


def test_every_package_says_what_it_owns() -> None:
    silent = [
        p.relative_to(ROOT).as_posix()
        for p in PACKAGE.rglob("__init__.py")
        if "migrations" not in p.parts and ast.get_docstring(ast.parse(p.read_text())) is None
    ]
    assert silent == []
