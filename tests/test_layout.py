"""The package's layout: no import cycles between its modules, counting the imports inside
functions too (a deferred import only hides a cycle: checkpoints.py and health.py had one)."""

import ast
import os

from conftest import REPO_ROOT

PACKAGE = os.path.join(REPO_ROOT, "keras_gans")


def _module_name(path):
    relative = os.path.relpath(path, REPO_ROOT)[:-len(".py")].replace(os.sep, ".")
    return relative[:-len(".__init__")] if relative.endswith(".__init__") else relative


def _is_module(name):
    base = os.path.join(REPO_ROOT, *name.split("."))
    return os.path.isfile(base + ".py") or os.path.isfile(os.path.join(base, "__init__.py"))


def _imports(path):
    """The keras_gans modules a file imports, anywhere in it."""
    with open(path) as f:
        tree = ast.parse(f.read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("keras_gans"))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("keras_gans"):
            for alias in node.names:  # `from keras_gans import health` imports the module health
                name = f"{node.module}.{alias.name}"
                found.add(name if _is_module(name) else node.module)
    return found


def import_graph():
    graph = {}
    for folder, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                graph[_module_name(path)] = _imports(path)
    return graph


def find_cycle(graph):
    """One import cycle as a list of modules, or None. A package's own __init__ is left out of its
    submodules' edges: Python runs it first, so `from keras_gans.a import b` inside `a/` is no cycle."""
    state = {}

    def visit(module, stack):
        state[module] = "open"
        for target in sorted(graph.get(module, ())):
            if module.startswith(target + "."):
                continue
            if state.get(target) == "open":
                return stack[stack.index(target):] + [target]
            if target not in state:
                cycle = visit(target, stack + [target])
                if cycle:
                    return cycle
        state[module] = "done"
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module, [module])
            if cycle:
                return cycle
    return None


def test_the_graph_sees_the_known_edges():
    graph = import_graph()
    assert "keras_gans.callbacks.step" in graph["keras_gans.health"]
    assert "keras_gans.health" in graph["keras_gans.callbacks.checkpointer"]
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_no_import_cycles():
    assert find_cycle(import_graph()) is None
