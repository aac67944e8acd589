"""What the rating and the A/B sessions share: who judges, which item is shown, how long it has been shown."""

from __future__ import annotations

import time

from ..errors import WorkbenchError
from ..store import Store


class Cursor:
    """Position, timer and status line shared by the rating and the A/B sessions."""

    def __init__(self, store: Store, annotator: str | None):
        self.store = store
        self.annotator: str | None = None
        self.position = 0
        self.status = ""
        self._shown_at = time.monotonic()
        if annotator:
            self.set_annotator(annotator)

    def __len__(self) -> int:
        raise NotImplementedError

    def visible(self) -> list[int]:
        """Positions that pass the filters (all, unless a subclass filters)."""
        return list(range(len(self)))

    def _load(self) -> None:
        """Read this annotator's earlier judgments from the store."""

    def resume_position(self) -> int:
        raise NotImplementedError

    def set_annotator(self, name: str) -> None:
        """Set who is judging; their earlier judgments load and the session resumes at the first unjudged item."""
        name = (name or "").strip()
        if not name:
            raise WorkbenchError("Type your name (the annotator) first: every judgment is saved under it.")
        self.annotator = name
        self._load()
        self._go(self.resume_position())
        self.status = f"Hello {name}: resuming at item {self.position + 1} of {len(self)}."

    def _need_annotator(self) -> str:
        if not self.annotator:
            raise WorkbenchError("Type your name (the annotator) first: every judgment is saved under it.")
        return self.annotator

    def _go(self, position: int) -> None:
        self.position = position
        self._shown_at = time.monotonic()

    def seconds(self) -> float:
        """Seconds since the current item was shown."""
        return round(time.monotonic() - self._shown_at, 3)

    def next(self) -> bool:
        """Move to the next item that passes the filters; False at the end."""
        later = [i for i in self.visible() if i > self.position]
        if later:
            self._go(later[0])
            return True
        self.status = "That was the last item" + (" matching the filters." if len(self.visible()) < len(self) else ".")
        return False

    def previous(self) -> bool:
        """Move to the previous item that passes the filters; False at the start."""
        earlier = [i for i in self.visible() if i < self.position]
        if earlier:
            self._go(earlier[-1])
            return True
        self.status = "This is the first item" + (" matching the filters." if len(self.visible()) < len(self) else ".")
        return False
