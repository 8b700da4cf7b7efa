"""The network: VGG16's facts (``vgg16``, plain NumPy), its real ImageNet weights (``weights``:
where they come from and how they are verified) and every Keras model cut from it
(``network``: the layer surgery, in one place)."""
