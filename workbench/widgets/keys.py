"""Keyboard shortcuts for a panel: a tiny anywidget that forwards key presses inside the panel to Python.

Plain ipywidgets cannot listen to the keyboard. This widget finds the panel around it (the element with
class ``wb-panel``), listens there, and sends each listed key to Python. Keys typed into text boxes are
left alone, and handled keys are not passed on, so JupyterLab's own shortcuts do not fire.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

ESM = """
function render({ model, el }) {
  el.classList.add("wb-keys");
  const hint = document.createElement("span");
  const showHint = () => { hint.textContent = model.get("hint"); };
  showHint();
  model.on("change:hint", showHint);
  el.appendChild(hint);
  const onKey = (event) => {
    const target = event.target;
    if (target && target.closest && target.closest("input, textarea, select, [contenteditable='true']")) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (!model.get("shortcut_keys").includes(event.key)) return;
    event.preventDefault();
    event.stopPropagation();
    model.send({ key: event.key });
  };
  let root = el;
  let tries = 0;
  let timer = null;
  root.addEventListener("keydown", onKey);
  const attach = () => {
    const panel = el.closest(".wb-panel");
    if (panel) {
      root.removeEventListener("keydown", onKey);
      root = panel;
      if (!root.hasAttribute("tabindex")) root.tabIndex = 0;
      root.addEventListener("keydown", onKey);
    } else if (tries++ < 100) {
      timer = setTimeout(attach, 100);
    }
  };
  attach();
  return () => {
    clearTimeout(timer);
    root.removeEventListener("keydown", onKey);
    model.off("change:hint", showHint);
  };
}
export default { render };
"""

CSS = """
.wb-keys { font-size: 12px; color: var(--jp-ui-font-color2, #555); }
.wb-panel:focus { outline: 2px solid var(--jp-brand-color2, #9ecbff); outline-offset: 2px; }
"""

try:
    import anywidget
    import traitlets

    class Shortcuts(anywidget.AnyWidget):
        """Forwards the listed keys (KeyboardEvent.key names) pressed inside the panel to ``handler``."""

        _esm = ESM
        _css = CSS
        shortcut_keys = traitlets.List(traitlets.Unicode()).tag(sync=True)
        hint = traitlets.Unicode("").tag(sync=True)

        def __init__(self, handler: Callable[[str], Any], keys: Iterable[str], hint: str):
            super().__init__(shortcut_keys=list(keys), hint=hint)
            self._handler = handler
            self.on_msg(lambda _widget, content, _buffers: self.press(str(content.get("key", ""))))

        def press(self, key: str) -> None:
            """What a key press in the browser does (call it to simulate one)."""
            if key in self.shortcut_keys:
                self._handler(key)

    HAVE_ANYWIDGET = True
except ImportError:  # keyboard shortcuts need anywidget; buttons work without it
    HAVE_ANYWIDGET = False
    Shortcuts = None  # type: ignore[assignment,misc]
