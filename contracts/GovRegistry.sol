// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {AccessControlDefaultAdminRules} from "@openzeppelin/contracts/access/extensions/AccessControlDefaultAdminRules.sol";
import {EnumerableSet} from "@openzeppelin/contracts/utils/structs/EnumerableSet.sol";
import {Clones} from "@openzeppelin/contracts/proxy/Clones.sol";
import {Roles} from "./Roles.sol";
import {IGovRegistry} from "./interfaces/IGovRegistry.sol";
import {DocumentStore} from "./DocumentStore.sol";

/// @title GovRegistry — the member registry and permissioning of govchain
/// @notice The default admin (the bureau) changes hands in two steps with a delay
/// (OpenZeppelin AccessControlDefaultAdminRules). Governors register, update, suspend and
/// retire members and grant the member roles; a role only counts while its holder is active.
/// Active issuers create their OpenAttestation-compatible document stores here; the registry
/// opens and closes each store to writes as its issuer's ISSUER_ROLE starts and stops counting.
contract GovRegistry is IGovRegistry, AccessControlDefaultAdminRules {
    using EnumerableSet for EnumerableSet.AddressSet;

    bytes32 public constant GOVERNOR_ROLE = Roles.GOVERNOR;
    bytes32 public constant RELAYER_ROLE = Roles.RELAYER;
    bytes32 public constant AGENCY_ROLE = Roles.AGENCY;
    bytes32 public constant DATA_HOLDER_ROLE = Roles.DATA_HOLDER;
    bytes32 public constant ISSUER_ROLE = Roles.ISSUER;
    bytes32 public constant PROCUREMENT_ROLE = Roles.PROCUREMENT;
    bytes32 public constant AUDITOR_ROLE = Roles.AUDITOR;
    /// @notice A bidder firm the bureau registered (its business licence checked off chain): only such a
    /// key may sign in to a tender opening (TenderLedger).
    bytes32 public constant BIDDER_ROLE = Roles.BIDDER;

    mapping(address account => Member) private _members;
    EnumerableSet.AddressSet private _accounts;
    /// @dev The DocumentStore every agency's store is an EIP-1167 clone of (deployed by the constructor).
    /// A store's address is fixed by its issuer ({_storeAddress}): no mapping is kept either way.
    address private immutable _storeImplementation;

    /// @param initialDelay Seconds a default-admin transfer must wait before it can be accepted.
    /// @param admin The bureau's admin account; it becomes the first member, with GOVERNOR_ROLE.
    /// @param adminInfo Public metadata of the bureau.
    constructor(uint48 initialDelay, address admin, MemberInfo memory adminInfo)
        AccessControlDefaultAdminRules(initialDelay, admin)
    {
        _storeImplementation = address(new DocumentStore());
        _setRoleAdmin(RELAYER_ROLE, GOVERNOR_ROLE);
        _setRoleAdmin(AGENCY_ROLE, GOVERNOR_ROLE);
        _setRoleAdmin(DATA_HOLDER_ROLE, GOVERNOR_ROLE);
        _setRoleAdmin(ISSUER_ROLE, GOVERNOR_ROLE);
        _setRoleAdmin(PROCUREMENT_ROLE, GOVERNOR_ROLE);
        _setRoleAdmin(AUDITOR_ROLE, GOVERNOR_ROLE);
        _setRoleAdmin(BIDDER_ROLE, GOVERNOR_ROLE);
        _addMember(admin, adminInfo, admin);
        _grantRole(GOVERNOR_ROLE, admin);
    }

    modifier onlyActiveGovernor() {
        _requireActiveRole(GOVERNOR_ROLE, _msgSender());
        _;
    }

    /// @inheritdoc IGovRegistry
    function registerMember(address account, MemberInfo calldata info, bytes32[] calldata roles)
        external
        onlyActiveGovernor
    {
        _addMember(account, info, _msgSender());
        for (uint256 i = 0; i < roles.length; ++i) {
            if (roles[i] == DEFAULT_ADMIN_ROLE) revert GovRegistryRoleNotGrantable(roles[i]);
            _checkRole(getRoleAdmin(roles[i])); // the rule grantRole applies: GOVERNOR is the default admin's
            _grantRole(roles[i], account);
        }
    }

    /// @inheritdoc IGovRegistry
    function updateMember(address account, MemberInfo calldata info) external onlyActiveGovernor {
        if (account == defaultAdmin() && _msgSender() != account) revert GovRegistryAdminProtected(account, _msgSender());
        Member storage m = _members[account];
        _requireNotRetired(account, m.status);
        if (bytes(info.name).length == 0) revert GovRegistryEmptyName(account);
        bytes32 currentKey = m.hpkePublicKey;
        if (info.hpkePublicKey != currentKey) {
            revert GovRegistryKeyChangeNeedsMember(account, currentKey, info.hpkePublicKey);
        }
        _writeInfo(m, info);
        emit MemberUpdated(
            account, _msgSender(), info.name, info.orgCode, info.domain, info.hpkePublicKey, info.dataCategories
        );
    }

    /// @inheritdoc IGovRegistry
    function rotateHpkeKey(bytes32 newKey) external {
        address account = _msgSender();
        Member storage m = _members[account];
        _requireStatus(account, m.status, MemberStatus.Active);
        bytes32 previous = m.hpkePublicKey;
        m.hpkePublicKey = newKey;
        m.updatedAt = uint40(block.timestamp);
        emit MemberKeyRotated(account, previous, newKey);
    }

    /// @inheritdoc IGovRegistry
    function suspendMember(address account, bytes32 reasonHash) external onlyActiveGovernor {
        _requireNotDefaultAdmin(account);
        _setStatus(account, MemberStatus.Active, MemberStatus.Suspended);
        emit MemberSuspended(account, _msgSender(), reasonHash);
    }

    /// @inheritdoc IGovRegistry
    function reinstateMember(address account) external onlyActiveGovernor {
        _setStatus(account, MemberStatus.Suspended, MemberStatus.Active);
        emit MemberReinstated(account, _msgSender());
    }

    /// @inheritdoc IGovRegistry
    function createDocumentStore() external returns (address store) {
        address account = _msgSender();
        _requireActiveRole(ISSUER_ROLE, account);
        store = _storeAddress(account);
        if (store.code.length != 0) revert GovRegistryStoreExists(account, store);
        Clones.cloneDeterministicWithImmutableArgs(_storeImplementation, abi.encodePacked(account), bytes32(0));
        emit DocumentStoreCreated(account, store, _members[account].name);
    }

    /// @inheritdoc IGovRegistry
    function rotateIssuingKey(address issuer, address newKey) external onlyActiveGovernor {
        if (newKey == address(0)) revert GovRegistryZeroAddress();
        DocumentStore store = _closedStoreOf(issuer);
        address previous = store.writer();
        store.setWriter(newKey);
        emit IssuingKeyRotated(issuer, address(store), previous, newKey, _msgSender());
    }

    /// @inheritdoc IGovRegistry
    function revokeDocument(address issuer, bytes32 document, bytes32 reasonHash) external onlyActiveGovernor {
        DocumentStore store = _closedStoreOf(issuer);
        store.revokeByRegistry(document);
        emit DocumentRevokedByGovernor(issuer, document, _msgSender(), address(store), reasonHash);
    }

    /// @inheritdoc IGovRegistry
    function retireMember(address account, bytes32 reasonHash) external onlyActiveGovernor {
        _requireNotDefaultAdmin(account);
        Member storage m = _members[account];
        _requireNotRetired(account, m.status);
        m.status = MemberStatus.Retired;
        m.updatedAt = uint40(block.timestamp);
        emit MemberRetired(account, _msgSender(), reasonHash);
        bytes32[8] memory roles = Roles.memberRoles();
        for (uint256 i = 0; i < roles.length; ++i) {
            _revokeRole(roles[i], account); // a no-op for a role it does not hold; ISSUER syncs its store
        }
        _syncStore(account);
    }

    /// @notice Grants a member role. On top of AccessControl's rule (caller holds the role's admin role),
    /// the account must be an active member and the caller, if a governor, must be active too.
    /// The default admin role is only transferred through the two-step transfer.
    function grantRole(bytes32 role, address account)
        public
        override
    {
        if (role == DEFAULT_ADMIN_ROLE) revert GovRegistryRoleNotGrantable(role);
        if (getRoleAdmin(role) == GOVERNOR_ROLE) _requireActiveRole(GOVERNOR_ROLE, _msgSender());
        _requireStatus(account, _members[account].status, MemberStatus.Active);
        super.grantRole(role, account);
    }

    /// @notice Revokes a member role; a governor must be active to do so.
    function revokeRole(bytes32 role, address account)
        public
        override
    {
        if (getRoleAdmin(role) == GOVERNOR_ROLE) _requireActiveRole(GOVERNOR_ROLE, _msgSender());
        super.revokeRole(role, account);
    }

    /// @inheritdoc IGovRegistry
    function hasActiveRole(bytes32 role, address account) public view returns (bool) {
        Member storage m = _members[account];
        if (m.status != MemberStatus.Active) return false;
        uint16 bit = Roles.bit(role);
        return bit != 0 ? m.roles & bit != 0 : hasRole(role, account); // a member role: the mask in the same slot
    }

    /// @inheritdoc IGovRegistry
    function servesCategory(address account, uint8 category) external view returns (bool) {
        Member storage m = _members[account]; // status, roles and categories: one slot
        return category < 64 && m.status == MemberStatus.Active && m.roles & Roles.bit(Roles.DATA_HOLDER) != 0
            && (m.dataCategories >> category) & 1 == 1;
    }

    /// @inheritdoc IGovRegistry
    function documentStoreOf(address account) public view returns (address) {
        address store = _storeAddress(account);
        return store.code.length != 0 ? store : address(0);
    }

    /// @inheritdoc IGovRegistry
    function issuerOfStore(address store) external view returns (address) {
        // a clone made here has 45 bytes of EIP-1167 code and its issuer (20 bytes) as argument, and
        // sits at the address this registry's CREATE2 gives for that issuer: anything else is no store of ours
        if (store.code.length != 65) return address(0);
        address issuer = address(bytes20(Clones.fetchCloneArgs(store)));
        return _storeAddress(issuer) == store ? issuer : address(0);
    }

    /// @inheritdoc IGovRegistry
    function storeImplementation() external view returns (address) {
        return _storeImplementation;
    }

    /// @inheritdoc IGovRegistry
    function getMember(address account) external view returns (Member memory) {
        return _members[account];
    }

    /// @inheritdoc IGovRegistry
    function memberCount() external view returns (uint256) {
        return _accounts.length();
    }

    /// @inheritdoc IGovRegistry
    function memberAt(uint256 index) external view returns (address) {
        return _accounts.at(index);
    }

    function _addMember(address account, MemberInfo memory info, address governor) private {
        if (account == address(0)) revert GovRegistryZeroAddress();
        if (_members[account].status != MemberStatus.None) revert GovRegistryMemberExists(account);
        if (bytes(info.name).length == 0) revert GovRegistryEmptyName(account);
        Member storage m = _members[account];
        _writeInfo(m, info);
        m.status = MemberStatus.Active;
        m.registeredAt = uint40(block.timestamp);
        _accounts.add(account);
        emit MemberRegistered(
            account, governor, info.name, info.orgCode, info.domain, info.hpkePublicKey, info.dataCategories
        );
    }

    function _writeInfo(Member storage m, MemberInfo memory info) private {
        m.name = info.name;
        m.orgCode = info.orgCode;
        m.domain = info.domain;
        m.hpkePublicKey = info.hpkePublicKey;
        m.dataCategories = info.dataCategories;
        m.updatedAt = uint40(block.timestamp);
    }

    function _setStatus(address account, MemberStatus from, MemberStatus to) private {
        Member storage m = _members[account];
        _requireStatus(account, m.status, from);
        m.status = to;
        m.updatedAt = uint40(block.timestamp);
        _syncStore(account);
    }

    /// @dev Every grant (registerMember, grantRole) passes here: keeps the member's role mask and the
    /// issuer's store in step.
    function _grantRole(bytes32 role, address account) internal override returns (bool granted) {
        granted = super._grantRole(role, account);
        if (!granted) return granted;
        uint16 bit = Roles.bit(role);
        if (bit != 0) _members[account].roles |= bit;
        if (role == ISSUER_ROLE) _syncStore(account);
    }

    /// @dev Every revocation (revokeRole, renounceRole, retireMember) passes here: keeps the member's role
    /// mask and the issuer's store in step.
    function _revokeRole(bytes32 role, address account) internal override returns (bool revoked) {
        revoked = super._revokeRole(role, account);
        if (!revoked) return revoked;
        uint16 bit = Roles.bit(role);
        if (bit != 0) _members[account].roles &= ~bit;
        if (role == ISSUER_ROLE) _syncStore(account);
    }

    /// @dev Sets the store's `writable` flag to whether `account` is an active ISSUER, when the store
    /// exists and the flag differs.
    function _syncStore(address account) private {
        address store = documentStoreOf(account);
        if (store == address(0)) return;
        bool active = hasActiveRole(ISSUER_ROLE, account);
        if (DocumentStore(store).writable() != active) DocumentStore(store).setWritable(active);
    }

    /// @dev The store of `issuer`, which must exist and be closed to its issuer (not an active ISSUER):
    /// a governor writes in a store only when its issuer cannot.
    function _closedStoreOf(address issuer) private view returns (DocumentStore) {
        address store = documentStoreOf(issuer);
        if (store == address(0)) revert GovRegistryNoStore(issuer);
        if (hasActiveRole(ISSUER_ROLE, issuer)) revert GovRegistryIssuerActive(issuer);
        return DocumentStore(store);
    }

    /// @dev Where the store of `issuer` is (or would be): the CREATE2 address of the clone with `issuer`
    /// as its immutable argument and a zero salt, made by this registry.
    function _storeAddress(address issuer) private view returns (address) {
        return Clones.predictDeterministicAddressWithImmutableArgs(_storeImplementation, abi.encodePacked(issuer), bytes32(0));
    }

    /// @dev The default admin's record changes hands only through the two-step admin transfer.
    function _requireNotDefaultAdmin(address account) private view {
        if (account == defaultAdmin()) revert GovRegistryAdminProtected(account, _msgSender());
    }

    function _requireActiveRole(bytes32 role, address account) private view {
        Member storage m = _members[account]; // a member role's bit and the status share a slot
        uint16 bit = Roles.bit(role);
        if (bit != 0 ? m.roles & bit == 0 : !hasRole(role, account)) revert AccessControlUnauthorizedAccount(account, role);
        _requireStatus(account, m.status, MemberStatus.Active);
    }

    function _requireStatus(address account, MemberStatus status, MemberStatus expected) private pure {
        if (status == MemberStatus.None) revert GovRegistryUnknownMember(account);
        if (status != expected) revert GovRegistryWrongStatus(account, status, expected);
    }

    function _requireNotRetired(address account, MemberStatus status) private pure {
        if (status == MemberStatus.None) revert GovRegistryUnknownMember(account);
        if (status == MemberStatus.Retired) revert GovRegistryWrongStatus(account, status, MemberStatus.Active);
    }
}
