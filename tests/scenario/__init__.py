"""Tests of gcgeo.scenario (parse, edit, compare) on the hand-checked two-block town."""
