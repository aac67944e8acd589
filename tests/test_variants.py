"""workbench.variants: one model's variants scored on the same items, compared with the reference, costs measured.

The fast tests check every bad input is refused before anything loads; the integration tests run real variants of
the default model and check the reference row against a plain evaluate of the same items."""

from __future__ import annotations

import importlib.util
import sys

import pandas as pd
import pytest

from workbench.errors import WorkbenchError
from workbench.model_variants.plan import check_gguf_file, plan
from workbench.speed_charts import pareto_front

from .conftest import needs_mirror, needs_model

HAVE_LLAMACPP = importlib.util.find_spec("llama_cpp") is not None


# ---- bad input, before anything runs ------------------------------------------------------------------------------
@needs_model
def test_an_unknown_variant_is_named_with_the_nearest():
    with pytest.raises(WorkbenchError, match=r"Unknown variant 'float23'\. Did you mean 'float32'"):
        plan("smollm2-135m", ["float32", "float23"], "float32", "cpu")


@needs_model
def test_a_missing_gguf_file_is_refused(tmp_path):
    with pytest.raises(WorkbenchError, match="no such file"):
        plan("smollm2-135m", ["float32", str(tmp_path / "model.Q8_0.gguf")], "float32", "cpu")


def test_a_file_that_is_not_gguf_is_refused_by_its_first_bytes(tmp_path):
    fake = tmp_path / "weights.gguf"
    fake.write_bytes(b"PK\x03\x04 a zip file, not gguf")
    with pytest.raises(WorkbenchError, match=r"not a GGUF file: it starts with b'PK\\x03\\x04'"):
        check_gguf_file(str(fake))
    with pytest.raises(WorkbenchError, match="is a folder"):
        check_gguf_file(str(tmp_path))


def test_a_real_gguf_header_passes(tmp_path):
    good = tmp_path / "tiny.gguf"
    good.write_bytes(b"GGUF\x03\x00\x00\x00")
    assert check_gguf_file(str(good)) == good.resolve()


@needs_model
def test_variants_named_twice_or_a_reference_not_among_them_are_refused():
    with pytest.raises(WorkbenchError, match="named twice"):
        plan("smollm2-135m", ["float32", "float32"], "float32", "cpu")
    with pytest.raises(WorkbenchError, match=r"reference='bfloat16' is not one of the variants \(float32, int8\)"):
        plan("smollm2-135m", ["float32", "int8"], "bfloat16", "cpu")


def test_a_dtype_variant_of_an_api_model_is_refused():
    with pytest.raises(WorkbenchError, match="Variant 'int8'.*takes no dtype"):
        plan("openai:some-model@http://127.0.0.1:9/v1", ["int8"], "int8", None)


def test_gguf_of_a_model_without_a_gguf_file_is_refused(tmp_path):
    folder = tmp_path / "tiny-model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    with pytest.raises(WorkbenchError, match="Variant 'gguf' runs the model's own GGUF file"):
        plan(str(folder), ["float32", "gguf"], "float32", "cpu")


@needs_model
def test_missing_llama_cpp_is_named_with_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # as if not installed: the import is blocked
    with pytest.raises(WorkbenchError, match=r'pip install "llm-eval-workbench\[llamacpp\]"'):
        plan("smollm2-135m", ["float32", "gguf"], "float32", "cpu")


@needs_model
def test_bfloat16_on_the_cpu_is_allowed_and_says_it_is_slow(capsys):
    planned = plan("smollm2-135m", ["float32", "bfloat16"], "float32", "cpu")
    assert [(v.label, v.dtype) for v in planned] == [("float32", "float32"), ("bfloat16", "bfloat16")]
    assert "bfloat16 runs on the CPU: allowed, but most CPUs compute bfloat16 slower" in capsys.readouterr().err


def test_an_unknown_task_is_refused_before_any_model_loads():
    from workbench.model_variants import variants

    with pytest.raises(WorkbenchError, match="arc_esay"):
        variants("smollm2-135m", ["float32", "int8"], tasks=["arc_esay"], limit=2)


def test_the_pareto_front():
    memory = pd.Series([540.0, 270.0, 236.0, 90.0, 300.0])
    score = pd.Series([0.60, 0.60, 0.58, 0.55, 0.50])
    # 540 is dominated by 270 (same score, less memory); 300 by 270
    assert pareto_front(memory, score) == [False, True, True, True, False]
    speed = pd.Series([10.0, 5.0, 20.0, 40.0, 40.0])
    assert pareto_front(speed, score, lower_cost_is_better=False) == [True, False, True, True, False]


# ---- real variants ----------------------------------------------------------------------------------------------
@pytest.mark.integration
@needs_mirror
@needs_model
def test_the_reference_row_is_a_plain_evaluate_and_flips_are_the_differing_items(project):
    import workbench
    from workbench.model_variants import variants

    v = variants("smollm2-135m", ["float32", "int8"], tasks=["arc_easy"], limit=8, device="cpu",
                           speed_prompts=1, speed_tokens=3)  # fmt: skip
    table = v.table().set_index("variant")
    plain = workbench.evaluate("arc_easy", model="smollm2-135m", limit=8)
    ref = table.loc["float32"]
    assert ref["score"] == plain.metrics["acc"]
    assert [ref["ci95_low"], ref["ci95_high"]] == plain.metrics["acc_ci95"]
    assert plain.run_id != ref["run_id"]  # a run of its own, the same numbers
    ref_items = workbench.samples(ref["run_id"]).set_index("doc_id")
    assert (ref_items["acc"] == plain.samples.set_index("doc_id")["acc"]).all()
    # the int8 row: the paired difference and the flips are those of its run against the reference run
    int8 = table.loc["int8"]
    q = workbench.samples(int8["run_id"]).set_index("doc_id")
    assert int8["diff"] == pytest.approx(q["acc"].mean() - ref_items["acc"].mean())
    assert int8["diff_ci95_low"] <= int8["diff"] <= int8["diff_ci95_high"]
    assert int8["flipped_to_right"] == int(((q["acc"] == 1) & (ref_items["acc"] == 0)).sum())
    assert int8["flipped_to_wrong"] == int(((q["acc"] == 0) & (ref_items["acc"] == 1)).sum())
    flips = v.flips("int8")
    assert len(flips) == int8["flipped_to_right"] + int8["flipped_to_wrong"]
    assert set(flips["variant_run"]) <= {int8["run_id"]} and set(flips["reference_run"]) <= {ref["run_id"]}
    # costs: int8 holds its Linear weights in a byte each, both read the same float32 files
    assert int8["weights_mb"] < 0.6 * ref["weights_mb"]
    assert int8["disk_mb"] == ref["disk_mb"]
    assert ref["peak_mb"] >= ref["weights_mb"] * 0.5 and ref["gen_tok_s"] > 0
    runs = workbench.runs()
    assert (runs[runs["run_id"].isin(table["run_id"])]["status"] == "complete").all()
    fig = v.figure()
    assert len(fig.data) >= 2
    with pytest.raises(WorkbenchError, match="is the reference"):
        v.flips("float32")


@pytest.mark.integration
@needs_mirror
@needs_model
@pytest.mark.skipif(
    not HAVE_LLAMACPP, reason='llama-cpp-python not installed: pip install "llm-eval-workbench[llamacpp]"'
)
def test_the_shipped_gguf_runs_as_a_variant(project):
    import workbench
    from workbench.model_variants import variants

    v = variants("smollm2-135m", ["float32", "gguf"], tasks=["arc_easy"], limit=6, device="cpu",
                           speed_prompts=1, speed_tokens=3)  # fmt: skip
    table = v.table().set_index("variant")
    gguf = table.loc["gguf"]
    assert gguf["disk_mb"] == gguf["weights_mb"] < 0.3 * table.loc["float32"]["weights_mb"]
    identity = workbench.runs().set_index("run_id").loc[gguf["run_id"]]
    assert identity["status"] == "complete"
    assert 0 <= gguf["score"] <= 1
