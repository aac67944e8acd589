"""What the rating and A/B panels share: annotator box, navigation, keys, status line, escaped text blocks.

Panels hold no logic: each button or key calls one method of a session from ``workbench.human`` and the
panel redraws from the session's state. Every text that came from a model, a data file or a person is
escaped by ``workbench.views.html.escape``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as W

from ..errors import WorkbenchError
from ..views.html import escape
from .keys import HAVE_ANYWIDGET, Shortcuts

NAV_KEYS = {"n": "next", "ArrowRight": "next", "p": "previous", "ArrowLeft": "previous", "s": "skip"}
BOX = (
    "white-space:pre-wrap;word-break:break-word;max-height:18em;overflow:auto;padding:6px 8px;"
    "border:1px solid var(--jp-border-color2,#ddd);border-radius:4px;background:var(--jp-layout-color1,#fff);"
    "font-family:var(--jp-code-font-family,monospace);font-size:12px"
)


def text_block(title: str, text: str | None, *, note: str = "") -> str:
    """HTML for a titled box of untrusted text: everything escaped, line breaks kept."""
    body = escape(text) if text is not None else "<i>(none)</i>"
    extra = f' <span style="font-weight:normal;color:#666">{escape(note)}</span>' if note else ""
    return f'<div style="margin:4px 0"><b>{escape(title)}</b>{extra}<div style="{BOX}">{body}</div></div>'


class Panel:
    """Base of the panels: subclasses add choice buttons and ``render_item``."""

    title = ""
    widget: W.VBox  # the whole panel, which subclasses build with ``layout``
    keys: Shortcuts | None  # None without anywidget

    def __init__(self, session: Any, choice_keys: Mapping[str, Callable[[], None]], key_help: str):
        self.session = session
        self.annotator = W.Text(
            value=session.annotator or "",
            placeholder="type your name, then Enter",
            description="Annotator",
            continuous_update=False,
        )
        self.annotator.observe(lambda change: self._act(lambda: session.set_annotator(change["new"])), "value")
        self.progress = W.HTML()
        self.item = W.HTML()
        self.status = W.HTML()
        self.nav = {
            "previous": W.Button(description="◀ previous [p]", tooltip="previous item (p or ←)"),
            "skip": W.Button(description="skip [s]", tooltip="skip this item (s)"),
            "next": W.Button(description="next [n] ▶", tooltip="next item (n or →)"),
        }
        for name, button in self.nav.items():
            button.on_click(lambda _b, name=name: self._act(getattr(session, name)))
        self._actions: dict[str, Callable[[], None]] = {
            **choice_keys,
            **{k: getattr(session, v) for k, v in NAV_KEYS.items()},
        }
        hint = f"Keys (click the panel first): {key_help} · n/→ next · p/← previous · s skip"
        if HAVE_ANYWIDGET:
            self.keys = Shortcuts(self.press, self._actions, hint)
            key_row: W.Widget = self.keys
        else:
            self.keys = None
            key_row = W.HTML("<small>Keyboard shortcuts need the anywidget package (pip install anywidget).</small>")
        self.header = W.HBox([self.annotator, self.progress], layout=W.Layout(justify_content="space-between"))
        self.key_row = key_row

    def layout(self, rows: list[W.Widget]) -> W.VBox:
        box = W.VBox(
            [W.HTML(f"<b>{escape(self.title)}</b>"), self.header, *rows, self.status, self.key_row],
            layout=W.Layout(border="1px solid var(--jp-border-color1,#ccc)", padding="8px"),
        )
        box.add_class("wb-panel")
        return box

    def press(self, key: str) -> None:
        """Do what ``key`` does (as the keyboard would)."""
        if key in self._actions:
            self._act(self._actions[key])

    def _act(self, action: Callable[[], Any]) -> None:
        self.session.status = ""
        try:
            action()
        except WorkbenchError as error:
            self.session.status = f"⚠ {error}"
        except Exception as error:  # shown in the panel, then raised to the widget's log
            self.session.status = f"⚠ {type(error).__name__}: {error}"
            raise
        finally:
            self.refresh()

    def refresh(self) -> None:
        self.progress.value = escape(self.session.progress())
        self.status.value = f"<span>{escape(self.session.status)}</span>"
        self.render_item()

    def render_item(self) -> None:
        raise NotImplementedError

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)
