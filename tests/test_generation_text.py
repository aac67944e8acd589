"""Generated text is decoded whole: a token limit never leaves half a Hangul syllable or emoji (U+FFFD)."""

from __future__ import annotations

import pytest

from workbench.models.base import GenerateRequest

from .conftest import needs_model

pytestmark = [pytest.mark.integration, needs_model]


@pytest.fixture(scope="module")
def lm():
    from workbench import models

    return models.load("smollm2-135m")


@pytest.mark.parametrize("prompt", ["한국어로 대답하세요: 하늘은 무슨 색입니까?", "김치는", "Write three emoji: 😀"])
def test_every_token_limit_gives_whole_characters(lm, prompt):
    """Byte-level tokens split these characters over several tokens; every cut must still decode cleanly, and
    a shorter answer is the start of a longer one."""
    limits = range(1, 9)
    texts = [r.text for r in lm.generate([GenerateRequest(prompt, max_new_tokens=n) for n in limits], batch_size=8)]
    assert not [t for t in texts if "\ufffd" in t], texts
    assert all(texts[-1].startswith(t) for t in texts), texts
    assert any(ord(c) > 0x2000 for c in texts[-1])  # the answer does hold multi-byte characters
