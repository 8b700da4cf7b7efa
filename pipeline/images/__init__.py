"""Where real images come from: the photos scikit-image ships or a photo file (``photos``), an
examples folder (``folder``); and how they become a network's input bands where those are not
RGB, and how a picture in such bands is shown (``bands``).

No Keras here: the config checks read it at parse time.
"""
