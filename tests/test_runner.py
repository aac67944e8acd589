"""The runner hands a whole run's requests to the model in one call (so its batching spans the run) and saves
each item as soon as its last answer arrives, in whatever order the answers come; finished items are written
even when the model fails halfway. A tiny stand-in model that answers in reverse order makes this visible."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest

from workbench.engine import runner
from workbench.models.base import LOCAL, LoglikelihoodRequest, LoglikelihoodResponse
from workbench.tasks import Item


class Backwards:
    """Answers log-likelihood requests last first, each with logprob -index; fails after ``fail_after``."""

    name = "backwards"
    capabilities = LOCAL

    def __init__(self, fail_after: int | None = None):
        self.calls: list[int] = []
        self.fail_after = fail_after

    def iter_loglikelihood(self, requests, *, batch_size=16, progress=None):
        self.calls.append(len(requests))
        for n, i in enumerate(reversed(range(len(requests)))):
            if self.fail_after is not None and n == self.fail_after:
                raise RuntimeError("the model went away")
            if progress:
                progress(1)
            yield i, LoglikelihoodResponse(-float(i), False, 1)


@dataclass
class TwoChoices:
    multi_turn: bool = False

    def score(self, item: Item, responses):
        return {"doc_id": item.doc_id, "lls": [r.logprob for r in responses]}


def items(n: int) -> list[Item]:
    return [
        Item(
            k,
            {"q": f"question {k}"},
            f"question {k}",
            [LoglikelihoodRequest(f"q{k}", " a"), LoglikelihoodRequest(f"q{k}", " b")],
        )
        for k in range(n)
    ]


def test_one_call_for_the_whole_run_and_each_item_saved_with_its_own_answers(monkeypatch):
    monkeypatch.setattr(runner, "SAVE_EVERY_S", 0.0)  # write every finished item at once
    saved: list[list[dict]] = []
    model = Backwards()
    runner.score_items(model, TwoChoices(), items(5), saved.append, batch_size=2, description="test")
    assert model.calls == [10]  # all ten requests planned together, not in chunks of 4 x batch size
    order = [r["doc_id"] for batch in saved for r in batch]
    assert order == [4, 3, 2, 1, 0]  # saved the moment each item's second answer came in
    records = {r["doc_id"]: r for batch in saved for r in batch}
    assert records[3]["lls"] == [-6.0, -7.0]  # its own two answers, in request order
    assert all("item_fp" in r for r in records.values())


def test_items_finished_before_a_failure_are_saved(monkeypatch):
    saved: list[list[dict]] = []
    with pytest.raises(RuntimeError, match="went away"):
        runner.score_items(Backwards(fail_after=5), TwoChoices(), items(4), saved.append, batch_size=2, description="t")
    # five answers arrived (requests 7..3): items 3 and 2 are complete, item 1 has one answer of two
    assert sorted(r["doc_id"] for batch in saved for r in batch) == [2, 3]


def test_finished_items_are_written_together_between_intervals(monkeypatch):
    monkeypatch.setattr(runner, "SAVE_EVERY_S", 3600.0)  # nothing is due before the end
    saved: list[list[dict]] = []
    runner.score_items(Backwards(), TwoChoices(), items(6), saved.append, batch_size=2, description="t")
    assert [len(batch) for batch in saved] == [6]  # one transaction at the end


def test_long_runs_go_in_windows_of_whole_items(monkeypatch):
    monkeypatch.setattr(runner, "WINDOW", 4)
    saved: list[list[dict]] = []
    model = Backwards()
    runner.score_items(model, TwoChoices(), items(5), saved.append, batch_size=2, description="t")
    assert model.calls == [4, 4, 2]  # two items per window, never an item split between windows
    records = {r["doc_id"]: r for batch in saved for r in batch}
    assert sorted(records) == [0, 1, 2, 3, 4] and records[4]["lls"] == [-0.0, -1.0]  # indices within its window


def test_token_shares_never_push_a_bar_past_its_total():
    import warnings

    from tqdm import tqdm

    from workbench.engine.answering import advance

    with tqdm(total=5, disable=False, file=open(os.devnull, "w")) as bar, warnings.catch_warnings():
        warnings.simplefilter("error")  # tqdm's "clamping frac to range [0, 1]" fails the test
        update = advance(bar)
        for _ in range(5):  # five answers of 5 tokens, each token a fifth of its answer, as generation reports
            reported = 0.0
            for k in range(1, 6):
                update(k / 5 - reported)
                reported = k / 5
        assert bar.n <= 5 and bar.n == pytest.approx(5)  # the plain float sum is 5.000000000000002
