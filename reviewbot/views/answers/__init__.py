"""Views: the shapes of the answers people read — one pydantic model per question, shared by
the API (`response_model`, so /docs shows them) and the CLI's `--json`.

One question, one shape: `reviewbot queue USER --json` and `/api/v1/queue?reviewer=USER`
print the same JSON on the same store, and so do why and the change, standing, reviewers,
backtest, report, where and actions (tests/test_answers.py holds them equal). One builder
per question (the views' `as_json`, the builders next to the models, or
`views.change_view`) makes the answer both sides send: the API validates it against its
model on the way out (`response_model`), the CLI prints it as it is — validating a
20,000-row queue would cost the CLI a quarter of its time, and the tests already hold the
CLI's output equal to the API's and to the models (evaluate's, which only the CLI
answers, too).

The models live by subject: `answers.queue` (both queues, the why-not), `answers.change`
(one change, the change list, where, evaluate), `answers.standing` (standing, the
leaderboard, the backtest), `answers.report` (the PTL report), `answers.operations` (the
write-back log, health, hooks, errors). This package holds what they share: the base
model and how an answer links a change in Gerrit. It re-exports nothing: each model has
one import path.

Times are the strings the views already print (ISO 8601, UTC), so the shapes stay what
they were. Every model forbids fields it does not declare: an answer that grows a field
without its model is a test failure, not a silent drift from the documentation.

Light on purpose: pydantic only at import time (the CLI imports these inside commands);
the views are imported by the builders that need them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from reviewbot.config import Config


class Answer(BaseModel):
    # Validators built on first use (the web app's responses, the schema): the CLI imports
    # these modules for the builders of their shapes and never validates one.
    model_config = ConfigDict(extra="forbid", defer_build=True)

    def json_data(self) -> dict[str, Any]:
        """The JSON-ready dict (what FastAPI sends for a model)."""
        return self.model_dump(mode="json")


Number = int | float | None


def change_link(config: Config, project: str, number: int, ps: int | None = None,
                message_id: str | None = None) -> str:
    url = f"{config.gerrit_web_base}/c/{project}/+/{number}"
    if ps is not None:
        url += f"/{ps}"
    if message_id:
        url += f"#message-{message_id}"
    return url
