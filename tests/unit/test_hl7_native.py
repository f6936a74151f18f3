"""The compiled HL7 codec (setup.py, mypyc) and the guard against a stale compiled module.

The decode tests run against whatever is imported: the compiled modules after ``pip install``,
the ``.py`` files with ``SUTURE_COMPILE=0`` or sources never built (docs/hl7v2.md).
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import sys
import types
from pathlib import Path

import pytest

from suture.formats.hl7v2 import native

_ROOT = Path(__file__).resolve().parents[2]


def test_setup_compiles_exactly_the_modules_the_guard_checks() -> None:
    tree = ast.parse((_ROOT / "setup.py").read_text())
    found = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and [getattr(target, "id", "") for target in node.targets] == ["_COMPILED"]
    ]
    assert len(found) == 1
    assert tuple(ast.literal_eval(found[0])) == native.COMPILED


@pytest.mark.skipif(
    not os.environ.get("CI") or os.environ.get("SUTURE_COMPILE") == "0",
    reason="CI installs the package (compiled); a source checkout on PYTHONPATH may be pure",
)
def test_ci_runs_the_compiled_codec() -> None:
    assert native.is_compiled(), native.compiled_modules()


@pytest.fixture
def built(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package folder whose ``tokenizer`` and ``keys`` were compiled from their sources."""
    sources = {"tokenizer": b"# tokenizer\n", "keys": b"# keys\n"}
    for name, text in sources.items():
        (tmp_path / f"{name}.py").write_bytes(text)
    manifest = tmp_path / "_native_sources.json"
    manifest.write_text(
        json.dumps({name: hashlib.sha256(text).hexdigest() for name, text in sources.items()})
    )
    monkeypatch.setattr(native, "_MANIFEST", manifest)
    for name in native.COMPILED:
        module = types.ModuleType(f"suture.formats.hl7v2.{name}")
        suffix = ".cpython-311-x86_64-linux-gnu.so" if name in sources else ".py"
        module.__file__ = str(tmp_path / f"{name}{suffix}")
        monkeypatch.setitem(sys.modules, module.__name__, module)
    return tmp_path


def test_a_compiled_module_matching_its_source_passes(built: Path) -> None:
    assert native.compiled_modules() == ["tokenizer", "keys"]
    assert not native.is_compiled()
    native.check()


def test_an_edited_source_beside_its_compiled_module_fails_loudly(built: Path) -> None:
    (built / "keys.py").write_bytes(b"# keys, edited after the build\n")
    assert native.stale_modules() == ["keys"]
    with pytest.raises(native.StaleBuildError, match=r"compiled keys .*pip install -e"):
        native.check()


def test_a_module_compiled_without_setup_py_is_refused(built: Path) -> None:
    (built / "_native_sources.json").unlink()
    with pytest.raises(native.StaleBuildError, match="tokenizer, keys"):
        native.check()


def test_pure_python_is_never_stale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(native, "_MANIFEST", tmp_path / "missing.json")
    for name in native.COMPILED:
        module = types.ModuleType(f"suture.formats.hl7v2.{name}")
        module.__file__ = str(tmp_path / f"{name}.py")
        monkeypatch.setitem(sys.modules, module.__name__, module)
    assert native.compiled_modules() == []
    native.check()
