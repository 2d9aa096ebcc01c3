"""Escaping untrusted text for each output context: HTML text and attributes, JavaScript
strings, CSS colours and relative links.

OpenStreetMap names, catalogue labels, layer attributes and CSV cells are written by strangers.
gcgeo never lets them become code, in two layers:

1. Every piece of text that reaches a page goes through exactly one of the helpers below,
   chosen for the context it lands in. Besides the usual HTML/JS escaping, each helper also
   removes the characters ``{`` and ``}`` (as ``&#123;``/``&#125;`` in HTML, ``\\u007b`` /
   ``\\u007d`` in JavaScript). That matters because branca, which folium is built on, turns
   the rendered output of every map element into a *new* Jinja2 template and renders it again,
   so ``{{ ... }}`` inside a rendered name would otherwise be evaluated as code.
2. :func:`render_figure` renders a folium/branca figure with that second pass made literal,
   so even a string that skipped step 1 is shown, never run.

Both layers are tested with hostile names (``{{ }}``, ``{% %}``, ``</script>``, quotes,
``javascript:``, right-to-left and very long text) in ``tests/test_hostile_templates.py``.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote

from ._errors import InputError

__all__ = [
    "css_colour",
    "html_text",
    "js_string",
    "link_path",
    "literal_second_pass",
    "render_figure",
]

_HTML_UNSAFE = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "'": "&#x27;",
        "{": "&#123;",
        "}": "&#125;",
    }
)
_JS_UNSAFE = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "'": "\\u0027",
        "{": "\\u007b",
        "}": "\\u007d",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)
_HEX_COLOUR = re.compile(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})")
_NAMED_COLOURS = frozenset({"transparent", "none", "white", "black", "grey", "gray"})


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        import pandas as pd

        return value is pd.NA or value is pd.NaT
    except ImportError:  # pragma: no cover - pandas is a dependency
        return False


def html_text(value: Any) -> str:
    """Text for an HTML text node or a quoted attribute value.

    ``& < > " '`` become entities, and so do ``{`` and ``}`` (see the module notes), so the
    result shows literally in a browser and never opens a Jinja2 expression. ``None``/NaN
    become the empty string.

    Parameters
    ----------
    value : object
        Any value; converted with :class:`str`.

    Returns
    -------
    str
    """
    if _is_missing(value):
        return ""
    return str(value).translate(_HTML_UNSAFE)


def js_string(value: Any) -> str:
    """A JavaScript string literal (with its quotes) that is safe inside ``<script>``.

    JSON-encoded, then ``< > & '``, the braces and the line separators U+2028/U+2029 are
    written as ``\\uXXXX`` escapes, so the literal cannot close the script element, start an
    HTML comment or a Jinja2 expression. Chinese text stays readable in the page source.

    Parameters
    ----------
    value : object
        Any value; converted with :class:`str` (``None``/NaN: empty string).

    Returns
    -------
    str
    """
    text = "" if _is_missing(value) else str(value)
    return json.dumps(text, ensure_ascii=False).translate(_JS_UNSAFE)


def css_colour(value: Any) -> str:
    """A colour for a CSS property or a Leaflet style: ``#rgb``, ``#rrggbb`` (with alpha) or
    one of a few plain names; anything else is refused.

    Parameters
    ----------
    value : object

    Returns
    -------
    str

    Raises
    ------
    InputError
        When the value is not such a colour (it could otherwise close the style attribute).
    """
    text = str(value).strip()
    if _HEX_COLOUR.fullmatch(text) or text.lower() in _NAMED_COLOURS:
        return text
    raise InputError(
        f"Colour {str(value)[:40]!r} is not a CSS colour; give it as '#rrggbb' (for example "
        "'#1a9850')."
    )


def link_path(value: Any) -> str:
    """A relative link (``href``) to a file gcgeo wrote beside the page.

    Percent-encodes everything but ``/``, so ``javascript:`` or ``data:`` cannot become a
    scheme (the colon is encoded), then escapes for the attribute.

    Parameters
    ----------
    value : object
        A relative file name such as ``zone_east.html``.

    Returns
    -------
    str
    """
    return html_text(quote(str(value), safe="/"))


class _LiteralTemplate:
    """Stands in for a Jinja2 template made from already rendered text: renders it as is."""

    __slots__ = ("_text",)

    def __init__(self, source: Any, *args: Any, **kwargs: Any) -> None:
        self._text = str(source)

    def render(self, *args: Any, **kwargs: Any) -> str:
        return self._text


_RENDER_LOCK = threading.RLock()


@contextmanager
def literal_second_pass() -> Iterator[None]:
    """While active, branca compiles no text into a template: ``Element(text)`` renders
    ``text`` verbatim.

    branca's ``MacroElement.render`` (and several folium elements) wrap their *rendered*
    output in ``branca.element.Element(output)``, whose constructor compiles the string as a
    Jinja2 template; that second pass is where a ``{{ ... }}`` inside data would run. The
    class-level templates that folium elements are written in are compiled at import, and
    folium's own inline templates use :mod:`folium.template`, so neither is touched.
    """
    import branca.element as be

    with _RENDER_LOCK:
        original = be.Template
        be.Template = _LiteralTemplate  # type: ignore[misc,assignment]
        try:
            yield
        finally:
            be.Template = original  # type: ignore[misc]


def render_figure(root: Any) -> str:
    """Render a branca/folium figure (``m.get_root()``) to HTML with a literal second pass.

    Parameters
    ----------
    root : branca.element.Figure

    Returns
    -------
    str
    """
    with literal_second_pass():
        return root.render()
