"""GovRegistry: membership life cycle, role gates with their exact custom errors, admin transfer."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from eth_account import Account

from chain.errors import ContractRevert
from chain.node import rpc_call
from chain.registry import ROLE_NAMES, ROLES, DataCategory, MemberInfo, MemberStatus, Role, role_id
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


AdminProtected = revert_class("GovRegistryAdminProtected")
ADMIN_ROLE = b"\0" * 32


@pytest.fixture
def deputy(registry, parties):
    """A second governor, granted by the bureau's admin (an existing funded member, so it can send)."""
    registry.grant_role(parties.governor, "GOVERNOR", parties.auditor.address)
    assert registry.has_active_role("GOVERNOR", parties.auditor.address)
    return parties.auditor


@pytest.mark.parametrize(
    "grant",
    [
        lambda r, d, p: r.register_member(d, new_address(), MemberInfo("Shadow bureau"), ["GOVERNOR"]),
        lambda r, d, p: r.grant_role(d, "GOVERNOR", p.relayer.address),
    ],
    ids=["registerMember", "grantRole"],
)
def test_a_governor_cannot_mint_governors_on_any_path(registry, parties, deputy, grant):
    """Issue 16: ``registerMember(x, ..., [GOVERNOR])`` by a governor granted GOVERNOR although
    ``grantRole(GOVERNOR)`` was refused. Both paths apply OpenZeppelin's role-admin rule."""
    governors = [m.address for m in registry.members() if "GOVERNOR" in m.roles]
    with pytest.raises(Unauthorized) as refused:
        grant(registry, deputy, parties)
    assert refused.value.args_by_name == {"account": deputy.address, "neededRole": ADMIN_ROLE}
    assert [m.address for m in registry.members() if "GOVERNOR" in m.roles] == governors


def test_registration_grants_each_role_under_its_own_admin(registry, parties, deputy):
    member = new_address()
    registry.register_member(deputy, member, MemberInfo("区档案馆"), ["AGENCY", "AUDITOR"])  # GOVERNOR administers these
    assert registry.roles_of(member) == {"AGENCY", "AUDITOR"}
    governor = new_address()
    registry.register_member(parties.governor, governor, MemberInfo("Deputy bureau"), ["GOVERNOR"])  # the admin may
    assert registry.has_active_role("GOVERNOR", governor)
    with pytest.raises(Unauthorized):  # revoking GOVERNOR is the admin's too
        registry.revoke_role(deputy, "GOVERNOR", parties.governor.address)
    registry.revoke_role(parties.governor, "GOVERNOR", deputy.address)
    assert registry.has_active_role("GOVERNOR", deputy.address) is False


@pytest.mark.parametrize(
    "action",
    [
        lambda r, d, admin: r.suspend_member(d, admin),
        lambda r, d, admin: r.retire_member(d, admin),
        lambda r, d, admin: r.update_member(d, admin, MemberInfo("Captured bureau", hpke_public_key=r.member(admin).info.hpke_public_key)),
    ],
    ids=["suspend", "retire", "update"],
)
def test_a_governor_cannot_touch_the_default_admins_record(registry, parties, deputy, action):
    """Issue 16: a second governor suspended the bureau's admin, who could not reinstate itself."""
    admin = parties.governor.address
    before = registry.member(admin)
    with pytest.raises(AdminProtected) as refused:
        action(registry, deputy, admin)
    assert refused.value.args_by_name == {"account": admin, "caller": deputy.address}
    assert registry.member(admin) == before and registry.has_active_role("GOVERNOR", admin)


def test_the_default_admin_keeps_its_record_and_cannot_suspend_itself(registry, parties):
    admin = parties.governor.address
    info = registry.member(admin).info
    renamed = MemberInfo("市政务服务局（更名）", info.org_code, info.domain, info.hpke_public_key, info.data_categories)
    registry.update_member(parties.governor, admin, renamed)
    assert registry.member(admin).info == renamed
    with pytest.raises(AdminProtected):  # it would lock the registry: the admin leaves by the two-step transfer
        registry.suspend_member(parties.governor, admin, REASON)
    assert registry.member(admin).status is MemberStatus.ACTIVE


# -- issue 19: the role mask beside the member's status (hasActiveRole reads one slot) ------------


def _roles_on_chain(registry, account: str) -> set[str]:
    return {name for name, rid in ROLES.items() if registry.contract.functions.hasRole(rid, account).call()}


def test_role_mask_follows_every_grant_revocation_renouncement_and_retirement(registry, parties, chain):
    """hasActiveRole and servesCategory read the mask, not AccessControl: every way a role comes and
    goes must move the mask with it, or a revoked relayer, agency or holder would still count."""
    account = Account.create()
    registry.register_member(parties.governor, account.address, MemberInfo("掩码测试", data_categories=int(DataCategory.ID_CARD)), ["DATA_HOLDER", "RELAYER"])
    member = registry.member(account.address)
    assert member.roles == _roles_on_chain(registry, account.address) == {"DATA_HOLDER", "RELAYER"}
    assert registry.has_active_role("RELAYER", account.address) and registry.contract.functions.servesCategory(account.address, 0).call()
    for role in ROLES:  # each member role counts exactly while it is held
        if role not in member.roles:
            registry.grant_role(parties.governor, role, account.address)
            assert registry.has_active_role(role, account.address) is True
        registry.revoke_role(parties.governor, role, account.address)
        assert registry.has_active_role(role, account.address) is False
        assert registry.member(account.address).roles == _roles_on_chain(registry, account.address)
    assert registry.contract.functions.servesCategory(account.address, 0).call() is False  # DATA_HOLDER revoked
    registry.grant_role(parties.governor, "AGENCY", account.address)
    registry.grant_role(parties.governor, "DATA_HOLDER", account.address)
    # renounced by the member itself
    chain.wait(chain.send(parties.governor, chain.build(parties.governor, to=account.address, value=10**18, gas=21_000)))
    chain.transact(account, registry.contract.functions.renounceRole(ROLES["AGENCY"], account.address))
    assert registry.has_active_role("AGENCY", account.address) is False and "AGENCY" not in registry.member(account.address).roles
    registry.retire_member(parties.governor, account.address, REASON)
    assert registry.member(account.address).roles == _roles_on_chain(registry, account.address) == set()
    assert registry.has_active_role("DATA_HOLDER", account.address) is False


def test_roles_outside_the_mask_still_come_from_access_control(registry, parties):
    admin = parties.governor.address
    assert registry.contract.functions.hasActiveRole(b"\0" * 32, admin).call() is True  # DEFAULT_ADMIN_ROLE: hasRole
    assert registry.contract.functions.hasActiveRole(b"\0" * 32, parties.relayer.address).call() is False
    assert registry.contract.functions.hasActiveRole(role_id("GOVERNOR"), parties.relayer.address).call() is False


def test_roles_are_the_contract_roles_in_mask_order_and_compare_as_their_names(registry, parties):
    """``Role`` is Roles.sol's list, in ``memberRoles`` order (bit i of the role mask is ROLE_NAMES[i]);
    a member's roles are Role members that equal, hash and print as the role's name."""
    source = (Path(__file__).parents[2] / "contracts" / "Roles.sol").read_text()
    order = re.search(r"return \[([A-Z_, ]+)\];", source).group(1).split(", ")
    assert [r.value for r in ROLE_NAMES] == order == [r.name for r in Role]
    assert all(f'{r.name} = keccak256("{r.value}")' in source and r.id == ROLES[r.value] for r in Role)
    roles = registry.member(parties.agency.address).roles
    assert roles == {"AGENCY", "ISSUER"} and all(isinstance(r, Role) for r in roles)
    assert "ISSUER" in roles and Role.ISSUER in {"ISSUER"} and f"{Role.AGENCY}" == "AGENCY" and sorted(roles) == ["AGENCY", "ISSUER"]
    assert registry.roles_of(parties.agency.address) == roles
