"""Which filters a run renders: the ``filters`` setting read against the selected layers, and
the compact form a command line takes (``0-7,12``), both ways."""

from __future__ import annotations

from ..errors import AtlasError
from ..model.description import ConvLayer, Network, unknown_layer


def filters_for(choice, lyr: ConvLayer, setting: str) -> list[int]:
    """One layer's filters: 'all', a count (the first N; at most the layer's) or a list."""
    if choice == "all":
        return list(range(lyr.filters))
    if isinstance(choice, int):
        if choice > lyr.filters:
            raise AtlasError(f"config: {setting} = {choice} is more than {lyr.name}'s {lyr.filters} filters; "
                             f"expected 1 to {lyr.filters}, or 'all'")
        return list(range(choice))
    bad = [f for f in choice if f >= lyr.filters]
    if bad:
        raise AtlasError(f"config: {setting} = {bad[0]} is out of range for {lyr.name}; "
                         f"expected 0 to {lyr.filters - 1}")
    return sorted(choice)


def selection(net: Network, choice, layers: list[str]) -> dict[str, list[int]]:
    """The ``filters`` setting as layer name -> the filter indices to render, network order."""
    by_name = net.by_name
    if isinstance(choice, dict):
        unknown = [name for name in choice if name not in by_name]
        if unknown:
            raise AtlasError(unknown_layer(net, unknown[0], "filters"))
        missing = [name for name in choice if name not in layers]
        if missing:
            raise AtlasError(f"config: filters names {missing[0]!r}, which is not in layers "
                             f"{layers!r}; add it to layers or remove it from filters")
        return {name: filters_for(choice.get(name, "all"), by_name[name], f"filters.{name}")
                for name in layers}
    if isinstance(choice, list):
        # One list for every layer: each layer renders the indices it has (filters=[0,7,100]
        # means 100 where there is a filter 100); an index no selected layer has is an error.
        most = max(by_name[name].filters for name in layers)
        bad = [f for f in choice if f >= most]
        if bad:
            raise AtlasError(f"config: filters = {bad[0]} is out of range for every selected layer; "
                             f"expected 0 to {most - 1}")
        picked = {name: sorted(f for f in choice if f < by_name[name].filters) for name in layers}
        return {name: fs for name, fs in picked.items() if fs}
    if isinstance(choice, int):
        # One count for every layer: the first N of each, all of a layer that has fewer; a
        # count no selected layer has is a mistake, not "all" in disguise.
        most = max((by_name[name] for name in layers), key=lambda lyr: lyr.filters)
        filters_for(choice, most, "filters")
        return {name: list(range(min(choice, by_name[name].filters))) for name in layers}
    return {name: filters_for(choice, by_name[name], "filters") for name in layers}


def ranges(indices: list[int]) -> str:
    """[0,1,2,5,7,8] -> '0-2,5,7-8': short enough for a search index or a command line."""
    parts, start = [], None
    for i, v in enumerate(indices):
        if start is None:
            start = v
        if i + 1 == len(indices) or indices[i + 1] != v + 1:
            parts.append(f"{start}-{v}" if v != start else f"{v}")
            start = None
    return ",".join(parts)


def parse(spec: str, count: int) -> list[int] | str:
    """``--filters`` as typed: ``all``, ``A:B`` (B excluded), or indices and ranges ``3,7,9``, ``0-7,12``."""
    if spec == "all":
        return "all"
    try:
        if ":" in spec:
            lo, hi = spec.split(":", 1)
            return list(range(int(lo) if lo else 0, int(hi) if hi else count))
        out = []
        for part in filter(None, (p.strip() for p in spec.split(","))):
            lo, _, hi = part.partition("-")
            out += list(range(int(lo), int(hi or lo) + 1))
        return out
    except ValueError:
        raise AtlasError(f"--filters {spec!r} is not allowed; expected 'all', 'A:B', '3,7,9' or '0-7,12'") from None
