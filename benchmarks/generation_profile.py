"""Where the generation engine's time goes on few-shot GSM8K, and what that bounds its machine use to.

    WORKBENCH_DATA_DIR=../shared/data HF_HUB_OFFLINE=1 python benchmarks/generation_profile.py --limit 50

Runs the workbench's engine (``HFModel.generate``, batch size 16, the dequantized default model in float32, as
``speed_vs_harness.py --kind generate`` does) on the same requests and times, per phase (prefill passes, decoding
passes) and per part of the model:

- the linear layers of the decoder (q, k, v, o, gate, up, down), with their FLOP rate;
- the LM head (576 x 49,152: one row per prompt in prefill, one per token fed in a decoding pass);
- attention: each ``self_attn`` module's time less its own linear layers (rotary, key/value slot writes, the
  attention kernel);
- the rest (embedding, norms, the MLP's activation, the engine's own Python between passes).

Then machine use as ``speed_vs_harness.py`` defines it (distinct prompt tokens plus generated tokens, x 2 x the
parameters, over wall time x the matmul rate measured here), and two bounds read from the measured parts:
prefill alone, and the whole run if every decoding pass's linear layers were folded into a prefill pass for free
(at the prefill passes' own linear rate; vLLM's chunked prefill): what is left then is prefill, the LM head and
attention of decoding, and the rest. The hooks that time the parts cost a few percent of wall time.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict

from speed_vs_harness import build, distinct_prefix_tokens, matmul_flops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=50, help="GSM8K items")
    parser.add_argument("--shots", type=int, default=5)
    parser.add_argument("--out", help="append the result as a JSON line to this file")
    args = parser.parse_args()

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from workbench.models import GenerateRequest
    from workbench.models.hf import HFModel
    from workbench.models.registry import dequantized_dir, resolve

    model_dir = str(dequantized_dir(resolve("smollm2-135m")))
    _, requests = build(["gsm8k"], args.shots, args.limit, "generate")
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    params = sum(p.numel() for p in model.parameters())
    head = model.get_output_embeddings()
    layer_params = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear) and m is not head)
    rate = matmul_flops()
    lm = HFModel("bench", model, tokenizer, {})

    phase = {"now": "prefill"}
    seconds: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    started: dict[tuple[int, str], float] = {}

    def timed(part: str, module: torch.nn.Module) -> None:
        def before(mod, args):
            started[id(mod), part] = time.perf_counter()

        def after(mod, args, output):
            seconds[phase["now"]][part] += time.perf_counter() - started.pop((id(mod), part))

        module.register_forward_pre_hook(before)
        module.register_forward_hook(after)

    for name, module in model.named_modules():
        if module is head:
            timed("lm head", module)
        elif isinstance(module, torch.nn.Linear):
            timed("linear layers", module)
            if name.split(".")[-2] == "self_attn":
                timed("attention linear", module)
        elif name.endswith("self_attn"):
            timed("self_attn", module)

    forward = model.forward

    def run(*a, **kw):
        phase["now"] = "prefill" if kw.get("logits_to_keep") == 1 else "decoding"
        counts[phase["now"]]["passes"] += 1
        counts[phase["now"]]["positions"] += int(kw["input_ids"].numel())
        t = time.perf_counter()
        try:
            return forward(*a, **kw)
        finally:
            seconds[phase["now"]]["wall"] += time.perf_counter() - t

    model.forward = run
    reqs = [GenerateRequest(r["prompt"], max_new_tokens=r["max_new_tokens"], stop=tuple(r["stop"])) for r in requests]
    t0 = time.perf_counter()
    out = lm.generate(reqs, batch_size=16)
    total = time.perf_counter() - t0

    generated = sum(len(tokenizer.encode(r.text)) for r in out)
    tree = distinct_prefix_tokens(tokenizer, requests, "generate")
    need = (tree + generated) * 2 * params
    print(f"matmul {rate / 1e9:.1f} GFLOP/s; {len(reqs)} prompts, {tree:,} distinct prompt tokens, ", end="")
    print(f"{generated:,} generated")
    print("\n| phase | passes | positions | wall s | linear layers s (GFLOP/s) | LM head s | attention s | rest s |")
    print("|---|---|---|---|---|---|---|---|")
    rows = {}
    for name in ("prefill", "decoding"):
        s, c = seconds[name], counts[name]
        attention = s["self_attn"] - s["attention linear"]
        linear_rate = c["positions"] * 2 * layer_params / s["linear layers"] if s["linear layers"] else 0.0
        rest = s["wall"] - s["linear layers"] - s["lm head"] - attention
        rows[name] = {
            "passes": c["passes"],
            "positions": c["positions"],
            "wall_s": round(s["wall"], 1),
            "linear_s": round(s["linear layers"], 1),
            "linear_gflops": round(linear_rate / 1e9, 1),
            "head_s": round(s["lm head"], 1),
            "attention_s": round(attention, 1),
            "rest_s": round(rest, 1),
        }
        print(
            f"| {name} | {c['passes']} | {c['positions']:,} | {s['wall']:.1f} | {s['linear layers']:.1f} "
            f"({linear_rate / 1e9:.0f}) | {s['lm head']:.1f} | {attention:.1f} | {rest:.1f} |"
        )
    between = total - seconds["prefill"]["wall"] - seconds["decoding"]["wall"]
    print(f"| between passes (engine) | | | {between:.1f} | | | | |")
    pre, dec = rows["prefill"], rows["decoding"]
    folded = (
        total
        - dec["linear_s"]
        + dec["positions"] * 2 * layer_params / (pre["linear_gflops"] * 1e9 if pre["linear_gflops"] else rate)
    )
    result = {
        "items": len(reqs),
        "total_s": round(total, 1),
        "matmul_gflops": round(rate / 1e9, 1),
        "distinct_prompt_tokens": tree,
        "generated_tokens": generated,
        "machine_use": round(need / (total * rate), 3),
        "prefill_alone": round(tree * 2 * params / (pre["wall_s"] * rate), 3),
        "folded_ceiling": round(need / (folded * rate), 3),
        "phases": rows,
    }
    print(
        f"\nwall {total:.1f} s: machine use {result['machine_use']:.0%}; prefill alone runs at "
        f"{result['prefill_alone']:.0%} of the matmul rate; with every decoding pass's linear layers folded into "
        f"prefill passes for free the run would take {folded:.1f} s, machine use {result['folded_ceiling']:.0%}"
    )
    if args.out:
        with open(args.out, "a") as f:
            f.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
