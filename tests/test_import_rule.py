"""The import rule of the design guide: bot -> agent_console -> handoff -> detectors -> models, never back."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ["bot", "agent_console", "handoff", "detectors", "models"]
FORBIDDEN_IN_MODELS = {"fastapi", "sqlalchemy", "starlette"}
FORBIDDEN_IN_DETECTORS = {"fastapi", "sqlalchemy", "starlette"}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def violations() -> list[str]:
    found = []
    for rank, layer in enumerate(LAYERS):
        upstream = set(LAYERS[:rank])
        banned = upstream | (FORBIDDEN_IN_MODELS if layer == "models" else set())
        banned |= FORBIDDEN_IN_DETECTORS if layer == "detectors" else set()
        for path in sorted((ROOT / layer).rglob("*.py")):
            for name in sorted(imported_modules(path) & banned):
                found.append(f"{path.relative_to(ROOT)} imports {name}")
    return found


def test_imports_flow_one_way():
    assert violations() == []


def test_the_checker_sees_a_backward_import(tmp_path, monkeypatch):
    # The rule must be able to fail: plant a models module that imports bot.
    planted = ROOT / "models" / "_planted_backward_import.py"
    planted.write_text("import bot.app\n", encoding="utf-8")
    try:
        assert "models/_planted_backward_import.py imports bot" in violations()
    finally:
        planted.unlink()
