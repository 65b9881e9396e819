"""Sandbox Gerrit REST: the /groups/ and /accounts/ endpoints (members, audit log, account query).

Called by `SandboxGerrit`'s dispatch (server.py) with the sandbox itself. Sync
reads the core groups' members and audit log (promotions) here, and resolves
accounts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import unquote

from reviewbot.sandbox.model import Account, Group
from reviewbot.sandbox.render import account_info, ts
from reviewbot.sandbox.transport import DEFAULT_LIMIT, HttpError, Reply, int_param, json_reply

if TYPE_CHECKING:
    from reviewbot.sandbox.server import SandboxGerrit


def _group_info(gerrit: SandboxGerrit, name: str) -> dict:
    g = gerrit.groups[name]
    return {
        "id": g.uuid,
        "url": f"#/admin/groups/uuid-{g.uuid}",
        "options": {"visible_to_all": True} if g.visible else {},
        "description": f"{g.name} group",
        "group_id": g.group_id,
        "owner": g.name,
        "owner_id": g.uuid,
        "created_on": ts(g.created_on),
        "name": g.name,
    }


def groups_endpoint(
    gerrit: SandboxGerrit, rest: str, params: dict[str, list[str]], user: Account | None
) -> Reply:
    with gerrit.lock:
        parts = [unquote(p) for p in rest.split("/")]
        if not parts or parts[0] == "":
            return json_reply({g: _group_info(gerrit, g) for g in sorted(gerrit.groups)})
        group = gerrit.find_group(parts[0])
        if group is None:
            raise HttpError(404, f"Not found: {parts[0]}")
        sub = "/".join(p for p in parts[1:] if p)
        if sub == "":
            return json_reply(_group_info(gerrit, group.name))
        if sub == "members":
            if not group.visible:
                return json_reply([])  # members of an invisible group read back empty
            recursive = "recursive" in params
            ids = gerrit.group_member_ids(group.name, recursive=recursive)
            members = sorted(
                (gerrit.accounts[i] for i in ids), key=lambda a: (a.name, a.email, a.id)
            )
            return json_reply(
                [account_info(a, True, gerrit.is_service_user(a.id)) for a in members]
            )
        if sub == "groups":
            included = [g for g in group.includes if g in gerrit.groups]
            return json_reply([_group_info(gerrit, g) for g in included])
        if sub == "log.audit":
            return _audit_log(gerrit, group, user)
        raise HttpError(404, "Not Found")


def _audit_log(gerrit: SandboxGerrit, group: Group, user: Account | None) -> Reply:
    """GET /groups/{id}/log.audit: GroupAuditEventInfo list, newest first (as Gerrit).
    Gerrit serves it to group owners and administrators only; the sandbox treats every
    caller as an owner unless the group says otherwise (`audit_readable`), then 403."""
    if not group.audit_readable:
        raise HttpError(403, "Not group owner")
    events = sorted(group.audit, key=lambda e: e.date, reverse=True)
    return json_reply([
        {
            "member": account_info(gerrit.accounts[e.member], True,
                                   gerrit.is_service_user(e.member)),
            "type": e.type,
            "user": account_info(gerrit.accounts[e.by if e.by is not None else e.member],
                                 True),
            "date": ts(e.date),
        }
        for e in events
    ])


def accounts_endpoint(
    gerrit: SandboxGerrit, rest: str, params: dict[str, list[str]], user: Account | None
) -> Reply:
    with gerrit.lock:
        ident = unquote(rest.strip("/").split("/")[0]) if rest.strip("/") else ""
        if ident == "":
            return _account_query(gerrit, params)
        if ident in ("self", "me"):
            if user is None:
                raise HttpError(403, "Authentication required")
            account = user
        else:
            try:
                account = gerrit.account(ident)
            except ValueError:
                raise HttpError(404, f"Account '{ident}' not found") from None
        return json_reply(account_info(account, True, gerrit.is_service_user(account.id)))


def _account_query(gerrit: SandboxGerrit, params: dict[str, list[str]]) -> Reply:
    query = (params.get("q") or params.get("query") or [""])[-1].strip()
    detailed = any(o.upper() in ("DETAILS", "ALL_EMAILS") for o in params.get("o", []))
    if not query:
        raise HttpError(400, "missing query field")
    op, _, value = query.partition(":") if ":" in query else ("", "", query)
    value = value.strip('"').lower()
    hits = []
    for a in gerrit.accounts.values():
        fields = {
            "username": a.username.lower(),
            "email": a.email.lower(),
            "name": a.name.lower(),
        }
        if op == "":
            ok = value in (str(a.id),) or any(f.startswith(value) for f in fields.values())
        elif op in fields:
            ok = fields[op].startswith(value)
        elif op == "is" and value == "active":
            ok = True
        else:
            raise HttpError(400, f"Unsupported query: {query}")
        if ok:
            hits.append(a)
    n = int_param(params, "n", "limit") or DEFAULT_LIMIT
    start = int_param(params, "S", "start") or 0
    page = hits[start : start + n]
    out = [account_info(a, detailed, gerrit.is_service_user(a.id)) for a in page]
    if len(hits) > start + n and out:
        out[-1]["_more_accounts"] = True
    return json_reply(out)
