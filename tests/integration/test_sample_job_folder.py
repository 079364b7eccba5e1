"""The sample training script writes every file the README's per-tier submit blocks name."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = re.compile(r"<!-- submit-example [^>]*-->\s*```bash\n(?P<body>.*?)```", re.S)
# A file argument: a word ending in a data/config suffix, or a folder ending in "/" (batches/).
FILE_WORD = re.compile(r"(?<![\w.-])@?(?P<name>[\w.-]+\.(?:csv|yaml|json|skops)|[\w-]+/)(?=\s|$)")


def test_sample_writes_every_file_the_per_tier_blocks_name(tmp_path):
    named = set()
    for match in EXAMPLE.finditer((REPO / "README.md").read_text(encoding="utf-8")):
        named |= {m["name"] for m in FILE_WORD.finditer(match["body"].replace("\\\n", " "))}
    assert {"train.csv", "eval.csv", "suite.yaml", "params.json", "notes.yaml", "batches/"} <= named
    sys.path.insert(0, str(REPO / "include" / "sample"))
    try:
        from train_model import train
    finally:
        sys.path.pop(0)
    trained = train(tmp_path, batches=2)
    for name in sorted(named):
        path = tmp_path / name.rstrip("/")
        assert path.is_dir() if name.endswith("/") else path.is_file(), name
    assert json.loads((tmp_path / "params.json").read_text()) == trained["params"]
    assert (tmp_path / "eval.csv").read_bytes() == Path(trained["eval_data"]).read_bytes()
    assert len(list((tmp_path / "batches").glob("*.csv"))) == 2
