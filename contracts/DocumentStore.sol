// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IERC165} from "@openzeppelin/contracts/utils/introspection/IERC165.sol";
import {IDocumentStore, IOpenAttestationDocumentStore} from "./interfaces/IDocumentStore.sol";
import {IGovRegistry} from "./interfaces/IGovRegistry.sol";

/// @title DocumentStore — an OpenAttestation-compatible certificate store of one issuing agency
/// @notice One implementation, deployed by GovRegistry in its constructor; every agency's store is an
/// EIP-1167 clone of it (OpenZeppelin `Clones`, created at an address fixed by the issuer:
/// {IGovRegistry-createDocumentStore}) with the issuer's account as the clone's immutable argument.
/// A clone runs no constructor, and needs no initializer: its only state fixed at creation is the
/// issuer (in its code); its name is its issuer's member name in the registry. Its issuing key (`writer`) is the
/// issuer's account until a governor rotates it, and revokes in the store, while the issuer is
/// suspended ({IGovRegistry-rotateIssuingKey}, {IGovRegistry-revokeDocument}). Unmodified
/// OpenAttestation verifiers read it like OpenAttestation's own DocumentStore.
/// @dev Gas: a write reads one storage slot (the writer override and the closed flag, packed) besides
/// the document's own, and the issuer from the clone's code; `registry` is an immutable of the
/// implementation (shared by every clone, all made by the same registry). Creating a store writes no
/// slot and deploys 65 bytes of code, instead of deploying the whole contract (an initializer writing a
/// name would cost 26,188 gas more, measured: a cold DELEGATECALL and a new slot).
contract DocumentStore is IDocumentStore {
    /// @inheritdoc IOpenAttestationDocumentStore
    string public constant version = "2.3.0";

    /// @inheritdoc IDocumentStore
    address public immutable registry;
    /// @dev The implementation's own address: a call made on it (not through a clone) has no issuer.
    address private immutable _implementation;

    /// @dev The issuing key when a governor rotated it; zero: the issuer itself.
    address private _writer;
    /// @dev True while the registry keeps the store closed to writes (zero, open, at creation).
    bool private _closed;
    /// @inheritdoc IOpenAttestationDocumentStore
    mapping(bytes32 document => uint256 blockNumber) public documentIssued;
    /// @inheritdoc IOpenAttestationDocumentStore
    mapping(bytes32 document => uint256 blockNumber) public documentRevoked;

    /// @dev Deployed once, by GovRegistry: `registry` is the deployer, for the implementation and every clone.
    constructor() {
        registry = msg.sender;
        _implementation = address(this);
    }

    /// @inheritdoc IDocumentStore
    function issuer() public view returns (address account) {
        if (address(this) == _implementation) return address(0);
        // the clone's immutable argument: the 20 bytes after its 45 bytes of EIP-1167 code
        // (OpenZeppelin's Clones.fetchCloneArgs, without its length check: a clone's code is fixed)
        assembly ("memory-safe") {
            extcodecopy(address(), 0, 45, 20)
            account := shr(96, mload(0))
        }
    }

    /// @inheritdoc IDocumentStore
    function writer() public view returns (address) {
        address rotated = _writer;
        return rotated == address(0) ? issuer() : rotated;
    }

    /// @inheritdoc IDocumentStore
    function writable() external view returns (bool) {
        return !_closed;
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
        if (_closed == value) {
            _closed = !value;
            emit WritableChanged(value);
        }
    }

    /// @inheritdoc IDocumentStore
    function setWriter(address newWriter) external {
        _requireRegistry();
        emit WriterChanged(writer(), newWriter);
        _writer = newWriter;
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
        address account = issuer();
        return account == address(0) ? "" : IGovRegistry(registry).getMember(account).name;
    }

    /// @inheritdoc IERC165
    function supportsInterface(bytes4 interfaceId) external pure returns (bool) {
        return interfaceId == type(IERC165).interfaceId || interfaceId == type(IOpenAttestationDocumentStore).interfaceId
            || interfaceId == type(IDocumentStore).interfaceId;
    }

    function _requireWriter() private view {
        if (msg.sender != writer()) revert DocumentStoreUnauthorizedAccount(msg.sender);
        if (_closed) revert DocumentStoreWriteNotAllowed(msg.sender);
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
