"""Test alarms and the push outcomes of a round as the server logs them: what a mutation tester
changed in the readiness code and no test noticed (issue 28)."""

from __future__ import annotations

import pytest

from server.basics.errors import Invalid

NO_ROUND = "An outcome names its purpose and holds results."
NO_OUTCOME = "Each result is accepted, failed or expired."
ACCEPTED = {"subscription_id": 1, "staff_id": 1, "outcome": "accepted", "status": 201}


@pytest.mark.parametrize(
    ("outcome", "problem"),
    [
        (None, "'outcome' is required."),
        ({"purpose": "party", "results": [ACCEPTED]}, NO_ROUND),
        ({"purpose": "test", "test_id": 1, "results": []}, NO_ROUND),
        ({"purpose": "test", "test_id": 1, "results": ACCEPTED}, NO_ROUND),
        (
            {"purpose": "test", "test_id": 1, "results": [{**ACCEPTED, "outcome": "sent"}]},
            NO_OUTCOME,
        ),
        ({"purpose": "test", "test_id": 1, "results": ["accepted"]}, NO_OUTCOME),
    ],
)
def test_a_push_round_the_server_could_not_have_sent_is_refused_and_not_logged(
    services, demo_links, event_count, outcome, problem
):
    """The push sender's answers reach the log through the policy (server/policies.py); a
    round with no purpose, no results or an unknown answer is refused, not logged for ever."""
    before = event_count()

    with pytest.raises(Invalid) as refused:
        services.policies.record_push_outcomes("demo", outcome)

    assert refused.value.detail == problem
    assert event_count() == before
