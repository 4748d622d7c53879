"""GovRegistry: membership life cycle, role gates with their exact custom errors, admin transfer."""

from __future__ import annotations

import pytest
from eth_account import Account

from chain.errors import ContractRevert
from chain.node import rpc_call
from chain.registry import DataCategory, MemberInfo, MemberStatus, ROLES, role_id
from chain.reverts import revert_class
from chain.events import EventReader

Unauthorized = revert_class("AccessControlUnauthorizedAccount")
WrongStatus = revert_class("GovRegistryWrongStatus")
UnknownMember = revert_class("GovRegistryUnknownMember")
MemberExists = revert_class("GovRegistryMemberExists")
EmptyName = revert_class("GovRegistryEmptyName")
ZeroAddress = revert_class("GovRegistryZeroAddress")
NotGrantable = revert_class("GovRegistryRoleNotGrantable")
ZERO = "0x" + "00" * 20
REASON = b"\x01" * 32


def events(registry, receipt):
    reader = EventReader(registry.client, registry.contract)
    return [e for e in (reader.decode(log) for log in receipt.logs) if e]


def new_address() -> str:
    return Account.create().address


def test_dev_parties_are_registered_with_their_roles(registry, parties):
    members = {m.address: m for m in registry.members()}
    assert members[parties.governor.address].roles == {"GOVERNOR"}
    assert members[parties.agency.address].roles == {"AGENCY", "ISSUER"}
    assert members[parties.holder_psb.address].info.data_categories == DataCategory.ID_CARD | DataCategory.HOUSEHOLD_REGISTER
    assert all(m.status is MemberStatus.ACTIVE for m in members.values())
    assert len(members) == 8


def test_register_member_stores_metadata_grants_roles_and_emits(registry, parties):
    account = new_address()
    info = MemberInfo("某区卫健委", "12110000MB0000001X", "health.gov.example", b"\x07" * 32, 0)
    receipt = registry.register_member(parties.governor, account, info, ["AGENCY", "AUDITOR"])
    member = registry.member(account)
    assert member.info == info and member.status is MemberStatus.ACTIVE
    assert member.roles == {"AGENCY", "AUDITOR"}
    names = [e.name for e in events(registry, receipt)]
    assert names == ["MemberRegistered", "RoleGranted", "RoleGranted"]
    registered = events(registry, receipt)[0].args
    assert registered["account"] == account and registered["governor"] == parties.governor.address
    assert registered["orgCode"] == info.org_code


@pytest.mark.parametrize("who", ["relayer", "agency", "holder_psb", "procurement", "auditor", "outsider"])
@pytest.mark.parametrize(
    "action",
    [
        lambda r, a, p: r.register_member(a, new_address(), MemberInfo("x"), []),
        lambda r, a, p: r.update_member(a, p.agency.address, MemberInfo("renamed")),
        lambda r, a, p: r.suspend_member(a, p.agency.address),
        lambda r, a, p: r.reinstate_member(a, p.agency.address),
        lambda r, a, p: r.retire_member(a, p.agency.address),
        lambda r, a, p: r.grant_role(a, "AUDITOR", p.agency.address),
        lambda r, a, p: r.revoke_role(a, "AGENCY", p.agency.address),
    ],
    ids=["register", "update", "suspend", "reinstate", "retire", "grant", "revoke"],
)
def test_governor_functions_refuse_every_other_role(registry, parties, who, action):
    caller = getattr(parties, who)
    with pytest.raises(Unauthorized) as refused:
        action(registry, caller, parties)
    assert refused.value.args_by_name == {"account": caller.address, "neededRole": ROLES["GOVERNOR"]}
    assert registry.member(parties.agency.address).status is MemberStatus.ACTIVE


def test_suspended_governor_is_refused(registry, parties):
    second = Account.create()
    registry.register_member(parties.governor, second.address, MemberInfo("Deputy bureau"), ["GOVERNOR"])
    registry.suspend_member(parties.governor, second.address, REASON)
    assert registry.has_active_role("GOVERNOR", second.address) is False
    with pytest.raises(WrongStatus) as refused:  # refused at estimation: the key holds no ether
        registry.client.build(second, registry.contract.functions.suspendMember(parties.agency.address, REASON))
    assert refused.value.args_by_name == {"account": second.address, "status": MemberStatus.SUSPENDED, "expected": MemberStatus.ACTIVE}


def test_registration_refusals_carry_the_offending_value(registry, parties):
    with pytest.raises(MemberExists) as exists:
        registry.register_member(parties.governor, parties.agency.address, MemberInfo("again"), [])
    assert exists.value.args_by_name == {"account": parties.agency.address}
    with pytest.raises(ZeroAddress):
        registry.register_member(parties.governor, ZERO, MemberInfo("nobody"), [])
    account = new_address()
    with pytest.raises(EmptyName) as empty:
        registry.register_member(parties.governor, account, MemberInfo(""), [])
    assert empty.value.args_by_name == {"account": account}
    with pytest.raises(NotGrantable) as admin:
        registry.client.transact(parties.governor, registry.contract.functions.registerMember(account, MemberInfo("x").as_tuple(), [b"\0" * 32]))
    assert admin.value.args_by_name == {"role": b"\0" * 32}
    assert registry.member(account).status is MemberStatus.NONE


def test_suspend_reinstate_retire_life_cycle(registry, parties):
    agency = parties.agency.address
    registry.suspend_member(parties.governor, agency, REASON)
    assert registry.member(agency).status is MemberStatus.SUSPENDED
    assert registry.has_active_role("AGENCY", agency) is False
    assert registry.roles_of(agency) == {"AGENCY", "ISSUER"}  # roles kept, not counted
    with pytest.raises(WrongStatus):
        registry.suspend_member(parties.governor, agency, REASON)
    registry.reinstate_member(parties.governor, agency)
    assert registry.has_active_role("AGENCY", agency) is True
    receipt = registry.retire_member(parties.governor, agency, REASON)
    assert [e.name for e in events(registry, receipt)] == ["MemberRetired", "RoleRevoked", "RoleRevoked"]
    assert registry.member(agency).status is MemberStatus.RETIRED and registry.roles_of(agency) == set()
    with pytest.raises(WrongStatus) as retired:
        registry.reinstate_member(parties.governor, agency)
    assert retired.value.args_by_name["status"] == MemberStatus.RETIRED
    with pytest.raises(WrongStatus):
        registry.grant_role(parties.governor, "AGENCY", agency)


def test_unknown_accounts_are_named(registry, parties):
    stranger = new_address()
    for action in (registry.suspend_member, registry.retire_member):
        with pytest.raises(UnknownMember) as unknown:
            action(parties.governor, stranger)
        assert unknown.value.args_by_name == {"account": stranger}
    with pytest.raises(UnknownMember):
        registry.grant_role(parties.governor, "AUDITOR", stranger)


def test_default_admin_role_is_not_grantable_directly(registry, parties):
    with pytest.raises(NotGrantable):
        registry.client.transact(parties.governor, registry.contract.functions.grantRole(b"\0" * 32, parties.relayer.address))


def test_update_and_key_rotation_emit_events(registry, parties):
    registry.rotate_hpke_key(parties.agency, b"\x09" * 32)
    info = MemberInfo("区教育局（更名）", "11000000DEV0000003", "jyj.gov.example", b"\x09" * 32, 0)
    receipt = registry.update_member(parties.governor, parties.agency.address, info)
    (updated,) = events(registry, receipt)
    assert updated.name == "MemberUpdated" and updated.args["name"] == info.name and updated.args["domain"] == info.domain
    assert registry.member(parties.agency.address).info == info
    receipt = registry.rotate_hpke_key(parties.agency, b"\x0a" * 32)
    (rotated,) = events(registry, receipt)
    assert rotated.name == "MemberKeyRotated"
    assert rotated.args == {"account": parties.agency.address, "previousKey": b"\x09" * 32, "newKey": b"\x0a" * 32}
    with pytest.raises(UnknownMember):
        registry.rotate_hpke_key(parties.outsider, b"\x01" * 32)


def test_serves_category_follows_role_and_status(registry, parties):
    serves = registry.contract.functions.servesCategory
    psb, rp = parties.holder_psb.address, parties.holder_rp.address
    assert [serves(psb, c).call() for c in range(3)] == [True, False, True]
    assert [serves(rp, c).call() for c in range(3)] == [False, True, False]
    assert serves(psb, 200).call() is False
    registry.suspend_member(parties.governor, psb)
    assert serves(psb, 0).call() is False


def test_admin_transfer_takes_two_steps_and_a_delay(registry, parties, chain):
    new_admin = parties.auditor
    contract = registry.contract
    chain.transact(parties.governor, contract.functions.beginDefaultAdminTransfer(new_admin.address))
    with pytest.raises(revert_class("AccessControlEnforcedDefaultAdminDelay")):
        chain.transact(new_admin, contract.functions.acceptDefaultAdminTransfer())
    with pytest.raises(revert_class("AccessControlInvalidDefaultAdmin")) as wrong:
        chain.transact(parties.relayer, contract.functions.acceptDefaultAdminTransfer())
    assert wrong.value.args_by_name == {"defaultAdmin": parties.relayer.address}
    delay = contract.functions.defaultAdminDelay().call()
    assert delay == 2 * 24 * 3600
    rpc_call(chain.w3.provider.endpoint_uri, "evm_increaseTime", [delay + 1])
    rpc_call(chain.w3.provider.endpoint_uri, "evm_mine")
    chain.transact(new_admin, contract.functions.acceptDefaultAdminTransfer())
    assert contract.functions.defaultAdmin().call() == new_admin.address
    assert contract.functions.hasRole(b"\0" * 32, parties.governor.address).call() is False
    assert role_id("governor") == ROLES["GOVERNOR"]


def test_a_governor_cannot_redirect_a_members_data_key(registry, parties):
    """Issue 15: ``updateMember`` replaced any member's HPKE key, redirecting uploads and pull
    answers to a key of the governor's choosing. Only the member changes its own key."""
    before = registry.member(parties.agency.address).info
    hijacked = MemberInfo(before.name, before.org_code, before.domain, b"\x66" * 32, before.data_categories)
    with pytest.raises(ContractRevert) as refused:
        registry.update_member(parties.governor, parties.agency.address, hijacked)
    assert refused.value.name == "GovRegistryKeyChangeNeedsMember"
    assert refused.value.args_by_name == {"account": parties.agency.address, "currentKey": before.hpke_public_key, "proposedKey": b"\x66" * 32}
    assert registry.member(parties.agency.address).info.hpke_public_key == before.hpke_public_key
    renamed = MemberInfo("区教育局（更名）", before.org_code, before.domain, before.hpke_public_key, before.data_categories)
    registry.update_member(parties.governor, parties.agency.address, renamed)  # the rest of the metadata is the governor's
    assert registry.member(parties.agency.address).info == renamed
    registry.rotate_hpke_key(parties.agency, b"\x0b" * 32)  # the member itself may
    assert registry.member(parties.agency.address).info.hpke_public_key == b"\x0b" * 32
