"""Whether the codec's hot modules run compiled, and the guard against a stale compiled build.

``setup.py`` compiles the modules of :data:`COMPILED` with mypyc (docs/hl7v2.md, "The
decoder"): each becomes an extension (``tokenizer.cpython-311-….so``) beside its ``.py``, and
Python imports the extension first. An extension is the source as it was when it was built, so
after an edit to a compiled ``.py`` in an editable install the old code would keep running,
silently. The build writes the SHA-256 of each source it compiled (``_native_sources.json``);
:func:`check`, run when the package is imported, compares them with the ``.py`` files on disk
and raises :class:`StaleBuildError` naming the modules to rebuild. This module itself is never
compiled.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

#: The modules ``setup.py`` compiles; keep the two lists the same.
COMPILED = (
    "tokenizer",
    "charges",
    "header",
    "datatypes",
    "escapes",
    "identifiers",
    "keys",
    "messages",
)
_PACKAGE = __name__.rpartition(".")[0]
_MANIFEST = Path(__file__).with_name("_native_sources.json")
_REBUILD = (
    "rebuild: `pip install -e '.[dev]'` (or `pip install .`) compiles them again; "
    "`SUTURE_COMPILE=0 pip install -e '.[dev]'` removes them and runs the pure Python"
)


class StaleBuildError(ImportError):
    """A compiled module no longer matches its ``.py``: it was edited after the build."""


def compiled_modules() -> list[str]:
    """The modules of :data:`COMPILED` that are loaded from an extension, not a ``.py``."""
    found = []
    for name in COMPILED:
        module = sys.modules.get(f"{_PACKAGE}.{name}")
        path = getattr(module, "__file__", None) or ""
        if path and not path.endswith(".py"):
            found.append(name)
    return found


def is_compiled() -> bool:
    """True when every module of :data:`COMPILED` runs compiled (imported first)."""
    return len(compiled_modules()) == len(COMPILED)


def stale_modules() -> list[str]:
    """The compiled modules whose ``.py`` differs from the source they were built from."""
    names = compiled_modules()
    if not names:
        return []
    try:
        built: dict[str, str] = json.loads(_MANIFEST.read_text())
    except (OSError, ValueError):
        built = {}  # compiled outside setup.py: nothing says from which source
    stale = []
    for name in names:
        source = _MANIFEST.with_name(f"{name}.py")
        if not source.exists():
            continue  # an installation without sources: nothing can be edited
        if built.get(name) != hashlib.sha256(source.read_bytes()).hexdigest():
            stale.append(name)
    return stale


def check() -> None:
    """Raise :class:`StaleBuildError` when a compiled module is older than its source."""
    stale = stale_modules()
    if stale:
        raise StaleBuildError(
            f"the compiled {', '.join(stale)} of {_PACKAGE} no longer match their .py files "
            f"(edited after the build, or built without setup.py); {_REBUILD}"
        )
