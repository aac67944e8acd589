"""Perplexity: formulas, WikiText-2 pages and detokenizer, the wikitext task, and any text through %llm_ppl."""

from __future__ import annotations

import math

import pytest

import workbench
from workbench.data.wikitext import split_pages
from workbench.errors import WorkbenchError
from workbench.metrics.perplexity import bits_per_byte, corpus_scores, perplexity, text_scores, word_count
from workbench.store import Store
from workbench.tasks import get_task
from workbench.tasks.base import Item
from workbench.tasks.wikitext import wikitext_detokenizer

from .conftest import MIRROR, needs_mirror, needs_model

TEXTS = ["The cat sat on the mat.", "나는 어제 친구와 함께 학교에 갔다."]


def test_units_and_formulas():
    assert word_count("a b  c") == 3 and word_count(" a b \n") == 4  # the harness counts edge whitespace
    assert perplexity(-math.log(4) * 10, 10) == pytest.approx(4.0)
    assert bits_per_byte(-math.log(2) * 8, 8) == pytest.approx(1.0)
    scores = text_scores(-20.0, words=5, n_bytes=40, tokens=10)
    assert scores["token_perplexity"] == pytest.approx(math.exp(2.0))
    assert scores["word_perplexity"] == pytest.approx(math.exp(4.0))
    assert scores["bits_per_byte"] == pytest.approx(20 / 40 / math.log(2))


def test_corpus_perplexity_weights_by_units_not_texts():
    records = [text_scores(-10.0, 10, 50, 20), text_scores(-90.0, 30, 150, 60)]
    corpus = corpus_scores(records)
    assert corpus["word_perplexity"] == pytest.approx(math.exp(100 / 40))
    assert corpus["token_perplexity"] == pytest.approx(math.exp(100 / 80))
    mean_of_texts = (records[0]["word_perplexity"] + records[1]["word_perplexity"]) / 2
    assert corpus["word_perplexity"] != pytest.approx(mean_of_texts)


def test_pages_split_at_top_level_headings_only():
    text = " \n = Alpha = \n \n Body one . \n = = Section = = \n More . \n = Beta = \n Two .\n"
    pages = split_pages(text)
    assert [p.splitlines()[0].strip() for p in pages] == ["= Alpha =", "= Beta ="]  # the blank first line goes
    assert "= = Section = =" in pages[0] and pages[1].endswith("Two .\n")


def test_detokenizer_follows_the_harness_rules():
    page = ' = Title = \n The 1 @,@ 000 @-@ strong team ( in 2010 ) said " hi " . \n'
    assert wikitext_detokenizer(page) == ' = Title =\nThe 1,000-strong team (in 2010) said "hi".\n'


def test_wikitext_scores_from_window_totals():
    task = get_task("wikitext")
    item = task.build_items([{"page": " = A = \n b c \n"}], [], 0)[0]
    assert item.requests[0].text == " = A =\nb c\n"
    record = task.score(item, [[-3.0, -2.0]])
    assert record["loglikelihood"] == -5.0 and record["windows"] == 2
    assert record["words"] == word_count(" = A = \n b c \n") and record["bytes"] == len(" = A = \n b c \n")
    assert "token_perplexity" not in record  # the harness's wikitext has no token count
    metrics = task.aggregate([record])
    assert metrics["word_perplexity"] == pytest.approx(math.exp(5.0 / record["words"]))
    assert metrics["totals"]["loglikelihood"] == -5.0
    with pytest.raises(WorkbenchError, match="takes no few-shot examples"):
        task.build_items([{"page": "x"}], [], 1)
    assert isinstance(item, Item)


@needs_mirror
def test_mirror_pages_and_the_tokenized_variant_notice(capsys):
    from workbench.data.wikitext import read_mirror

    pages = read_mirror(MIRROR, "test")
    err = capsys.readouterr().err  # one workbench: line, never a Python warning pointing into our code
    assert err.startswith("workbench: ") and "tokenized variant" in err and err.count("\n") == 1
    assert len(pages) == 62 and pages[0]["page"].startswith(" = Robert <unk> = \n")
    assert pages[-1]["page"].splitlines()[0].startswith(" = ")


@pytest.mark.integration
@needs_mirror
@needs_model
def test_wikitext_task_on_the_real_model():
    r = workbench.evaluate("wikitext", limit=1)
    s = r.samples.iloc[0]
    assert s["loglikelihood"] < 0 and s["windows"] == 1
    assert r.metrics["word_perplexity"] == pytest.approx(math.exp(-s["loglikelihood"] / s["words"]))
    assert r.metrics["bits_per_byte"] == pytest.approx(-s["loglikelihood"] / s["bytes"] / math.log(2))
    assert 1 < r.metrics["byte_perplexity"] < 10 and Store().run(r.run_id)["status"] == "complete"
    assert list(r.summary()["metric"]) == ["word_perplexity", "byte_perplexity", "bits_per_byte"]


@pytest.mark.integration
@needs_model
def test_perplexity_of_user_text_korean_included():
    from workbench import models

    r = workbench.perplexity(TEXTS)
    lm = models.load("smollm2-135m")
    samples = r.samples
    assert list(samples["tokens"]) == [len(lm.encode(t)) for t in TEXTS]
    windows = lm.rolling_loglikelihood(TEXTS)
    assert list(samples["loglikelihood"]) == pytest.approx([sum(w) for w in windows], rel=1e-5)
    ko = samples.iloc[1]
    assert ko["token_perplexity"] == pytest.approx(math.exp(-ko["loglikelihood"] / ko["tokens"]))
    summary = r.summary()
    assert list(summary["metric"]) == ["token_perplexity", "word_perplexity", "byte_perplexity", "bits_per_byte"]
    assert Store().run(r.run_id)["task"] == "perplexity"
    again = workbench.perplexity(TEXTS[:1])
    c = workbench.compare(r.run_id, again.run_id)  # the one shared text, same model: no difference
    assert (c.n_a, c.n_b) == (2, 1) and c.n_shared == 1 and c.bootstrap.diff == pytest.approx(0.0, abs=1e-6)


def test_perplexity_bad_input_saves_nothing():
    with pytest.raises(WorkbenchError, match="Row 2 has no text in column 'text'"):
        workbench.perplexity(["fine", "  "])
    with pytest.raises(WorkbenchError, match=r"Text column 'body' is missing.*columns: text"):
        workbench.perplexity([{"text": "a"}], column="body")
    assert Store().runs().empty


@pytest.mark.integration
@needs_model
def test_ppl_magic_and_cli(capsys):
    from IPython.testing.globalipapp import get_ipython

    from workbench import cli

    assert cli.main(["ppl", "Hello world."]) == 0
    assert "token_perplexity" in capsys.readouterr().out
    ip = get_ipython()
    ip.run_line_magic("load_ext", "workbench")
    ip.user_ns["my_texts"] = TEXTS
    samples = ip.run_line_magic("llm_ppl", "my_texts")
    assert len(samples) == 2 and samples.iloc[1]["prompt"] == TEXTS[1]
    one = ip.run_line_magic("llm_ppl", '"A single quoted text."')
    assert one.iloc[0]["prompt"] == "A single quoted text."
    assert Store().runs().iloc[0]["command"] == '%llm_ppl "A single quoted text."'
