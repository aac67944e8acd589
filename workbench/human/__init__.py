"""Human evaluation: rate outputs, vote blind between two outputs, rank models, measure agreement.

    panel = workbench.rate(run_id, rubric="1-5", annotator="ana")   # one item at a time, every click saved
    duel = workbench.arena(run_a, run_b, annotator="ana")           # blind A/B votes
    workbench.rankings()                                            # Bradley-Terry and Elo with 95% intervals
    workbench.agreement(workbench.ratings())                        # kappa, alpha, agreement rates

Anything judged is an *item*: an id, a prompt, an optional reference, a model's output and the model's name.
Items come from a saved run (its samples), an ``EvalResult``, or any DataFrame with those columns (grid
outputs, your own file). The sessions here hold all the logic and never draw anything: the panels that
``workbench.rate`` and ``workbench.arena`` return live in ``workbench.widgets``, draw a session and call its
methods, which are also the way to record judgments from code.

    rubric       what a rating can be (Rubric)
    sources      items from runs and tables (items, item_key)
    cursor       navigation, timing and annotator shared by the sessions
    rating       RatingSession
    arena        ArenaSession and the pairing of models (arena_items)
    tables       ratings(), votes(), battles()
    ranking      rankings(), ranking_figure()
    reliability  agreement()
    merging      merge()
"""

from .arena import VOTES, ArenaSession, Pair, VoteState, arena_items, pair_models
from .merging import merge
from .ranking import ranking_figure, rankings
from .rating import ItemState, RatingSession
from .reliability import agreement
from .rubric import Rubric
from .sources import ITEM_COLUMNS, item_key, items
from .tables import VOTE_SCORE, battles, ratings, votes

__all__ = [
    "ITEM_COLUMNS",
    "VOTES",
    "VOTE_SCORE",
    "ArenaSession",
    "ItemState",
    "Pair",
    "RatingSession",
    "Rubric",
    "VoteState",
    "agreement",
    "arena_items",
    "battles",
    "item_key",
    "items",
    "merge",
    "pair_models",
    "ranking_figure",
    "rankings",
    "ratings",
    "votes",
]
