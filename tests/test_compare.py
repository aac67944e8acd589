"""Paired run comparison: bootstrap interval, McNemar's exact test, flips, refusals and caveats."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.stats import binomtest

import workbench
from workbench.errors import WorkbenchError
from workbench.metrics.paired import bootstrap_interval, is_binary, mcnemar_exact, paired_bootstrap
from workbench.metrics.text import corpus_bleu, sentence_bleu
from workbench.store import Store

from .conftest import needs_mirror, needs_model


def saved_run(records, *, data="sha256:d", template="Question: {question}", task="arc_easy") -> str:
    store = Store()
    run_id = store.create_run(
        run_key=f"k{len(store.runs())}", task=task, model="m", model_identity={"fingerprint": "sha256:w"},
        data_source="file:x", data_fingerprint=data, prompt_template=template, config={}, versions={},
        command="test", n_items=len(records),
    )  # fmt: skip
    store.add_samples(run_id, records)
    names = [k for k in records[0] if k not in ("doc_id", "prompt", "prediction", "reference")]
    store.finish_run(run_id, {"n": len(records), **{k: float(np.mean([r[k] for r in records])) for k in names}})
    return run_id


def acc_run(values, **kwargs) -> str:
    return saved_run([{"doc_id": i, "acc": v, "prompt": f"q{i}"} for i, v in enumerate(values)], **kwargs)


A = [1, 1, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0]
B = [1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 0, 1]  # 6 items right only in B, 1 only in A, 5 ties


def test_mcnemar_counts_disagreements_and_matches_an_exact_binomial():
    test = mcnemar_exact(A, B)
    assert (test.a_only, test.b_only) == (1, 6)
    assert test.p_value == pytest.approx(binomtest(1, 7, 0.5).pvalue) == pytest.approx(0.125)
    assert mcnemar_exact([1, 0], [1, 0]).p_value == 1.0
    assert is_binary([0, 1.0, 1]) and not is_binary([0.5, 1])


def test_paired_bootstrap_of_the_mean_difference():
    boot = paired_bootstrap(A, B, n_resamples=5000, seed=7)
    assert boot.diff == pytest.approx(np.mean(B) - np.mean(A)) == pytest.approx(5 / 12)
    assert boot.ci95[0] < 5 / 12 < boot.ci95[1] and boot.ci95[0] >= 0  # 12 items: the interval reaches 0
    assert boot == paired_bootstrap(A, B, n_resamples=5000, seed=7)  # seeded: reproducible
    lo, hi = bootstrap_interval([0.0, 1.0] * 10, n_resamples=500)
    assert lo < 0.5 < hi


def test_compare_two_runs_item_by_item():
    a, b = acc_run(A), acc_run(B)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # same data and prompts: no warning
        c = workbench.compare(a, b)
    assert c.metric == "acc" and c.n_shared == 12
    row = c.table().iloc[0]
    assert row["a"] == pytest.approx(5 / 12) and row["b"] == pytest.approx(10 / 12)
    assert row["b_minus_a"] == pytest.approx(5 / 12) and row["ci95_low"] <= row["b_minus_a"] <= row["ci95_high"]
    assert row["mcnemar_p"] == pytest.approx(0.125)
    assert (row["b_better"], row["a_better"], row["ties"]) == (6, 1, 5)
    flips = c.flips()
    assert list(flips[flips["direction"] == "B better"]["doc_id"]) == [2, 3, 5, 8, 9, 11]
    assert list(flips[flips["direction"] == "A better"]["doc_id"]) == [10]
    assert "McNemar exact p" in c.summary()
    fig = c.figure()
    assert len(fig.data) == 2 and fig.data[1].error_x.array is not None


def test_only_shared_items_are_compared():
    a = acc_run(A)
    b = saved_run([{"doc_id": i, "acc": 1.0, "prompt": f"q{i}"} for i in range(8, 20)])
    c = workbench.compare(a, b)
    assert c.n_shared == 4 and list(c.items["doc_id"]) == [8, 9, 10, 11]


def test_no_shared_items_is_refused_clearly():
    a = acc_run([1, 0])
    b = saved_run([{"doc_id": i, "acc": 1.0, "prompt": "q"} for i in (5, 6)])
    with pytest.raises(WorkbenchError, match="have no items in common"):
        workbench.compare(a, b)


def test_different_data_is_refused_and_different_prompts_are_caveats(capsys):
    a = acc_run(A)  # records without item identities: matched by item number only on the same data
    with pytest.raises(WorkbenchError, match="saved before records carried item identities"):
        workbench.compare(a, acc_run(B, data="sha256:other"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # caveats are no Python warnings
        c = workbench.compare(a, acc_run(B, template="Q: {question}"))
        assert any("prompt templates differ" in w for w in c.caveats) and "prompt templates differ" in c.summary()
        shifted = saved_run([{"doc_id": i, "acc": v, "prompt": f"other {i}"} for i, v in enumerate(B)])
        c = workbench.compare(a, shifted)
    assert "12 shared items were shown different prompts" in c.table().iloc[0]["caveats"]
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(line.startswith("workbench: comparing ") for line in err)


def test_unknown_metric_lists_the_shared_ones():
    a, b = acc_run(A), acc_run(B)
    with pytest.raises(WorkbenchError, match=r"Metric 'acc_norm' is not scored per item in both runs.*acc"):
        workbench.compare(a, b, metric="acc_norm")
    with pytest.raises(WorkbenchError, match="No run 'nope'"):
        workbench.compare(a, "nope")


def test_bleu_is_compared_at_corpus_level():
    refs = ["the cat sat on the mat", "a quick brown fox jumps", "it is raining in the city today"]
    hyp_a = ["the cat on mat", "a brown fox", "raining today"]
    hyp_b = ["the cat sat on the mat", "a quick brown fox jumped", "it is raining in the city"]

    def run(hyps):
        records = [
            {"doc_id": i, "bleu": sentence_bleu(h, r), "prediction": h, "reference": r, "prompt": str(i)}
            for i, (h, r) in enumerate(zip(hyps, refs))
        ]
        return saved_run(records, task="grid")

    c = workbench.compare(run(hyp_a), run(hyp_b), n_resamples=200)
    assert c.bootstrap.a == pytest.approx(corpus_bleu(hyp_a, refs, n_bootstrap=1).score)
    assert c.bootstrap.b == pytest.approx(corpus_bleu(hyp_b, refs, n_bootstrap=1).score)
    assert c.mcnemar is None


def test_compare_magic_and_cli(capsys):
    from IPython.testing.globalipapp import get_ipython

    from workbench import cli

    a, b = acc_run(A), acc_run(B)
    assert cli.main(["compare", a, b]) == 0
    out = capsys.readouterr().out
    assert "B - A = +0.4167" in out and "B better" in out
    ip = get_ipython()
    ip.run_line_magic("load_ext", "workbench")
    shown = []
    ip.display_pub.publish = lambda data, metadata=None, **kw: shown.append(data)
    flips = ip.run_line_magic("llm_compare", f"{a} {b}")
    assert len(flips) == 7 and "application/vnd.plotly.v1+json" in [k for d in shown for k in d]
    assert ip.run_line_magic("llm_compare", f"{a} zzzz") is None
    assert "No run 'zzzz'" in capsys.readouterr().err


@pytest.mark.integration
@needs_mirror
@needs_model
def test_two_real_arc_runs_with_different_shots():
    zero = workbench.evaluate("arc_easy", limit=3)
    one = workbench.evaluate("arc_easy", limit=3, shots=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the same items (their data fingerprints differ by the few-shot pool)
        c = workbench.compare(zero.run_id, one.run_id)
    assert c.caveats == ["3 shared items were shown different prompts (e.g. doc 0)."]
    assert c.metric == "acc" and c.n_shared == 3 and c.mcnemar is not None and c.matched_by == "item"
    assert c.bootstrap.a == pytest.approx(zero.metrics["acc"]) and c.bootstrap.b == pytest.approx(one.metrics["acc"])
