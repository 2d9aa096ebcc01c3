"""``gcgeo serve``: the live what-if page and its JSON API.

:mod:`~gcgeo.serve.session` keeps one planner's edits and their exact coverage;
:mod:`~gcgeo.serve.app` is the ASGI application (Starlette) that serves the page, its
assets and the API. Starlette and uvicorn are the optional ``serve`` extra
(``pip install -e ".[serve]"``); they are imported only by ``gcgeo serve``.
"""

from __future__ import annotations

from .session import MAX_THRESHOLD_M, Area, Edit, ServeData, Session

__all__ = ["MAX_THRESHOLD_M", "Area", "Edit", "ServeData", "Session"]
