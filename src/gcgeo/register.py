"""The urban-renewal register 更新台账: renewal areas, urban villages and old compounds.

The register is ``renewal_register.csv`` in the shipped layers folder (see
``layers/README.md``); a planner's folder holding a file of that name replaces it. Its
columns are :data:`REGISTER_COLUMNS`; :func:`validate_register` (defined with the other
layer checks in :mod:`gcgeo.layer_checks`) lists what is wrong with a table.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ._errors import InputError, LayerError
from .layer_checks import (
    REGISTER_COLUMNS,
    REGISTER_FILE,
    REGISTER_STATUS,
    REGISTER_TYPES,
    validate_register,
)
from .layers import shipped_layers_dir
from .tables import read_frame

__all__ = [
    "REGISTER_COLUMNS",
    "REGISTER_FILE",
    "REGISTER_STATUS",
    "REGISTER_TYPES",
    "load_register",
    "validate_register",
]


def load_register(layers_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Load the urban-renewal register (a planner's copy wins over the shipped one).

    Parameters
    ----------
    layers_dir : path-like, optional
        A planner's folder holding ``renewal_register.csv``.

    Returns
    -------
    pandas.DataFrame
        Text columns as strings (blank cells NaN), ``target_year`` as nullable integer. The
        file may be UTF-8 (with or without BOM) or GBK/GB18030, delimiter sniffed.

    Raises
    ------
    LayerError
        If the file cannot be read or is invalid.
    """
    path = shipped_layers_dir() / REGISTER_FILE
    if layers_dir is not None:
        d = Path(layers_dir)
        if not d.is_dir():
            raise LayerError(f"Layers folder {str(d)!r} does not exist; pass an existing folder.")
        if (d / REGISTER_FILE).is_file():
            path = d / REGISTER_FILE
    try:
        df = read_frame(path, what="Register", dtype=str)
    except InputError as exc:  # undecodable, unparsable or empty: one sentence naming the file
        raise LayerError(str(exc)) from exc
    except OSError as exc:
        raise LayerError(
            f"Register {str(path)!r} could not be read ({exc}); save it as UTF-8 CSV with a "
            "header row."
        ) from exc
    problems = validate_register(df)
    if problems:
        raise LayerError(f"Register {str(path)!r} is invalid: {' | '.join(problems)}")
    df["target_year"] = pd.to_numeric(df["target_year"], errors="coerce").astype("Int64")
    return df
