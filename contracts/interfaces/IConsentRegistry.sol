// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IGovRegistry} from "./IGovRegistry.sol";

/// @title IConsentRegistry — citizens' consents to data pulls, and the log of every pull
/// @notice A citizen (the applicant) signs EIP-712 consent terms off chain: which agency may
/// have which data categories pulled, for what (hashed) scope and purpose, in which time
/// window and how many times. The applicant or a platform relayer submits the signed terms;
/// data holders then log every pull here, and a pull the consent does not cover is logged as
/// refused. Only hashes and public addresses go on chain: no personal data ever does.
///
/// EIP-712 domain: name "govchain ConsentRegistry", version "1", the chain id and this contract.
/// Types:
///   Consent(address applicant,address agency,uint8 categories,bytes32 scopeHash,bytes32 purposeHash,
///           bytes32 faceCheckRef,uint40 notBefore,uint40 expiresAt,uint16 maxPulls,uint256 nonce,uint256 deadline)
///   Revocation(bytes32 consentId,uint256 deadline)
///   PullRequest(bytes32 consentId,uint16 sequence,uint8 category,address requester,address holder,
///               PullDetails details,uint64 issuedAt)PullDetails(bytes32 attributesHash,bytes32 subjectHash)
/// A consent's id is the EIP-712 digest of its terms, so it is unique per chain, contract,
/// applicant and nonce, and it binds the hashes that are only kept in {ConsentGranted}.
interface IConsentRegistry {
    /// @notice Effective state of a consent. `None`: never granted. `Expired` is never stored:
    /// it is derived from `expiresAt` and the block time. A revoked consent stays `Revoked`.
    /// A consent whose window has not opened yet is `Active` ({checkPull} says `NotYetValid`).
    enum ConsentState {
        None,
        Active,
        Paused,
        Revoked,
        Expired
    }

    /// @notice Why a data holder's pull was refused (`None`: the pull is, or would be, logged).
    enum PullRefusal {
        None,
        UnknownConsent,
        Revoked,
        Paused,
        NotYetValid,
        Expired,
        CategoryNotCovered,
        WrongRequester,
        CategoryNotServed,
        MaxPullsReached,
        DuplicateRequest,
        RequesterNotAgency,
        OutOfSequence
    }

    /// @notice The terms an applicant signs (EIP-712 primary type "Consent").
    /// @param applicant The citizen granting the consent; an EOA or an ERC-1271 contract wallet.
    /// @param agency The requester allowed to pull; must be an active member holding AGENCY_ROLE at grant.
    /// @param categories Bit set of data categories (bit 0 ID card, bit 1 residence permit,
    ///        bit 2 household register); nonzero and below 8.
    /// @param scopeHash Hash of the canonical list of attributes the agency may see (computed off chain).
    /// @param purposeHash Salted hash of the matter and the application (computed off chain).
    /// @param faceCheckRef Hash referring to the face check that preceded the signature (computed off chain).
    /// @param notBefore First second (unix time) pulls are allowed.
    /// @param expiresAt First second pulls are no longer allowed; after `notBefore` and in the future at grant.
    /// @param maxPulls Number of pulls allowed in total; at least 1.
    /// @param nonce Any value that makes these terms new (unordered; a random one): it is part of the
    /// consent id, so the same terms signed again with another nonce are another consent.
    /// @param deadline Last second (unix time) the signature can be submitted.
    struct ConsentTerms {
        address applicant;
        address agency;
        uint8 categories;
        bytes32 scopeHash;
        bytes32 purposeHash;
        bytes32 faceCheckRef;
        uint40 notBefore;
        uint40 expiresAt;
        uint16 maxPulls;
        uint256 nonce;
        uint256 deadline;
    }

    /// @notice A consent as stored. Layout: one slot: address agency | uint40 notBefore |
    /// uint40 expiresAt | uint8 categories | uint8 status; then one slot: address applicant | uint16 pulls | uint16 maxPulls.
    /// `status` is the stored status (`Active`, `Paused` or `Revoked`; never `Expired`):
    /// use {consentState} for the effective state.
    struct Consent {
        address agency;
        uint40 notBefore;
        uint40 expiresAt;
        uint8 categories;
        ConsentState status;
        address applicant;
        uint16 pulls;
        uint16 maxPulls;
    }

    /// @notice One pull a data holder logs, with the requesting agency's EIP-712 signature of it.
    /// The agency signs `PullRequest(consentId, sequence, category, requester, holder, details, issuedAt)`
    /// in this contract's domain, where `holder` is the data holder it asks (the caller of
    /// {recordPulls}) and `details` is `PullDetails(attributesHash, subjectHash)`: the hash of the
    /// attributes asked and of the subject sealed to the holder, both checked off chain by the holder.
    /// The request's id is `keccak256(abi.encode(consentId, sequence))` ({pullRequestId}): the
    /// consent's pull counter is the replay guard, and a pull writes no storage slot of its own.
    /// The record is static (no dynamic field), so a batch is read straight from calldata.
    /// @param consentId The consent the pull relies on.
    /// @param sequence The pull number the agency asks for: the consent's pull count plus one.
    /// @param category The data category pulled, as a bit index (0 ID card, 1 residence permit, 2 household register).
    /// @param requester The agency that signed the request (an EOA or an ERC-1271 contract).
    /// @param issuedAt When the agency signed (unix time); the request is good for {pullRequestLifetime}.
    /// @param detailsHash The EIP-712 struct hash of the request's `PullDetails`.
    /// @param digest Hash of what was handed over (computed off chain).
    /// @param r For an EOA requester: `r` of its ECDSA signature (EIP-2098 compact form). Zero for a
    ///        contract-wallet requester, whose signature is passed aside (see {recordPulls}).
    /// @param vs For an EOA requester: `s` with the parity of `v` in its top bit (EIP-2098). For a
    ///        contract-wallet requester: the index of its signature in {recordPulls}' `walletSignatures`.
    struct PullRecord {
        bytes32 consentId;
        uint16 sequence;
        uint8 category;
        address requester;
        uint64 issuedAt;
        bytes32 detailsHash;
        bytes32 digest;
        bytes32 r;
        bytes32 vs;
    }

    /// @notice The signature may no longer be submitted: `deadline` is before the block time `now`.
    error ConsentRegistrySignatureExpired(uint256 deadline, uint256 now);
    /// @notice The signature is not `applicant`'s over these terms (or this revocation).
    error ConsentRegistryInvalidSignature(address applicant);
    /// @notice `agency` is not an active member holding AGENCY_ROLE.
    error ConsentRegistryNotAnAgency(address agency);
    /// @notice `categories` is zero or has a bit set above bit 2.
    error ConsentRegistryInvalidCategories(uint8 categories);
    /// @notice `expiresAt` is not after `notBefore`, or not in the future.
    error ConsentRegistryInvalidWindow(uint40 notBefore, uint40 expiresAt);
    /// @notice `maxPulls` is zero.
    error ConsentRegistryZeroMaxPulls();
    /// @notice No consent has id `consentId`.
    error ConsentRegistryUnknownConsent(bytes32 consentId);
    /// @notice Only the consent's `applicant` may do this, not `caller`.
    error ConsentRegistryNotApplicant(address caller, address applicant);
    /// @notice The consent `consentId` is revoked already.
    error ConsentRegistryAlreadyRevoked(bytes32 consentId);
    /// @notice The consent `consentId` is not paused (it may also have expired or been revoked meanwhile).
    error ConsentRegistryNotPaused(bytes32 consentId);
    /// @notice The consent `consentId` is in `state`, but the operation needs it active.
    error ConsentRegistryNotActive(bytes32 consentId, ConsentState state);
    /// @notice `caller` is neither the applicant nor an active member holding RELAYER_ROLE.
    error ConsentRegistryUnauthorizedRelayer(address caller);
    /// @notice `holder` is not an active member holding DATA_HOLDER_ROLE.
    error ConsentRegistryUnauthorizedHolder(address holder);
    /// @notice A consent with id `consentId` exists already: these signed terms were granted before
    /// (a replay; revoked and expired consents stay, so a replay is refused forever).
    error ConsentRegistryConsentExists(bytes32 consentId);
    /// @notice Record `index` of a {recordPulls} batch is not signed by its `requester`: the
    /// whole batch is refused, since a pull or a refusal naming an agency needs that agency's word.
    error ConsentRegistryInvalidPullSignature(uint256 index, address requester);
    /// @notice Record `index` of a {recordPulls} batch is not ABI-encoded: its `sequence`, `category`,
    /// `requester` or `issuedAt` word has a bit set above the field's width. The whole batch is refused.
    error ConsentRegistryMalformedPullRecord(uint256 index);
    /// @notice Record `index` was signed at `issuedAt`, longer than {pullRequestLifetime} before `now`.
    error ConsentRegistryPullRequestExpired(uint256 index, uint64 issuedAt, uint256 now);

    /// @notice Emitted when `applicant` granted `agency` the consent `consentId` on these terms.
    event ConsentGranted(
        bytes32 indexed consentId,
        address indexed applicant,
        address indexed agency,
        uint8 categories,
        bytes32 scopeHash,
        bytes32 purposeHash,
        bytes32 faceCheckRef,
        uint40 notBefore,
        uint40 expiresAt,
        uint16 maxPulls
    );
    /// @notice Emitted when the consent was revoked by `applicant`; `by` sent the transaction
    /// (the applicant itself, or whoever relayed the applicant's signed revocation).
    event ConsentRevoked(bytes32 indexed consentId, address indexed applicant, address by);
    /// @notice Emitted when the applicant paused the consent.
    event ConsentPaused(bytes32 indexed consentId);
    /// @notice Emitted when the applicant resumed the paused consent.
    event ConsentResumed(bytes32 indexed consentId);
    /// @notice Emitted when the transaction's sender (the data holder) logged the `pullNumber`-th
    /// pull under `consentId`, on the signed request of the consent's agency (its request id is
    /// `pullRequestId(consentId, pullNumber)`). Neither party is in the event (750 gas a pull): the
    /// holder is the transaction's `from`, the requester the `agency` of `ConsentGranted` (a pull by
    /// anyone else is refused), so an auditor re-derives both exactly.
    event DataPulled(bytes32 indexed consentId, uint8 category, bytes32 digest, uint16 pullNumber);
    /// @notice Emitted when `holder` submitted a pull, signed by `requester` as pull number
    /// `sequence`, that the consent does not allow; nothing was counted.
    event PullRefused(
        bytes32 indexed consentId,
        address indexed holder,
        address indexed requester,
        uint8 category,
        uint16 sequence,
        PullRefusal reason
    );

    /// @notice Stores the consent the applicant signed and returns its id (the EIP-712 digest of `terms`).
    /// Requirements: caller is `terms.applicant` or an active RELAYER; `block.timestamp <= terms.deadline`;
    /// no consent with this id exists (the id covers every term, nonce included); `signature` is the applicant's
    /// over `terms` (ECDSA for an EOA, ERC-1271 for a contract wallet); `terms.agency` is an active AGENCY;
    /// `terms.categories` is nonzero and below 8; `terms.expiresAt` is after `terms.notBefore` and
    /// after the block time; `terms.maxPulls` is not zero.
    /// Emits {ConsentGranted}.
    function grantConsent(ConsentTerms calldata terms, bytes calldata signature) external returns (bytes32 consentId);

    /// @notice The applicant revokes its consent for good.
    /// Requirements: the consent exists and is not revoked (paused and expired ones may be revoked);
    /// caller is its applicant.
    /// Emits {ConsentRevoked}.
    function revokeConsent(bytes32 consentId) external;

    /// @notice Revokes a consent on the applicant's EIP-712 `Revocation(consentId, deadline)` signature.
    /// Anyone may submit it: the applicant's signature is the authority, and withdrawing a consent
    /// must not depend on a relayer's goodwill. A signature can only ever revoke its own consent once.
    /// Requirements: `block.timestamp <= deadline`; the consent exists and is not revoked;
    /// `signature` is the applicant's (ECDSA or ERC-1271).
    /// Emits {ConsentRevoked}.
    function revokeConsentBySig(bytes32 consentId, uint256 deadline, bytes calldata signature) external;

    /// @notice The applicant pauses its consent: pulls are refused until it resumes it.
    /// Requirements: the consent exists; caller is its applicant; its state is `Active`.
    /// Emits {ConsentPaused}.
    function pauseConsent(bytes32 consentId) external;

    /// @notice The applicant resumes its paused consent.
    /// Requirements: the consent exists; caller is its applicant; its state is `Paused` (not expired, not revoked).
    /// Emits {ConsentResumed}.
    function resumeConsent(bytes32 consentId) external;

    /// @notice A data holder logs the pulls it served, each on its agency's signed request. Each
    /// valid record counts one pull on its consent; an invalid one is logged as refused and the
    /// batch goes on (it never blocks the others). A record is valid when the consent exists, is
    /// neither revoked nor paused, its window is open (`notBefore <= block.timestamp < expiresAt`),
    /// it covers `category`, `requester` is its agency and an active AGENCY, the caller serves
    /// `category` in GovRegistry, `sequence` is the consent's pull count plus one (a lower one is a
    /// `DuplicateRequest`, a higher one `OutOfSequence`) and fewer than `maxPulls` pulls were logged.
    /// Requirements: caller is an active DATA_HOLDER; every record carries its requester's valid
    /// signature of the request to this caller, issued at most {pullRequestLifetime} ago (else the
    /// whole batch reverts: nothing is logged on the holder's word alone). An EOA's signature is
    /// in the record (`r`, `vs`: EIP-2098); a contract wallet's, of any length, is
    /// `walletSignatures[vs]` (the record's `r` is zero) and is checked with ERC-1271. Every
    /// record's small fields are ABI-clean (else {ConsentRegistryMalformedPullRecord}: the whole batch reverts).
    /// Emits one {DataPulled} or {PullRefused} per record, in order.
    /// @param walletSignatures The ERC-1271 signatures of the contract-wallet requesters (empty when none).
    /// @return recorded The number of records logged as pulls.
    function recordPulls(PullRecord[] calldata pulls, bytes[] calldata walletSignatures)
        external
        returns (uint256 recorded);

    /// @notice The GovRegistry this contract asks for roles.
    function registry() external view returns (IGovRegistry);

    /// @notice The effective state of a consent (see {ConsentState}).
    function consentState(bytes32 consentId) external view returns (ConsentState);

    /// @notice The consent as stored (all zero for an unknown id).
    function getConsent(bytes32 consentId) external view returns (Consent memory);

    /// @notice What {recordPulls} would say of the next pull by `holder` for `requester` now,
    /// leaving out the signature and sequence checks: `None` means it would be logged.
    function checkPull(bytes32 consentId, uint8 category, address requester, address holder)
        external
        view
        returns (PullRefusal);


    /// @notice The id of pull request number `sequence` under `consentId`: `keccak256(abi.encode(consentId, sequence))`.
    function pullRequestId(bytes32 consentId, uint16 sequence) external pure returns (bytes32);

    /// @notice How long (seconds) after its `issuedAt` a signed pull request may be logged.
    function pullRequestLifetime() external pure returns (uint256);
}
