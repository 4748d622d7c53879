// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";

/// @title IOpenAttestationDocumentStore — OpenAttestation's DocumentStore, as in the npm package document-store 3.0.0 (GovTech)
/// @notice Function for function and event for event the store OpenAttestation's verifier
/// (npm oa-verify 9.x, "OpenAttestationEthereumDocumentStoreStatus") reads: it calls
/// {isIssued} on the Merkle root of a wrapped document and {isRevoked} on its target hash, every
/// intermediate node and the root. A hash is issued (or revoked) while the block number recorded
/// for it is not zero. OpenAttestation's access-control functions (roles) are not part of it.
///
/// Note: this is the non-batchable (v3) interface. A store must NOT answer true to
/// `supportsInterface(0xdcfd0745)` (document-store v4's batchable interface): the verifier would then
/// call `isIssued(bytes32,bytes32,bytes32[])`, which this interface does not have.
interface IOpenAttestationDocumentStore {
    /// @notice Emitted once per hash issued.
    event DocumentIssued(bytes32 indexed document);
    /// @notice Emitted once per hash revoked.
    event DocumentRevoked(bytes32 indexed document);

    /// @notice Issues `document` (a Merkle root of a batch of wrapped documents).
    /// Reverts if it was issued before. Emits {DocumentIssued}.
    function issue(bytes32 document) external;

    /// @notice Issues every hash of `documents`, in order; reverts entirely if any was issued before
    /// (a repeat within `documents` included). govchain's store also refuses an empty list.
    /// Emits one {DocumentIssued} per hash.
    function bulkIssue(bytes32[] calldata documents) external;

    /// @notice Revokes `document`: a Merkle root (the whole batch) or any hash below one (a single
    /// document's target hash, or an intermediate node). The hash need not have been issued itself.
    /// Reverts if it was revoked before. Emits {DocumentRevoked}.
    /// @return True (OpenAttestation's signature).
    function revoke(bytes32 document) external returns (bool);

    /// @notice Revokes every hash of `documents`, in order; reverts entirely if any was revoked before
    /// (a repeat within `documents` included). govchain's store also refuses an empty list.
    /// Emits one {DocumentRevoked} per hash.
    function bulkRevoke(bytes32[] calldata documents) external;

    /// @notice True once `document` was issued.
    function isIssued(bytes32 document) external view returns (bool);

    /// @notice True once `document` was revoked.
    function isRevoked(bytes32 document) external view returns (bool);

    /// @notice True if `document` was issued in block `blockNumber` or earlier.
    function isIssuedBefore(bytes32 document, uint256 blockNumber) external view returns (bool);

    /// @notice True if `document` was revoked in block `blockNumber` or earlier.
    function isRevokedBefore(bytes32 document, uint256 blockNumber) external view returns (bool);

    /// @notice The block `document` was issued in; 0 if it never was.
    function documentIssued(bytes32 document) external view returns (uint256);

    /// @notice The block `document` was revoked in; 0 if it never was.
    function documentRevoked(bytes32 document) external view returns (uint256);

    /// @notice The block `document` was issued in; reverts if it never was.
    function getIssuedBlock(bytes32 document) external view returns (uint256);

    /// @notice The store's name, as given at creation.
    function name() external view returns (string memory);

    /// @notice The version of this store's code.
    function version() external view returns (string memory);
}

/// @title IDocumentStore — one issuing agency's certificate store in govchain
/// @notice An {IOpenAttestationDocumentStore} owned by one agency account (its `issuer`) and created
/// through GovRegistry ({IGovRegistry-createDocumentStore}) as an EIP-1167 clone of one implementation,
/// with the issuer as its immutable argument. Only the issuing key (`writer`, the issuer
/// itself until a governor rotates it) writes, and only while
/// the registry keeps the store `writable`: the registry sets the flag to whether the issuer is an
/// active member holding ISSUER_ROLE, each time that changes. What was issued and revoked stays
/// readable for good.
///
/// Trust: anyone can deploy code that claims an issuer and a registry. A store is govchain's only if
/// `GovRegistry.issuerOfStore(store)` names its issuer; verifiers check that.
///
/// ERC-165: answers true for IERC165, {IOpenAttestationDocumentStore} and {IDocumentStore}.
interface IDocumentStore is IOpenAttestationDocumentStore, IERC165 {
    /// @notice `account` may not do this: writes are the issuer's, {setWritable} is the registry's.
    error DocumentStoreUnauthorizedAccount(address account);
    /// @notice The store is read-only: its `issuer` is not an active member holding ISSUER_ROLE.
    error DocumentStoreWriteNotAllowed(address issuer);
    /// @notice `document` was issued before (in block `blockNumber`).
    error DocumentStoreAlreadyIssued(bytes32 document, uint256 blockNumber);
    /// @notice `document` was revoked before (in block `blockNumber`).
    error DocumentStoreAlreadyRevoked(bytes32 document, uint256 blockNumber);
    /// @notice `document` was never issued ({getIssuedBlock}).
    error DocumentStoreUnknownDocument(bytes32 document);
    /// @notice A bulk call was given no hash.
    error DocumentStoreEmptyBatch();

    /// @notice Emitted when the registry opened (`writable` true) or closed the store to writes.
    event WritableChanged(bool writable);
    /// @notice Emitted when the registry changed the issuing key (a governor's rotation).
    event WriterChanged(address indexed previousWriter, address indexed writer);

    /// @notice The issuing agency's account: the only account that writes. Fixed at creation (the
    /// clone's immutable argument); the zero address on the implementation itself.
    function issuer() external view returns (address);

    /// @notice The issuing key: the only account whose issue and revoke the store takes. The issuer's
    /// account at creation; changed only by the registry ({setWriter}). A retired key is refused from
    /// then on; what it issued before stays issued (revoked only by a revocation).
    function writer() external view returns (address);

    /// @notice Sets the issuing key. Requirements: the caller is the registry. Emits {WriterChanged}.
    function setWriter(address newWriter) external;

    /// @notice Revokes `document` for the registry (a governor's revocation in a suspended issuer's
    /// store; the registry emits who revoked it). Requirements: the caller is the registry; not revoked
    /// before. Emits {DocumentRevoked}, as any revocation.
    function revokeByRegistry(bytes32 document) external;

    /// @notice The GovRegistry that created the store and keeps its `writable` flag. Fixed at creation.
    function registry() external view returns (address);

    /// @notice True while the issuer may write (it is an active member holding ISSUER_ROLE).
    function writable() external view returns (bool);

    /// @notice Opens or closes the store to writes. Requirements: the caller is the registry.
    /// Emits {WritableChanged} when the value changes.
    function setWritable(bool value) external;
}
