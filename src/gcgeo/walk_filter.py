"""The walk filter: which OSM highway ways people walk on.

One function, :func:`walk_decision`, classifies a way from its tags; :mod:`gcgeo.network`
applies it to every way and counts the decisions in the network report.

Two rules are specific to Chinese cities:

- ``access=private`` minor ways are the inside of gated compounds (封闭小区); residents
  walk them, so they are kept by default (``include_private``).
- Urban arterials (主干路) are often tagged ``trunk`` and have sidewalks OSM rarely maps.
  At-grade trunk roads are kept by default (``include_trunk``); grade-separated ones
  (``bridge``/``tunnel``), ``motorroad=yes`` (快速路), ``foot=no`` and ``trunk_link`` ramps
  are not, unless foot access or a sidewalk is mapped.
"""

from __future__ import annotations

__all__ = ["WALK_HIGHWAYS", "walk_decision"]

#: Highway classes people walk on (foot access permitting).
WALK_HIGHWAYS = frozenset(
    {
        "footway",
        "path",
        "steps",
        "pedestrian",
        "living_street",
        "residential",
        "service",
        "unclassified",
        "track",
        "corridor",
        "road",
        "tertiary",
        "tertiary_link",
        "secondary",
        "secondary_link",
        "primary",
        "primary_link",
    }
)
#: Classes kept only when foot access is stated (or a sidewalk is mapped).
_FOOT_ONLY_IF_ALLOWED = frozenset(
    {"trunk", "trunk_link", "cycleway", "bridleway", "motorway", "motorway_link"}
)
#: Minor classes whose ``access=private`` marks the inside of a gated compound (封闭小区).
_COMPOUND_CLASSES = frozenset(
    {
        "service",
        "footway",
        "path",
        "residential",
        "living_street",
        "pedestrian",
        "steps",
        "track",
        "unclassified",
        "corridor",
    }
)
_FOOT_YES = frozenset({"yes", "designated", "permissive", "official"})
_NO = frozenset({"no"})
_SIDEWALK_YES = frozenset({"both", "left", "right", "yes", "separate"})
#: ``bridge``/``tunnel`` values that do not make a way grade-separated.
_NOT_SEPARATED = frozenset({"", "no"})


def _trunk_decision(tags: dict[str, str], include_trunk: bool) -> str:
    """Decision for a ``highway=trunk`` way without stated foot access or sidewalk."""
    if not include_trunk:
        return "drop:trunk"
    if tags.get("motorroad", "") == "yes":
        return "drop:trunk motorroad"
    if tags.get("bridge", "") not in _NOT_SEPARATED or tags.get("tunnel", "") not in _NOT_SEPARATED:
        return "drop:trunk bridge/tunnel"
    return "keep_trunk"


def walk_decision(
    tags: dict[str, str], include_private: bool = True, include_trunk: bool = True
) -> str:
    """Classify a highway way for walking.

    Parameters
    ----------
    tags : dict
        The way's OSM tags.
    include_private : bool
        Keep ``access=private`` minor ways of gated compounds.
    include_trunk : bool
        Keep at-grade ``highway=trunk`` roads (Chinese urban arterials) that map neither
        foot access nor a sidewalk; bridges, tunnels, ``motorroad=yes`` and ``trunk_link``
        ramps stay dropped.

    Returns
    -------
    str
        ``"keep"``, ``"keep_private"`` (an ``access=private`` way of a gated compound kept
        because residents walk it), ``"keep_trunk"`` (an at-grade trunk road kept by the
        arterial rule) or ``"drop:<reason>"``.
    """
    hw = tags.get("highway", "")
    foot = tags.get("foot", "")
    access = tags.get("access", "")
    if foot in _NO:
        return "drop:foot=no"
    if tags.get("area") == "yes" and hw != "pedestrian":
        return "drop:area"
    foot_allowed = foot in _FOOT_YES
    if hw in _FOOT_ONLY_IF_ALLOWED:
        if hw.startswith("motorway") and not foot_allowed:
            return "drop:motorway"
        if not (foot_allowed or tags.get("sidewalk", "") in _SIDEWALK_YES):
            if hw != "trunk" or access in ("no", "private"):
                return f"drop:{hw}"
            return _trunk_decision(tags, include_trunk)
    elif hw not in WALK_HIGHWAYS:
        return f"drop:highway={hw or 'none'}"
    if access == "no" and not foot_allowed:
        return "drop:access=no"
    if access == "private" and not foot_allowed:
        if include_private and hw in _COMPOUND_CLASSES:
            return "keep_private"
        return "drop:access=private"
    return "keep"
