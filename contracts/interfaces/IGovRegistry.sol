// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

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
    /// one slot: bytes32 hpkePublicKey; then one slot: uint64 dataCategories | uint8 status | uint40 registeredAt |
    /// uint40 updatedAt | uint16 roles.
    /// `roles` mirrors AccessControl's `hasRole` for the eight member roles, bit i for role i of
    /// GOVERNOR, RELAYER, AGENCY, DATA_HOLDER, ISSUER, PROCUREMENT, AUDITOR, BIDDER (see Roles.sol):
    /// kept beside `status` so {hasActiveRole} and {servesCategory} read one slot.
    struct Member {
        string name;
        string orgCode;
        string domain;
        bytes32 hpkePublicKey;
        uint64 dataCategories;
        MemberStatus status;
        uint40 registeredAt;
        uint40 updatedAt;
        uint16 roles;
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
    /// @notice `caller` tried to suspend, retire or (not being it) update `account`, the default admin:
    /// the admin's record only changes by its own hand or through the two-step default-admin transfer.
    error GovRegistryAdminProtected(address account, address caller);
    /// @notice `account` already has its document store `store` (one per issuer account).
    error GovRegistryStoreExists(address account, address store);
    /// @notice A governor tried to replace the HPKE key of `account` (`currentKey`) with `proposedKey`:
    /// the key data is sealed to changes only by the member itself ({rotateHpkeKey}).
    error GovRegistryKeyChangeNeedsMember(address account, bytes32 currentKey, bytes32 proposedKey);
    /// @notice `issuer` has no document store.
    error GovRegistryNoStore(address issuer);
    /// @notice `issuer` is an active ISSUER: its store is its own to write; a governor steps in only
    /// once it is suspended (or its ISSUER_ROLE revoked, or it is retired).
    error GovRegistryIssuerActive(address issuer);

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
    /// @notice Emitted when `issuer` created its document store `store`; `name` is the issuer's member
    /// name then (the store's `name()` follows the member record).
    event DocumentStoreCreated(address indexed issuer, address indexed store, string name);
    /// @notice Emitted when `governor` replaced the issuing key of `issuer`'s `store` (`previousKey` is refused from then on).
    event IssuingKeyRotated(address indexed issuer, address indexed store, address previousKey, address newKey, address indexed governor);
    /// @notice Emitted when `governor` revoked `document` in the store of the suspended `issuer`.
    event DocumentRevokedByGovernor(address indexed issuer, bytes32 indexed document, address indexed governor, address store, bytes32 reasonHash);

    /// @notice Registers `account` as an active member with `info` and grants it `roles`.
    /// Requirements: caller holds GOVERNOR_ROLE and is active; `account` is new and not zero;
    /// `info.name` is not empty; no role in `roles` is the default admin role; the caller holds each role's
    /// admin role (the rule {grantRole} applies: GOVERNOR_ROLE is granted by the default admin only).
    /// Emits {MemberRegistered} and one {IAccessControl-RoleGranted} per new role.
    function registerMember(address account, MemberInfo calldata info, bytes32[] calldata roles) external;

    /// @notice Replaces the metadata of `account`, but never its HPKE key: uploads and pull answers
    /// are sealed to that key, so only the member changes it ({rotateHpkeKey}).
    /// Requirements: caller is an active governor; `account` is registered and not retired; name not empty;
    /// `account` is not the default admin unless the caller is it;
    /// `info.hpkePublicKey` is the member's current key.
    /// Emits {MemberUpdated}.
    function updateMember(address account, MemberInfo calldata info) external;

    /// @notice The caller, an active member, replaces its own HPKE public key: the one way a
    /// member's key changes after registration. The member keeps its earlier private keys to open
    /// what was sealed to them; {MemberKeyRotated} records which key was current from which block.
    /// Emits {MemberKeyRotated}.
    function rotateHpkeKey(bytes32 newKey) external;

    /// @notice Suspends an active member. Requirements: caller is an active governor; `account` is active
    /// and is not the default admin.
    /// Emits {MemberSuspended}.
    function suspendMember(address account, bytes32 reasonHash) external;

    /// @notice Reinstates a suspended member. Requirements: caller is an active governor; `account` is suspended.
    /// Emits {MemberReinstated}.
    function reinstateMember(address account) external;

    /// @notice Retires a member for good and revokes every role it holds.
    /// Requirements: caller is an active governor; `account` is active or suspended and is not the default admin.
    /// Emits {MemberRetired} and one {IAccessControl-RoleRevoked} per role.
    function retireMember(address account, bytes32 reasonHash) external;

    /// @notice The caller, an active member holding ISSUER_ROLE, creates its OpenAttestation-compatible
    /// document store (see {IDocumentStore}): issuer the caller, registry this contract, writable.
    /// From then on the registry keeps the store's `writable` flag equal to
    /// `hasActiveRole(ISSUER_ROLE, issuer)` whenever a suspension, reinstatement, retirement, or a grant,
    /// revocation or renouncement of ISSUER_ROLE changes it.
    /// The store is an EIP-1167 clone of {storeImplementation} with the caller as its immutable argument,
    /// created with CREATE2 at an address fixed by the caller ({documentStoreOf}); it is named after the
    /// caller's member name (a store keeps no name of its own: creating one writes no storage slot).
    /// Requirements: the caller is an active ISSUER with no store yet.
    /// Emits {DocumentStoreCreated}.
    /// @return store The new store's address.
    function createDocumentStore() external returns (address store);

    /// @notice Replaces the issuing key of `issuer`'s store with `newKey` (a compromised or lost key):
    /// the store takes issue and revoke from `newKey` only, once the issuer is active again; what was
    /// issued before stays issued unless revoked. Requirements: caller is an active governor; `issuer`
    /// has a store and is not an active ISSUER (suspended first); `newKey` is not zero.
    /// Emits {IssuingKeyRotated} (and the store's {IDocumentStore-WriterChanged}).
    function rotateIssuingKey(address issuer, address newKey) external;

    /// @notice Revokes `document` in the store of `issuer`, who cannot (suspended, retired or no longer
    /// an ISSUER): the registry's way to withdraw what a compromised key issued. Requirements: caller is
    /// an active governor; `issuer` has a store and is not an active ISSUER; `document` not revoked there.
    /// Emits the store's {IOpenAttestationDocumentStore-DocumentRevoked} and {DocumentRevokedByGovernor}.
    function revokeDocument(address issuer, bytes32 document, bytes32 reasonHash) external;

    /// @notice The document store `account` created (an EIP-1167 clone of the registry's DocumentStore
    /// implementation, at the CREATE2 address fixed by `account`); the zero address if none.
    function documentStoreOf(address account) external view returns (address);

    /// @notice The issuer account of `store` if this registry created it; the zero address otherwise.
    /// Verifiers trust a store only when this names its issuer.
    function issuerOfStore(address store) external view returns (address);

    /// @notice The DocumentStore implementation every store of this registry is an EIP-1167 clone of.
    function storeImplementation() external view returns (address);

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
