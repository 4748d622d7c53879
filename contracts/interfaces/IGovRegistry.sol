// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title IGovRegistry — who is a member of the govchain network and what each member may do
/// @notice Every other govchain contract asks this registry whether an account holds a role
/// and is active. Only public metadata lives here: no personal data of citizens ever does.
interface IGovRegistry {
    /// @notice Life cycle of a member. `None` means never registered.
    enum MemberStatus {
        None,
        Active,
        Suspended,
        Retired
    }

    /// @notice Public metadata of a member organisation, as given at registration.
    /// @param name Organisation name, e.g. "某区教育局".
    /// @param orgCode Unified social credit code (统一社会信用代码), 18 characters.
    /// @param domain DNS domain the organisation answers for (used in sign-in and identity proofs).
    /// @param hpkePublicKey X25519 public key that data and materials are encrypted to (zero if none).
    /// @param dataCategories Bit set of the data categories a data holder serves
    ///        (bit 0 ID card, bit 1 residence permit, bit 2 household register; 0 for others).
    struct MemberInfo {
        string name;
        string orgCode;
        string domain;
        bytes32 hpkePublicKey;
        uint64 dataCategories;
    }

    /// @notice A member as stored. Layout: strings in their own slots, then
    /// one slot: bytes32 hpkePublicKey; then one slot: uint64 dataCategories | uint8 status | uint40 registeredAt | uint40 updatedAt.
    struct Member {
        string name;
        string orgCode;
        string domain;
        bytes32 hpkePublicKey;
        uint64 dataCategories;
        MemberStatus status;
        uint40 registeredAt;
        uint40 updatedAt;
    }

    /// @notice The account is the zero address.
    error GovRegistryZeroAddress();
    /// @notice The account is already registered (in any status, retired included).
    error GovRegistryMemberExists(address account);
    /// @notice The account was never registered.
    error GovRegistryUnknownMember(address account);
    /// @notice The member is in `status` but the operation needs `expected`.
    error GovRegistryWrongStatus(address account, MemberStatus status, MemberStatus expected);
    /// @notice The organisation name is empty.
    error GovRegistryEmptyName(address account);
    /// @notice `role` cannot be granted through this path (the default admin role has its own two-step transfer).
    error GovRegistryRoleNotGrantable(bytes32 role);
    /// @notice `account` already has its document store `store` (one per issuer account).
    error GovRegistryStoreExists(address account, address store);
    /// @notice A governor tried to replace the HPKE key of `account` (`currentKey`) with `proposedKey`:
    /// the key data is sealed to changes only by the member itself ({rotateHpkeKey}).
    error GovRegistryKeyChangeNeedsMember(address account, bytes32 currentKey, bytes32 proposedKey);

    /// @notice Emitted when `account` joins with `info`, registered by `governor`.
    event MemberRegistered(
        address indexed account, address indexed governor, string name, string orgCode, string domain, bytes32 hpkePublicKey, uint64 dataCategories
    );
    /// @notice Emitted when the metadata of `account` was replaced by `governor`.
    event MemberUpdated(
        address indexed account, address indexed governor, string name, string orgCode, string domain, bytes32 hpkePublicKey, uint64 dataCategories
    );
    /// @notice Emitted when a member rotated its own HPKE public key.
    event MemberKeyRotated(address indexed account, bytes32 previousKey, bytes32 newKey);
    /// @notice Emitted when `governor` suspended `account`; its roles stay but no longer count.
    event MemberSuspended(address indexed account, address indexed governor, bytes32 reasonHash);
    /// @notice Emitted when `governor` lifted the suspension of `account`.
    event MemberReinstated(address indexed account, address indexed governor);
    /// @notice Emitted when `governor` retired `account` for good; all its roles were revoked.
    event MemberRetired(address indexed account, address indexed governor, bytes32 reasonHash);
    /// @notice Emitted when `issuer` created its document store `store` named `name`.
    event DocumentStoreCreated(address indexed issuer, address indexed store, string name);

    /// @notice Registers `account` as an active member with `info` and grants it `roles`.
    /// Requirements: caller holds GOVERNOR_ROLE and is active; `account` is new and not zero;
    /// `info.name` is not empty; no role in `roles` is the default admin role.
    /// Emits {MemberRegistered} and one {IAccessControl-RoleGranted} per new role.
    function registerMember(address account, MemberInfo calldata info, bytes32[] calldata roles) external;

    /// @notice Replaces the metadata of `account`, but never its HPKE key: uploads and pull answers
    /// are sealed to that key, so only the member changes it ({rotateHpkeKey}).
    /// Requirements: caller is an active governor; `account` is registered and not retired; name not empty;
    /// `info.hpkePublicKey` is the member's current key.
    /// Emits {MemberUpdated}.
    function updateMember(address account, MemberInfo calldata info) external;

    /// @notice The caller, an active member, replaces its own HPKE public key: the one way a
    /// member's key changes after registration. The member keeps its earlier private keys to open
    /// what was sealed to them; {MemberKeyRotated} records which key was current from which block.
    /// Emits {MemberKeyRotated}.
    function rotateHpkeKey(bytes32 newKey) external;

    /// @notice Suspends an active member. Requirements: caller is an active governor; `account` is active.
    /// Emits {MemberSuspended}.
    function suspendMember(address account, bytes32 reasonHash) external;

    /// @notice Reinstates a suspended member. Requirements: caller is an active governor; `account` is suspended.
    /// Emits {MemberReinstated}.
    function reinstateMember(address account) external;

    /// @notice Retires a member for good and revokes every role it holds.
    /// Requirements: caller is an active governor; `account` is active or suspended.
    /// Emits {MemberRetired} and one {IAccessControl-RoleRevoked} per role.
    function retireMember(address account, bytes32 reasonHash) external;

    /// @notice The caller, an active member holding ISSUER_ROLE, creates its OpenAttestation-compatible
    /// document store (see {IDocumentStore}): issuer the caller, registry this contract, writable.
    /// From then on the registry keeps the store's `writable` flag equal to
    /// `hasActiveRole(ISSUER_ROLE, issuer)` whenever a suspension, reinstatement, retirement, or a grant,
    /// revocation or renouncement of ISSUER_ROLE changes it.
    /// Requirements: the caller is an active ISSUER with no store yet; `name` is not empty.
    /// Emits {DocumentStoreCreated}.
    /// @return store The new store's address.
    function createDocumentStore(string calldata name) external returns (address store);

    /// @notice The document store `account` created; the zero address if none.
    function documentStoreOf(address account) external view returns (address);

    /// @notice The issuer account of `store` if this registry created it; the zero address otherwise.
    /// Verifiers trust a store only when this names its issuer.
    function issuerOfStore(address store) external view returns (address);

    /// @notice True when `account` holds `role` and is an active member. Other contracts gate on this.
    function hasActiveRole(bytes32 role, address account) external view returns (bool);

    /// @notice True when `account` is an active member holding DATA_HOLDER_ROLE that serves `category` (bit index).
    function servesCategory(address account, uint8 category) external view returns (bool);

    /// @notice The stored member (status `None` for an unknown account).
    function getMember(address account) external view returns (Member memory);

    /// @notice Number of accounts ever registered (retired included).
    function memberCount() external view returns (uint256);

    /// @notice The `index`-th registered account, in registration order.
    function memberAt(uint256 index) external view returns (address);
}
