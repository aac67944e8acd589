"""The one runner: a task's items through a model, each scored item saved at once.

Three strategies, chosen from what the task and the model declare (``Task.multi_turn``,
``Model.capabilities``): batched (local models), streaming (API models: each item saved as its answers
arrive) and multi-turn (each turn's request built from the answers before it).
"""
