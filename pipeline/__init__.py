"""VGG16 Atlas: activation maximisation for every conv filter of a CNN (VGG16 by default), as a
static site.

One sub-package per stage, one module per idea inside it, in the spirit of Lucid's ``optvis``
(docs/architecture.md draws the import rule between them):

- ``config``    the config read once, checked against its schema; each job's typed settings;
                the recipes; the estimate
- ``model``     the network: its description, its real ImageNet weights, every Keras model cut from it
- ``images``    where real images come from: scikit-image's photos, a file, an examples folder
- ``methods``   the methods pictures are drawn with, one module each, and their registry: what
                each carries (its settings, schema section, recipe, parts)
- ``optvis``    feature visualisation: objectives, parameterisations, moves, update rules, and
                the one render loop that draws every picture (dreams and caricatures too)
- ``measure``   what is measured beside the pictures: scorecard, circuits, twins, dataset
                examples, trust
- ``output``    the output paths with atomic writes, and the typed per-filter records
- ``site``      grids, the static pages, publishing to a gh-pages branch
- ``jobs``      what each Snakemake job does (``__main__`` is its command line)
- ``errors``    the one exception that becomes a one-line error
- ``quiet``     TensorFlow's native start-up chatter kept out of the logs
"""

__version__ = "0.2.0"  # 0.2: records carry circuits, a scorecard and dead/silent
