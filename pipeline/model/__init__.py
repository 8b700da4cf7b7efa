"""The network: its description (``description``: the conv layers and the input scaling, plain
data, read at parse time; ``describe`` works it out from a Keras graph; ``networks/`` holds the
built-ins'), the networks the atlas ships (``builtins``: one entry each, with its builder and
where its weights come from), how inputs are scaled (``preprocess``), the real ImageNet weights
(``weights``: where they come from and how they are verified, by ``checksum``), what only VGG16
has (``vgg16``: its classifier), the network's Keras graph run again layer by layer, nested
models opened, at any input size its convs take (``graph``) and every Keras model cut from the
network through it (``network``: in one place)."""
