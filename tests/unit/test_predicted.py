"""The drafter of predicted output and the text of a stream with stop strings (pure)."""

from __future__ import annotations

from chmocoder.engine.runtimes.predicted import DRAFT_SIZES, MATCH, Drafter, first_stop, held_back


def test_drafts_what_follows_the_answer_in_the_prediction() -> None:
    prediction = [10, 11, 12, 13, 14, 15, 16, 17]
    drafter = Drafter(prediction)
    assert drafter.draft([1, 2], 4) == []  # fewer than MATCH tokens: nothing to match
    assert drafter.draft([99, 10, 11, 12], 3) == [13, 14, 15]
    assert drafter.draft([99, 10, 11, 12, 13, 14, 15], 10) == [16, 17]  # to the end
    assert drafter.draft([7, 8, 9], 4) == []  # not in the prediction
    assert drafter.draft([10, 11, 12], 0) == []


def test_a_repeated_line_drafts_from_the_longer_match_then_the_nearer() -> None:
    # the same three tokens twice: what precedes them in the answer decides
    prediction = [1, 5, 6, 7, 20, 2, 5, 6, 7, 30]
    drafter = Drafter(prediction)
    assert drafter.draft([2, 5, 6, 7], 1) == [30]
    assert drafter.draft([1, 5, 6, 7], 1) == [20]
    # no longer match: the occurrence nearest the place the last draft ended
    drafter = Drafter([5, 6, 7, 20, 9, 9, 5, 6, 7, 30])
    drafter.cursor = 9
    assert drafter.draft([0, 5, 6, 7], 1) == [30]
    drafter.cursor = 0
    assert drafter.draft([0, 5, 6, 7], 1) == [20]
    assert MATCH == 3


def test_stop_strings_in_a_stream() -> None:
    assert first_stop("code\n```\nmore", ["```", "<|end|>"]) == 5
    assert first_stop("code", ["```"]) == -1
    assert first_stop("a<|end|>b```", ["```", "<|end|>"]) == 1
    assert held_back("code\n``", ["```"]) == 2  # may become the stop: not shown yet
    assert held_back("code\n`x", ["```"]) == 0
    assert held_back("abc<|e", ["```", "<|end|>"]) == 3
    assert held_back("abc", []) == 0


def test_drafts_grow_while_taken_whole_and_shrink_after_a_miss() -> None:
    drafter = Drafter(list(range(100, 200)))
    answer = [100, 101, 102]
    assert len(drafter.draft(answer, 50)) == DRAFT_SIZES[0]
    drafter.taken(DRAFT_SIZES[0], DRAFT_SIZES[0])
    assert len(drafter.draft(answer, 50)) == DRAFT_SIZES[1]
    drafter.taken(DRAFT_SIZES[1], DRAFT_SIZES[1])
    drafter.taken(DRAFT_SIZES[2], DRAFT_SIZES[2])
    assert len(drafter.draft(answer, 50)) == DRAFT_SIZES[-1]  # no further than the largest
    assert len(drafter.draft(answer, 5)) == 5  # nor past the limit
    drafter.taken(DRAFT_SIZES[-1], 3)
    assert len(drafter.draft(answer, 50)) == DRAFT_SIZES[0]
    drafter.taken(0, 0)  # no draft: no change
    assert len(drafter.draft(answer, 50)) == DRAFT_SIZES[0]
