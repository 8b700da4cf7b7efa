"""What a method is: one value that carries every answer the rest of the code asks of it.

The config check, the job settings, the recipes, the estimate, the settings reference and the
render loop ask the entry (``methods.get(cfg.method)``), never the method's name. A method's
module (one per method) defines its knobs (its settings type), its schema section if it has
one, what ``auto`` means for it, and the parts the render loop draws with. Nothing here
imports Keras: the Snakefile reads every method at parse time, and the render loop hands a
method the blocks it builds its parts from (``optvis/parts.py``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:  # the checked config, a layer above: its type only
    from ..config.checked import Config


class Method:
    """The contract. A subclass sets every attribute of :data:`REQUIRED` and :meth:`knobs`,
    :meth:`steps` and :meth:`parts`; the registry refuses one that does not (``methods.registry``)."""

    name: str            # the `method` setting's value
    source: str          # who it comes from, as public text names it ("Chollet 2016")
    summary: str         # what it does, in a few words: the schema's description of `method`
    knobs_type: type     # its settings, a frozen dataclass: what a job is handed and a record keeps
    section: str         # the config section its knobs are read from
    schema: dict | None = None  # that section's schema, where this method owns it
    moves: bool = True   # it moves the picture at random before every step (its curve is the moved copy's)

    REQUIRED = ("name", "source", "summary", "knobs_type", "section")

    def knobs(self, cfg: Config, depth: float | None) -> Any:
        """Its knobs for a layer at relative ``depth`` (None: the class logits), every ``auto``
        resolved: its recipe."""
        raise NotImplementedError

    def parts(self, knobs: Any, size: int, blocks, cache: Path):
        """The render loop's parts (``blocks.Parts``) for a ``size`` px picture; ``blocks`` is
        ``optvis/parts.py``, ``cache`` where computed files are kept."""
        raise NotImplementedError

    def steps(self, knobs: Any) -> int:
        """Its steps under ``steps: auto``."""
        raise NotImplementedError

    def side(self, knobs: Any, size: int) -> int:
        """The side the network sees, which the estimate counts: the picture's, padded by moves."""
        return size + 2 * int(getattr(knobs, "pad", 0))

    def unpadded(self, knobs: Any) -> Any:
        """Its knobs without padding: a network whose input size is fixed (the class images)."""
        return dataclasses.replace(knobs, pad=0) if hasattr(knobs, "pad") else knobs

    def check(self, cfg: Config) -> str | None:
        """What is wrong with the checked config for this method, as one line, or None."""
        return None

    def describe(self) -> str:
        """How the schema's description of ``method`` names it."""
        return f"'{self.name}' ({self.summary}; {self.source})"


def section_schema(text: str) -> dict:
    """A method's schema section, written as YAML in its module like the rest of schema.yaml."""
    return yaml.safe_load(text)


def pick(cls: type, values: dict) -> Any:
    """``cls`` built from the keys of ``values`` it has fields for (a YAML list read as a tuple)."""
    fields = {f.name for f in dataclasses.fields(cls)}
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in fields})
