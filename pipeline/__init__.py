"""VGG16 Atlas: activation maximisation for every conv filter of VGG16, as a static site.

One module per idea, in the spirit of Lucid's ``optvis``:

- ``vgg16``       the network: its conv layers, the model cut at a layer, preprocessing
- ``weights``     where real ImageNet weights come from and how they are verified
- ``objectives``  what is maximised (a filter's mean pre-ReLU activation)
- ``param``       how an image is parameterised (pixels, or Fourier + decorrelated colour)
- ``transforms``  the random jitter/scale/rotation applied every step
- ``ascent``      the render loop that combines them
- ``deprocess``   float tensors to PNG-ready bytes
- ``grid``        per-layer contact sheets
- ``site``        the static HTML atlas; ``publish`` pushes it to a gh-pages branch
- ``dream``       photos ascended towards filters (octaves), Chollet 2016's DeepDream section
- ``quality``     spectral share, transform robustness and strength of an image: the scorecard
- ``circuits``    each filter's strongest inputs and outputs, from the weights alone
- ``twins``       filters that answer each other's pictures rotated or mirrored
- ``examples``    the real image patches that excite each filter most (dataset examples)
- ``config``      the config read once, coerced from the command line, checked against its schema
- ``settings``    each job's settings, typed, built once from the checked config
- ``record``      the per-filter record (the JSON beside each PNG)
- ``layout``      the public output paths and atomic writes
- ``device``      which GPU a job runs on (one per job, locked), or the CPU
- ``estimate``    how long an atlas takes, from its FLOPs
- ``failures``    one line per failed job, read from Snakemake's log
- ``jobs``        what each Snakemake job does (``__main__`` is its command line)
"""

__version__ = "0.2.0"  # 0.2: records carry circuits, a scorecard and dead/silent
