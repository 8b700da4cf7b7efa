"""Feature visualisation, in the spirit of Lucid's ``optvis``: one module per idea.

- ``objectives``  what is maximised; objectives add and scale like numbers
- ``param``       how an image is parameterised (pixels, or Fourier + decorrelated colour)
- ``transform``   the random moves applied every step, and the scorecard's named moves
- ``optimise``    the update rules (Chollet's normalised step, Adam) and Adam's schedules
- ``render``      the render loop that combines them, many filters per batch
- ``dream``       a photo ascended towards chosen filters (octaves)
- ``caricature``  a photo accentuated towards a filter (Hamblin et al. 2024)
- ``spectrum``    the natural magnitude spectrum MaCo holds fixed
- ``deprocess``   float images to PNG-ready bytes
- ``backend``     the few lines that depend on Keras' backend (TensorFlow): everything else
                  is ``keras.ops``
"""
