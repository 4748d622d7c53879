// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IDocumentStore, IOpenAttestationDocumentStore} from "./interfaces/IDocumentStore.sol";

/// @title DocumentStore — an OpenAttestation-compatible certificate store of one issuing agency
/// @notice Created by GovRegistry ({IGovRegistry-createDocumentStore}), one per issuer account.
/// Its issuing key (`writer`) starts as the issuer's account; a governor may rotate it, and revoke
/// in the store, while the issuer is suspended ({IGovRegistry-rotateIssuingKey}, {IGovRegistry-revokeDocument}).
/// Unmodified OpenAttestation verifiers read it like OpenAttestation's own DocumentStore.
/// @dev Gas: a write reads one storage slot (`writer` and `writable`, packed together) besides the
/// document's own; `issuer` and `registry` are immutable and a write makes no external call, so {issue} costs no more than
/// OpenAttestation's role-checked DocumentStore.
contract DocumentStore is IDocumentStore {
    /// @inheritdoc IOpenAttestationDocumentStore
    string public constant version = "2.3.0";

    /// @inheritdoc IDocumentStore
    address public immutable issuer;
    /// @inheritdoc IDocumentStore
    address public immutable registry;

    /// @inheritdoc IDocumentStore
    address public writer;
    /// @inheritdoc IDocumentStore
    bool public writable;
    /// @inheritdoc IOpenAttestationDocumentStore
    mapping(bytes32 document => uint256 blockNumber) public documentIssued;
    /// @inheritdoc IOpenAttestationDocumentStore
    mapping(bytes32 document => uint256 blockNumber) public documentRevoked;
    string private _name;

    /// @param name_ The store's name (shown by verifiers).
    /// @param issuer_ The issuing agency's account; the only account that writes.
    /// @param registry_ The GovRegistry that keeps `writable`; the store starts writable (the registry
    /// creates it only for an active issuer).
    constructor(string memory name_, address issuer_, address registry_) {
        _name = name_;
        issuer = issuer_;
        registry = registry_;
        writer = issuer_;
        writable = true;
    }

    /// @inheritdoc IOpenAttestationDocumentStore
    function issue(bytes32 document) external {
        _requireWriter();
        _issue(document);
    }

    /// @inheritdoc IOpenAttestationDocumentStore
    function bulkIssue(bytes32[] calldata documents) external {
        _requireWriter();
        if (documents.length == 0) revert DocumentStoreEmptyBatch();
        for (uint256 i = 0; i < documents.length; ++i) {
            _issue(documents[i]);
        }
    }

    /// @inheritdoc IOpenAttestationDocumentStore
    function revoke(bytes32 document) external returns (bool) {
        _requireWriter();
        _revoke(document);
        return true;
    }

    /// @inheritdoc IOpenAttestationDocumentStore
    function bulkRevoke(bytes32[] calldata documents) external {
        _requireWriter();
        if (documents.length == 0) revert DocumentStoreEmptyBatch();
        for (uint256 i = 0; i < documents.length; ++i) {
            _revoke(documents[i]);
        }
    }

    /// @inheritdoc IDocumentStore
    function setWritable(bool value) external {
        _requireRegistry();
        if (writable != value) {
            writable = value;
            emit WritableChanged(value);
        }
    }

    /// @inheritdoc IDocumentStore
    function setWriter(address newWriter) external {
        _requireRegistry();
        emit WriterChanged(writer, newWriter);
        writer = newWriter;
    }

    /// @inheritdoc IDocumentStore
    function revokeByRegistry(bytes32 document) external {
        _requireRegistry();
        _revoke(document);
    }

    /// @inheritdoc IOpenAttestationDocumentStore
    function isIssued(bytes32 document) external view returns (bool) {
        return documentIssued[document] != 0;
    }

    /// @inheritdoc IOpenAttestationDocumentStore
    function isRevoked(bytes32 document) external view returns (bool) {
        return documentRevoked[document] != 0;
    }

    /// @inheritdoc IOpenAttestationDocumentStore
    function isIssuedBefore(bytes32 document, uint256 blockNumber) external view returns (bool) {
        uint256 issued = documentIssued[document];
        return issued != 0 && issued <= blockNumber;
    }

    /// @inheritdoc IOpenAttestationDocumentStore
    function isRevokedBefore(bytes32 document, uint256 blockNumber) external view returns (bool) {
        uint256 revoked = documentRevoked[document];
        return revoked != 0 && revoked <= blockNumber;
    }

    /// @inheritdoc IOpenAttestationDocumentStore
    function getIssuedBlock(bytes32 document) external view returns (uint256) {
        uint256 issued = documentIssued[document];
        if (issued == 0) revert DocumentStoreUnknownDocument(document);
        return issued;
    }

    /// @inheritdoc IOpenAttestationDocumentStore
    function name() external view returns (string memory) {
        return _name;
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == type(IOpenAttestationDocumentStore).interfaceId
            || interfaceId == type(IDocumentStore).interfaceId;
    }

    function _requireWriter() private view {
        if (msg.sender != writer) revert DocumentStoreUnauthorizedAccount(msg.sender);
        if (!writable) revert DocumentStoreWriteNotAllowed(msg.sender);
    }

    function _requireRegistry() private view {
        if (msg.sender != registry) revert DocumentStoreUnauthorizedAccount(msg.sender);
    }

    function _issue(bytes32 document) private {
        uint256 issued = documentIssued[document];
        if (issued != 0) revert DocumentStoreAlreadyIssued(document, issued);
        documentIssued[document] = block.number;
        emit DocumentIssued(document);
    }

    function _revoke(bytes32 document) private {
        uint256 revoked = documentRevoked[document];
        if (revoked != 0) revert DocumentStoreAlreadyRevoked(document, revoked);
        documentRevoked[document] = block.number;
        emit DocumentRevoked(document);
    }
}
