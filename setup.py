"""Build hook: compiles the HL7 v2 codec's hot modules to C extensions with mypyc.

Everything else about the package is declared in ``pyproject.toml``; this file only adds the
extension modules (docs/hl7v2.md, "The decoder"). The compiled modules are the same ``.py``
files, type-checked and translated by mypyc; the ``.py`` files ship beside them and are what
Python imports when no extension is built.

- ``SUTURE_COMPILE=0`` builds pure Python: no extension, no compiler needed. It also removes the
  extensions an earlier editable install left beside the sources, so the ``.py`` files are what
  is imported again.
- Otherwise the modules below are compiled; a missing C compiler or Python headers fail the
  install loudly (set ``SUTURE_COMPILE=0`` to install without them).

Each build also writes ``src/suture/formats/hl7v2/_native_sources.json``: the SHA-256 of every
compiled module's source as it was compiled. :mod:`suture.formats.hl7v2.native` compares it
with the ``.py`` files on disk when the package is imported and refuses a stale extension
(an edited ``.py`` beside the ``.so`` built from the old one).
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from setuptools import setup

_ROOT = Path(__file__).resolve().parent
_PACKAGE = _ROOT / "src" / "suture" / "formats" / "hl7v2"
#: The modules the decode path spends its time in (benchmarks/hl7_decode.py); keep this list
#: and ``suture.formats.hl7v2.native.COMPILED`` the same.
_COMPILED = (
    "tokenizer",
    "charges",
    "header",
    "datatypes",
    "escapes",
    "identifiers",
    "keys",
    "messages",
)
#: The shared library of the compiled modules, ``suture_hl7v2_native__mypyc.*.so``. It sits at
#: the top level (src/, site-packages/) because mypyc derives each module's ``__file__`` from it.
_GROUP = "suture_hl7v2_native"
_MANIFEST = _PACKAGE / "_native_sources.json"
#: The setuptools commands that build extensions; metadata-only runs (``egg_info``, which pip
#: runs first) skip mypyc, which takes a while.
_BUILDING = frozenset({"build", "build_ext", "bdist_wheel", "editable_wheel", "develop", "install"})


def _compile() -> bool:
    return os.environ.get("SUTURE_COMPILE", "1").strip().lower() not in {"0", "false", "no", ""}


def _remove_inplace_extensions() -> None:
    """Drop extensions an editable install built beside the sources, and their manifest."""
    built = [*(_PACKAGE / name for name in _COMPILED), _ROOT / "src" / f"{_GROUP}__mypyc"]
    for stem in built:
        for suffix in ("so", "pyd"):
            for path in stem.parent.glob(f"{stem.name}.*.{suffix}"):
                path.unlink()
    _MANIFEST.unlink(missing_ok=True)


def _ext_modules() -> list[object]:
    if not _compile():
        _remove_inplace_extensions()
        return []
    if _BUILDING.isdisjoint(sys.argv[1:]):
        return []
    from mypyc.build import mypycify  # noqa: PLC0415 - only a compiling build needs mypy

    sources = {name: (_PACKAGE / f"{name}.py").read_bytes() for name in _COMPILED}
    _MANIFEST.write_text(
        json.dumps(
            {name: hashlib.sha256(text).hexdigest() for name, text in sources.items()},
            indent=2,
            sort_keys=True,
        )
        + "\n"
    )
    os.chdir(_ROOT)  # mypy reads its options (mypy_path) from pyproject.toml here
    return list(
        mypycify(
            [f"src/suture/formats/hl7v2/{name}.py" for name in _COMPILED],
            opt_level="3",
            group_name=_GROUP,
        )
    )


setup(ext_modules=_ext_modules())
