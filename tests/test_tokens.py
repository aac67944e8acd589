"""The harness's tokens (tokens.py) with tokenizers unlike the default model's."""

from __future__ import annotations

from workbench.models.tokens import encode, encode_pairs


class NoBosTokenizer:
    """A slow tokenizer without a BOS token whose own special-token rule appends an end marker (1)."""

    bos_token = None
    is_fast = False

    def encode(self, text: str, add_special_tokens: bool = True) -> list[int]:
        return [ord(c) for c in text] + ([1] if add_special_tokens else [])


def test_a_tokenizer_without_a_bos_token_keeps_its_own_special_token_rule():
    tok = NoBosTokenizer()
    assert encode(tok, "ab") == [97, 98, 1]
    # the harness's split: the continuation is what encoding the whole adds after the context's tokens
    assert encode_pairs(tok, 0, [("ab", " c"), ("", "d")]) == [([97, 98, 1], [99, 1]), ([0], [100, 1])]
