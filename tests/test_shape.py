"""The code keeps the shape a newcomer can find their way in: small modules with one job each,
classes with few methods. Checked on every run, so a module cannot quietly grow into the place
where everything lands again."""

from __future__ import annotations

import ast
from pathlib import Path

import smsgw

PACKAGE = Path(smsgw.__file__).parent
MAX_MODULE_LINES = 400
MAX_CLASS_METHODS = 25


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def methods_per_class(path: Path) -> dict[str, int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name: sum(
            isinstance(member, ast.FunctionDef | ast.AsyncFunctionDef) for member in node.body
        )
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    }


def test_no_module_is_longer_than_the_limit() -> None:
    too_long = {
        str(path.relative_to(PACKAGE.parent)): lines
        for path in modules()
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES
    }
    assert too_long == {}


def test_no_class_has_more_methods_than_the_limit() -> None:
    crowded = {
        f"{path.relative_to(PACKAGE.parent)}:{name}": count
        for path in modules()
        for name, count in methods_per_class(path).items()
        if count > MAX_CLASS_METHODS
    }
    assert crowded == {}


def test_the_checks_see_the_whole_package() -> None:
    # A wrong root would make both checks pass on nothing.
    assert len(modules()) > 100
    assert methods_per_class(PACKAGE / "modem" / "base.py")["Modem"] > 5
