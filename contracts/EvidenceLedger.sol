// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {Roles} from "./Roles.sol";
import {IGovRegistry} from "./interfaces/IGovRegistry.sol";
import {IEvidenceLedger} from "./interfaces/IEvidenceLedger.sol";

/// @title EvidenceLedger — each evidence root anchored once, with its kind, reference, sender and block
/// @notice See {IEvidenceLedger}. Relayers, agencies and issuers (active members of the registry) anchor.
contract EvidenceLedger is IEvidenceLedger {
    /// @notice A paperless submission's manifest root (the materials an applicant uploaded).
    bytes32 public constant SUBMISSION_MANIFEST = keccak256("SUBMISSION_MANIFEST");
    /// @notice A commitment (e.g. an applicant's signed undertaking 告知承诺).
    bytes32 public constant COMMITMENT = keccak256("COMMITMENT");
    /// @notice The result of checking a commitment after the fact.
    bytes32 public constant COMMITMENT_CHECK = keccak256("COMMITMENT_CHECK");
    /// @notice A delivery (e.g. a mailed certificate's tracking record).
    bytes32 public constant DELIVERY = keccak256("DELIVERY");

    /// @dev One slot: uint48 block | uint48 timestamp | address by.
    struct Anchor {
        uint48 blockNumber;
        uint48 timestamp;
        address by;
    }

    IGovRegistry private immutable _registry;
    mapping(bytes32 root => Anchor) private _anchors;

    /// @param registry_ The GovRegistry that says who is an active relayer, agency or issuer.
    constructor(IGovRegistry registry_) {
        _registry = registry_;
    }

    /// @inheritdoc IEvidenceLedger
    function anchor(bytes32 kind, bytes32 ref, bytes32 root) external {
        _requireAnchorer();
        _anchor(kind, ref, root, _here());
    }

    /// @inheritdoc IEvidenceLedger
    function anchorBatch(Record[] calldata records) external {
        _requireAnchorer();
        if (records.length == 0) revert EvidenceLedgerEmptyBatch();
        Anchor memory here = _here();
        for (uint256 i = 0; i < records.length; ++i) {
            Record calldata r = records[i];
            _anchor(r.kind, r.ref, r.root, here);
        }
    }

    /// @inheritdoc IEvidenceLedger
    function anchoredAt(bytes32 root) external view returns (uint48 blockNumber, uint48 timestamp, address by) {
        Anchor memory a = _anchors[root];
        return (a.blockNumber, a.timestamp, a.by);
    }

    /// @inheritdoc IEvidenceLedger
    function registry() external view returns (IGovRegistry) {
        return _registry;
    }

    function _here() private view returns (Anchor memory) {
        return Anchor(SafeCast.toUint48(block.number), SafeCast.toUint48(block.timestamp), msg.sender);
    }

    function _anchor(bytes32 kind, bytes32 ref, bytes32 root, Anchor memory here) private {
        if (root == bytes32(0)) revert EvidenceLedgerZeroRoot();
        if (kind == bytes32(0)) revert EvidenceLedgerZeroKind(root);
        uint48 previous = _anchors[root].blockNumber;
        if (previous != 0) revert EvidenceLedgerAlreadyAnchored(root, previous);
        _anchors[root] = here;
        emit EvidenceAnchored(root, kind, ref, msg.sender);
    }

    function _requireAnchorer() private view {
        address account = msg.sender;
        if (
            !_registry.hasActiveRole(Roles.RELAYER, account) && !_registry.hasActiveRole(Roles.AGENCY, account)
                && !_registry.hasActiveRole(Roles.ISSUER, account)
        ) revert EvidenceLedgerUnauthorizedAccount(account);
    }
}
