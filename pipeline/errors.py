"""The one exception type for expected failures: the CLI prints it as one line, no traceback."""


class AtlasError(Exception):
    """An expected failure (bad setting, missing file, unreachable source).

    The message is a complete sentence for the user: which setting, which value, what is
    allowed or what to do instead.
    """
