"""The roles document: every role, every capability and the default mapping, from
`core/roles.py` (the only place that defines them)."""

from __future__ import annotations

from core.roles import ROLES, SUMMARY, Capability, role_defaults
from docsgen.markdown import bullets, code, header, table
from docsgen.sources import Sources
from models import Role

ROLES_DOC = "ROLES.md"


def roles_doc(src: Sources) -> list[str]:
    out = header("Roles and capabilities", ["core/roles.py"])
    out += [
        "Rights are capabilities, never role names: every bot command, button, web action",
        "and command-line change checks a capability. A higher role has every capability",
        "of the lower ones. One user's grants and withdrawals override their role's",
        "defaults without changing the role (`python main.py users grant|revoke`).",
        "",
        "## Roles, lowest first",
        "",
    ]
    out += table(
        ["role", "adds to the role below"],
        [
            [code(role.value), ", ".join(code(c) for c in _ordered(_added(role))) or "—"]
            for role in ROLES
        ],
    )
    out += ["## Capabilities", ""]
    out += table(["capability", "what it allows"], [[code(c), SUMMARY[c]] for c in Capability])
    out += ["## Default mapping", ""]
    out += table(
        ["capability", *(code(r.value) for r in ROLES)],
        [[code(c), *("yes" if c in role_defaults(r) else "—" for r in ROLES)] for c in Capability],
    )
    out += ["## Changes", ""]
    out += bullets(
        [
            "Every change is an event in the log, stored in the same transaction: "
            "`core_user_role_set`, `core_user_capability_set`.",
            "A role set for a Telegram id that has not opened the bot yet waits for them; "
            "`ADMIN_IDS` are admins from their first message.",
        ]
    )
    return out


def _added(role: Role) -> frozenset[Capability]:
    # Admin is declared as "everything"; show what it has beyond the speaker.
    index = ROLES.index(role)
    below = role_defaults(ROLES[index - 1]) if index else frozenset()
    return role_defaults(role) - below


def _ordered(caps: frozenset[Capability]) -> list[Capability]:
    return [c for c in Capability if c in caps]
