"""What a cycle step records: one team's result as is, several teams' per team and summed."""

from reviewbot.actions.writeback import ApplySummary
from reviewbot.service.step_results import TeamResults, recorded
from reviewbot.sync.launchpad import EnrichSummary


def test_one_teams_result_is_recorded_as_is():
    result = EnrichSummary(referenced=3, cache_hits=1, looked_up=2, found=1, errors=1,
                           stale=True, reason="Launchpad data may be out of date")
    detail, problem = TeamResults({"glance": result}).recorded()
    assert (detail, problem) == recorded(result)
    assert detail["cache_hits"] == 1 and "glance.cache_hits" not in detail
    assert problem == "Launchpad data may be out of date"


def test_several_teams_results_are_recorded_per_team_and_summed():
    glance = EnrichSummary(referenced=4, cache_hits=3, looked_up=1, found=1, seconds=0.5)
    clients = EnrichSummary(referenced=2, cache_hits=0, looked_up=2, errors=2, stale=True,
                            reason="HTTP 503 from Launchpad", seconds=0.25)
    results = TeamResults({"glance": glance, "clients": clients})
    detail, problem = results.recorded()
    # Each sum sits where its name first appears, then the next team's values.
    assert list(detail)[:4] == ["glance.referenced", "referenced",
                                "glance.cache_hits", "cache_hits"]
    assert list(detail)[-1] == "reason"
    assert detail["glance.looked_up"] == 1 and detail["clients.looked_up"] == 2
    assert (detail["referenced"], detail["cache_hits"], detail["looked_up"]) == (6, 3, 3)
    assert detail["errors"] == 2 and detail["seconds"] == 0.75
    assert "stale" not in detail and "enabled" not in detail  # booleans are not summed
    assert detail["clients.stale"] is True and detail["glance.reason"] is None
    assert problem == detail["reason"] == "team clients: HTTP 503 from Launchpad"
    assert results.total(lambda r: r.looked_up) == 3
    assert results.total(lambda r: r.cache_hits) == 3


def test_several_teams_failed_writes_are_one_soft_failure_summed():
    results = TeamResults({"glance": ApplySummary(dry_run=False, planned=2, applied=1, failed=1),
                           "clients": ApplySummary(dry_run=False, planned=3, applied=1,
                                                   failed=2)})
    detail, problem = results.recorded()
    assert problem == "3 writes failed"
    assert detail["reason"] == "team glance: 1 writes failed; team clients: 2 writes failed"
    assert results.total(lambda r: r.applied) == 2 and detail["planned"] == 5


def test_several_teams_without_trouble_record_no_reason():
    results = TeamResults({"glance": ApplySummary(planned=2), "clients": ApplySummary()})
    detail, problem = results.recorded()
    assert problem is None and "reason" not in detail and detail["planned"] == 2
