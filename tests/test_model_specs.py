"""Model specs resolve without loading anything: aliases, files, directories, hub ids old and new, API models."""

from __future__ import annotations

from dataclasses import replace

import pytest

from workbench.errors import WorkbenchError
from workbench.models import capabilities, check_requests
from workbench.models.base import API, LOCAL, GenerateRequest, LoglikelihoodRequest, RollingRequest
from workbench.models.registry import resolve


@pytest.mark.parametrize(
    "spec,kind,location,revision",
    [
        ("HuggingFaceTB/SmolLM2-135M-Instruct", "hub", "HuggingFaceTB/SmolLM2-135M-Instruct", None),
        ("openai-community/gpt2@main", "hub", "openai-community/gpt2", "main"),
        ("gpt2", "hub", "gpt2", None),  # a hub id from before namespaces
        ("distilgpt2@v1", "hub", "distilgpt2", "v1"),
        ("openai:gpt-4o-mini@http://127.0.0.1:8000/v1", "api", "gpt-4o-mini@http://127.0.0.1:8000/v1", None),
    ],
)
def test_specs_resolve(spec, kind, location, revision):
    found = resolve(spec)
    assert (found.kind, found.location, found.revision) == (kind, location, revision)


def test_a_name_near_an_alias_is_a_typo_not_a_hub_id():
    with pytest.raises(WorkbenchError, match=r"Unknown model 'smollm2-13'\. Did you mean 'smollm2-135m'\?"):
        resolve("smollm2-13")


def test_capabilities_are_declared_and_checked_before_loading():
    assert capabilities("openai:m@http://127.0.0.1:9/v1") == replace(API, concurrency=4)  # $WORKBENCH_API_CONCURRENCY
    assert capabilities("openai:m@http://127.0.0.1:9/v1,http://127.0.0.1:10/v1").concurrency == 8  # per replica
    assert capabilities("gpt2") == LOCAL
    check_requests("openai:m@http://127.0.0.1:9/v1", {GenerateRequest})
    with pytest.raises(WorkbenchError, match="is an API model, and log-likelihood scoring needs"):
        check_requests("openai:m@http://127.0.0.1:9/v1", {LoglikelihoodRequest, GenerateRequest})
    with pytest.raises(WorkbenchError, match="perplexity"):
        check_requests("openai:m@http://127.0.0.1:9/v1", {RollingRequest})
    assert LOCAL.refuses({LoglikelihoodRequest, RollingRequest, GenerateRequest}) == []
