"""The configuration, from ``config.yaml`` to each job's typed settings.

- ``check``      read once, coerced from the command line, checked once against ``schema.yaml``
- ``checked``    what the check returns: one frozen, typed configuration
- ``selection``  which filters of which layers a run renders
- ``recipes``    what every ``auto`` means: the one place it is resolved
- ``settings``   each job's settings, typed, built once from the checked config
- ``estimate``   how long an atlas takes, from its FLOPs
- ``reference``  docs/configuration.md, written from the schema

Nothing here starts TensorFlow: the Snakefile reads all of it at parse time.
"""

from .check import DEFAULT_FILE, check, load, merge, read_yaml

__all__ = ["DEFAULT_FILE", "check", "load", "merge", "read_yaml"]
