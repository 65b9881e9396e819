"""The priorities page people read at a glance: one summary table, burn-up charts with a
forecast to feature freeze, merges per week as bars, and priorities that match no change."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient

from dashboards.app import create_app
from dashboards.charts import merge_bars, merge_forecast
from reviewbot.cli import main
from reviewbot.config import Secrets
from reviewbot.evaluate.verdicts import run_evaluation
from reviewbot.metrics.report import BurnupPoint, WeekCount
from tests.conftest import ROOT, make_config
from tests.test_report import CONFIG_DATA, T, store_scenario

# The report's small cycle plus a priority whose matcher no stored change meets.
DATA = {**CONFIG_DATA, "priorities": [
    *CONFIG_DATA["priorities"],
    {"id": "ghost", "title": "Ghost <Work>", "rank": 3, "topics": ["no-such-topic"]}]}
CONFIG = make_config(DATA)
START = date(2016, 10, 6)


def burnup(merges_per_day: dict[int, int], days: int, total: int = 30) -> list[BurnupPoint]:
    points, done = [], 0
    for i in range(days):
        done += merges_per_day.get(i, 0)
        points.append(BurnupPoint(START + timedelta(days=i), total, done))
    return points


def test_forecast_reads_the_last_four_weeks_and_bands_slowest_to_fastest():
    # Weeks ending today, newest first: 2, 3, 1, 2 merges (one merge on each listed day).
    today = START + timedelta(days=40)
    days = {40: 1, 38: 1, 31: 1, 30: 1, 29: 1, 25: 1, 18: 1, 15: 1}
    # A merge 6 weeks back is outside the window.
    days[2] = 1
    points = burnup(days, 41)
    f = merge_forecast(points, today, today + timedelta(days=21), open_now=20)
    assert (f.weeks, f.rate, f.low_rate, f.high_rate) == (4, 2.0, 1, 3)
    assert f.merged_now == 9
    assert (f.expected, f.low, f.high) == (9 + 6, 9 + 3, 9 + 9)
    assert f.ceiling == 29
    # Never more than is open now.
    capped = merge_forecast(points, today, today + timedelta(days=70), open_now=4)
    assert (capped.expected, capped.low, capped.high, capped.ceiling) == (13, 13, 13, 13)


def test_no_forecast_after_the_freeze_or_before_a_full_week():
    points = burnup({1: 1}, 20)
    assert merge_forecast(points, START + timedelta(days=19), START + timedelta(days=19), 3) \
        is None
    assert merge_forecast(points, START + timedelta(days=19), None, 3) is None
    assert merge_forecast(burnup({1: 1}, 6), START + timedelta(days=5),
                          START + timedelta(days=30), 3) is None
    # Two full weeks so far: the rate reads those two only.
    two = merge_forecast(burnup({3: 1, 10: 1, 12: 1}, 15), START + timedelta(days=14),
                         START + timedelta(days=28), 10)
    assert (two.weeks, two.rate, two.low_rate, two.high_rate) == (2, 1.5, 1, 2)


def test_merge_bars_are_proportional_and_titled():
    weeks = [WeekCount(START + timedelta(weeks=i), n) for i, n in enumerate([0, 2, 4, 1])]
    chart = merge_bars("Images", weeks)
    assert [b.merged for b in chart.bars] == [0, 2, 4, 1]
    assert [round(b.height / chart.bars[2].height, 2) for b in chart.bars] == [0, 0.5, 1, 0.25]
    assert all(abs(b.y + b.height - chart.base) < 1e-9 for b in chart.bars)
    assert chart.bars[0].x < chart.bars[1].x < chart.bars[3].x <= chart.right


@pytest.fixture
def client(store_engine):
    store_scenario(store_engine)
    run_evaluation(store_engine, CONFIG, T)
    return TestClient(create_app(CONFIG, secrets=Secrets(), engine=store_engine))


def test_the_page_opens_with_one_summary_table_of_all_priorities(client):
    page = client.get("/priorities", params={"as_of": "2016-12-15"}).text
    summary = page[page.index('<table class="summary">'):]
    summary = summary[:summary.index("</table>")]
    assert page.index('<table class="summary">') < page.index('class="card priority"')
    rows = re.findall(r'<tr data-priority="([^"]+)">(.*?)</tr>', summary, re.S)
    assert [pid for pid, _ in rows] == ["images", "upgrades", "ghost"]
    images = rows[0][1]
    # 101 merged; 102 waiting on author, 103 blocked (as the report says as of T).
    assert "1 of 3 merged (33%)" in images
    assert '<rect class="done" width="33"' in images
    cells = re.findall(r'<td class="num">([^<]*)', images)
    assert cells[:4] == ["0", "1", "1", "0"]
    # The oldest wait since the current patch set: 102's patch set 2 of Nov 1, 44 days.
    assert "44.0 days" in images and 'href="/changes/102"' in images
    # Forecast to feature freeze (2017-01-23, 39 days ahead): one merge (101, Nov 23) in the
    # last four weeks, 0.25 a week -> 1 + round(0.25 * 39 / 7) = 2; the band: 0 a week (1)
    # to 1 a week (capped at the 3 merged or open).
    assert "about 2 of 3 merged <span class=\"meta\">(1–3)</span>" in images
    assert "matches no change" not in images
    assert "Ghost &lt;Work&gt;" in rows[2][1] and "matches no change" in rows[2][1]


def test_each_burnup_has_a_forecast_line_and_band_to_freeze(client):
    page = client.get("/priorities", params={"as_of": "2016-12-15"}).text
    assert page.count('<svg class="burnup"') == 3
    assert page.count('<polyline class="forecast"') == 3
    assert page.count('<polygon class="forecast-band"') == 3
    assert ("(0.2 a week; slowest 0, fastest 1), about <strong>2 of the 3</strong> merged or "
            "open changes will be merged by feature freeze on 2017-01-23 (between 1 and 3)"
            ) in page
    # The forecast line ends on the freeze line (x of the freeze mark).
    freeze_x = re.search(r'<line class="freeze" x1="([\d.]+)"', page)[1]
    line = re.search(r'<polyline class="forecast" points="([^"]+)"', page)[1]
    assert line.split()[-1].split(",")[0] == freeze_x
    # After the freeze there is no forecast, and the page says so.
    late = client.get("/priorities", params={"as_of": "2017-02-01"}).text
    assert 'class="forecast"' not in late.replace('<p class="forecast meta">', "")
    assert "Feature freeze (2017-01-23) has passed: no forecast." in late


def test_merges_per_week_is_a_bar_chart(client):
    page = client.get("/priorities", params={"as_of": "2016-12-15"}).text
    images = page[page.index('id="priority-images"'):page.index('id="priority-upgrades"')]
    bars = re.findall(r'<rect class="bar"[^>]*><title>week of (\S+): (\d+) merged</title>',
                      images)
    # Cycle weeks from Oct 6 to the week of Dec 15; 101 merged Nov 23 (week 7).
    assert len(bars) == 11 and bars[0][0] == "2016-10-06"
    assert [int(n) for _, n in bars] == [0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]
    assert "Merges per week, oldest week first" not in page  # no row of numbers any more


def test_a_priority_that_matches_no_change_is_said_on_the_page_and_by_evaluate(
        client, store_url, tmp_path, capsys):
    page = client.get("/priorities").text
    ghost = page[page.index('id="priority-ghost"'):]
    assert "This priority matches no change" in ghost
    for pid in ("images", "upgrades"):
        section = page[page.index(f'id="priority-{pid}"'):]
        section = section[:section.index("</section>")]
        assert "matches no change" not in section, pid
    import tomli_w

    path = tmp_path / "c.toml"
    path.write_text(tomli_w.dumps({**DATA, "database": {"url": store_url}}))
    assert main(["--config", str(path), "evaluate", "--as-of", "2016-12-15"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1] == "priority ghost matches no change: check its matchers"
    assert "priority images" not in out and "priority upgrades" not in out
    assert main(["--config", str(path), "evaluate", "--json"]) == 0
    import json

    assert json.loads(capsys.readouterr().out)["priorities_matching_no_change"] == ["ghost"]


def test_check_config_warns_about_a_priority_without_any_matcher(tmp_path, capsys):
    text = (ROOT / "config" / "sandbox.toml").read_text()
    path = tmp_path / "c.toml"
    path.write_text(text + '\n[[priorities]]\nid = "defcore"\ntitle = "DefCore"\nrank = 5\n'
                    'owners = ["nikhil-komawar"]\n')
    assert main(["--config", str(path), "check-config"]) == 0
    err = capsys.readouterr().err
    assert "warning: priorities[4] (defcore) has no matcher: it matches no change" in err
    path.write_text(text)
    assert main(["--config", str(path), "check-config"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_summary_text_is_escaped(client):
    page = client.get("/priorities").text
    assert "Ghost <Work>" not in page and html.escape("Ghost <Work>") in page
