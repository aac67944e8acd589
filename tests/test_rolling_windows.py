"""Rolling log-likelihood windows score every token exactly once, each within the model's length."""

from __future__ import annotations

import pytest

from workbench.models.base import rolling_windows


@pytest.mark.parametrize("n,max_len", [(1, 4), (4, 4), (5, 4), (9, 4), (23, 5)])
def test_every_token_is_predicted_once_with_its_true_history(n, max_len):
    tokens = list(range(100, 100 + n))
    windows = rolling_windows(tokens, prefix_token=1, max_len=max_len)
    predicted = [t for _, cont in windows for t in cont]
    assert predicted == tokens
    assert windows[0][0] == [1]
    for ctx, cont in windows:
        assert len(ctx) + len(cont) - 1 <= max_len  # the model input is ctx + cont minus the last token
        full = ctx + cont
        if ctx != [1]:
            start = tokens.index(full[0])
            assert full == tokens[start : start + len(full)]


def test_empty_text_has_no_windows():
    assert rolling_windows([], 1, 8) == []
