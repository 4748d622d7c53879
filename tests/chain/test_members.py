"""The members directory (chain/members.py): records and the active list are kept until a
GovRegistry event says they changed, and read again then; nothing else expires them."""

from __future__ import annotations

from eth_account import Account

from chain.members import Members
from chain.registry import MemberInfo, MemberStatus


def _register(registry, parties, domain: str, roles: list[str]) -> str:
    account = Account.create().address
    registry.register_member(parties.governor, account, MemberInfo("某区卫健委", "12110000MB0000001X", domain, b"\x07" * 32, 0), roles)
    return account


def test_a_record_is_kept_until_an_event_names_its_account(registry, parties):
    members = Members.of(registry, refresh_seconds=3_600)
    account = _register(registry, parties, "kept.gov.example", ["AGENCY"])
    assert members.member(account).roles == {"AGENCY"}
    registry.grant_role(parties.governor, "AUDITOR", account)
    assert members.member(account).roles == {"AGENCY"}  # not looked at the events yet: kept
    members.refresh(force=True)
    assert members.member(account).roles == {"AGENCY", "AUDITOR"}
    registry.suspend_member(parties.governor, account)
    members.refresh(force=True)
    assert members.record(account).status is MemberStatus.SUSPENDED and not members.member(account).active


def test_an_unknown_address_is_none_until_it_is_registered(registry, parties):
    members = Members.of(registry, refresh_seconds=0)
    account = Account.create().address
    assert members.member(account) is None and members.record(account).status is MemberStatus.NONE
    registry.register_member(parties.governor, account, MemberInfo("新成员", "12110000MB0000002X", "new.gov.example", b"\x07" * 32, 0), ["AGENCY"])
    assert members.member(account).roles == {"AGENCY"}  # refresh_seconds=0: the registration's events are read at once


def test_the_active_list_follows_registrations_and_suspensions(registry, parties):
    members = Members.of(registry, refresh_seconds=3_600)
    assert members.by_domain("late.gov.example", "AGENCY") is None
    account = _register(registry, parties, "late.gov.example", ["AGENCY"])
    assert members.by_domain("late.gov.example", "AGENCY") is None  # the list is kept until the events are read
    members.refresh(force=True)
    assert members.by_domain("late.gov.example", "AGENCY").address == account
    assert members.by_domain("late.gov.example", "ISSUER") is None
    registry.suspend_member(parties.governor, account)
    members.refresh(force=True)
    assert members.by_domain("late.gov.example", "AGENCY") is None
    assert parties.agency.address in {m.address for m in members.active()}
