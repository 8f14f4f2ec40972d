"""The row of figures over the Dashboard's plots.

:class:`Tiles` shows six :class:`Tile` widgets -- queued, oldest message, received and
delivered this minute, deferred and rejected over the range on show -- each a caption
over a large value.  The Dashboard sets them; a lost connection greys them.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

_STYLE = (
    "QFrame#tile { background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; }"
    "QLabel#tileCaption { color: #57606a; }"
    "QLabel#tileValue { font-size: 20px; font-weight: 600; color: %s; }"
)
TILES = (
    ("queued", "Queued"),
    ("oldest", "Oldest message"),
    ("in", "Received / min"),
    ("out", "Delivered / min"),
    ("deferred", "Deferred"),
    ("rejected", "Rejected"),
)


class Tile(QFrame):
    """A caption over a value."""

    def __init__(self, caption: str) -> None:
        super().__init__()
        self.setObjectName("tile")
        self.caption = QLabel(caption)
        self.caption.setObjectName("tileCaption")
        self.value = QLabel("–")
        self.value.setObjectName("tileValue")
        self.note = QLabel("")
        self.note.setObjectName("tileCaption")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        layout.setSpacing(0)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)
        layout.addWidget(self.note)
        self.set_stale(False)

    def set_stale(self, stale: bool) -> None:
        self.setStyleSheet(_STYLE % ("#8c959f" if stale else "#24292f"))


class Tiles(QWidget):
    """The six tiles, by key."""

    def __init__(self) -> None:
        super().__init__()
        self.tiles = {key: Tile(caption) for key, caption in TILES}
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        for tile in self.tiles.values():
            layout.addWidget(tile, 1)

    def set(
        self, key: str, value: str, note: str | None = None, caption: str | None = None
    ) -> None:
        tile = self.tiles[key]
        tile.value.setText(value)
        if note is not None:
            tile.note.setText(note)
        if caption is not None:
            tile.caption.setText(caption)

    def value(self, key: str) -> str:
        return self.tiles[key].value.text()

    def set_stale(self, stale: bool) -> None:
        for tile in self.tiles.values():
            tile.set_stale(stale)
