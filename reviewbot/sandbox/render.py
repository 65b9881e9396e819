"""Sandbox Gerrit wire format: ChangeInfo and friends exactly as `o=` options populate them.

Rules followed (Gerrit REST docs, ChangeJson/LabelsJson/AccountLoader): null
fields are omitted; AccountInfo is `{"_account_id": N}` unless
DETAILED_ACCOUNTS; `labels`/`reviewers` only with LABELS or DETAILED_LABELS;
label `values` keys are `"-1"`, `" 0"`, `"+1"`; timestamps carry nanoseconds;
JSON is compact, UTF-8, and HTML-escaped the way Gson escapes (`<` -> `\\u003c`).
"""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import quote

from reviewbot.sandbox.model import LABEL_VALUES, LABELS, Account, Change, PatchSet, sha1_hex
from reviewbot.sandbox.state import State

PREFIX = b")]}'\n"

# Every ListChangesOption name Gerrit knows; anything else is a 400.
KNOWN_OPTIONS = frozenset(
    """LABELS DETAILED_LABELS CURRENT_REVISION ALL_REVISIONS CURRENT_COMMIT ALL_COMMITS
    CURRENT_FILES ALL_FILES DETAILED_ACCOUNTS MESSAGES CURRENT_ACTIONS REVIEWED
    DRAFT_COMMENTS DOWNLOAD_COMMANDS WEB_LINKS CHECK CHANGE_ACTIONS COMMIT_FOOTERS
    PUSH_CERTIFICATES REVIEWER_UPDATES SUBMITTABLE TRACKING_IDS SKIP_MERGEABLE
    SKIP_DIFFSTAT SUBMIT_REQUIREMENTS STAR PARENTS CUSTOM_KEYED_VALUES SUBMIT_REQUIREMENTS
    ALL_EMAILS STARRED""".split()
)
DETAIL_OPTIONS = frozenset(
    {"LABELS", "DETAILED_LABELS", "DETAILED_ACCOUNTS", "REVIEWER_UPDATES", "MESSAGES"}
)

_GSON_ESCAPES = (
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("=", "\\u003d"),
    ("'", "\\u0027"),
)


def ts(value: datetime) -> str:
    """Gerrit wire timestamp; isoformat is several times faster than strftime."""
    return value.isoformat(" ", "microseconds") + "000"


def encode(obj: object) -> bytes:
    """Compact JSON, HTML-safe like Gson (those characters only occur inside strings)."""
    text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
    for raw, escaped in _GSON_ESCAPES:
        if raw in text:
            text = text.replace(raw, escaped)
    return text.encode("utf-8")


def account_info(account: Account, detailed: bool, service_user: bool = False) -> dict:
    """AccountInfo; detailed ones carry `tags: ["SERVICE_USER"]` for members of "Service
    Users" (Gerrit 3.3+, InternalAccountDirectory), and no `tags` at all otherwise."""
    if not detailed:
        return {"_account_id": account.id}
    info = {
        "_account_id": account.id,
        "name": account.name,
        "email": account.email,
        "username": account.username,
    }
    if service_user:
        info["tags"] = ["SERVICE_USER"]
    return info


def value_key(value: int) -> str:
    return " 0" if value == 0 else f"{value:+d}"


def encoded_id(change: Change) -> str:
    return f"{quote(change.project, safe='')}~{change.number}"


def triplet_id(change: Change) -> str:
    return f"{quote(change.project, safe='')}~{quote(change.branch, safe='')}~{change.change_id}"


class Renderer:
    """Turns State objects into wire dicts; one instance per request (caches accounts)."""

    def __init__(self, state: State, options: frozenset[str]) -> None:
        self.state = state
        self.options = options
        self.detailed = "DETAILED_ACCOUNTS" in options
        self._accounts: dict[int, dict] = {}

    def acct(self, account_id: int) -> dict:
        found = self._accounts.get(account_id)
        if found is None:
            account = self.state.accounts[account_id]
            found = self._accounts[account_id] = account_info(
                account, self.detailed, self.state.is_service_user(account_id)
            )
        return found

    # ---- ChangeInfo -------------------------------------------------------------------

    def change(self, c: Change) -> dict:
        o = self.options
        cur = c.current
        info: dict = {
            "id": encoded_id(c),
            "triplet_id": triplet_id(c),
            "project": c.project,
            "branch": c.branch,
        }
        if c.topic:
            info["topic"] = c.topic
        info["hashtags"] = list(c.hashtags)
        info["change_id"] = c.change_id
        info["subject"] = c.subject
        info["status"] = c.status
        info["created"] = ts(c.created)
        info["updated"] = ts(c.updated)
        if c.status == "MERGED" and c.submitted is not None:
            info["submitted"] = ts(c.submitted)
            if c.submitter is not None:
                info["submitter"] = self.acct(c.submitter)
        if c.status == "NEW":
            info["submit_type"] = "CHERRY_PICK"
        if "SKIP_DIFFSTAT" not in o:
            info["insertions"] = sum(r[1] for r in cur.files)
            info["deletions"] = sum(r[2] for r in cur.files)
        total = c.comment_count()
        info["total_comment_count"] = total
        info["unresolved_comment_count"] = 0
        if c.private:
            info["is_private"] = True
        if c.wip:
            info["work_in_progress"] = True
        info["has_review_started"] = not c.wip or len(c.patch_sets) > 1
        info["meta_rev_id"] = sha1_hex(f"meta:{c.number}:{len(c.messages)}:{c.updated}")
        info["_number"] = c.number
        info["virtual_id_number"] = c.number
        info["owner"] = self.acct(c.owner)
        if "LABELS" in o or "DETAILED_LABELS" in o:
            info["labels"] = self.labels(c)
            info["removable_reviewers"] = []
            info["reviewers"] = self.reviewers(c)
        if "REVIEWER_UPDATES" in o:
            info["reviewer_updates"] = []
        if "MESSAGES" in o:
            info["messages"] = [self.message(c, k) for k in range(len(c.messages))]
        info["current_revision_number"] = cur.number
        all_revs = "ALL_REVISIONS" in o
        if all_revs or "CURRENT_REVISION" in o:
            info["current_revision"] = cur.sha
            chosen = c.patch_sets if all_revs else [cur]
            info["revisions"] = {ps.sha: self.revision(c, ps) for ps in chosen}
        if "SUBMITTABLE" in o:
            info["submittable"] = False
        return info

    def reviewers(self, c: Change) -> dict:
        groups: dict[str, list[dict]] = {}
        for account_id, state in c.reviewers.items():
            groups.setdefault(state, []).append(self.acct(account_id))
        return groups

    def labels(self, c: Change) -> dict:
        detailed = "DETAILED_LABELS" in self.options
        show_all = detailed or c.status == "NEW"
        approvals = c.current.approvals
        voters = [a for a, s in c.reviewers.items() if s == "REVIEWER"]
        if c.owner not in voters:
            voters.append(c.owner)
        out: dict = {}
        for label, (lo, hi) in LABELS.items():
            votes = approvals.get(label, {})
            info: dict = {}
            nonzero = [(a, v) for a, v in votes.items() if v.value]
            if nonzero:
                top = max(nonzero, key=lambda x: x[1].value)
                low = min(nonzero, key=lambda x: x[1].value)
                if low[1].value == lo:
                    info["rejected"] = self.acct(low[0])
                if top[1].value == hi:
                    info["approved"] = self.acct(top[0])
                if low[1].value < 0 and low[1].value != lo:
                    info["disliked"] = self.acct(low[0])
                    info["value"] = low[1].value
                if 0 < top[1].value < hi and "value" not in info:
                    info["recommended"] = self.acct(top[0])
                    info["value"] = top[1].value
            if show_all:
                entries = []
                listed = list(voters) + [a for a in votes if a not in voters]
                for account_id in listed:
                    entry = dict(self.acct(account_id))
                    vote = votes.get(account_id)
                    rng = (
                        self.state.voting_range(account_id, label, c.owner) if detailed else None
                    )
                    if vote is not None:
                        entry["value"] = vote.value
                        entry["date"] = ts(vote.date)
                        if vote.tag:
                            entry["tag"] = vote.tag
                    elif detailed and rng != (0, 0):
                        entry["value"] = 0
                    if detailed and rng is not None and rng != (0, 0):
                        entry["permitted_voting_range"] = {"min": rng[0], "max": rng[1]}
                    entries.append(entry)
                info["all"] = entries
            info["values"] = LABEL_VALUES[label]
            info["default_value"] = 0
            out[label] = info
        return out

    def message(self, c: Change, index: int) -> dict:
        m = c.messages[index]
        info: dict = {"id": f"{c.number:020x}{index:020x}"}  # 40 hex, stable, opaque
        if m.author is not None:
            info["author"] = self.acct(m.author)
            info["real_author"] = info["author"]
        info["date"] = ts(m.date)
        info["message"] = m.text
        info["accounts_in_message"] = [self.acct(a) for a in m.accounts]
        if m.tag:
            info["tag"] = m.tag
        info["_revision_number"] = m.patch_set
        return info

    def revision(self, c: Change, ps: PatchSet) -> dict:
        o = self.options
        current = ps is c.current
        ref = f"refs/changes/{c.number % 100:02d}/{c.number}/{ps.number}"
        rev: dict = {
            "kind": ps.kind,
            "_number": ps.number,
            "created": ts(ps.created),
            "uploader": self.acct(ps.uploader),
            "ref": ref,
            "fetch": {
                "anonymous http": {"url": f"https://review.example.org/{c.project}", "ref": ref}
            },
        }
        if "ALL_COMMITS" in o or ("CURRENT_COMMIT" in o and current):
            rev["commit"] = self.commit(c, ps)
        if "ALL_FILES" in o or ("CURRENT_FILES" in o and current):
            rev["files"] = self.files(c, ps)
        rev["branch"] = f"refs/heads/{c.branch}"
        return rev

    def commit(self, c: Change, ps: PatchSet) -> dict:
        owner = self.state.accounts[c.owner]
        person = {"name": owner.name, "email": owner.email, "date": ts(ps.created), "tz": 0}
        return {
            "parents": [
                {
                    "commit": sha1_hex(f"parent:{c.number}:{ps.number}"),
                    "subject": 'Merge "Update master for stable/newton"',
                }
            ],
            "author": person,
            "committer": person,
            "subject": c.subject,
            "message": c.commit_message(ps),
        }

    def files(self, c: Change, ps: PatchSet) -> dict:
        msg = c.commit_message(ps)
        files: dict = {
            "/COMMIT_MSG": {
                "status": "A",
                "lines_inserted": msg.count("\n") + 6,
                "size_delta": len(msg),
                "size": len(msg),
            }
        }
        for path, ins, dels in ps.files:
            info: dict = {}
            if ins:
                info["lines_inserted"] = ins
            if dels:
                info["lines_deleted"] = dels
            info["size_delta"] = (ins - dels) * 40
            info["size"] = 4000 + ins * 40
            files[path] = info
        return files


def change_bytes(state: State, change: Change, options: frozenset[str]) -> bytes:
    """Rendered ChangeInfo, cached on the change until its next mutation."""
    cached = change.cache.get(options)
    if cached is None:
        cached = encode(Renderer(state, options).change(change))
        change.cache[options] = cached
    return cached
