"""The server extension's endpoints, under ``/jupyterlab-workbench/``; each needs Jupyter's authentication.

    GET runs?dir=FOLDER[&store=FILE]                      every run of the store, newest first
    GET run?id=RUN[&dir=...]                              one run: metrics, settings, rerun command
    GET items?id=RUN[&offset=0&limit=100&wrong=1&q=TEXT]  a page of its items
    GET compare?a=RUN&b=RUN[&metric=NAME]                 the paired comparison of two runs

Only GET: nothing is ever written. Answers are JSON; a refusal is JSON too ({"message": ...}) with 400 (bad
input, no store) or 403 (a path outside the server's root).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import tornado
from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join

from workbench.errors import WorkbenchError

NAMESPACE = "jupyterlab-workbench"


class StoreHandler(APIHandler):
    """Answers one read of the store named by the request (see paths.store_for)."""

    def store(self):
        from workbench.store.browse import BrowseStore

        from .paths import store_for

        root = Path(self.settings["server_root_dir"]).expanduser()
        return BrowseStore(store_for(root, self.get_argument("dir", ""), self.get_argument("store", "")))

    def answer(self, store: Any) -> Any:
        raise NotImplementedError

    @tornado.web.authenticated
    def get(self) -> None:
        from .paths import Refused

        self.set_header("Content-Type", "application/json; charset=UTF-8")
        self.set_header("Cache-Control", "no-store")
        try:
            body = self.answer(self.store())
        except Refused as exc:
            self.set_status(403)
            body = {"message": str(exc)}
        except WorkbenchError as exc:
            self.set_status(400)
            body = {"message": str(exc)}
        self.finish(json.dumps(body, allow_nan=False))


class RunsHandler(StoreHandler):
    def answer(self, store: Any) -> Any:
        from . import payloads

        return payloads.runs(store)


class RunHandler(StoreHandler):
    def answer(self, store: Any) -> Any:
        from . import payloads

        return payloads.run(store, self.get_argument("id"))


class ItemsHandler(StoreHandler):
    def answer(self, store: Any) -> Any:
        from . import payloads

        try:
            offset, limit = int(self.get_argument("offset", "0")), int(self.get_argument("limit", "100"))
        except ValueError as exc:
            raise WorkbenchError(f"offset and limit are whole numbers ({exc}).") from None
        return payloads.items(
            store,
            self.get_argument("id"),
            offset=offset,
            limit=limit,
            wrong=self.get_argument("wrong", "") in ("1", "true"),
            search=self.get_argument("q", ""),
        )


class CompareHandler(StoreHandler):
    def answer(self, store: Any) -> Any:
        from . import payloads

        return payloads.compare(
            store, self.get_argument("a"), self.get_argument("b"), self.get_argument("metric", None)
        )


def setup_route_handlers(web_app: Any) -> None:
    base_url = web_app.settings["base_url"]
    routes = {"runs": RunsHandler, "run": RunHandler, "items": ItemsHandler, "compare": CompareHandler}
    web_app.add_handlers(".*$", [(url_path_join(base_url, NAMESPACE, name), h) for name, h in routes.items()])
