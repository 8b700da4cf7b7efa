"""The methods the atlas draws its pictures with: a module each, a line each in :data:`REGISTRY`.

- ``classic``  Chollet 2016: pixels from grey noise, the normalised gradient
- ``pixels``   Lucid's decorrelated pixel image: colours decorrelated, Adam, random moves
- ``fourier``  Lucid's Fourier image (Olah et al. 2017), the atlas default
- ``maco``     MaCo (Fel et al. 2023): only the Fourier phase, over photos' magnitude
- ``method``   what a method is: the contract every entry fills in

Adding one: its module, with a :class:`~.method.Method` subclass, and its line below.
"""

from __future__ import annotations

from . import classic, fourier, maco, pixels
from .method import Method

# Chollet's classic is also what every picture is compared with (``compare_classic``).
COMPARISON = "classic"


def registry(*entries: Method) -> dict[str, Method]:
    """The entries by name; an entry that lacks a part is refused in one line."""
    out = {}
    for entry in entries:
        missing = [a for a in Method.REQUIRED if getattr(entry, a, None) in (None, "")]
        missing += [m for m in ("knobs", "parts", "steps") if getattr(type(entry), m) is getattr(Method, m)]
        if missing:
            raise TypeError(f"method {getattr(entry, 'name', type(entry).__name__)!r} lacks {', '.join(missing)}; "
                            "every method sets them (pipeline/methods/method.py)")
        if entry.name in out:
            raise TypeError(f"method {entry.name!r} is registered twice")
        out[entry.name] = entry
    return out


REGISTRY = registry(classic.METHOD, pixels.METHOD, fourier.METHOD, maco.METHOD)


def get(name: str) -> Method:
    return REGISTRY[name]


def sections() -> dict[str, dict]:
    """The config sections the methods own, with their schemas, in registry order."""
    return {m.section: m.schema for m in REGISTRY.values() if m.schema is not None}
