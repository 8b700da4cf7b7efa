"""Writing one filter: its pictures first, each under a temporary name renamed into place, then
its record (picture, activations, scorecard, circuits), so that a record means its images are
complete."""

from __future__ import annotations

from pathlib import Path

from ... import methods
from ...config import settings
from ...measure import circuits
from ...model.description import ConvLayer
from ...output import layout
from ...output.record import Activation, FilterRecord
from ..common import Preflight, versions
from .batches import Drawn, Render
from .resume import identity


class FilterWriter:
    """Writes the filters of ``layer`` into ``outdir``, with what the job's preflight found (its
    device, network and weights) and the network's ``kernels`` (the circuits)."""

    def __init__(self, outdir: str, layer: ConvLayer, pre: Preflight, kernels: dict):
        self.outdir, self.layer, self.pre, self.kernels = outdir, layer, pre, kernels

    def write(self, render: Render, drawn: Drawn) -> Path:
        """One filter's images, then its record."""
        lyr, rs, r = self.layer, render.settings, drawn.rendered
        png_path, json_path = layout.render_files(self.outdir, render.name, lyr.name, r.filter)
        extra = [Path(layout.diverse_png("", lyr.name, r.filter, k)).name for k in range(1, len(r.diverse) + 1)]
        shown = self.pre.bands.shown  # as a browser shows it: the model's bands, read back exactly
        for name, image in zip(extra, r.diverse):
            layout.write_png(Path(png_path).with_name(name), shown(image))
        alpha = negative = None
        if r.transparency is not None and render.name == "main":
            alpha = layout.write_png(layout.transparency_png(self.outdir, lyr.name, r.filter),
                                     self.pre.bands.with_alpha(r.image, r.transparency)).name
        if drawn.negative is not None:
            negative = layout.write_png(layout.negative_png(self.outdir, lyr.name, r.filter),
                                        shown(drawn.negative.image)).name
        layout.write_png(png_path, shown(r.image))
        k, resolved = self.kernels, self.pre.weights
        return FilterRecord(
            layer=lyr.name, filter=r.filter, **identity(rs, resolved),
            weights_licence=resolved.licence, device=self.pre.where,
            activation=Activation(r.initial, r.final, drawn.png_mean, drawn.png_peak),
            **self.firing(r.filter, drawn.png_peak > 0.0, rs),
            curve=r.curve, seconds=round(r.seconds, 4), versions=versions(), diversity=extra,
            inputs=circuits.inputs(k, lyr, r.filter), outputs=circuits.outputs(k, self.pre.network, lyr, r.filter),
            scorecard=drawn.scorecard,
            kernel=circuits.rgb_kernel(k, lyr, r.filter, resolved.preprocess) if self.colour_kernel else None,
            transparency=alpha, negative=negative,
        ).write(json_path)  # last: a record means its images are complete

    @property
    def colour_kernel(self) -> bool:
        """Whether the page draws the filter's kernel as colours: a conv that reads RGB pixels."""
        return self.layer.reads == "" and self.pre.bands.count == 3

    def firing(self, f: int, fired: bool, s: settings.Ascent) -> dict:
        """``dead`` only where that is known: a first-layer filter that no valid image can make
        positive (decided exactly), or one still silent after at least the method's own steps. A
        filter that did not fire in a shorter run is ``silent``: it may only have needed more."""
        if self.layer.reads == "":
            dead = not circuits.can_fire(self.kernels, self.layer, f, self.pre.weights.preprocess)
        else:
            dead = not fired and s.steps >= methods.get(s.method).steps(s.knobs)
        return {"dead": dead, "silent": not fired and not dead}
