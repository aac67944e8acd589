"""Prompt-lookup drafts: the tokens that followed the latest earlier occurrence of the sequence's last tokens."""

from __future__ import annotations

from workbench.models.drafts import PromptLookup


def test_the_draft_is_what_followed_the_latest_earlier_occurrence_of_the_last_two_tokens():
    lookup = PromptLookup([5, 6, 7, 8, 1, 5, 6, 9, 4, 2, 5, 6])
    assert lookup.draft(3) == [9, 4, 2]  # "5 6" last came before 9, not before 7
    assert lookup.draft(1) == [9]
    assert lookup.draft(0) == []


def test_a_pair_never_seen_falls_back_to_the_last_token_and_then_to_no_draft():
    lookup = PromptLookup([3, 4, 9, 4])
    assert lookup.draft(2) == [9, 4]  # "9 4" is new; "4" came before 9
    assert PromptLookup([1, 2, 3]).draft(2) == []
    assert PromptLookup([]).draft(2) == []


def test_generated_tokens_are_looked_up_too_and_a_draft_may_run_to_the_end():
    lookup = PromptLookup([7, 8])
    for token in (1, 2, 7):
        lookup.append(token)
    assert lookup.draft(4) == [8, 1, 2, 7]
    lookup.append(8)
    assert lookup.draft(4) == [1, 2, 7, 8]  # "7 8" last occurred after the prompt
