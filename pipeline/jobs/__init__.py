"""What each Snakemake job does: one module per stage, each started by ``common.preflight``.

- ``ascend``    a layer's filters rendered (and their classic comparison), with their records:
                what is done, the batches, each filter written
- ``grid``      a layer's contact sheet and thumbnails
- ``twins``     a layer's rotation twins
- ``examples``  one pass over the examples images for the layers whose examples are missing
- ``caricatures``  a layer's top dataset examples accentuated towards their filters
- ``trust``     a layer's trust scores; also the scorer for any picture
- ``dream``     a photo dreamed with chosen filters
- ``classes``   class outputs of the full network maximised
- ``common``    the preflight every GPU job shares: device, threads, weights
- ``device``    which GPU a job runs on (one per job, locked), or the CPU
- ``lifetime``  a job ends with the Snakemake that started it
- ``failures``  one line per failed job, read from Snakemake's log

Each job takes its typed settings (``config.settings``) and checks nothing again: the config
was checked once, before the job graph was built. This package's own import is light (the
Snakefile reads ``device`` and ``failures``); the stage modules start TensorFlow.
"""
