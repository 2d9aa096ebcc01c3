"""Tests of :mod:`gcgeo.maps` (a package, so basenames such as test_layers.py may repeat)."""
