// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IGovRegistry} from "./IGovRegistry.sol";

/// @title IEvidenceLedger — anchoring of evidence roots (manifests, commitments, deliveries)
/// @notice A member anchors the root (a hash, usually a Merkle root) of a piece of evidence kept
/// off chain: a paperless submission's manifest, a commitment, the check of a commitment, a
/// delivery. Each root is anchored once, with its kind and a reference (e.g. the application or
/// matter it belongs to, as a hash), by whom and in which block. Only hashes go on chain.
///
/// Kinds are `keccak256` of their names; the ledger exposes the well-known ones as constants
/// (SUBMISSION_MANIFEST, COMMITMENT, COMMITMENT_CHECK, DELIVERY) but accepts any nonzero kind.
///
/// Storage: one slot per root: uint48 block number | uint48 timestamp | address by.
interface IEvidenceLedger {
    /// @notice One record to anchor.
    /// @param kind keccak256 of the kind's name, e.g. keccak256("SUBMISSION_MANIFEST"); not zero.
    /// @param ref What the evidence belongs to (a hash or an id; zero allowed).
    /// @param root The evidence root; not zero, never anchored before.
    struct Record {
        bytes32 kind;
        bytes32 ref;
        bytes32 root;
    }

    /// @notice `account` is not an active member holding RELAYER_ROLE, AGENCY_ROLE or ISSUER_ROLE.
    error EvidenceLedgerUnauthorizedAccount(address account);
    /// @notice `root` was anchored before, in block `blockNumber`.
    error EvidenceLedgerAlreadyAnchored(bytes32 root, uint64 blockNumber);
    /// @notice A root is zero.
    error EvidenceLedgerZeroRoot();
    /// @notice The kind of `root` is zero.
    error EvidenceLedgerZeroKind(bytes32 root);
    /// @notice {anchorBatch} was given no record.
    error EvidenceLedgerEmptyBatch();

    /// @notice Emitted once per anchored record.
    event EvidenceAnchored(bytes32 indexed root, bytes32 indexed kind, bytes32 indexed ref, address by);

    /// @notice Anchors `root` of kind `kind` for `ref`.
    /// Requirements: the caller is an active RELAYER, AGENCY or ISSUER; `kind` and `root` are not zero;
    /// `root` was never anchored. Emits {EvidenceAnchored}.
    function anchor(bytes32 kind, bytes32 ref, bytes32 root) external;

    /// @notice Anchors every record of `records`, in order, all or none: one record that {anchor} would
    /// refuse (a repeat within `records` included) reverts the whole batch.
    /// Emits one {EvidenceAnchored} per record.
    function anchorBatch(Record[] calldata records) external;

    /// @notice When and by whom `root` was anchored; all zero if it never was.
    function anchoredAt(bytes32 root) external view returns (uint48 blockNumber, uint48 timestamp, address by);

    /// @notice The GovRegistry that says who may anchor.
    function registry() external view returns (IGovRegistry);
}
