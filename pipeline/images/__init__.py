"""Where real images come from: the photos scikit-image ships, a photo file, an examples folder.

No Keras here: the config checks read it at parse time.
"""
