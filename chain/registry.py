"""Typed client for ``GovRegistry``: members, roles and their public metadata."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, IntFlag, StrEnum

from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import Web3

from chain.contract import ContractClient
from chain.errors import TransactionFailed
from chain.tx import Receipt


class Role(StrEnum):
    """``contracts/Roles.sol``: a role's id on chain is keccak256 of its name."""

    GOVERNOR = "GOVERNOR"
    RELAYER = "RELAYER"
    AGENCY = "AGENCY"
    DATA_HOLDER = "DATA_HOLDER"
    ISSUER = "ISSUER"
    PROCUREMENT = "PROCUREMENT"
    AUDITOR = "AUDITOR"
    BIDDER = "BIDDER"

    @property
    def id(self) -> bytes:
        return ROLES[self]


ROLE_NAMES: tuple[Role, ...] = tuple(Role)
ROLES: dict[str, bytes] = {role: keccak(text=role.value) for role in Role}
ROLE_BY_ID: dict[bytes, Role] = {ROLES[role]: role for role in Role}
DEFAULT_ADMIN_ROLE = b"\0" * 32


class MemberStatus(IntEnum):
    NONE = 0
    ACTIVE = 1
    SUSPENDED = 2
    RETIRED = 3


class DataCategory(IntFlag):
    """The data categories a data holder serves (bit index = on-chain category id)."""

    ID_CARD = 1 << 0
    RESIDENCE_PERMIT = 1 << 1
    HOUSEHOLD_REGISTER = 1 << 2


def role_id(name: str) -> bytes:
    try:
        return ROLES[name.upper()]
    except KeyError:
        raise ValueError(f"unknown role {name!r}; roles are {', '.join(ROLE_NAMES)}") from None


@dataclass(frozen=True)
class MemberInfo:
    name: str
    org_code: str = ""
    domain: str = ""
    hpke_public_key: bytes = b"\0" * 32
    data_categories: int = 0

    def as_tuple(self) -> tuple:
        return (self.name, self.org_code, self.domain, self.hpke_public_key, self.data_categories)


@dataclass(frozen=True)
class Member:
    address: str
    info: MemberInfo
    status: MemberStatus
    registered_at: int
    updated_at: int
    roles: frozenset[Role] = field(default_factory=frozenset)

    @property
    def active(self) -> bool:
        return self.status is MemberStatus.ACTIVE


class GovRegistryClient(ContractClient):
    """Reads and writes of one deployed GovRegistry. Writes are sent by the given account."""

    # -- writes --------------------------------------------------------------------------

    def register_member(self, governor: LocalAccount, account: str, info: MemberInfo, roles: list[Role] | list[str]) -> Receipt:
        call = self.contract.functions.registerMember(account, info.as_tuple(), [role_id(r) for r in roles])
        return self.client.transact(governor, call)

    def update_member(self, governor: LocalAccount, account: str, info: MemberInfo) -> Receipt:
        return self.client.transact(governor, self.contract.functions.updateMember(account, info.as_tuple()))

    def rotate_hpke_key(self, member: LocalAccount, new_key: bytes) -> Receipt:
        return self.client.transact(member, self.contract.functions.rotateHpkeKey(new_key))

    def suspend_member(self, governor: LocalAccount, account: str, reason_hash: bytes = b"\0" * 32) -> Receipt:
        return self.client.transact(governor, self.contract.functions.suspendMember(account, reason_hash))

    def reinstate_member(self, governor: LocalAccount, account: str) -> Receipt:
        return self.client.transact(governor, self.contract.functions.reinstateMember(account))

    def retire_member(self, governor: LocalAccount, account: str, reason_hash: bytes = b"\0" * 32) -> Receipt:
        return self.client.transact(governor, self.contract.functions.retireMember(account, reason_hash))

    def grant_role(self, governor: LocalAccount, role: str, account: str) -> Receipt:
        return self.client.transact(governor, self.contract.functions.grantRole(role_id(role), account))

    def revoke_role(self, governor: LocalAccount, role: str, account: str) -> Receipt:
        return self.client.transact(governor, self.contract.functions.revokeRole(role_id(role), account))

    def create_document_store(self, issuer: LocalAccount) -> tuple[str, Receipt]:
        """The issuer (an active ISSUER with no store yet) creates its document store (an EIP-1167
        clone, named after the issuer's member name); returns the store's address, as the receipt's
        ``DocumentStoreCreated`` event gives it, and the receipt."""
        receipt = self.client.transact(issuer, self.contract.functions.createDocumentStore())
        created = [e for e in self.events(receipt) if e.name == "DocumentStoreCreated"]
        if len(created) != 1:
            raise TransactionFailed(f"{receipt.tx_hash} emitted {len(created)} DocumentStoreCreated events, expected 1", receipt.tx_hash)
        return Web3.to_checksum_address(created[0].args["store"]), receipt

    def rotate_issuing_key(self, governor: LocalAccount, issuer: str, new_key: str) -> Receipt:
        """A governor replaces the issuing key of the suspended ``issuer``'s store (the old key is refused from then on)."""
        return self.client.transact(governor, self.contract.functions.rotateIssuingKey(Web3.to_checksum_address(issuer), Web3.to_checksum_address(new_key)))

    def revoke_document(self, governor: LocalAccount, issuer: str, document: bytes, reason_hash: bytes = b"\0" * 32) -> Receipt:
        """A governor revokes ``document`` in the store of the suspended ``issuer`` (recorded with the governor's name)."""
        return self.client.transact(governor, self.contract.functions.revokeDocument(Web3.to_checksum_address(issuer), document, reason_hash))

    # -- reads ---------------------------------------------------------------------------

    def document_store_of(self, account: str) -> str | None:
        """The document store ``account`` created, or None."""
        return _address_or_none(self.contract.functions.documentStoreOf(Web3.to_checksum_address(account)).call())

    def issuer_of_store(self, store: str) -> str | None:
        """The issuer of ``store`` if this registry created it, else None (then the store is not govchain's)."""
        return _address_or_none(self.contract.functions.issuerOfStore(Web3.to_checksum_address(store)).call())

    def roles_of(self, account: str) -> frozenset[Role]:
        return frozenset(role for role in Role if self.contract.functions.hasRole(ROLES[role], account).call())

    def member(self, account: str, *, with_roles: bool = True) -> Member:
        """The member record, in one call: its roles come from the record's role mask (bit i for role
        i of ``ROLE_NAMES``, the order of contracts/Roles.sol); ``with_roles=False`` leaves them out."""
        account = Web3.to_checksum_address(account)
        name, org, domain, hpke, categories, status, registered, updated, role_bits = self.contract.functions.getMember(account).call()
        return Member(
            address=account,
            info=MemberInfo(name, org, domain, bytes(hpke), categories),
            status=MemberStatus(status),
            registered_at=registered,
            updated_at=updated,
            roles=frozenset(n for i, n in enumerate(ROLE_NAMES) if role_bits >> i & 1) if with_roles else frozenset(),
        )

    def members(self) -> list[Member]:
        count = self.contract.functions.memberCount().call()
        return [self.member(self.contract.functions.memberAt(i).call()) for i in range(count)]

    def has_active_role(self, role: str, account: str) -> bool:
        return self.contract.functions.hasActiveRole(role_id(role), account).call()


def _address_or_none(address: str) -> str | None:
    return None if int(address, 16) == 0 else Web3.to_checksum_address(address)
