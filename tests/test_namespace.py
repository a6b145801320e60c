"""One import namespace of our own: with Hugging Face's `kernels` distribution installed (a
requirement of transformers), transformers gets its `kernels` and we get `lowbit.kernels`, both
from outside the repo and from its root, and our GPU results folder is the repo's, not theirs.

From the repo root the check runs the way the project's entry points run Python there: console
scripts (`lowbit`, `pytest`) and `python -P` put no working directory on sys.path. A plain
`python -c` in the root puts the root first, where the layout's top-level folders stand.
"""
import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

PROBE = """
import json
import kernels, transformers
from kernels import CUDAProperties
import lowbit.kernels, lowbit.hwsim.formats
from lowbit.models import compare
from lowbit.sweeps import plots
print(json.dumps({"hf": kernels.__file__, "ours": lowbit.kernels.__file__,
                  "compare": str(compare.RESULTS_DIR), "plots": str(plots.gpu_results_dir())}))
"""


def probe(cwd: Path) -> dict:
    done = subprocess.run([sys.executable, "-P", "-c", PROBE], cwd=cwd, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_hugging_face_kernels_is_installed():
    # The namespace tests below mean something only beside the distribution that clashed.
    assert importlib.metadata.distribution("kernels").metadata["Name"] == "kernels"


@pytest.mark.parametrize("where", ["outside", "repo_root"])
def test_transformers_and_our_kernels_both_import(where, tmp_path):
    found = probe(tmp_path if where == "outside" else REPO)
    assert "site-packages" in Path(found["hf"]).parts, found
    assert Path(found["ours"]) == REPO / "kernels" / "__init__.py"
    assert Path(found["compare"]) == Path(found["plots"]) == REPO / "kernels" / "results"


def test_no_top_level_package_of_ours_is_declared():
    declared = importlib.metadata.distribution("lowbit").read_text("top_level.txt")
    assert declared is None or declared.split() == ["lowbit"], declared
