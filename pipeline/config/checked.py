"""The checked configuration: one frozen, typed value, every default filled in, the network
described once.

``check`` makes it from ``config.yaml`` and the command line; the rules, the job settings, the
recipes and the estimate read it by attribute (``cfg.size``). Its fields are the schema's
settings, one for one (a test keeps them so); the methods' own sections (``classic.*``,
``fourier.*``, ``maco.*``: ``pipeline/methods``) are read with :meth:`Config.section`, so that
a method with a section of its own needs no field here. What changes a value makes a new one
(``dataclasses.replace``): nothing downstream of the check can change a setting by accident.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Mapping

from ..model.description import Network


@dataclass(frozen=True)
class Dream:
    """One item of ``dreams``, its layer and filters resolved (``last``, ``all``)."""

    name: str
    photo: str
    layer: str
    filters: list[int]
    steps: int
    octaves: int
    octave_scale: float
    step_size: float
    size: int


@dataclass(frozen=True)
class ClassTarget:
    """One item of ``classes``."""

    name: str
    target: int   # ``class`` in the config: an ImageNet class index
    steps: int


@dataclass(frozen=True)
class Config:
    outdir: str
    title: str
    model: str
    layers: tuple[str, ...]
    filters: dict[str, list[int]]   # layer -> its selected filters, in network order
    method: str
    steps: int | str
    size: int
    seed: int
    compare_classic: bool
    diversity: int
    diversity_weight: float
    weights: str
    preprocess: str
    photo_bands: str
    cache: str | None
    chunk_size: int | str
    batch_size: int | str
    precision: str
    device: str
    backend: str
    jit: bool
    grid: Mapping[str, int]
    examples: str
    examples_top: int
    examples_side: int
    examples_negative: bool
    trust: bool
    trust_similarity: str
    negative: bool
    caricatures: bool
    caricatures_steps: int
    caricatures_tie: float
    publish_remote: str | None
    base_url: str | None
    dreams: tuple[Dream, ...]
    classes: tuple[ClassTarget, ...]
    sections: Mapping[str, Mapping[str, Any]]  # the methods' sections, by name
    network: Network                # the model's description, worked out once
    notes: tuple[str, ...] = ()     # what the check decided for the user, a line each (a run says them)

    def section(self, name: str) -> Mapping[str, Any]:
        """A method's section of the config (``fourier``, say), every default filled in."""
        return self.sections[name]

    @classmethod
    def of(cls, checked: dict, sections: tuple[str, ...]) -> Config:
        """The value of the check's dict: ``sections`` are the methods' (``methods.sections``)."""
        own = {f.name for f in dataclasses.fields(cls)} - {"sections"}
        return cls(**{name: checked[name] for name in own - {"layers", "grid", "dreams", "classes", "notes"}},
                   notes=tuple(checked["notes"]),
                   layers=tuple(checked["layers"]), grid=MappingProxyType(checked["grid"]),
                   dreams=tuple(Dream(**d) for d in checked["dreams"]),
                   classes=tuple(ClassTarget(c["name"], c["class"], c["steps"]) for c in checked["classes"]),
                   sections=MappingProxyType({name: MappingProxyType(checked[name]) for name in sections}))
