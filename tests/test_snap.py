"""Snapping to the nearest point of the nearest segment."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from osmxml import X0, Y0, hand_grid

from gcgeo import InputError
from gcgeo.network import load_network
from gcgeo.snap import snap_points


@pytest.fixture
def net(tmp_path: Path):
    return load_network(hand_grid().write(tmp_path / "grid.osm"))


def test_offsets_and_legs(net) -> None:
    xy = np.array([(X0 + 150, Y0 + 20), (X0 + 40, Y0 + 260), (X0 - 30, Y0 - 40)])
    s = snap_points(net, xy)
    assert s.ok.all()
    # (150, 20) -> (150, 0) on a row-0 segment; 50 m from either end
    assert s.leg[0] == pytest.approx(20, abs=0.03)
    assert s.offset[0] == pytest.approx(50, abs=0.03)
    # (40, 260): 60 m above Row 2 Road at (40, 200)
    assert s.leg[1] == pytest.approx(60, abs=0.03)
    e = s.edge[1]
    end_u = net.xy[net.edge_u[e]] - (X0, Y0)
    assert s.offset[1] == pytest.approx(abs(40 - end_u[0]), abs=0.03)
    # (-30, -40): beyond the corner N00, the foot of the perpendicular clamps to the node
    assert s.leg[2] == pytest.approx(50, abs=0.03)


def test_beyond_max_snap_is_reported_not_attached(net) -> None:
    # (100, 600): the nearest street point is G (300, 300) at sqrt(200² + 300²) = 360.56 m
    xy = np.array([(X0 + 150, Y0 + 20), (X0 + 100, Y0 + 600), (np.nan, np.nan)])
    s = snap_points(net, xy, max_snap=300)
    assert s.ok.tolist() == [True, False, False]
    assert np.isinf(s.leg[1]) and s.edge[1] == -1
    s2 = snap_points(net, xy, max_snap=380)
    assert s2.ok[1] and s2.leg[1] == pytest.approx(360.555, abs=0.03)


def test_empty_and_bad_max_snap(net) -> None:
    assert len(snap_points(net, np.empty((0, 2)))) == 0
    with pytest.raises(InputError, match="max snap"):
        snap_points(net, np.array([(X0, Y0)]), max_snap=0)
