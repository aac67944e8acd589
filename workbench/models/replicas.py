"""One model behind one or more OpenAI-compatible servers ("replicas"): where each request goes, and what happens
when it fails. Shared by the chat backend (openai.py) and the completions backend (completions.py).

A spec names its replicas as a comma-separated list, ``openai:MODEL@http://a:8000/v1,http://b:8000/v1``. Each
replica takes ``concurrency`` requests at once (so the model as a whole takes ``concurrency`` times the number of
replicas); a request goes to the least busy replica that is up. A request that fails is tried again:

- on another replica where there is one, at once: a replica that failed (connection refused or closed without an
  answer, as by a killed server; a timeout, 429 or 5xx, a malformed answer) is set aside for ``cooldown``
  seconds, so new requests go elsewhere too (it is used again when its time is up, or when every replica is
  set aside);
- on the same replica after an exponential backoff (honouring Retry-After) when it is the only one left.

Each request is tried at most ``max_retries + 1`` times, plus once more for each further replica, and then gives
up with one message naming the last failure. 401/403 and 404 stop at once with a message naming the fix.

The key of each replica comes from the environment at the moment of each request (see
:func:`key_variable`) and is kept nowhere else.
"""

from __future__ import annotations

import logging
import os
import random
import re
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ..errors import WorkbenchError

log = logging.getLogger(__name__)

T = TypeVar("T")
RETRY_STATUS = {408, 409, 429}  # and every 5xx
MALFORMED = (ValueError, KeyError, TypeError, IndexError, AttributeError)  # what reading a bad body raises


def split_urls(text: str) -> list[str]:
    """The replicas of a spec's ``URL1,URL2,...`` part, without trailing slashes; a message for a bad one."""
    urls = [u.strip().rstrip("/") for u in text.split(",")]
    bad = [u for u in urls if not u.startswith(("http://", "https://")) or not urlsplit(u).hostname]
    if bad or not urls:
        raise WorkbenchError(
            f"Cannot read the server list {text!r}: write one URL (http://HOST:PORT/v1) or several separated by "
            "commas, without spaces (http://HOST1:PORT/v1,http://HOST2:PORT/v1)."
        )
    if len(set(urls)) < len(urls):
        raise WorkbenchError(f"The server list {text!r} names a server twice; name each replica once.")
    return urls


OPENAI_KEY = "OPENAI_API_KEY"
BASE_URL_ENV = "OPENAI_BASE_URL"


def key_variable(base_url: str) -> str:
    """The environment variable holding the key for ``base_url``.

    OpenAI (and ``$OPENAI_BASE_URL``): ``OPENAI_API_KEY``. Elsewhere ``WORKBENCH_API_KEY_`` + host and port in
    capitals with other characters as ``_``: http://127.0.0.1:8000/v1 -> ``WORKBENCH_API_KEY_127_0_0_1_8000``.
    """
    parts = urlsplit(base_url)
    if parts.hostname == "api.openai.com" or base_url.rstrip("/") == (os.environ.get(BASE_URL_ENV) or "").rstrip("/"):
        return OPENAI_KEY
    where = f"{parts.hostname}_{parts.port}" if parts.port else str(parts.hostname)
    return "WORKBENCH_API_KEY_" + re.sub(r"[^A-Za-z0-9]+", "_", where).upper().strip("_")


class Replica:
    """One server: its URL, the variable its key is read from, its HTTP connections and its state."""

    def __init__(self, base_url: str, timeout: float):
        import httpx

        self.base_url = base_url.rstrip("/")
        self.key_env = key_variable(self.base_url)
        self.timeout = timeout
        self.client = httpx.Client(timeout=timeout)
        self.in_flight = 0
        self.down_until = 0.0  # set aside (unreachable) until this time.monotonic()
        self.answered = 0  # requests it answered: shows how the load was spread

    def __repr__(self) -> str:
        return f"Replica({self.base_url}, {self.in_flight} in flight)"

    def headers(self) -> dict[str, str]:
        key = os.environ.get(self.key_env)
        return {"Authorization": f"Bearer {key}"} if key else {}

    def redact(self, text: str) -> str:
        key = os.environ.get(self.key_env)
        return text.replace(key, "***") if key else text

    def message(self, resp: Any) -> str:
        """The server's own words about a failed request, short and without the key."""
        try:
            err = resp.json().get("error") or resp.json().get("detail") or resp.text
            text = err.get("message", str(err)) if isinstance(err, dict) else str(err)
        except (ValueError, AttributeError):
            text = resp.text
        return self.redact(" ".join(str(text).split())[:300]) or resp.reason_phrase

    def post(self, path: str, body: dict[str, Any], label: str) -> Any:
        """POST ``body`` to ``path`` and read the whole answer within ``timeout`` s, or raise httpx.TimeoutException.

        httpx's own timeouts limit each network operation, so an answer arriving one byte at a time never
        trips them. The exchange runs in a helper thread that stops at the first chunk past the deadline (or
        at a read that waits ``timeout``); this thread waits for it until the deadline and no longer.
        """
        import httpx

        deadline = time.monotonic() + self.timeout
        request = self.client.build_request(
            "POST", self.base_url + path, json=body, headers=self.headers(), timeout=self.timeout
        )
        outcome: dict[str, Any] = {}
        done = threading.Event()

        def exchange() -> None:
            try:
                resp = self.client.send(request, stream=True)
                try:
                    chunks = []
                    for chunk in resp.iter_raw():  # as sent: httpx.Response decodes it below
                        chunks.append(chunk)
                        if time.monotonic() > deadline:
                            raise httpx.ReadTimeout("the answer did not end before the deadline", request=request)
                finally:
                    resp.close()
                outcome["response"] = httpx.Response(
                    resp.status_code, headers=resp.headers, content=b"".join(chunks), request=request
                )
            except BaseException as exc:  # handed to the waiting thread, which raises it
                outcome["error"] = exc
            finally:
                done.set()

        threading.Thread(target=exchange, name=f"{label}-request", daemon=True).start()
        if not done.wait(max(0.0, deadline - time.monotonic())):
            raise httpx.ReadTimeout(f"no complete answer within {self.timeout:g} s", request=request)
        if "error" in outcome:
            raise outcome["error"]
        return outcome["response"]


class Replicas:
    """The servers answering for one model, and the retry policy of every request sent to them."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        label: str,
        model: str,
        concurrency: int,
        timeout: float,
        max_retries: int,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        cooldown: float = 10.0,
    ):
        self.replicas = [Replica(url, timeout) for url in urls]
        self.label, self.model = label, model
        self.per_replica = max(1, int(concurrency))
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff, self.max_backoff, self.cooldown = backoff, max_backoff, cooldown
        self._state = threading.Condition()
        self._turn = 0  # where the search for the least busy replica starts: spreads ties round the list

    @property
    def concurrency(self) -> int:
        """Requests in flight at once over all replicas."""
        return self.per_replica * len(self.replicas)

    def close(self) -> None:
        for replica in self.replicas:
            replica.client.close()

    # ---- choosing a replica ------------------------------------------------------------------------------
    def _acquire(self, avoid: Replica | None) -> Replica:
        """A slot on the least busy replica that is up (another than ``avoid`` where one has room); when every
        replica is set aside, the one whose time is up first. Waits while the chosen kind are all busy."""
        with self._state:
            while True:
                now = time.monotonic()
                free = [r for r in self.replicas if r.in_flight < self.per_replica]
                up = [r for r in free if r.down_until <= now]
                if any(r.down_until <= now and r is not avoid for r in self.replicas):
                    pool = [r for r in up if r is not avoid]  # another replica is up: wait for it if busy
                elif any(r.down_until <= now for r in self.replicas):
                    pool = up
                else:
                    pool = sorted(free, key=lambda r: r.down_until)[:1]
                if pool:
                    n = len(self.replicas)
                    order = {id(r): (i - self._turn) % n for i, r in enumerate(self.replicas)}
                    chosen = min(pool, key=lambda r: (r.in_flight, order[id(r)]))
                    self._turn = (self.replicas.index(chosen) + 1) % n
                    chosen.in_flight += 1
                    return chosen
                self._state.wait(timeout=0.5)  # a slot frees, or a set-aside replica's time comes

    def _release(self, replica: Replica, *, ok: bool) -> None:
        with self._state:
            replica.in_flight -= 1
            if ok:
                replica.down_until = 0.0
                replica.answered += 1
            else:  # unreachable, timed out, overloaded or broken: the others take its requests for a while
                replica.down_until = time.monotonic() + self.cooldown
            self._state.notify_all()

    def _others_up(self, replica: Replica) -> bool:
        now = time.monotonic()
        with self._state:
            return any(r is not replica and r.down_until <= now for r in self.replicas)

    # ---- one request, with retries ------------------------------------------------------------------------
    def post(self, path: str, body: dict[str, Any], read: Callable[[dict[str, Any], float, int], T], what: str) -> T:
        """``read(json, seconds, attempts)`` of the answer to POST ``path``, retried as the module docstring says.

        ``read`` raises one of ``MALFORMED`` for an answer that is not what ``what`` names (a malformed answer is
        retried like a failed one) or a WorkbenchError, which is final.
        """
        import httpx

        budget = self.max_retries + len(self.replicas)
        last: Replica | None = None
        for attempt in range(budget):
            replica = self._acquire(avoid=last)
            started = time.monotonic()
            wait_s = None
            ok = False
            try:
                resp = replica.post(path, body, self.label)
            except httpx.TimeoutException:
                reason = f"no complete answer within {self.timeout:g} s"
            except httpx.TransportError as exc:
                reason = f"could not connect ({type(exc).__name__}); is the server running?"
            else:
                status = resp.status_code
                if status == 200:
                    try:
                        result = read(resp.json(), time.monotonic() - started, attempt + 1)
                        ok = True
                        return result
                    except MALFORMED:
                        reason = f"a malformed answer (not {what} JSON): {replica.redact(resp.text[:200])!r}"
                else:
                    reason, wait_s = self._refuse_or_retry(replica, path, resp)
            finally:
                self._release(replica, ok=ok)
            where = f" from {replica.base_url}" if len(self.replicas) > 1 else ""
            if attempt == budget - 1:
                break
            if self._others_up(replica):
                delay = 0.0  # another replica takes it at once
            else:
                delay = min(self.max_backoff, wait_s if wait_s is not None else self.backoff * 2**attempt)
                delay *= 1 + 0.25 * random.random() if wait_s is None else 1
            log.warning("%s: %s%s; retry %d of %d in %.1f s", self.model, reason, where, attempt + 1, budget - 1, delay)
            time.sleep(delay)
            last = replica
        raise WorkbenchError(
            f"{self.label}: gave up after {attempt + 1} attempts; the last got {reason}{where}. Answers already "
            "received are saved: run the same call again to resume."
        )

    def _refuse_or_retry(self, replica: Replica, path: str, resp: Any) -> tuple[str, float | None]:
        """(reason, Retry-After seconds) for an answer worth retrying; a WorkbenchError for one that is not."""
        status = resp.status_code
        url = replica.base_url
        if status in (401, 403):
            raise WorkbenchError(
                f"{url} refused the request for {self.model!r} (HTTP {status}: {replica.message(resp)}). Set "
                f"${replica.key_env} to a valid key for this endpoint "
                f"({'it is set but was not accepted' if os.environ.get(replica.key_env) else 'it is not set'})."
            )
        if status == 404:
            raise WorkbenchError(
                f"{url} has no model {self.model!r} or no {path} route (HTTP 404: {replica.message(resp)}). Check "
                f"the model name ({url}/models lists them) and that the URL ends with the API root, usually /v1."
            )
        if status == 429 and "insufficient_quota" in resp.text:
            raise WorkbenchError(
                f"{url} says the account behind ${replica.key_env} has no quota left (HTTP 429, insufficient_quota); "
                "retrying will not help. Add credit or use another key."
            )
        if status in RETRY_STATUS or status >= 500:
            return f"HTTP {status} ({replica.message(resp)})", _retry_after(resp.headers.get("retry-after"))
        raise WorkbenchError(f"{url} rejected the request for {self.model!r} (HTTP {status}: {replica.message(resp)}).")


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
