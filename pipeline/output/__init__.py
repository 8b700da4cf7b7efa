"""What the atlas writes and where: the output paths (``layout``, with atomic writes) and the
typed records beside the pictures (``record``). Plain Python: every stage reads it."""
