"""The import rule of the design guide: escalator -> bot -> agent_console -> handoff -> detectors -> models, never
back. The composition root (escalator) sits on top; models and detectors load no web framework or database."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["escalator", "bot", "agent_console", "handoff", "detectors", "models"]
FORBIDDEN = {
    "models": {"fastapi", "sqlalchemy", "starlette"},
    "detectors": {"fastapi", "sqlalchemy", "starlette"},
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def violations(root: Path = ROOT) -> list[str]:
    found = []
    for rank, layer in enumerate(LAYERS):
        banned = set(LAYERS[:rank]) | FORBIDDEN.get(layer, set())
        for path in sorted((root / layer).rglob("*.py")):
            for name in sorted(imported_modules(path) & banned):
                found.append(f"{path.relative_to(root)} imports {name}")
    return found


def test_imports_flow_one_way():
    assert violations() == []


def test_the_offline_tools_load_no_web_framework():
    tools = sorted((ROOT / "escalator" / "tools").rglob("*.py"))
    assert tools
    assert [str(p.relative_to(ROOT)) for p in tools if imported_modules(p) & {"fastapi", "starlette", "uvicorn"}] == []


def test_the_checker_sees_a_backward_import(tmp_path):
    # The rule must be able to fail: a tree whose models module imports bot, and whose detectors import fastapi.
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "backward.py").write_text("import bot.app\n", encoding="utf-8")
    (tmp_path / "detectors").mkdir()
    (tmp_path / "detectors" / "web.py").write_text("from fastapi import FastAPI\n", encoding="utf-8")
    assert violations(tmp_path) == ["detectors/web.py imports fastapi", "models/backward.py imports bot"]
