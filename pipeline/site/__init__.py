"""What people look at: the per-layer grids (``grid``), the static pages (``pages``), every
filter's numbers as one table (``metrics``) and their publishing to a gh-pages branch
(``publish``). No TensorFlow: page jobs start in a fraction of
a second."""
