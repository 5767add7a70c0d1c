"""The README's configuration example is a valid configuration: the documentation cannot drift from the schema."""

import re
from pathlib import Path

from escalator.settings import load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_readme_config_example_loads(tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n(.*?)```", readme, flags=re.S)
    assert blocks, "the README has no TOML example"
    config = tmp_path / "escalator.toml"
    config.write_text(blocks[0], encoding="utf-8")
    settings = load_settings(config)
    assert settings.handoff.agents[0].id == "ana"
    assert settings.detectors.pattern_similarity.window == 3
