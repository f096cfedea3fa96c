"""Outside text made safe to print: the one function every error and renderer uses for text that
came from a file, a server or a process.

A terminal obeys control characters: a carriage return from a Prometheus error message lets the
server overwrite the line the user reads, an escape sequence can recolour or clear the screen, a
bidirectional override can reorder what is shown. A lone surrogate (``"\\ud800"``, valid in JSON)
cannot be encoded at all and would break every output format. ``terminal_safe`` shows each of
these as a visible escape (``\\r``, ``\\x1b``, ``\\u202e``, ``\\ud800``) and caps the length, so
what is printed is what was received, and nothing more can happen on the screen.
"""

from __future__ import annotations

import unicodedata

__all__ = ["DEFAULT_LIMIT", "page_safe", "terminal_safe", "unicode_safe"]

DEFAULT_LIMIT = 200  # characters of outside text shown in one message

_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escaped(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def _unsafe(char: str, keep_newlines: bool) -> bool:
    if char == "\n" and keep_newlines:
        return False
    if 0xD800 <= ord(char) <= 0xDFFF:  # a lone surrogate: not encodable
        return True
    # Cc: C0/C1 controls (incl. ESC, CR, DEL); Cf: format characters such as the
    # bidirectional overrides and zero-width joiners that change what is shown.
    return unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp")


def terminal_safe(
    text: str, limit: int | None = DEFAULT_LIMIT, *, keep_newlines: bool = False
) -> str:
    """``text`` with every control, format and surrogate character shown escaped, cut to
    ``limit`` characters (``None``: no cap) with ``…`` marking the cut."""
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 1, 0)]
        cut = True
    else:
        cut = False
    if text.isprintable() or (keep_newlines and text.replace("\n", "").isprintable()):
        out = text
    else:
        out = "".join(_escaped(c) if _unsafe(c, keep_newlines) else c for c in text)
    return out + "…" if cut else out


def unicode_safe(text: str) -> str:
    """``text`` with lone surrogates replaced by U+FFFD, so it encodes as UTF-8 (for JSON and
    HTML output, where escaping control characters is the format's own job)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


def page_safe(text: str) -> str:
    """``text`` for an HTML page: lone surrogates as U+FFFD, control characters (an ESC, a CR
    from a file or server; not a newline or tab) shown escaped — they are not allowed in HTML and
    would reach a terminal if the page's text is copied or piped. HTML escaping is the caller's."""
    text = unicode_safe(text)
    if text.isprintable():
        return text
    return "".join(
        _escaped(c) if c not in "\n\t" and unicodedata.category(c) == "Cc" else c for c in text
    )
