"""The Qt application (the only layer that imports Qt)."""

from .qt_compat import pin_singletons

pin_singletons()
