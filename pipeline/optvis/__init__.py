"""Feature visualisation, in the spirit of Lucid's ``optvis``: one module per idea.

- ``render``      the render loop: one engine for every picture, its parts handed to it
- ``parts``       what a picture is made of (Parts), and the blocks a method builds it from
- ``objectives``  what is climbed; objectives add and scale like numbers (a dream is one)
- ``param``       how an image is parameterised: pixels, a Fourier spectrum, MaCo's phase, a photo
- ``transform``   the random moves before every step (Lucid's, a dream's roll)
- ``optimise``    the update rules (Chollet's normalised step, Adam) and Adam's schedules
- ``dream``       a photo climbed towards chosen filters: the octaves, a loop round the render
- ``caricature``  photos accentuated towards their filters (Hamblin et al. 2024)
- ``spectrum``    the natural magnitude spectrum MaCo holds fixed
- ``deprocess``   float images to PNG-ready bytes
- ``backend``     the few lines that depend on Keras' backend (TensorFlow or JAX): everything
                  else is ``keras.ops``
"""
