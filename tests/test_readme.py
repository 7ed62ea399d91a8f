"""The front door cannot break silently: every ```python block of README.md and docs/*.md runs as written.

Each block runs in its own fresh Python process (the repository on
PYTHONPATH, nothing else), in a temporary folder shared by the blocks of one
page, in page order: a later block may read what an earlier one wrote (the
serving page exports a model, then loads it), as a reader following the page
would. A block that needs a server is marked in the markdown by the line
`<!-- no-test: why -->` right before it; nothing else is skipped.
"""

import glob
import os
import re
import subprocess
import sys

import pytest

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ["README.md"] + sorted(os.path.relpath(p, REPO_ROOT) for p in glob.glob(os.path.join(REPO_ROOT, "docs", "*.md")))
NO_TEST = re.compile(r"<!--\s*no-test\b.*-->")


def python_blocks(text):
    """[(line number, code, skipped)] for each ```python block of a markdown text."""
    blocks = []
    for match in re.finditer(r"^```python\n(.*?)^```", text, re.S | re.M):
        line = text.count("\n", 0, match.start()) + 1
        before = text[:match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        blocks.append((line, match.group(1), bool(NO_TEST.fullmatch(before.strip()))))
    return blocks


def _read(page):
    with open(os.path.join(REPO_ROOT, page), encoding="utf-8") as f:
        return f.read()


@pytest.mark.parametrize("page", [p for p in PAGES if python_blocks(_read(p))])
def test_python_blocks_run_as_written(page, tmp_path):
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, TF_CPP_MIN_LOG_LEVEL="2")
    for line, code, skipped in python_blocks(_read(page)):
        if skipped:
            continue
        run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=600)
        assert run.returncode == 0, f"{page}:{line}: the python block fails as written:\n{run.stderr[-3000:]}"


def test_block_extraction_and_the_no_test_marker():
    text = "# t\n```python\nx = 1\n```\n\n<!-- no-test: needs a server -->\n```python\nimport grpc\n```\n```sh\nls\n```\n"
    assert python_blocks(text) == [(2, "x = 1\n", False), (7, "import grpc\n", True)]
    # The real pages: the README's blocks all run; the serving page's gRPC client (a server) is skipped.
    assert python_blocks(_read("README.md")) and not any(skip for *_, skip in python_blocks(_read("README.md")))
    serving = python_blocks(_read(os.path.join("docs", "serving.md")))
    assert [("grpc" in code) for _, code, skip in serving if skip] == [True]


def test_bare_import_reaches_the_documented_submodules():
    """`import keras_gans` then `keras_gans.data.load(...)` (the README's first block) must not raise AttributeError."""
    code = (
        "import keras_gans\n"
        "for name in ('data', 'callbacks', 'checkpoints', 'export', 'losses', 'networks', 'distribute', 'precision',\n"
        "             'features', 'metrics', 'quality', 'evaluate', 'sample', 'serving', 'evaluation'):\n"
        "    getattr(keras_gans, name)\n"
        "assert callable(keras_gans.data.load) and callable(keras_gans.export.export_generator)\n"
        "try:\n"
        "    keras_gans.no_such_module\n"
        "except AttributeError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('an unknown attribute must raise AttributeError')\n"
    )
    env = dict(os.environ, PYTHONPATH=REPO_ROOT, TF_CPP_MIN_LOG_LEVEL="2")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
