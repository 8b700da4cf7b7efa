"""Where real images come from: the photos scikit-image ships or a photo file (``photos``), an
examples folder (``folder``).

No Keras here: the config checks read it at parse time.
"""
