"""Small widgets that keep the layout in hand: text never sets a window's minimum width."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """One line of text that shrinks with its space, ending in "…" when it does not fit, with
    the whole text as its tooltip then. Its minimum width is zero, so however long the text
    (an error naming a deep path), the panel and the window keep their size."""

    def __init__(self, text: str = "", parent: QWidget | None = None,
                 mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight):
        super().__init__(parent)
        self._full = ""
        self._mode = mode
        self._own_tip = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(0)
        self.setText(text)

    def setText(self, text: str) -> None:  # noqa: N802 (Qt's name)
        self._full = " ".join(str(text).split())
        self._elide()

    def text(self) -> str:
        """The whole text, not its shortened form."""
        return self._full

    def shown_text(self) -> str:
        return super().text()

    def setToolTip(self, tip: str) -> None:  # noqa: N802
        self._own_tip = tip
        self._elide()

    def sizeHint(self) -> QSize:  # noqa: N802
        m = self.contentsMargins()
        fm = self.fontMetrics()
        return QSize(fm.horizontalAdvance(self._full) + m.left() + m.right() + 2,
                     fm.height() + m.top() + m.bottom())

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(0, self.sizeHint().height())

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        m = self.contentsMargins()
        width = max(0, self.width() - m.left() - m.right())
        shown = self.fontMetrics().elidedText(self._full, self._mode, width)
        if shown != super().text():
            super().setText(shown)
        tip = self._own_tip or (self._full if shown != self._full else "")
        if tip != super().toolTip():
            super().setToolTip(tip)


def wrap_freely(label: QLabel) -> QLabel:
    """A word-wrapped label whose longest word (a path) does not set the minimum width: it
    takes the width its layout gives and wraps, breaking long paths after their slashes."""
    label.setWordWrap(True)
    policy = label.sizePolicy()
    policy.setHorizontalPolicy(QSizePolicy.Policy.Ignored)
    label.setSizePolicy(policy)
    label.setMinimumWidth(0)
    return label

