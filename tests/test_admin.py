"""One administration service (govern/admin.py) behind every face: an action done through the
CLI leaves the audit row that `Admin` itself writes, and `Admin` refuses, with its reason,
what the acting person's role does not allow."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from commune.cli import cli
from commune.core import Commune
from commune.errors import CommuneError, Forbidden, NotFound
from commune.govern.admin import Admin
from commune.govern.members import AuthError
from commune.govern.policy import OPERATOR
from commune.store.audit import entries
from commune.store.repository import now

PASSWORD = "a long enough passphrase"


def setup(admin: Admin) -> None:
    """The same start in every home: two members, alice (member admin of Ville A) with a
    key, bob (reader of Ville A), and carol (reader of Ville B)."""
    admin.add_member("Ville A", kind="town")
    admin.add_member("Ville B", kind="town")
    admin.add_user("alice", member="Ville A", role="member-admin")
    admin.add_user("bob", member="Ville A")
    admin.add_user("carol", member="Ville B")
    admin.create_key("alice", label="laptop")


def audit_rows(commune: Commune, since: int) -> list[tuple[str, str, str, str]]:
    """(actor, action, subject, details) of the audit entries after the first ``since``."""
    with commune.engine.connect() as conn:
        rows = entries(conn, limit=1000)
    return [(e["actor"], e["action"], e["subject"], e["details"]) for e in rows[since:]]


# Each action twice: through the CLI, and straight through Admin; with what it must record.
ACTIONS: dict[str, tuple[list[str], Callable[[Admin], Any], tuple[str, str, str]]] = {
    "add-member": (
        ["member", "add", "Ville C", "--kind", "town"],
        lambda a: a.add_member("Ville C", kind="town"),
        ("operator", "member-add", "member Ville C"),
    ),
    "set-member-quotas": (
        ["member", "set", "Ville A", "--requests-per-day", "500", "--clear", "wh-per-month"],
        lambda a: a.set_member_quotas("Ville A", {"requests_per_day": 500, "wh_per_month": None}),
        ("operator", "member-quotas", "member Ville A"),
    ),
    "add-user": (
        ["user", "add", "dora", "--member", "Ville A", "--role", "curator"],
        lambda a: a.add_user("dora", member="Ville A", role="curator"),
        ("operator", "role-grant", "user dora"),
    ),
    "set-role": (
        ["user", "set-role", "bob", "curator"],
        lambda a: a.set_role("bob", role="curator"),
        ("operator", "role-grant", "user bob"),
    ),
    "create-key": (
        ["key", "create", "bob", "--label", "script"],
        lambda a: a.create_key("bob", label="script"),
        ("operator", "key-create", "user bob"),
    ),
    "revoke-key": (
        ["key", "revoke", "1"],
        lambda a: a.revoke_key(1),
        ("operator", "key-revoke", "user alice"),
    ),
    "set-user-quotas": (
        ["user", "set", "bob", "--requests-per-day", "50", "--clear", "wh-per-month"],
        lambda a: a.set_user_quotas("bob", {"requests_per_day": 50, "wh_per_month": None}),
        ("operator", "user-quotas", "user bob"),
    ),
    "remove-user": (
        ["user", "remove", "bob", "--reason", "left the town hall"],
        lambda a: a.remove_user("bob", reason="left the town hall"),
        ("operator", "user-remove", "user bob"),
    ),
    "leave": (
        ["member", "leave", "Ville B", "--end-of", "2099-12", "--reason", "vote of 2099"],
        lambda a: a.leave("Ville B", datetime(2100, 1, 1, tzinfo=UTC), reason="vote of 2099"),
        ("operator", "member-leave", "member Ville B"),
    ),
    "set-password": (
        ["user", "password", "bob", "--stdin"],
        lambda a: a.set_password("bob", password=PASSWORD),
        ("operator", "password-set", "user bob"),
    ),
}


def test_a_password_reset_revokes_the_keys_unless_told_to_keep_them(
    homes: tuple[Path, Commune, Commune],
) -> None:
    # A key made with a stolen session outlived `commune user password` (review finding):
    # the reset revokes the person's keys, says so, and --keep-keys keeps them.
    home, via_cli, _ = homes
    key = via_cli.admin.create_key("bob")[1]
    kept = invoke(home, ["user", "password", "bob", "--stdin", "--keep-keys"], PASSWORD + "\n")
    assert kept.exit_code == 0 and "API keys kept" in kept.output, kept.output
    assert via_cli.authenticate(key).user == "bob"
    reset = invoke(home, ["user", "password", "alice", "--stdin"], PASSWORD + "\n")
    assert reset.exit_code == 0 and "1 API key revoked" in reset.output, reset.output
    reset = invoke(home, ["user", "password", "bob", "--stdin"], PASSWORD + "\n")
    assert "sessions ended, 1 API key revoked" in reset.output
    with pytest.raises(CommuneError, match="this API key was revoked"):
        via_cli.authenticate(key)
    assert "--keep-keys" in invoke(home, ["user", "password", "--help"]).output


def test_someone_without_a_password_makes_a_key_only_with_a_key_of_their_own(
    admin: Admin,
) -> None:
    # The web asks the password again before a key (accounts.confirm); someone who signs in
    # with a key gives one of theirs: not another person's, nor one revoked, nor nothing.
    bob_key = admin.create_key("bob")[1]
    carol_id, carol_key = admin.create_key("carol")
    alice_key = admin.create_key("alice", label="second")[1]
    bob, carol = admin.actor("bob"), admin.actor("carol")
    made = len(admin.keys())
    for who, given in ((carol, bob_key), (carol, alice_key), (carol, ""), (bob, carol_key)):
        with pytest.raises(AuthError, match="wrong password: nothing was done"):
            admin.create_key(who.user, actor=who, password=given)
    admin.set_password("alice", PASSWORD, keep_keys=True)
    with pytest.raises(AuthError):  # who has a password gives it, not a key
        admin.create_key("alice", actor=admin.actor("alice"), password=alice_key)
    admin.revoke_key(carol_id)
    with pytest.raises(AuthError):
        admin.create_key("carol", actor=carol, password=carol_key)
    assert len(admin.keys()) == made
    admin.create_key("bob", actor=bob, password=bob_key)
    admin.create_key("alice", actor=admin.actor("alice"), password=PASSWORD)
    assert len(admin.keys()) == made + 2


def test_nobody_raises_someone_to_their_own_role(admin: Admin, tmp_path: Path) -> None:
    # A member admin gave a reader a password and a key (allowed: a role below), then raised
    # them to member admin: the password and key she knew then acted as an equal, and a
    # reader added with a password and raised was an equal made in two steps (review
    # finding). Raising someone to one's own role is a higher role's, and changes nothing.
    alice = admin.actor("alice")
    admin.set_password("bob", PASSWORD, actor=alice)
    admin.create_key("bob", actor=alice)
    admin.add_user("eve", member="Ville A", role="reader", password=PASSWORD, actor=alice)
    for name in ("bob", "eve"):
        with pytest.raises(Forbidden, match=f"making {name} member-admin, as alice is") as no:
            admin.set_role(name, "member-admin", actor=alice)
        assert "a cooperative admin from Ville A, or the operator can" in str(no.value)
        assert admin.actor(name).role == "reader"
    # Below one's own role, still; and a higher role raises them.
    admin.set_role("bob", "curator", actor=alice)
    admin.add_user("chef", member="Ville A", role="cooperative-admin")
    chef = admin.actor("chef")
    admin.set_role("bob", "member-admin", actor=chef)
    assert admin.actor("bob").role == "member-admin"
    # Said in French, in one line, on the command line.
    home = tmp_path / "cli"
    with Commune(home) as other:
        setup(other.admin)
    out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(
        cli, ["--home", str(home), "user", "set-role", "bob", "member-admin", "--as", "alice"]
    )
    assert out.exit_code != 0 and len(out.output.strip().splitlines()) == 1, out.output
    assert "rendre bob administrateur de membre, comme alice" in out.output, out.output
    # « une clé qu'on lui a donné » did not agree: what was given is said without a gender.
    assert (
        "revient à un rôle au-dessus du sien\u00a0: ce qu'on lui a donné avant, mot de passe "
        "ou clé, agirait comme un égal" in out.output
    ), out.output


@pytest.fixture
def homes(tmp_path: Path) -> Iterator[tuple[Path, Commune, Commune]]:
    """Two homes set up alike: one acted on through the CLI, the other through Admin."""
    via_cli, via_admin = Commune(tmp_path / "cli"), Commune(tmp_path / "admin")
    setup(via_cli.admin)
    setup(via_admin.admin)
    yield tmp_path / "cli", via_cli, via_admin
    via_cli.close()
    via_admin.close()


def invoke(home: Path, args: list[str], stdin: str | None = None) -> Result:
    return CliRunner().invoke(cli, ["--home", str(home), *args], input=stdin)


@pytest.mark.parametrize("action", list(ACTIONS))
def test_the_cli_leaves_the_audit_row_admin_writes(
    homes: tuple[Path, Commune, Commune], action: str
) -> None:
    home, via_cli, via_admin = homes
    args, through_admin, expected = ACTIONS[action]
    before = len(audit_rows(via_cli, 0))
    assert before == len(audit_rows(via_admin, 0))

    result = invoke(home, args, stdin=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    through_admin(via_admin.admin)

    from_cli, from_admin = audit_rows(via_cli, before), audit_rows(via_admin, before)
    assert len(from_cli) == 1, from_cli
    assert from_cli == from_admin
    assert from_cli[0][:3] == expected


def test_the_cli_acts_as_another_user_with_as(homes: tuple[Path, Commune, Commune]) -> None:
    home, via_cli, _ = homes
    before = len(audit_rows(via_cli, 0))
    refused = invoke(home, ["member", "add", "Ville C", "--as", "alice"])
    assert refused.exit_code == 2
    assert (
        "administering the cooperative needs the role cooperative-admin or above; alice is "
        "member-admin"
    ) in refused.output
    done = invoke(home, ["key", "create", "bob", "--as", "alice"])
    assert done.exit_code == 0, done.output
    assert [r[:3] for r in audit_rows(via_cli, before)] == [("alice", "key-create", "user bob")]
    listed = invoke(home, ["user", "list", "--as", "alice"])
    assert listed.output.split() == [
        "alice",
        "Ville",
        "A",
        "member-admin",
        "bob",
        "Ville",
        "A",
        "reader",
    ]


@pytest.fixture
def admin(commune: Commune) -> Admin:
    setup(commune.admin)
    return commune.admin


def test_a_member_admin_cannot_add_a_member(admin: Admin) -> None:
    alice = admin.actor("alice")
    with pytest.raises(Forbidden, match="needs the role cooperative-admin or above; alice is"):
        admin.add_member("Ville C", actor=alice)
    assert [m["name"] for m in admin.members()] == ["Ville A", "Ville B"]


def test_a_member_admin_cannot_grant_cooperative_admin(admin: Admin) -> None:
    alice = admin.actor("alice")
    reason = "granting cooperative-admin needs that role; alice is member-admin"
    with pytest.raises(Forbidden, match=reason):
        admin.add_user("eve", member="Ville A", actor=alice, role="cooperative-admin")
    with pytest.raises(Forbidden, match=reason):
        admin.set_role("bob", role="cooperative-admin", actor=alice)
    assert not admin.user_exists("eve")
    assert admin.actor("bob").role == "reader"
    # What a member admin may grant, they may.
    admin.add_user("eve", member="Ville A", actor=alice, role="curator")
    assert admin.actor("eve").role == "curator"


def test_a_member_admin_cannot_act_as_a_cooperative_admin_of_their_member(admin: Admin) -> None:
    # set_role checked the target's rank, but minting a key or setting a password did not: a
    # member admin could take over a cooperative admin of their member (review finding).
    admin.add_user("chef", member="Ville A", role="cooperative-admin")
    chef_key, _ = admin.create_key("chef")
    alice = admin.actor("alice")
    refused = "chef is cooperative-admin, above alice's role"
    with pytest.raises(Forbidden, match=refused):
        admin.create_key("chef", actor=alice)
    with pytest.raises(Forbidden, match=refused):
        admin.set_password("chef", PASSWORD, actor=alice)
    with pytest.raises(NotFound, match="no active key"):  # as for another member's keys
        admin.revoke_key(chef_key, actor=alice)
    # Their own member's readers, and their peers, they still administer.
    admin.create_key("bob", actor=alice)
    admin.set_password("bob", PASSWORD, actor=alice)
    # And the administration page offers them no one else: chef's keys were listed to alice,
    # each with a Revoke button answering "no active key", and the key form offered chef.
    assert chef_key not in {k["id"] for k in admin.keys(actor=alice)}
    assert {p["name"] for p in admin.keyable(actor=alice)} == {"alice", "bob"}
    assert chef_key in {k["id"] for k in admin.keys(actor=admin.actor("chef"))}


def test_revoking_another_members_key_names_nobody(admin: Admin) -> None:
    # A member admin who tried `commune key revoke N` on another member's key was told
    # "no user named 'carol'": counting up the key numbers gave every other member's
    # people's names. Another member's key is answered as one that does not exist.
    carol_key, _ = admin.create_key("carol")
    alice = admin.actor("alice")
    for key_id in (carol_key, 999):
        with pytest.raises(NotFound) as refused:
            admin.revoke_key(key_id, actor=alice)
        assert str(refused.value) == (
            f"no active key with id {key_id} (list keys with commune key list)"
        )
    assert carol_key in {k["id"] for k in admin.keys() if k["revoked_at"] is None}


def test_nobody_gives_an_equal_what_acts_as_them(admin: Admin, tmp_path: Path) -> None:
    # A member admin set the password of, or made a key for, another member admin of the
    # same member, then acted as them (review finding): credentials, and a role changed
    # (lowered, then a password set, then raised back), need a strictly higher role.
    admin.add_user("dora", member="Ville A", role="member-admin")
    admin.add_user("chef", member="Ville A", role="cooperative-admin")
    alice, chef = admin.actor("alice"), admin.actor("chef")
    said = "dora is member-admin, as alice is: only a higher role gives them a password"
    for act in (
        lambda: admin.set_password("dora", PASSWORD, actor=alice),
        lambda: admin.create_key("dora", actor=alice),
        lambda: admin.set_role("dora", "reader", actor=alice),
        lambda: admin.add_user(
            "eve", member="Ville A", role="member-admin", password=PASSWORD, actor=alice
        ),
    ):
        with pytest.raises(Forbidden, match=said.replace("dora", "(dora|eve)")) as refused:
            act()
        # Who can; for one being added, that adding them without a password is one's own.
        assert "a cooperative admin from Ville A, or the operator" in str(refused.value)
    assert "(add them without a password: a cooperative admin" in str(refused.value)
    assert admin.actor("dora").role == "member-admin" and not admin.user_exists("eve")
    assert {p["name"] for p in admin.keyable(actor=alice)} == {"alice", "bob"}
    # One's own, a higher role's, and the operator's stay.
    admin.create_key("alice", actor=alice)
    admin.create_key("dora", actor=chef)
    admin.set_password("dora", PASSWORD, actor=chef)
    admin.set_password("dora", PASSWORD)
    admin.add_user("chef2", member="Ville A", role="cooperative-admin")
    with pytest.raises(Forbidden, match=r"the operator can: commune user password"):
        admin.create_key("chef2", actor=chef)
    # Said in French, in one line, on the command line.
    home = tmp_path / "cli"
    with Commune(home) as other:
        setup(other.admin)
        other.admin.add_user("dora", member="Ville A", role="member-admin")
    out = CliRunner(env={"LANG": "fr_FR.UTF-8"}).invoke(
        cli, ["--home", str(home), "key", "create", "dora", "--as", "alice"]
    )
    assert out.exit_code != 0 and len(out.output.strip().splitlines()) == 1, out.output
    assert "dora est administrateur de membre, comme alice" in out.output
    assert "un administrateur de la coopérative issu de Ville A, ou l'opérateur" in out.output


def test_a_member_admin_sees_only_their_members_people(admin: Admin) -> None:
    alice = admin.actor("alice")
    assert [p["name"] for p in admin.people(actor=alice)] == ["alice", "bob"]
    assert [p["name"] for p in admin.people(actor=OPERATOR)] == ["alice", "bob", "carol"]
    assert [m["name"] for m in admin.members(actor=alice)] == ["Ville A"]
    # Another member's people stay hidden: the same answer as for an unknown member.
    with pytest.raises(NotFound, match="no member named 'Ville B'"):
        admin.add_user("eve", member="Ville B", actor=alice)
    with pytest.raises(NotFound, match="no user named 'carol'"):
        admin.set_password("carol", password=PASSWORD, actor=alice)


def test_quotas_and_key_lives_out_of_range_are_refused_in_one_line(admin: Admin) -> None:
    # 10**20 requests a day and a key of 10**9 days raised OverflowError with a traceback; a
    # NaN energy quota was stored as no quota at all (review finding).
    from commune.errors import InvalidRequest

    with pytest.raises(InvalidRequest, match="requests_per_day must be at most"):
        admin.add_user("eve", member="Ville A", requests_per_day=10**20)
    with pytest.raises(InvalidRequest, match="wh_per_month must be greater than 0, got nan"):
        admin.add_user("eve", member="Ville A", wh_per_month=float("nan"))
    assert not admin.user_exists("eve")
    with pytest.raises(InvalidRequest, match="expires_days must be between 1 and 36500"):
        admin.create_key("bob", expires_days=10**9)
    admin.create_key("bob", expires_days=365)


def test_a_key_label_over_200_characters_is_refused_not_cut(admin: Admin, commune: Commune) -> None:
    # Found by an exploratory test: it was cut to 200 in silence, the key created.
    from commune.errors import InvalidRequest

    before = admin.keys(OPERATOR)
    with pytest.raises(InvalidRequest, match="a key's label is at most 200 characters, got 201"):
        admin.create_key("bob", label="x" * 201)
    french = CliRunner(env={"LANG": None}).invoke(
        cli, ["--home", str(commune.settings.home), "key", "create", "bob", "--label", "é" * 250]
    )
    assert french.exit_code != 0 and "cmn_" not in french.stdout
    assert french.stderr == (
        "erreur\u00a0: le libellé d'une clé fait au plus 200 caractères, reçu 250 "
        "(raccourcissez-le)\n"
    )
    assert admin.keys(OPERATOR) == before  # nothing stored
    admin.create_key("bob", label=" " + "x" * 200 + " ")  # 200 once the spaces are trimmed
    assert admin.keys(OPERATOR)[-1]["label"] == "x" * 200


def test_a_person_holds_at_most_max_keys_per_user_active_keys(tmp_path: Path) -> None:
    # Nothing capped the keys one person minted (the account page's form, for oneself): a
    # stolen session could leave hundreds of ways back in.
    from commune.store.schema import api_keys

    home = tmp_path / "home"
    home.mkdir()
    (home / "commune.toml").write_text("[limits]\nmax_keys_per_user = 3\n", encoding="utf-8")
    with Commune(home) as commune:
        admin = commune.admin
        setup(admin)  # alice has one key
        alice = admin.actor("alice")
        kept = admin.create_key("alice", actor=alice, label="phone")[0]
        gone = admin.create_key("alice", actor=alice, label="old", expires_days=1)[0]
        said = "alice already has 3 active keys, the most [limits] max_keys_per_user allows"
        with pytest.raises(CommuneError, match=re.escape(said)) as refused:
            admin.create_key("alice", actor=alice, label="one more")
        assert "commune key revoke ID" in str(refused.value)
        assert len(admin.keys(alice)) == 3  # nothing stored
        french = CliRunner(env={"LANG": None}).invoke(
            cli, ["--home", str(home), "key", "create", "alice"]
        )
        assert french.exit_code != 0 and "cmn_" not in french.stdout
        assert french.stderr == (
            "erreur\u00a0: alice a déjà 3 clés actives, le maximum que permet [limits] "
            "max_keys_per_user (révoquez-en une d'abord\u00a0: commune key list, puis commune "
            "key revoke ID)\n"
        )
        # Someone else's count is their own; a revoked or expired key frees a place.
        admin.create_key("bob")
        admin.revoke_key(kept)
        admin.create_key("alice", actor=alice)
        with commune.engine.begin() as conn:
            conn.execute(api_keys.update().where(api_keys.c.id == gone).values(expires_at=now()))
        admin.create_key("alice", actor=alice)
        with pytest.raises(CommuneError, match="already has 3 active keys"):
            admin.create_key("alice", actor=alice)


def test_a_password_without_a_terminal_says_to_pipe_it(tmp_path: Path) -> None:
    """getpass with no terminal warned that the password might be echoed, then gave up."""
    from click.testing import CliRunner

    from commune.cli import cli

    home = tmp_path / "home"
    runner = CliRunner(env={"LANG": "en_GB.UTF-8"})
    assert runner.invoke(cli, ["--home", str(home), "member", "add", "Ville A"]).exit_code == 0
    assert (
        runner.invoke(
            cli, ["--home", str(home), "user", "add", "bob", "--member", "Ville A"]
        ).exit_code
        == 0
    )
    out = runner.invoke(cli, ["--home", str(home), "user", "password", "bob"], input="x\n")
    assert out.exit_code == 2 and "pipe it in with --stdin" in out.output
    assert "Warning" not in out.output


def test_a_password_refused_is_refused_before_it_is_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`user password dora --as alice`, where alice may not set it, asked for the new
    password twice, and only then refused."""
    import types

    import click

    from commune.cli import cooperative

    home = tmp_path / "home"
    with Commune(home) as commune:
        setup(commune.admin)
        commune.admin.add_user("dora", member="Ville A", role="member-admin")
    asked: list[str] = []

    def prompt(text: str, **_: Any) -> str:
        asked.append(text)
        return PASSWORD

    # A terminal to type it in: the prompt is what is under test.
    tty = types.SimpleNamespace(stdin=types.SimpleNamespace(isatty=lambda: True))
    monkeypatch.setattr(cooperative, "sys", tty)
    monkeypatch.setattr(click, "prompt", prompt)
    out = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(
        cli, ["--home", str(home), "user", "password", "dora", "--as", "alice"]
    )
    assert out.exit_code != 0 and "only a higher role gives them a password" in out.output
    assert asked == []
    # One who may is asked, as before.
    out = CliRunner(env={"LANG": "en_GB.UTF-8"}).invoke(
        cli, ["--home", str(home), "user", "password", "bob", "--as", "alice"]
    )
    assert out.exit_code == 0, out.output
    assert asked == ["Password"]


def test_a_member_s_quotas_change_after_it_was_added(admin: Admin, commune: Commune) -> None:
    """No way to change a member's quotas after `member add` (an exploratory test): each
    given is set, checked as `member add` checks it, the others stay, one may be cleared;
    audited with the values before and after; refused, nothing changes."""
    import json

    from commune.errors import InvalidRequest

    admin.add_member("Petite Asso", kind="association", requests_per_day=50, wh_per_month=10.0)
    before = len(audit_rows(commune, 0))
    row = admin.set_member_quotas("Petite Asso", {"requests_per_day": 200})
    assert (row["requests_per_day"], row["tokens_per_month"], row["wh_per_month"]) == (
        200,
        None,
        10.0,
    )
    row = admin.set_member_quotas("Petite Asso", {"wh_per_month": None, "tokens_per_month": 9})
    assert (row["requests_per_day"], row["tokens_per_month"], row["wh_per_month"]) == (200, 9, None)
    rows = audit_rows(commune, before)
    assert [r[:3] for r in rows] == [("operator", "member-quotas", "member Petite Asso")] * 2
    assert json.loads(rows[1][3]) == {
        "before": {"tokens_per_month": None, "wh_per_month": 10.0},
        "after": {"tokens_per_month": 9, "wh_per_month": None},
    }
    # Refused, with the same checks as member add; nothing changed, nothing audited.
    stored = next(m for m in admin.members() if m["name"] == "Petite Asso")
    for quotas, error, said in (
        ({"requests_per_day": 0}, InvalidRequest, "requests_per_day must be greater than 0"),
        ({"wh_per_month": float("nan")}, InvalidRequest, "wh_per_month must be greater than 0"),
        ({"tokens_per_month": 10**20}, InvalidRequest, "tokens_per_month must be at most"),
        ({"requests_per_day": 5, "tokens": 5}, InvalidRequest, "no quota named 'tokens'"),
        ({}, InvalidRequest, "no quota to change"),
    ):
        with pytest.raises(error, match=said):
            admin.set_member_quotas("Petite Asso", quotas)
    with pytest.raises(NotFound, match="no member named 'Nulle'.*known members: Petite Asso"):
        admin.set_member_quotas("Nulle", {"requests_per_day": 5})
    # A member admin would raise its own member's quotas.
    with pytest.raises(Forbidden, match="cooperative-admin or above; alice is member-admin"):
        admin.set_member_quotas("Ville A", {"requests_per_day": 10**6}, actor=admin.actor("alice"))
    assert next(m for m in admin.members() if m["name"] == "Petite Asso") == stored
    assert len(audit_rows(commune, 0)) == before + 2


def test_member_set_on_the_command_line(tmp_path: Path) -> None:
    home = tmp_path / "home"
    run = CliRunner(env={"LANG": "en_GB.UTF-8"})

    def member(*args: str, lang: str = "en_GB.UTF-8") -> Result:
        return run.invoke(cli, ["--home", str(home), "member", *args], env={"LANG": lang})

    assert member("add", "Ville A", "--requests-per-day", "50").exit_code == 0
    done = member("set", "Ville A", "--tokens-per-month", "1000", "--wh-per-month", "2.5")
    assert done.exit_code == 0 and done.stdout == (
        "member Ville A: requests_per_day=50, tokens_per_month=1000, wh_per_month=2.5\n"
    ), done.output
    done = member("set", "Ville A", "--clear", "requests-per-day", "--clear", "tokens-per-month")
    assert done.stdout == "member Ville A: wh_per_month=2.5\n", done.output
    french = member("set", "Ville A", "--clear", "wh-per-month", lang="fr_FR.UTF-8")
    assert french.stdout == "membre Ville A\u00a0: sans quota\n", french.output
    for args, said in (
        (("Ville A",), "nothing to change: give --requests-per-day"),
        (
            ("Ville A", "--wh-per-month", "3", "--clear", "wh-per-month"),
            "--wh-per-month and --clear wh-per-month contradict each other",
        ),
        (("Ville A", "--requests-per-day", "0"), "--requests-per-day must be greater than 0"),
        (("Ville Z", "--requests-per-day", "5"), "no member named 'Ville Z'"),
    ):
        refused = member("set", *args)
        assert refused.exit_code == 2 and said in refused.stderr, refused.output
    assert member("list").stdout == "Ville A\tother\tnon-commercial\tno quota\n"


def test_a_name_differing_only_in_case_and_a_peers_second_user_are_refused(admin: Admin) -> None:
    # Found by an exploratory test: "ville a" beside "Ville A" wrote one statement file for
    # both, "Alice" beside "alice" shared her sign-in failures, and a peer cooperative, one
    # user by design, took a cooperative admin.
    from commune.errors import CommuneError

    with pytest.raises(CommuneError, match="'Ville A' already exists: 'ville a' differs"):
        admin.add_member("ville a", kind="town")
    with pytest.raises(CommuneError, match="'alice' already exists: 'ALICE' differs"):
        admin.add_user("ALICE", member="Ville B")
    assert not admin.user_exists("ALICE")
    admin.issue_peer("coop-b")
    with pytest.raises(CommuneError, match="coop-b is a peer cooperative: it has its one user"):
        admin.add_user("bobpeer", member="coop-b", role="cooperative-admin")
    assert not admin.user_exists("bobpeer")
    admin.issue_peer("coop-b")  # issued again: a new key for the same user, as before


def test_signing_in_reads_the_name_in_any_case(admin: Admin, commune: Commune) -> None:
    # The docs say the sign-in reads names in lower case (which is why no two names differ
    # only in case), but "Alice", as a phone capitalises a field's first letter, was "wrong
    # user name or password" for alice. The name is found in any case, the actor is the
    # person as stored; a wrong password stays wrong, and a name held only by a removed
    # person opens nothing.
    admin.set_password("alice", PASSWORD)
    for typed in ("Alice", "ALICE", "alice"):
        assert admin.sign_in(typed, PASSWORD).user == "alice"
    with pytest.raises(AuthError, match="wrong user name or password"):
        admin.sign_in("Alice", PASSWORD + "x")
    admin.set_password("bob", PASSWORD)
    admin.remove_user("bob", reason="left the town hall")
    with pytest.raises(AuthError, match="wrong user name or password"):
        admin.sign_in("Bob", PASSWORD)
    # Two names that differ only in case, from before they were refused: each signs in by
    # its own spelling, and a third spelling names neither.
    from sqlalchemy import insert, select

    from commune.store.schema import users

    with commune.engine.begin() as conn:
        row = conn.execute(select(users).where(users.c.name == "alice")).one()._asdict()
        row.pop("id")
        conn.execute(insert(users).values({**row, "name": "Alice", "password_hash": None}))
    assert admin.sign_in("alice", PASSWORD).user == "alice"
    with pytest.raises(AuthError, match="wrong user name or password"):
        admin.sign_in("ALICE", PASSWORD)


def test_a_sign_in_asks_the_database_alike_whether_the_name_exists_or_not(
    admin: Admin, commune: Commune
) -> None:
    # The sign-in verifies a dummy hash for an unknown name, so that timing does not tell
    # which names exist. Looking the name up in any case, it read the person by their exact
    # spelling, then every person when that found nobody: an unknown name (and a name typed
    # in another case) cost a read of the whole table more than a known one, a difference a
    # guesser could time. Every sign-in now asks the database the same.
    from sqlalchemy import event

    admin.set_password("alice", PASSWORD)
    asked: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        asked.append(statement)

    event.listen(commune.engine, "before_cursor_execute", seen)
    try:
        by_name = {}
        for typed in ("alice", "Alice", "nobody"):
            asked.clear()
            with pytest.raises(AuthError):
                admin.sign_in(typed, PASSWORD + "x")
            by_name[typed] = list(asked)
    finally:
        event.remove(commune.engine, "before_cursor_execute", seen)
    assert by_name["alice"] == by_name["Alice"] == by_name["nobody"], by_name


def test_a_key_label_with_a_line_break_or_an_escape_is_refused(
    admin: Admin, commune: Commune
) -> None:
    # Anyone labels their own keys on the account page; `commune key list` printed the label
    # on the operator's terminal, where a line break forged another key's line and an escape
    # sequence set the terminal's title or clipboard (exploratory security test).
    from commune.errors import InvalidRequest

    before = admin.keys(OPERATOR)
    for label in ("ok\n99\tcmn_fake\troot\tactive", "x\x1b]52;c;ZWNobyBoaQ==\x07", "a\tb"):
        with pytest.raises(InvalidRequest, match="may not hold tabs, line breaks or other"):
            admin.create_key("bob", label=label)
    french = CliRunner(env={"LANG": None}).invoke(
        cli, ["--home", str(commune.settings.home), "key", "create", "bob", "--label", "a\x1bb"]
    )
    assert french.exit_code != 0 and "cmn_" not in french.stdout
    assert "le libellé d'une clé ne peut contenir ni tabulation" in french.stderr, french.stderr
    assert "donnez un libellé comme «\u00a0portable\u00a0»" in french.stderr
    assert admin.keys(OPERATOR) == before  # nothing stored
    admin.create_key("bob", label="portable de l'accueil (Mairie)")


def _rows(commune: Commune, table: Any, user_id: int) -> list[Any]:
    from sqlalchemy import select

    with commune.engine.connect() as conn:
        return list(conn.execute(select(table).where(table.c.user_id == user_id)))


def test_a_removed_person_opens_nothing_and_their_records_stay(
    admin: Admin, commune: Commune
) -> None:
    """Users could only have their keys revoked and their password reset: a person who left
    a town hall kept their account, listed among its people, and an admin had to hunt down
    each key and each session. Removal closes every door at once, and keeps the records."""
    from sqlalchemy import insert

    from commune.govern.accounts import sign_in
    from commune.govern.members import AuthError, authenticate
    from commune.govern.sessions import find, open_session
    from commune.store.repository import now
    from commune.store.schema import decisions, usage

    _, key = admin.create_key("bob", label="laptop")
    admin.set_password("bob", PASSWORD, keep_keys=True)
    bob = admin.actor("bob")
    with commune.engine.begin() as conn:
        session = open_session(conn, bob, hours=12)
        conn.execute(
            insert(usage).values(
                created_at=now(),
                route="api/ask",
                mode="extractive",
                input_tokens=3,
                output_tokens=9,
                duration_ms=5.0,
                fallback=False,
                member_id=bob.member_id,
                user_id=bob.user_id,
                cpu_seconds=0.1,
                wh=0.01,
                estimated=True,
            )
        )
        conn.execute(
            insert(decisions).values(
                created_at=now(),
                route="api/ask",
                member_id=bob.member_id,
                user_id=bob.user_id,
                question="Où est la déchetterie ?",
                question_sha256="ab" * 32,
                language="fr",
                outcome="extractive",
                steps="[]",
                charter_sha256="cd" * 32,
            )
        )
    alice = admin.actor("alice")
    done = admin.remove_user("bob", "a quitté la mairie", actor=alice)
    assert done["keys_revoked"] == 1 and done["sessions_ended"] == 1

    with commune.engine.begin() as conn:
        with pytest.raises(AuthError):
            authenticate(conn, key)
        with pytest.raises(AuthError):
            sign_in(conn, "bob", PASSWORD)
        assert find(conn, session) is None
    with pytest.raises(NotFound, match="user 'bob' was removed from the cooperative"):
        admin.actor("bob")  # the CLI's --as bob
    with pytest.raises(NotFound, match="was removed"):
        admin.create_key("bob")
    with pytest.raises(NotFound, match="was removed"):
        admin.set_password("bob", PASSWORD)
    assert "bob" not in [p["name"] for p in admin.people()]
    with pytest.raises(CommuneError, match="already exists.*a removed person's too"):
        admin.add_user("bob", member="Ville A")
    # What the accounts rest on stays: the ledger's row; the question's record, its words gone.
    assert len(_rows(commune, usage, bob.user_id)) == 1
    [record] = _rows(commune, decisions, bob.user_id)
    assert record.question is None and record.question_sha256 == "ab" * 32
    # Gone from the files too, while the server still has them open: not left in the
    # write-ahead log, nor in the database's free space.
    for name in ("commune.db", "commune.db-wal"):
        path = commune.settings.home / name
        assert not path.exists() or "déchetterie".encode() not in path.read_bytes(), name
    [row] = [r for r in audit_rows(commune, 0) if r[1] == "user-remove"]
    assert row[:3] == ("alice", "user-remove", "user bob")
    assert '"reason": "a quitté la mairie"' in row[3]


def test_a_removed_persons_questions_leave_the_answer_cache(
    admin: Admin, commune: Commune, corpus: Path
) -> None:
    """The removal page says the person loses the text of their questions; the answer cache
    kept it beside each answer, under a "hash" charter too, until it expired. An answer is
    cached with its asker now, and the removal deletes it: from the files too."""
    from sqlalchemy import select

    from commune.store.schema import answer_cache

    commune.add([corpus], licence="etalab-2.0")
    bob, carol = admin.actor("bob"), admin.actor("carol")
    commune.ask("Quand passe le camion des encombrants ?", actor=bob)
    commune.ask("Où mettre les emballages en plastique ?", actor=carol)

    def askers() -> list[int | None]:
        with commune.engine.connect() as conn:
            return list(conn.execute(select(answer_cache.c.user_id)).scalars())

    assert sorted(askers()) == sorted([bob.user_id, carol.user_id])
    done = admin.remove_user("bob", "a quitté la mairie", actor=admin.actor("alice"))
    assert done["cached_answers_deleted"] == 1
    assert askers() == [carol.user_id]
    for name in ("commune.db", "commune.db-wal"):
        path = commune.settings.home / name
        assert not path.exists() or b"camion des encombrants" not in path.read_bytes()


def test_only_those_who_administer_a_person_remove_them_and_never_themselves(
    admin: Admin, commune: Commune
) -> None:
    admin.add_user("dan", member="Ville B", role="member-admin")
    before = audit_rows(commune, 0)
    with pytest.raises(NotFound, match="no user named 'bob'"):  # another member's: unseen
        admin.remove_user("bob", "x", actor=admin.actor("dan"))
    with pytest.raises(Forbidden):
        admin.remove_user("alice", "x", actor=admin.actor("bob"))
    with pytest.raises(CommuneError, match="you cannot remove yourself"):
        admin.remove_user("alice", "x", actor=admin.actor("alice"))
    with pytest.raises(CommuneError, match="needs a reason"):
        admin.remove_user("bob", "  ", actor=admin.actor("alice"))
    with pytest.raises(CommuneError, match="one line"):
        admin.remove_user("bob", "left\nfake line", actor=admin.actor("alice"))
    assert audit_rows(commune, 0) == before  # refused: nothing written
    assert "bob" in [p["name"] for p in admin.people()]
    assert admin.actor("bob").user == "bob"


def test_user_remove_on_the_command_line_in_french(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Commune(home) as c:
        setup(c.admin)
    done = CliRunner().invoke(
        cli,
        ["--home", str(home), "user", "remove", "bob", "--reason", "parti", "--as", "alice"],
        env={"LANG": "fr_FR.UTF-8"},
    )
    assert done.exit_code == 0, done.output
    # Counted as French counts, not "0 clé(s) révoquée(s)" (found following exploitation.md).
    assert done.output == "utilisateur bob retiré\u00a0: 0 clé révoquée, 0 session fermée\n"
    again = CliRunner().invoke(
        cli,
        ["--home", str(home), "user", "remove", "bob", "--reason", "parti"],
        env={"LANG": "fr_FR.UTF-8"},
    )
    assert again.exit_code != 0
    assert "l'utilisateur 'bob' a été retiré de la coopérative" in again.output


def test_user_remove_says_its_counts_in_words_not_as_a_form(tmp_path: Path) -> None:
    """« 1 clé(s) révoquée(s), 0 session(s) fermée(s) » and « 1 de ses révisions attendent »
    read as a form to fill in and a slip: the counts take their plural, as the curation's
    « 1 approbation », and the verb agrees."""
    for lang, said in (
        (
            "fr_FR.UTF-8",
            "utilisateur bob retiré\u00a0: 1 clé révoquée, 0 session fermée\n"
            "1 de ses révisions attend encore un relecteur (commune review list)\n",
        ),
        (
            "en_GB.UTF-8",
            "user bob removed: 1 key revoked, 0 sessions ended\n"
            "1 of their revisions still waits for a reviewer (commune review list)\n",
        ),
    ):
        home, notes = tmp_path / lang / "home", tmp_path / lang / "notes.txt"
        home.parent.mkdir()
        notes.write_text("Horaires de la médiathèque : du mardi au samedi.", encoding="utf-8")
        with Commune(home) as c:
            setup(c.admin)
            c.admin.set_role("bob", "contributor")
            c.admin.create_key("bob", label="script")
            c.add([notes], collection="mairie", licence="etalab-2.0", member="Ville A")
            c.set_curation_rules("mairie", 1, "curator")
            notes.write_text("Horaires : du mardi au dimanche.", encoding="utf-8")
            bob = c.admin.actor("bob")
            c.add([notes], collection="mairie", licence="etalab-2.0", actor=bob)
        done = CliRunner().invoke(
            cli,
            ["--home", str(home), "user", "remove", "bob", "--reason", "parti", "--as", "alice"],
            env={"LANG": lang},
        )
        assert done.exit_code == 0, done.output
        assert done.output == said, done.output


def test_a_member_admin_changes_a_persons_caps_and_no_other_members(
    admin: Admin, commune: Commune
) -> None:
    """A person's caps were set once, at `user add`: nobody could lower a heavy user's."""
    alice = admin.actor("alice")
    row = admin.set_user_quotas("bob", {"requests_per_day": 1}, actor=alice)
    assert row["requests_per_day"] == 1
    with pytest.raises(NotFound, match="no user named 'carol'"):
        admin.set_user_quotas("carol", {"requests_per_day": 1}, actor=alice)
    with pytest.raises(CommuneError, match="must be greater than 0"):
        admin.set_user_quotas("bob", {"requests_per_day": -3}, actor=alice)
    # One's own caps were set from above: a member admin cleared theirs as anyone's.
    with pytest.raises(Forbidden, match="your own caps are set by a cooperative admin"):
        admin.set_user_quotas("alice", {"requests_per_day": None}, actor=alice)
    assert [r[1] for r in audit_rows(commune, 0)].count("user-quotas") == 1  # refusals: none
    assert [p["requests_per_day"] for p in admin.people() if p["name"] == "carol"] == [None]
    admin.set_user_quotas("alice", {"requests_per_day": 5})  # the operator may


def test_two_member_admins_do_not_lift_each_others_caps(admin: Admin, commune: Commune) -> None:
    """A member admin's caps are a cooperative admin's to set (docs/fr/cooperative.md: « un
    administrateur de membre ne lève pas un plafond posé sur lui »), yet the town's second
    member admin cleared them, and the first cleared the second's: the cap posed from above
    was lifted in two steps. Between equals, caps are refused as one's own are; a cooperative
    admin still sets them, and a member admin still those of the people below."""
    admin.add_user("lea", member="Ville A", role="member-admin")
    admin.add_user("dora", member="Ville A", role="cooperative-admin")
    dora = admin.actor("dora")
    admin.set_user_quotas("alice", {"requests_per_day": 10}, actor=dora)
    lea = admin.actor("lea")
    with pytest.raises(Forbidden, match="alice is member-admin, as lea is: their caps are set"):
        admin.set_user_quotas("alice", {"requests_per_day": None}, actor=lea)
    assert [p["requests_per_day"] for p in admin.people() if p["name"] == "alice"] == [10]
    admin.set_user_quotas("bob", {"requests_per_day": 3}, actor=lea)  # a reader: hers to cap
    admin.set_user_quotas("alice", {"requests_per_day": None}, actor=dora)
    said = CliRunner().invoke(
        cli,
        ["--home", str(commune.settings.home), "user", "set", "lea", "--requests-per-day", "9"]
        + ["--as", "alice"],
        env={"LANG": "fr_FR.UTF-8"},
    )
    assert said.exit_code != 0
    assert (
        "lea est administrateur de membre, comme alice\u00a0: ses plafonds sont fixés par un "
        "administrateur de la coopérative, comme les vôtres"
    ) in said.output, said.output
    assert "Traceback" not in said.output
    # The page offers no form for an equal's caps, and says them as it says one's own.
    from commune.api.app import create_app
    from commune.govern.accounts import set_password
    from tests.test_web import Browser

    with commune.engine.begin() as conn:
        set_password(conn, "lea", PASSWORD)
    page = Browser(create_app(commune))
    assert page.sign_in("lea", PASSWORD).status_code == 303
    shown = page.get("/admin").page
    assert 'aria-label="Changer les plafonds de bob"' in shown
    # French elides before a vowel (web/i18n.elided): « de alice » was never on the page, and
    # its absence said nothing of the form.
    assert 'aria-label="Changer les plafonds d\'alice"' not in shown


def test_a_members_only_admin_is_told_to_appoint_another_before_leaving_their_role(
    admin: Admin,
) -> None:
    """alice, Ville A's only admin, changing her own role or removing herself was told
    "another admin of your member can": there was none, and none could be until she
    appointed one (keeps_an_admin). Once there is one, that is what she is told."""
    from commune.text.messages import localise

    alice = admin.actor("alice")
    attempts = (
        lambda: admin.set_role("alice", "reader", actor=alice),
        lambda: admin.remove_user("alice", "left the town hall", actor=alice),
        lambda: admin.removal("alice", "left the town hall", actor=alice),  # the page's preview
    )
    for attempt in attempts:
        with pytest.raises(CommuneError, match="^you cannot") as refused:
            attempt()
        assert refused.value.hint == "appoint another admin of Ville A first: they can then do it"
    assert localise(str(refused.value), "fr") == (
        "vous ne pouvez pas vous retirer vous-même (nommez d'abord un autre administrateur de "
        "Ville A\u00a0: il pourra ensuite le faire)"
    )
    admin.set_role("bob", "member-admin")
    for attempt in attempts:
        with pytest.raises(CommuneError, match="^you cannot") as refused:
            attempt()
        assert refused.value.hint == "another admin of your member can"
    assert admin.actor("alice").role == "member-admin"


def test_another_members_name_is_answered_as_an_unknown_one(admin: Admin, tmp_path: Path) -> None:
    """`user list --member OTHER --as member-admin` listed nobody for a member that exists
    and refused one that does not: a member admin could probe the other members' names."""
    alice, bob = admin.actor("alice"), admin.actor("bob")
    for actor in (alice, bob):
        answers = []
        for name in ("Ville B", "Ville Z"):
            with pytest.raises(NotFound) as refused:
                admin.people(actor=actor, member=name)
            answers.append(str(refused.value).replace(name, "NAME"))
        assert answers[0] == answers[1]
    # One's own member, and anyone's for a cooperative admin, are listed as before.
    assert [p["name"] for p in admin.people(actor=alice, member="Ville A")] == ["alice", "bob"]
    assert admin.people(actor=bob, member="Ville A") == []  # a reader administers nobody
    assert [p["name"] for p in admin.people(member="Ville B")] == ["carol"]
    admin.add_user("olga", member="Ville B", role="cooperative-admin")
    assert [p["name"] for p in admin.people(actor=admin.actor("olga"), member="Ville A")] == [
        "alice",
        "bob",
    ]
    # The command line says the same for both, in French.
    home = tmp_path / "cli"
    with Commune(home) as c:
        setup(c.admin)
    outputs = [
        CliRunner().invoke(
            cli,
            ["--home", str(home), "user", "list", "--member", name, "--as", "alice"],
            env={"LANG": "fr_FR.UTF-8"},
        )
        for name in ("Ville B", "Ville Z")
    ]
    assert [o.exit_code for o in outputs] == [2, 2]
    assert outputs[0].output.replace("Ville B", "NAME") == outputs[1].output.replace(
        "Ville Z", "NAME"
    )
    assert "aucun membre nommé 'Ville B'" in outputs[0].output


def test_another_members_person_is_answered_as_a_name_nobody_has(admin: Admin) -> None:
    """A member admin acting on carol (Ville B's) read "no user named 'carol'", and on a
    name nobody has the same with a hint: the hint told which names the other members'
    people have. A reader was refused for one and told "no user named" for the other."""
    alice, bob = admin.actor("alice"), admin.actor("bob")
    acts: list[Callable[[str, Any], Any]] = [
        lambda name, who: admin.remove_user(name, "parti", actor=who),
        lambda name, who: admin.set_user_quotas(name, {"requests_per_day": 3}, actor=who),
        lambda name, who: admin.create_key(name, actor=who),
        lambda name, who: admin.set_password(name, PASSWORD, actor=who),
        lambda name, who: admin.set_role(name, "reader", actor=who),
    ]
    for act in acts:
        said = []
        for name in ("carol", "ghost"):
            with pytest.raises(NotFound) as refused:
                act(name, alice)
            said.append(refused.value.in_fields().replace(name, "NAME"))
            said.append(str(refused.value).replace(name, "NAME"))
        assert said[:2] == said[2:]
        for name in ("carol", "ghost"):
            with pytest.raises(Forbidden, match="needs the role member-admin"):
                act(name, bob)
    assert admin.actor("carol").user == "carol"


def test_revoking_a_key_that_is_not_there_says_where_the_keys_are(tmp_path: Path) -> None:
    # Found following docs/fr/exploitation.md: `commune key revoke 99` said only « aucune clé
    # active d'identifiant 99 », and nothing of what to do next.
    home = tmp_path / "home"
    with Commune(home) as c:
        setup(c.admin)
    refused = CliRunner().invoke(
        cli, ["--home", str(home), "key", "revoke", "99"], env={"LANG": "fr_FR.UTF-8"}
    )
    assert refused.exit_code == 2
    assert refused.stderr == (
        "erreur\u00a0: aucune clé active d'identifiant 99 (listez les clés avec commune key list)\n"
    ), refused.stderr


def test_an_unknown_person_is_told_in_the_generic_masculine(tmp_path: Path) -> None:
    # Found following docs/fr/exploitation.md: « créez-le ou la avec commune user add », where
    # the French catalogue names people in the generic masculine (text/messages.py).
    home = tmp_path / "home"
    with Commune(home) as c:
        setup(c.admin)
    refused = CliRunner().invoke(
        cli, ["--home", str(home), "key", "create", "zoe"], env={"LANG": "fr_FR.UTF-8"}
    )
    assert refused.exit_code == 2
    assert refused.stderr == (
        "erreur\u00a0: aucun utilisateur nommé 'zoe' (créez-le avec commune user add)\n"
    ), refused.stderr


def _refused(home: Path, args: list[str], lang: str) -> Result:
    return CliRunner().invoke(cli, ["--home", str(home), *args], env={"LANG": lang})


def _state(c: Commune) -> tuple[list[Any], list[Any]]:
    """The members as listed and the audit log: what a refusal must leave as it was."""
    return [(m["name"], m["left_at"]) for m in c.admin.members()], audit_rows(c, 0)


@pytest.mark.parametrize(
    ("args", "english", "french"),
    [
        (
            ["member", "leave", "Nope"],
            "no member named 'Nope' (known members: Ville A, Ville B, Ville C)",
            "aucun membre nommé 'Nope' (membres connus\u00a0: Ville A, Ville B, Ville C)",
        ),
        (
            ["member", "leave", "Ville A", "--on", "2026-02-15"],
            "the statement of 2026-02 is issued: a departure on 2026-02-15 would change a "
            "record (give 2026-03-01 or a later date)",
            "le relevé de 2026-02 est émis\u00a0: un départ le 2026-02-15 changerait un "
            "document arrêté (donnez le 2026-03-01 ou une date plus tardive)",
        ),
        (
            ["member", "leave", "Ville A", "--on", "2025-06-01"],
            "Ville A joined the cooperative on 2026-01-01: it cannot leave before, on "
            "2025-06-01 (give a later date)",
            "Ville A a adhéré à la coopérative le 2026-01-01\u00a0: il ne peut pas la quitter "
            "avant, le 2025-06-01 (donnez une date plus tardive)",
        ),
        (
            ["member", "leave", "Ville A", "--on", "2026-04-01"],
            "Ville A's people used the service after 2026-04-01, last on 2026-05-10: their use "
            "would be charged to nobody (give 2026-05-11 or a later date)",
            "les personnes de Ville A ont utilisé le service après le 2026-04-01, la dernière "
            "fois le 2026-05-10\u00a0: leur usage ne serait facturé à personne (donnez le "
            "2026-05-11 ou une date plus tardive)",
        ),
        (
            ["member", "leave", "Ville A", "--end-of", "2099-03"],
            "Ville A is the cooperative's last member: nobody would share the fixed cost after "
            "it (add another member first: commune member add)",
            "Ville A est le dernier membre de la coopérative\u00a0: personne ne partagerait le "
            "coût fixe après lui (ajoutez d'abord un autre membre\u00a0: commune member add)",
        ),
        (
            # Ville B's departure, recorded first, falls later: it let Ville A go, and from
            # 2099 nobody shared the fixed cost.
            ["member", "leave", "Ville A", "--on", "2098-06-01"],
            "every other member leaves the cooperative by 2099-01-01: nobody would share the "
            "fixed cost after Ville A (undo one of their departures first with commune member "
            "stay, or add another member: commune member add)",
            "tous les autres membres quittent la coopérative d'ici le 2099-01-01\u00a0: personne "
            "ne partagerait le coût fixe après Ville A (annulez d'abord l'un de leurs départs "
            "avec commune member stay, ou ajoutez un autre membre\u00a0: commune member add)",
        ),
        (
            ["member", "leave", "Ville A", "--on", "2026-02-30"],
            "a departure's day must look like 2027-03-31, got '2026-02-30' (give the first day "
            "the member is no longer in, as YYYY-MM-DD)",
            "le jour d'un départ doit s'écrire comme 2027-03-31, reçu '2026-02-30' (donnez le "
            "premier jour où le membre n'en fait plus partie, sous la forme AAAA-MM-JJ)",
        ),
        (
            ["member", "leave", "Ville C"],
            "Ville C left the cooperative on 2026-03-01 (nothing to do)",
            "Ville C a quitté la coopérative le 2026-03-01 (rien à faire)",
        ),
        (
            ["member", "stay", "Ville C"],
            "Ville C left the cooperative on 2026-03-01: a departure in effect is not undone "
            "(the months since were shared without it; to come back it joins again under "
            "another name: commune member add)",
            "Ville C a quitté la coopérative le 2026-03-01\u00a0: un départ en vigueur ne "
            "s'annule pas (les mois depuis ont été partagés sans lui\u00a0; pour revenir, il "
            "adhère à nouveau sous un autre nom\u00a0: commune member add)",
        ),
        (
            ["member", "stay", "Ville A"],
            "Ville A has no departure to undo (nothing to do)",
            "Ville A n'a pas de départ à annuler (rien à faire)",
        ),
    ],
)
def test_a_departure_refused_says_why_in_one_line_in_either_language_and_changes_nothing(
    tmp_path: Path, args: list[str], english: str, french: str
) -> None:
    """A departure for an unknown member, on a date inside a month whose statement is
    issued, before the member joined, before its people's last use, or of the last member,
    is refused in one line; so is undoing a departure in effect. Nothing is written."""
    from sqlalchemy import insert, update

    from commune.store.schema import members, usage

    home = tmp_path / "home"
    with Commune(home) as c:
        setup(c.admin)
        c.admin.add_member("Ville C")
        with c.engine.begin() as conn:
            conn.execute(update(members).values(created_at=datetime(2026, 1, 1, tzinfo=UTC)))
            conn.execute(
                insert(usage).values(
                    created_at=datetime(2026, 5, 10, 9, tzinfo=UTC),
                    route="api/ask",
                    mode="extractive",
                    input_tokens=3,
                    output_tokens=9,
                    duration_ms=5.0,
                    fallback=False,
                    member_id=c.actor("bob").member_id,
                    user_id=c.actor("bob").user_id,
                    wh=0.01,
                    estimated=True,
                )
            )
        c.issue_statement("2026-02")
        c.admin.leave("Ville C", datetime(2026, 3, 1, tzinfo=UTC))  # in effect: in the past
        c.admin.leave("Ville B", datetime(2099, 1, 1, tzinfo=UTC))  # to come
        before = _state(c)
    for lang, said, label in (
        ("en_GB.UTF-8", english, "error:"),
        ("fr_FR.UTF-8", french, "erreur"),
    ):
        out = _refused(home, args, lang)
        assert out.exit_code != 0, out.output
        [line] = out.output.splitlines()
        assert line.startswith(label) and line.endswith(f" {said}"), line
    with Commune(home) as c:
        assert _state(c) == before


def test_a_departure_is_the_cooperatives_decision_undone_before_it_takes_effect(
    admin: Admin, commune: Commune
) -> None:
    """Recorded ahead (an assembly's vote), a departure may be moved or undone until its day:
    each is audited with its reason and what it replaced. A member admin may do neither: its
    member would stop paying its share."""
    alice = admin.actor("alice")
    with pytest.raises(Forbidden, match="cooperative-admin"):
        admin.leave("Ville A", actor=alice)
    admin.leave("Ville A", datetime(2099, 1, 1, tzinfo=UTC), reason="vote of 2098")
    admin.leave("Ville A", datetime(2099, 7, 1, tzinfo=UTC), reason="moved by the assembly")
    with pytest.raises(Forbidden, match="cooperative-admin"):
        admin.stay("Ville A", actor=alice)
    assert admin.stay("Ville A", reason="stays after all") == {
        "member": "Ville A",
        "undone": "2099-07-01T00:00:00+00:00",
    }
    assert [m["left_at"] for m in admin.members()] == [None, None]
    assert admin.actor("alice").member == "Ville A"
    rows = [r for r in audit_rows(commune, 0) if r[1] in ("member-leave", "member-stay")]
    assert [r[:3] for r in rows] == [
        ("operator", "member-leave", "member Ville A"),
        ("operator", "member-leave", "member Ville A"),
        ("operator", "member-stay", "member Ville A"),
    ]
    assert '"before": null' in rows[0][3] and '"reason": "vote of 2098"' in rows[0][3]
    assert '"before": "2099-01-01T00:00:00+00:00"' in rows[1][3]
    assert '"reason": "stays after all"' in rows[2][3]


@pytest.mark.parametrize(("day", "last"), [("2099-07-01", "2099-06"), ("2099-07-15", "2099-07")])
def test_a_departure_on_a_day_pays_up_to_the_month_of_the_day_before_as_its_help_says(
    tmp_path: Path, day: str, last: str
) -> None:
    """`member leave --on DAY`: its help said "it pays that month", untrue on a month's 1st
    (from 1 July it pays June last, as the command itself then said). The statements, the
    command's answer and its help in either language now say the same month."""
    from dataclasses import replace

    from commune.account.statement import build_statement

    home = tmp_path / "home"
    with Commune(home) as c:
        setup(c.admin)
    out = _refused(home, ["member", "leave", "Ville A", "--on", day], "en_GB.UTF-8")
    assert out.exit_code == 0, out.output
    assert f"charged up to {last} included" in out.output
    with Commune(home) as c:
        equal = replace(c.settings.cooperative, rule="equal", floor_eur=0.0)
        with c.engine.connect() as conn:
            billed = {
                month: {line.member for line in build_statement(conn, equal, month).lines}
                for month in ("2099-06", "2099-07", "2099-08")
            }
    assert [m for m, names in billed.items() if "Ville A" in names][-1] == last
    for lang, says in (
        ("en_GB.UTF-8", "it pays up to the month of the day before"),
        ("fr_FR.UTF-8", "il paie jusqu'au mois de la veille"),
    ):
        page = " ".join(_refused(home, ["member", "leave", "--help"], lang).output.split())
        assert says in page, page


def test_a_members_last_admin_is_kept_until_another_is_appointed_or_it_has_left(
    admin: Admin, commune: Commune, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cooperative admin of Ville B demoted or removed Ville A's only member admin, and
    Ville A was left with nobody of its own to manage its people. Neither is done, by
    anyone (the operator too), until another admin of Ville A is appointed; nothing is
    written. A member that has left needs no admin: its people no longer sign in."""
    from commune.errors import InvalidRequest
    from commune.govern import members as m

    admin.add_user("zoe", member="Ville B", role="cooperative-admin")
    zoe = admin.actor("zoe")
    last = "alice is the last admin of Ville A: without one, nobody of Ville A would manage"
    before = audit_rows(commune, 0)
    for demote in (
        lambda: admin.set_role("alice", "curator", actor=zoe),
        lambda: admin.remove_user("alice", "left the town hall", actor=zoe),
        lambda: admin.removal("alice", "left the town hall", actor=zoe),  # the page's preview
        lambda: admin.set_role("alice", "reader"),  # the operator
        lambda: admin.remove_user("alice", "left the town hall"),
    ):
        with pytest.raises(InvalidRequest, match=last) as refused:
            demote()
        assert refused.value.hint == (
            "appoint another admin of Ville A first: make a person of Ville A its member admin"
        )
    # Zoe, a cooperative admin, is Ville B's only admin: kept as one, of either role.
    admin.set_role("zoe", "member-admin")
    with pytest.raises(InvalidRequest, match="zoe is the last admin of Ville B"):
        admin.set_role("zoe", "reader")
    admin.set_role("zoe", "cooperative-admin")
    assert audit_rows(commune, 0)[len(before) :] == [
        ("operator", "role-grant", "user zoe", '{"role": "member-admin"}'),
        ("operator", "role-grant", "user zoe", '{"role": "cooperative-admin"}'),
    ]
    assert admin.actor("alice").role == "member-admin"
    admin.set_role("bob", "member-admin", actor=zoe)  # another admin first: then it is done
    admin.set_role("alice", "curator", actor=zoe)
    with pytest.raises(InvalidRequest, match="bob is the last admin of Ville A"):
        admin.remove_user("bob", "left the town hall", actor=zoe)
    admin.leave("Ville A", datetime(2099, 1, 1, tzinfo=UTC))
    with pytest.raises(InvalidRequest, match="bob is the last admin of Ville A"):
        admin.remove_user("bob", "left the town hall")  # a departure to come: still a member
    monkeypatch.setattr(m, "now", lambda: datetime(2099, 1, 2, tzinfo=UTC))
    assert admin.remove_user("bob", "left the town hall")["role"] == "member-admin"


@pytest.mark.parametrize(
    ("lang", "said"),
    [
        (
            "en_GB.UTF-8",
            "error: alice is the last admin of Ville A: without one, nobody of Ville A would "
            "manage its people (appoint another admin of Ville A first: make a person of "
            "Ville A its member admin)",
        ),
        (
            "fr_FR.UTF-8",
            "erreur\u00a0: alice est le dernier administrateur de Ville A\u00a0: sans "
            "administrateur, personne de Ville A ne gérerait plus ses personnes (nommez "
            "d'abord un autre administrateur de Ville A\u00a0: faites d'une personne de "
            "Ville A son administrateur de membre)",
        ),
    ],
)
def test_the_last_admin_kept_is_said_in_one_line_on_the_command_line(
    tmp_path: Path, lang: str, said: str
) -> None:
    home = tmp_path / "home"
    with Commune(home) as c:
        setup(c.admin)
        before = _state(c)
    for args in (["user", "set-role", "alice", "reader"], ["user", "remove", "alice"]):
        out = _refused(home, [*args, "--reason", "x"] if "remove" in args else args, lang)
        assert out.exit_code != 0 and out.output == said + "\n", out.output
    with Commune(home) as c:
        assert _state(c) == before
        assert c.admin.actor("alice").role == "member-admin"
