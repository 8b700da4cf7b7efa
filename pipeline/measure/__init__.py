"""What the atlas measures beside the pictures.

- ``scorecard``  how far a picture can be trusted: strength, robustness, spectral share
- ``moves``      the scorecard's moves, made as a photo editor makes them
- ``probe``      the compiled forward passes the scorecard and twins measure with
- ``precision``  whether bfloat16 draws what float32 does, against a second seed's spread
- ``circuits``   each filter's strongest inputs and outputs, from the weights alone
- ``twins``      filters that answer each other's pictures rotated or mirrored
- ``examples``   the real image patches that excite each filter most (dataset examples)
- ``trust``      the specific score, MIS (natural and synthetic) and the processing path: the arithmetic
- ``measures``   the trust measures, an entry each: what the log, the command line and the pages ask
- ``lpips``      the perceptual distance MIS scores with (LPIPS-VGG, or a user's model)
- ``interpretability``  the trust scores measured with the network
"""
