"""BLEU, chrF, ROUGE (Korean included), exact match and F1, stand-alone scoring, XSum and FLORES data."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import sacrebleu
from rouge_score import rouge_scorer

import workbench
from workbench.errors import WorkbenchError
from workbench.metrics import catalog, text
from workbench.models.base import GenerateResponse
from workbench.store import Store

from .conftest import needs_mirror, needs_model

KO_REF = "나는 어제 친구와 함께 학교에 갔다."
KO_HYP = "나는 어제 친구와 학교에 갔습니다."


def test_corpus_bleu_is_sacrebleus_with_its_signature():
    hyps = ["The cat sat on the mat.", "It is raining today in the city."]
    refs = ["The cat is sitting on the mat.", "Today it is raining in the city."]
    ours = text.corpus_bleu(hyps, refs, n_bootstrap=1)
    assert ours.score == pytest.approx(sacrebleu.corpus_bleu(hyps, [refs]).score)
    assert "tok:13a" in ours.signature and "version:" in ours.signature
    assert ours.as_metrics()["bleu_signature"] == ours.signature
    chrf = text.corpus_chrf(hyps, refs, n_bootstrap=200)
    assert chrf.score == pytest.approx(sacrebleu.corpus_chrf(hyps, [refs]).score)
    assert chrf.ci95[0] <= chrf.score <= chrf.ci95[1]


def test_korean_bleu_uses_ko_mecab_morphemes():
    assert text.bleu_tokenizer("kor_Hang") == text.bleu_tokenizer(texts=[KO_REF]) == "ko-mecab"
    assert text.bleu_tokenizer("en") == "13a" and text.bleu_tokenizer("zh") == "zh"
    ko = text.corpus_bleu([KO_HYP], [KO_REF], lang="ko", n_bootstrap=1)
    assert "tok:ko-mecab" in ko.signature
    assert ko.score == pytest.approx(sacrebleu.corpus_bleu([KO_HYP], [[KO_REF]], tokenize="ko-mecab").score)
    # morphemes match where whole words (eojeol) differ only by their endings
    words = sacrebleu.corpus_bleu([KO_HYP], [[KO_REF]], tokenize="13a").score
    assert ko.score > words > 0


def test_sentence_scores():
    assert text.sentence_bleu("the cat sat on the mat", "the cat sat on the mat") == pytest.approx(100.0)
    expected = sacrebleu.sentence_bleu("a cat on a mat", ["the cat sat on the mat"], use_effective_order=True).score
    assert text.sentence_bleu("a cat on a mat", "the cat sat on the mat") == pytest.approx(expected)
    assert text.sentence_chrf("abc def", "abc def") == pytest.approx(100.0)


def test_rouge_keeps_hangul_where_the_default_tokenizer_scores_zero():
    default = rouge_scorer.RougeScorer(["rouge1"]).score(KO_REF, KO_HYP)["rouge1"].fmeasure
    assert default == 0.0  # the bug this tokenizer exists to avoid
    assert text.UnicodeTokenizer().tokenize("나는 학교에 갔다.") == ["나", "는", "학교", "에", "갔", "다"]
    same = text.rouge(KO_REF, KO_REF)
    assert all(v == pytest.approx(1.0) for v in same.values())
    tokens = text.UnicodeTokenizer().tokenize(KO_HYP)
    assert tokens == ["나", "는", "어제", "친구", "와", "학교", "에", "갔", "습니다"]
    # 8 morphemes shared: of the hypothesis's 9 and the reference's 10 (나 는 어제 친구 와 함께 학교 에 갔 다)
    scores = text.rouge(KO_HYP, KO_REF)
    p, r = 8 / 9, 8 / 10
    assert scores["rouge1"] == pytest.approx(2 * p * r / (p + r))
    assert 0 < scores["rouge2"] < scores["rouge1"]
    assert text.rouge("전혀 다른 문장", KO_REF)["rouge1"] == 0.0


def test_english_rouge_equals_rouge_score_default():
    pred, ref = "The cats were running in the park.", "A cat ran in the park!\nIt was sunny."
    scorer = rouge_scorer.RougeScorer(list(text.ROUGE_TYPES), use_stemmer=True)
    expected = {k: v.fmeasure for k, v in scorer.score(ref, pred).items()}
    assert text.rouge(pred, ref, use_stemmer=True) == pytest.approx(expected)


def test_exact_match_and_f1_with_recorded_normalisation():
    assert text.exact_match("The Eiffel Tower!", "eiffel tower") == 1.0
    assert text.exact_match("Eiffel", "eiffel tower") == 0.0
    assert text.token_f1("the big red dog", "a red dog") == pytest.approx(0.8)
    assert text.token_f1("", "") == 1.0 and text.token_f1("x", "") == 0.0
    assert text.exact_match("ＡＢＣ。", "abc") == 1.0  # NFKC + CJK punctuation
    strict = text.Normalization(lowercase=False)
    assert text.exact_match("Paris", "paris", strict) == 0.0
    assert catalog.aggregate(["f1"], [{"f1": 1.0}])["normalization"] == text.SQUAD.describe()


def test_unknown_metric_is_named_with_suggestions():
    with pytest.raises(WorkbenchError, match=r"Unknown metric 'rogueL'.*'rougeL'.*Available metrics: bleu"):
        catalog.check_metrics(["rogueL"])
    with pytest.raises(WorkbenchError, match="needs a model"):
        catalog.check_metrics(["perplexity"], allow_model=False)


# ---- stand-alone scoring ----------------------------------------------------------------------------
OUTPUTS = pd.DataFrame(
    {
        "id": ["a", "b", "c", "a", "b", "c"],
        "system": ["x", "x", "x", "y", "y", "y"],
        "pred": ["Paris", "4", "blue whale", "paris", "five", "The blue whale"],
        "gold": ["Paris", "4", "the blue whale", "Paris", "4", "the blue whale"],
    }
)


def test_score_a_dataframe_without_a_model():
    result = workbench.score(OUTPUTS, ["exact_match", "f1", "chrf"], prediction="pred", reference="gold", by="system")
    assert set(result.metrics) == {"x", "y"}
    assert result.metrics["x"]["exact_match"] == 1.0 and result.metrics["y"]["exact_match"] == pytest.approx(2 / 3)
    assert list(result.samples["exact_match"]) == [1.0, 1.0, 1.0, 1.0, 0.0, 1.0]
    assert "chrf_signature" in result.metrics["x"]
    summary = result.summary()
    assert set(summary["metric"]) == {"exact_match", "f1", "chrf"} and set(summary["model"]) == {"x", "y"}
    assert result.figure().data and Store().runs().empty  # nothing saved unless asked


def test_score_a_file_and_save_runs_that_compare(tmp_path):
    OUTPUTS.to_csv(tmp_path / "out.csv", index=False)
    result = workbench.score(
        str(tmp_path / "out.csv"), "exact_match", prediction="pred", reference="gold", by="system", key="id", save=True
    )
    runs = Store().runs()
    assert len(runs) == 2 and (runs["status"] == "complete").all()
    c = workbench.compare(result.run_ids["x"], result.run_ids["y"])
    assert c.metric == "exact_match" and c.n_shared == 3 and c.bootstrap.diff == pytest.approx(-1 / 3)
    assert list(c.flips()["doc_id"]) == [1]


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"prediction": "output"}, r"Prediction column 'output' is missing \(row 1\).*columns: id, system, pred, gold"),
        ({"reference": "answer"}, r"Reference column 'answer' is missing.*pred, gold"),
        ({"metrics": ["bleu", "meteor"]}, r"Unknown metric 'meteor'"),
    ],
)
def test_score_bad_input_names_the_fix(kwargs, message):
    args = {"prediction": "pred", "reference": "gold", **kwargs}
    metrics = args.pop("metrics", ["bleu"])
    with pytest.raises(WorkbenchError, match=message):
        workbench.score(OUTPUTS, metrics, save=True, **args)
    assert Store().runs().empty


def test_empty_reference_is_refused_and_nothing_saved():
    rows = [{"prediction": "a", "reference": "a"}, {"prediction": "b", "reference": "  "}]
    with pytest.raises(WorkbenchError, match=r"Row 2 has an empty reference in column 'reference'"):
        workbench.score(rows, ["chrf"], save=True)
    assert Store().runs().empty


def test_score_magic_and_cli(tmp_path, capsys):
    from IPython.testing.globalipapp import get_ipython

    from workbench import cli

    OUTPUTS.to_csv("out.csv", index=False)
    assert cli.main(["score", "out.csv", "--metrics", "f1", "--prediction", "pred", "--reference", "gold"]) == 0
    assert "f1" in capsys.readouterr().out
    ip = get_ipython()
    ip.run_line_magic("load_ext", "workbench")
    ip.user_ns["outputs_df"] = OUTPUTS
    shown = []
    ip.display_pub.publish = lambda data, metadata=None, **kw: shown.append(data)
    ip.run_line_magic("llm_score", "outputs_df --metrics rougeL --prediction pred --reference gold --by system")
    assert "application/vnd.plotly.v1+json" in [k for d in shown for k in d]
    ip.run_line_magic("llm_score", "outputs_df --metrics bleu --prediction nope")
    assert "Prediction column 'nope' is missing" in capsys.readouterr().err


# ---- real data --------------------------------------------------------------------------------------
@needs_mirror
def test_xsum_rouge_reproduces_the_published_scores():
    from workbench.data import xsum

    rows = xsum.summaries()
    assert len(rows) == 2000 and {r["system"] for r in rows} == set(xsum.SYSTEMS)
    published = {(p["bbcid"], p["system"]): p["R1"] for p in xsum.published_scores()}
    pairs = [r for r in rows if (r["bbcid"], r["system"]) in published][:400]
    ours = [text.rouge(r["prediction"], r["reference"], use_stemmer=True, types=("rouge1",))["rouge1"] for r in pairs]
    agree = sum(abs(o - published[(r["bbcid"], r["system"])]) < 1e-3 for o, r in zip(ours, pairs)) / len(pairs)
    assert agree > 0.85, agree
    first = {r["bbcid"] for r in rows[:100]}  # the first 100 articles, all four systems
    result = workbench.score([r for r in rows if r["bbcid"] in first], ["rouge1", "rougeL"], by="system", key="bbcid")
    assert {m["n"] for m in result.metrics.values()} == {100}
    assert result.metrics["BERTS2S"]["rouge1"] > result.metrics["PtGen"]["rouge1"] > 0.2


@needs_mirror
def test_flores_task_prompts_scores_and_aggregates_like_sacrebleu():
    from workbench.data import load_rows
    from workbench.tasks import get_task

    task = get_task("flores:en-ko")
    docs = load_rows(task.data, "devtest").rows[:2]
    pool = load_rows(task.data, "dev").rows
    assert docs[0]["target"].startswith('"그는 ""현재 4개월')
    items = task.build_items(docs, pool, 1)
    prompt = items[0].prompt
    assert prompt.endswith(f"English phrase: {docs[0]['source']}\nKorean phrase:") and prompt.count("\n\n") == 1
    assert items[0].requests[0].stop == ("\n",)
    records = [task.score(i, [GenerateResponse(" " + d["target"] + " ")]) for i, d in zip(items, docs)]
    assert records[0]["prediction"] == docs[0]["target"] and records[0]["bleu"] == pytest.approx(100.0)
    metrics = task.aggregate(records)
    assert metrics["bleu"] == pytest.approx(100.0) and "tok:ko-mecab" in metrics["bleu_signature"]
    assert metrics["chrf"] == pytest.approx(100.0) and metrics["n"] == 2
    with pytest.raises(WorkbenchError, match="Unknown task 'flores'.*'flores:"):
        get_task("flores")


def test_bootstrap_interval_is_finite():
    ci = text.corpus_bleu(["a b c d e", "f g h i j"], ["a b c d e", "f g h i k"]).ci95
    assert ci is not None and all(math.isfinite(x) for x in ci)


@pytest.mark.integration
@needs_mirror
@needs_model
def test_flores_generation_on_the_real_model():
    r = workbench.evaluate("flores:en-fr", limit=1)
    s = r.samples.iloc[0]
    assert s["prompt"].startswith("English phrase: ") and s["prompt"].endswith("\nFrench phrase:")
    assert isinstance(s["prediction"], str) and "\n" not in s["prediction"]
    assert s["bleu"] == pytest.approx(text.sentence_bleu(s["prediction"], s["reference"]))
    assert r.metrics["bleu"] == pytest.approx(text.corpus_bleu([s["prediction"]], [s["reference"]]).score)
    assert "tok:13a" in r.metrics["bleu_signature"] and Store().run(r.run_id)["status"] == "complete"
