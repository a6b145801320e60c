"""The graph of lowbit.* imports has no cycle.

Every ``import`` and ``from ... import`` of a lowbit module counts, top-level or inside a function
(a late import is still a dependency, only hidden), except those under ``if TYPE_CHECKING:``
(annotations only, never run). An edge goes to the module named, or to the submodule when
``from package import name`` names one. The modules come from pyproject.toml's package-dir
mapping, so a new folder or file is covered without editing this test."""
from __future__ import annotations

import ast
import graphlib
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def module_files() -> dict[str, Path]:
    """{dotted module name: file} of every module of the lowbit distribution."""
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    modules = {}
    for package, folder in setuptools["package-dir"].items():
        for path in sorted((REPO / folder).rglob("*.py")):
            parts = path.relative_to(REPO / folder).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join((package, *parts))] = path
    return modules


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """Import nodes of ``tree``, skipping ``if TYPE_CHECKING:`` bodies."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            yield from (n for child in node.orelse for n in _imports_in(child))
            continue
        yield from _imports_in(node)


def _imports_in(node: ast.AST):
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        yield node
    else:
        yield from _imports(node)


def _package_of(module: str, path: Path) -> str:
    return module if path.name == "__init__.py" else module.rpartition(".")[0]


def imported_modules(module: str, path: Path, known: set[str]) -> set[str]:
    """The lowbit modules ``module`` (source at ``path``) imports."""
    found = set()
    for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name in known}
            continue
        base = node.module or ""
        if node.level:   # relative: from the importing module's package
            package = _package_of(module, path).rsplit(".", node.level - 1)[0]
            base = f"{package}.{base}" if base else package
        for alias in node.names:
            target = f"{base}.{alias.name}"
            if target in known:
                found.add(target)
            elif base in known:
                found.add(base)
    found.discard(module)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    known = set(modules)
    return {module: imported_modules(module, path, known) for module, path in modules.items()}


def test_the_lowbit_import_graph_is_acyclic():
    graph = import_graph()
    try:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_a_cycle_is_found_and_named():
    graph = import_graph()
    # the edge the kernel registry's split removed: reference <-> weight_only
    graph["lowbit.kernels.reference"].add("lowbit.kernels.weight_only")
    with pytest.raises(graphlib.CycleError) as caught:
        tuple(graphlib.TopologicalSorter(graph).static_order())
    assert {"lowbit.kernels.reference", "lowbit.kernels.weight_only"} <= set(caught.value.args[1])


def test_late_imports_count_and_type_checking_imports_do_not():
    graph = import_graph()
    # roofline reads the kernel registry; weight_only's reference import is top-level now,
    # reference's import of weight_only is for annotations only
    assert "lowbit.kernels.registry" in graph["lowbit.models.cost.roofline"]
    assert "lowbit.kernels.reference" in graph["lowbit.kernels.weight_only"]
    assert "lowbit.kernels.weight_only" not in graph["lowbit.kernels.reference"]
    # a function-level import: the PE bench model comes from the registry
    assert "lowbit.hwsim.pe.kinds" in graph["lowbit.rtl.verify.benches"]


def test_the_cost_model_does_not_import_the_benchmark_harness():
    graph = import_graph()
    reached, todo = set(), [m for m in graph if m.startswith("lowbit.models.cost")]
    while todo:
        module = todo.pop()
        if module not in reached:
            reached.add(module)
            todo.extend(graph[module])
    assert "lowbit.kernels.bench" not in reached
