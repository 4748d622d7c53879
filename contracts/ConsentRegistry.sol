// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Roles} from "./Roles.sol";
import {IGovRegistry} from "./interfaces/IGovRegistry.sol";
import {IConsentRegistry} from "./interfaces/IConsentRegistry.sol";

/// @title ConsentRegistry — citizens' signed consents to data pulls, and the pull log
/// @notice Consents are EIP-712 signed by the applicant (EOA or ERC-1271 wallet) and submitted
/// by the applicant or an active relayer; data holders log each pull against a consent, on the
/// requesting agency's EIP-712 signed pull request, checked here. Roles are read from
/// GovRegistry at the time of each call. Per consent two storage slots are kept; the scope,
/// purpose and face-check hashes are only emitted, and bound by the consent id (the EIP-712
/// digest of the terms). A pull writes no slot of its own: its sequence number is the replay guard.
contract ConsentRegistry is IConsentRegistry, EIP712 {
    bytes32 private constant CONSENT_TYPEHASH = keccak256(
        "Consent(address applicant,address agency,uint8 categories,bytes32 scopeHash,bytes32 purposeHash,"
        "bytes32 faceCheckRef,uint40 notBefore,uint40 expiresAt,uint16 maxPulls,uint256 nonce,uint256 deadline)"
    );
    bytes32 private constant REVOCATION_TYPEHASH = keccak256("Revocation(bytes32 consentId,uint256 deadline)");
    bytes32 private constant PULL_REQUEST_TYPEHASH = keccak256(
        "PullRequest(bytes32 consentId,uint16 sequence,uint8 category,address requester,address holder,"
        "PullDetails details,uint64 issuedAt)PullDetails(bytes32 attributesHash,bytes32 subjectHash)"
    );
    uint256 private constant PULL_REQUEST_LIFETIME = 1 days;

    /// @dev Categories are bits 0..2 of a uint8: anything at or above this is invalid.
    uint8 private constant CATEGORY_LIMIT = 8;

    IGovRegistry private immutable _registry;

    mapping(bytes32 consentId => Consent) private _consents;

    /// @param registry_ The GovRegistry that says who is an active relayer, agency and data holder.
    constructor(IGovRegistry registry_) EIP712("govchain ConsentRegistry", "1") {
        _registry = registry_;
    }

    /// @inheritdoc IConsentRegistry
    function grantConsent(ConsentTerms calldata terms, bytes calldata signature)
        external
        returns (bytes32 consentId)
    {
        address sender = msg.sender;
        if (sender != terms.applicant && !_registry.hasActiveRole(Roles.RELAYER, sender)) {
            revert ConsentRegistryUnauthorizedRelayer(sender);
        }
        if (block.timestamp > terms.deadline) revert ConsentRegistrySignatureExpired(terms.deadline, block.timestamp);
        consentId = _hashTypedDataV4(_hashTerms(terms));
        if (!_isValidSignature(terms.applicant, consentId, signature)) revert ConsentRegistryInvalidSignature(terms.applicant);
        if (!_registry.hasActiveRole(Roles.AGENCY, terms.agency)) revert ConsentRegistryNotAnAgency(terms.agency);
        if (terms.categories == 0 || terms.categories >= CATEGORY_LIMIT) {
            revert ConsentRegistryInvalidCategories(terms.categories);
        }
        if (terms.expiresAt <= terms.notBefore || terms.expiresAt <= block.timestamp) {
            revert ConsentRegistryInvalidWindow(terms.notBefore, terms.expiresAt);
        }
        if (terms.maxPulls == 0) revert ConsentRegistryZeroMaxPulls();
        // the replay guard: the id is the digest of the signed terms (nonce included), and a
        // consent's status never returns to None (no nonce bitmap: 22,100 gas a grant)
        Consent storage c = _consents[consentId];
        if (c.status != ConsentState.None) revert ConsentRegistryConsentExists(consentId);
        // one write per slot (a field at a time would read and write the packed slot again each time)
        _consents[consentId] = Consent({
            agency: terms.agency,
            notBefore: terms.notBefore,
            expiresAt: terms.expiresAt,
            categories: terms.categories,
            status: ConsentState.Active,
            applicant: terms.applicant,
            pulls: 0,
            maxPulls: terms.maxPulls
        });
        _emitGranted(consentId, terms);
    }

    /// @inheritdoc IConsentRegistry
    function revokeConsent(bytes32 consentId) external {
        Consent storage c = _revocable(consentId);
        address applicant = c.applicant;
        if (msg.sender != applicant) revert ConsentRegistryNotApplicant(msg.sender, applicant);
        c.status = ConsentState.Revoked;
        emit ConsentRevoked(consentId, applicant, msg.sender);
    }

    /// @inheritdoc IConsentRegistry
    function revokeConsentBySig(bytes32 consentId, uint256 deadline, bytes calldata signature) external {
        if (block.timestamp > deadline) revert ConsentRegistrySignatureExpired(deadline, block.timestamp);
        Consent storage c = _revocable(consentId);
        address applicant = c.applicant;
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(REVOCATION_TYPEHASH, consentId, deadline)));
        if (!_isValidSignature(applicant, digest, signature)) revert ConsentRegistryInvalidSignature(applicant);
        c.status = ConsentState.Revoked;
        emit ConsentRevoked(consentId, applicant, msg.sender);
    }

    /// @inheritdoc IConsentRegistry
    function pauseConsent(bytes32 consentId) external {
        Consent storage c = _ownConsent(consentId);
        ConsentState state = _state(c);
        if (state != ConsentState.Active) revert ConsentRegistryNotActive(consentId, state);
        c.status = ConsentState.Paused;
        emit ConsentPaused(consentId);
    }

    /// @inheritdoc IConsentRegistry
    function resumeConsent(bytes32 consentId) external {
        Consent storage c = _ownConsent(consentId);
        if (_state(c) != ConsentState.Paused) revert ConsentRegistryNotPaused(consentId);
        c.status = ConsentState.Active;
        emit ConsentResumed(consentId);
    }

    /// @inheritdoc IConsentRegistry
    function recordPulls(PullRecord[] calldata pulls, bytes[] calldata walletSignatures)
        external
        returns (uint256 recorded)
    {
        address holder = msg.sender;
        if (!_registry.hasActiveRole(Roles.DATA_HOLDER, holder)) revert ConsentRegistryUnauthorizedHolder(holder);
        // Registry answers kept for the batch: which categories the holder serves (asked once per
        // category), and whether the last requester asked about is an active agency.
        bytes32 domainSeparator = _domainSeparatorV4(); // once per batch (it checks chain id and address)
        uint256 asked;
        uint256 served;
        address lastRequester;
        bool lastIsAgency;
        // The consent of the record before (`m`, a copy of its two slots, and `c`, where they are),
        // kept while records of one consent follow each other: nothing else writes a consent during
        // the batch (every call out is a STATICCALL), and {_storePulls} updates the copy with the slot.
        // It starts as consent id zero, which is never granted (an id is a keccak256 digest), so its
        // all-zero copy is what storage holds for it (status None: `UnknownConsent`).
        bytes32 cachedId;
        Consent storage c = _consents[bytes32(0)]; // a pointer only: nothing read
        Consent memory m;
        // Records are read through a calldata pointer moved one record (9 words) on per iteration
        // (`pulls[i]` makes the optimizer recompute the record's offset at every field it reads);
        // the ABI decoder checked at entry that all `pulls.length` records lie inside the calldata.
        PullRecord calldata p;
        assembly ("memory-safe") {
            p := pulls.offset // the first record
        }
        for (uint256 i = 0; i < pulls.length; ++i) {
            (bytes32 consentId, uint16 sequence, uint8 category, address requester, uint64 issuedAt) = _fields(p, i);
            _checkSigned(p, requester, issuedAt, holder, domainSeparator, i, walletSignatures);
            if (consentId != cachedId) {
                // a record of another consent than the one before: its two slots read once, to memory
                (cachedId, c) = (consentId, _consents[consentId]);
                m = c;
            }
            PullRefusal reason = _precheck(m, category, requester);
            if (reason == PullRefusal.None) {
                uint256 bit = uint256(1) << category;
                if (asked & bit == 0) {
                    asked |= bit;
                    if (_registry.servesCategory(holder, category)) served |= bit;
                }
                if (requester != lastRequester) {
                    lastRequester = requester;
                    lastIsAgency = _registry.hasActiveRole(Roles.AGENCY, requester);
                }
                reason = _finalCheck(m, lastIsAgency, served & bit != 0, sequence);
            }
            if (reason == PullRefusal.None) {
                _storePulls(c, m, sequence);
                emit DataPulled(consentId, category, p.digest, sequence);
                ++recorded;
            } else {
                emit PullRefused(consentId, holder, requester, category, sequence, reason);
            }
            assembly ("memory-safe") {
                p := add(p, 0x120) // the next record: a PullRecord is 9 words
            }
        }
    }

    /// @inheritdoc IConsentRegistry
    function registry() external view returns (IGovRegistry) {
        return _registry;
    }

    /// @inheritdoc IConsentRegistry
    function consentState(bytes32 consentId) external view returns (ConsentState) {
        return _state(_consents[consentId]);
    }

    /// @inheritdoc IConsentRegistry
    function getConsent(bytes32 consentId) external view returns (Consent memory) {
        return _consents[consentId];
    }

    /// @inheritdoc IConsentRegistry
    function checkPull(bytes32 consentId, uint8 category, address requester, address holder)
        external
        view
        returns (PullRefusal)
    {
        Consent memory c = _consents[consentId];
        PullRefusal reason = _precheck(c, category, requester);
        if (reason != PullRefusal.None) return reason;
        bool isAgency = _registry.hasActiveRole(Roles.AGENCY, requester);
        return _finalCheck(c, isAgency, _registry.servesCategory(holder, category), c.pulls == type(uint16).max ? c.pulls : c.pulls + 1);
    }

    /// @inheritdoc IConsentRegistry
    function pullRequestId(bytes32 consentId, uint16 sequence) external pure returns (bytes32) {
        return keccak256(abi.encode(consentId, sequence));
    }

    /// @inheritdoc IConsentRegistry
    function pullRequestLifetime() external pure returns (uint256) {
        return PULL_REQUEST_LIFETIME;
    }

    /// Every field of `ConsentTerms` is a value type, so `abi.encode` of the struct is its fields'
    /// words in order: the EIP-712 `encodeData` of `Consent`.
    function _hashTerms(ConsentTerms calldata t) private pure returns (bytes32) {
        return keccak256(abi.encode(CONSENT_TYPEHASH, t));
    }

    function _emitGranted(bytes32 consentId, ConsentTerms calldata t) private {
        emit ConsentGranted(
            consentId,
            t.applicant,
            t.agency,
            t.categories,
            t.scopeHash,
            t.purposeHash,
            t.faceCheckRef,
            t.notBefore,
            t.expiresAt,
            t.maxPulls
        );
    }

    /// @dev Whether `signature` is `signer`'s over `digest`: an ECDSA signature recovering to `signer`
    /// (an EOA's), else `signer`'s ERC-1271 answer (a contract wallet's). ECDSA is tried first, so an
    /// EOA's signature costs no EXTCODESIZE of the signer (a cold account: 2,600 gas); no ECDSA
    /// signature recovers to a contract's address, so a contract wallet is still asked.
    function _isValidSignature(address signer, bytes32 digest, bytes calldata signature) private view returns (bool) {
        (address recovered, ECDSA.RecoverError error,) = ECDSA.tryRecover(digest, signature);
        if (error == ECDSA.RecoverError.NoError && recovered == signer) return true;
        return SignatureChecker.isValidERC1271SignatureNow(signer, digest, signature);
    }

    /// @dev Reverts unless record `index` is fresh and signed by its requester for this holder:
    /// an EOA's compact signature (EIP-2098, `r` nonzero) is recovered here; a contract wallet's
    /// signature (`r` zero, `vs` its index in `walletSignatures`) goes to its ERC-1271 check.
    function _checkSigned(
        PullRecord calldata p,
        address requester,
        uint64 issuedAt,
        address holder,
        bytes32 domainSeparator,
        uint256 index,
        bytes[] calldata walletSignatures
    ) private view {
        // no overflow check needed: issuedAt < 2**64
        if (block.timestamp > _unchecked(uint256(issuedAt), PULL_REQUEST_LIFETIME)) {
            revert ConsentRegistryPullRequestExpired(index, issuedAt, block.timestamp);
        }
        bytes32 digest = _pullRequestDigest(p, holder, domainSeparator);
        bool valid;
        bytes32 r = p.r;
        if (r != bytes32(0)) {
            (address signer, ECDSA.RecoverError error,) = ECDSA.tryRecover(digest, r, p.vs);
            valid = error == ECDSA.RecoverError.NoError && signer == requester;
        } else if (uint256(p.vs) < walletSignatures.length) {
            valid = SignatureChecker.isValidERC1271SignatureNow(requester, digest, walletSignatures[uint256(p.vs)]);
        }
        if (!valid) revert ConsentRegistryInvalidPullSignature(index, requester);
    }

    /// @dev Record `index`'s consent id and four small fields, read from calldata in one go instead
    /// of through the ABI decoder field by field: a word with any bit set above its type's width
    /// (no ABI encoder writes one) makes the whole call revert with {ConsentRegistryMalformedPullRecord}.
    function _fields(PullRecord calldata p, uint256 index)
        private
        pure
        returns (bytes32 consentId, uint16 sequence, uint8 category, address requester, uint64 issuedAt)
    {
        bool dirty;
        assembly ("memory-safe") {
            consentId := calldataload(p) // word 0: bytes32, any value
            sequence := calldataload(add(p, 0x20)) // word 1: uint16
            category := calldataload(add(p, 0x40)) // word 2: uint8
            requester := calldataload(add(p, 0x60)) // word 3: address (160 bits)
            issuedAt := calldataload(add(p, 0x80)) // word 4: uint64
            // nonzero iff a bit above a field's width is set, in any of the four
            dirty := iszero(iszero(or(or(shr(16, sequence), shr(8, category)), or(shr(160, requester), shr(64, issuedAt)))))
        }
        if (dirty) revert ConsentRegistryMalformedPullRecord(index);
    }

    /// @dev The EIP-712 digest of the pull request that record `p` logs, for `holder`: the same as
    /// `_hashTypedDataV4(keccak256(abi.encode(PULL_REQUEST_TYPEHASH, p.consentId, p.sequence,
    /// p.category, p.requester, holder, p.detailsHash, p.issuedAt)))`, hashed from the calldata
    /// words in scratch memory (no abi.encode copy). The record's small fields are hashed as they
    /// are in calldata; {recordPulls} reads each of them through the ABI decoder too, which reverts
    /// on a word with dirty high bits, so only a well-formed record is ever logged.
    function _pullRequestDigest(PullRecord calldata p, address holder, bytes32 domainSeparator)
        private
        pure
        returns (bytes32 digest)
    {
        bytes32 typehash = PULL_REQUEST_TYPEHASH;
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, typehash)
            calldatacopy(add(m, 0x20), p, 0x80) // consentId, sequence, category, requester
            mstore(add(m, 0xa0), holder)
            mstore(add(m, 0xc0), calldataload(add(p, 0xa0))) // detailsHash
            mstore(add(m, 0xe0), calldataload(add(p, 0x80))) // issuedAt
            let structHash := keccak256(m, 0x100)
            mstore(m, hex"1901")
            mstore(add(m, 0x02), domainSeparator)
            mstore(add(m, 0x22), structHash)
            digest := keccak256(m, 0x42)
        }
    }

    /// @dev Sets the pull counter of consent `c`, whose fields as stored are `m`, to `sequence` in
    /// both. Slot 1 of a Consent is `applicant | pulls << 160 | maxPulls << 176` (the layout in
    /// {IConsentRegistry-Consent}): it is written whole from `m`'s fields, without the read of the
    /// slot that `c.pulls = sequence` costs (a warm SLOAD, 100 gas a pull).
    function _storePulls(Consent storage c, Consent memory m, uint16 sequence) private {
        m.pulls = sequence;
        address applicant = m.applicant; // clean (the high 96 bits zero): read from storage through its type
        uint16 maxPulls = m.maxPulls; // likewise, 16 bits
        assembly ("memory-safe") {
            // slot + 1 of the struct: applicant in bits 0..159, pulls 160..175, maxPulls 176..191, the rest zero
            sstore(add(c.slot, 1), or(or(applicant, shl(160, sequence)), shl(176, maxPulls)))
        }
    }

    /// @dev `a + b` without the overflow check, for sums that cannot overflow (said where used).
    function _unchecked(uint256 a, uint256 b) private pure returns (uint256) {
        unchecked {
            return a + b;
        }
    }

    /// @dev The checks that need no registry call, in the order of {PullRefusal}.
    function _precheck(Consent memory c, uint8 category, address requester) private view returns (PullRefusal) {
        ConsentState status = c.status;
        if (status == ConsentState.None) return PullRefusal.UnknownConsent;
        if (status == ConsentState.Revoked) return PullRefusal.Revoked;
        if (status == ConsentState.Paused) return PullRefusal.Paused;
        if (block.timestamp < c.notBefore) return PullRefusal.NotYetValid;
        if (block.timestamp >= c.expiresAt) return PullRefusal.Expired;
        if (category >= CATEGORY_LIMIT || (c.categories >> category) & 1 == 0) return PullRefusal.CategoryNotCovered;
        if (requester != c.agency) return PullRefusal.WrongRequester;
        return PullRefusal.None;
    }

    /// @dev The checks after the precheck passed, given whether the requester is an active
    /// agency, whether the holder serves the category, and the sequence number asked for.
    function _finalCheck(Consent memory c, bool isAgency, bool served, uint16 sequence)
        private
        pure
        returns (PullRefusal)
    {
        if (!isAgency) return PullRefusal.RequesterNotAgency;
        if (!served) return PullRefusal.CategoryNotServed;
        uint16 pulls = c.pulls;
        if (sequence <= pulls) return PullRefusal.DuplicateRequest;
        if (pulls >= c.maxPulls) return PullRefusal.MaxPullsReached;
        if (sequence != _unchecked(pulls, 1)) return PullRefusal.OutOfSequence; // pulls < maxPulls: no overflow
        return PullRefusal.None;
    }

    function _state(Consent storage c) private view returns (ConsentState) {
        ConsentState status = c.status;
        if (status == ConsentState.None || status == ConsentState.Revoked) return status;
        if (block.timestamp >= c.expiresAt) return ConsentState.Expired;
        return status;
    }

    function _revocable(bytes32 consentId) private view returns (Consent storage c) {
        c = _consents[consentId];
        if (c.status == ConsentState.None) revert ConsentRegistryUnknownConsent(consentId);
        if (c.status == ConsentState.Revoked) revert ConsentRegistryAlreadyRevoked(consentId);
    }

    function _ownConsent(bytes32 consentId) private view returns (Consent storage c) {
        c = _consents[consentId];
        if (c.status == ConsentState.None) revert ConsentRegistryUnknownConsent(consentId);
        if (msg.sender != c.applicant) revert ConsentRegistryNotApplicant(msg.sender, c.applicant);
    }
}
