"""Exceptions inside Qt's virtual overrides become one line for the user (app/errors.py)."""

from __future__ import annotations

import functools

from ..app.errors import user_message


def guarded(method):
    """For Qt virtual overrides (events, paint): an exception must not leave the override,
    where this Qt binding turns it into an abort; it is logged and shown as one line."""
    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:
            message = user_message(exc, f"handling {method.__name__}")
            window = self.window() if hasattr(self, "window") else None
            show = getattr(window, "show_error", None)
            if show is not None:
                show(message)
            return None
    return wrapper
