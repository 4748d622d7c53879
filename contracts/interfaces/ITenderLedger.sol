// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IGovRegistry} from "./IGovRegistry.sol";

/// @title ITenderLedger — the on-chain trail of a fully electronic bid opening (不见面开标)
/// @notice Follows China's Measures for Electronic Bidding (电子招标投标办法, 2013). A procurement
/// agency creates a tender; bids arrive through the platform relayer under per-tender
/// pseudonyms as hashes of encrypted bid files and commitments to their keys, so neither the
/// bidders' names nor their offers are disclosed before the deadline (Art 21). At the opening
/// the bidders sign in and reveal their keys; the agency records each decryption, publishes the
/// reading (唱标, Art 30), answers objections; panel experts sign their scores (Art 33-34); the
/// contract recomputes the winner from what is stored and refuses any other (Art 40).
/// Only hashes, prices read out at the opening, scores and public addresses go on chain.
///
/// Life cycle: `Bidding` (bids committed, replaced, withdrawn until `bidDeadline`) ->
/// {openTender} at or after `openingTime` -> `Failed` (fewer than `minBidders` bids: re-tender)
/// or `Opened` (sign-in, key reveal until `decryptionEnd`, decryption records) ->
/// {publishReading} -> `Read` (scores) -> {publishResult} -> `Decided`.
///
/// Windows no party can shorten. Let `window = decryptionEnd - openingTime` as created. The
/// decryption window counts from the block that opens the tender: {openTender} moves
/// `decryptionEnd` to that block's time + `window`, so an agency that opens late only delays, and
/// every bidder keeps the whole window. Objections may be raised from the opening until the
/// reading's block time + `objectionWindow` ({objectionDeadline}); none after, so no bidder stalls
/// the result with a new objection after each answer; and no result before, so the agency cannot
/// close the objection period early by answering the objections raised so far. An expert who has not scored every read bid by
/// {scoringDeadline} (the reading, or its own appointment, + `window`) may be replaced by the agency
/// ({replaceExpert}); its scores are dropped and the replacement is anchored ({ExpertReplaced}).
///
/// EIP-712 domain: name "govchain TenderLedger", version "1", the chain id and this contract.
/// Types:
///   SignIn(bytes32 tenderId,bytes32 pseudonym,address bidder)
///   Objection(bytes32 tenderId,bytes32 pseudonym,bytes32 objectionHash)
///   Score(bytes32 tenderId,bytes32 pseudonym,bytes32 scoresHash)
/// where scoresHash = keccak256(abi.encodePacked(scores)): each uint16 score as one 32-byte word,
/// which is also how EIP-712 encodes a `uint16[]`.
///
/// Key commitment (computed off chain, checked by {revealKey}):
///   keccak256(abi.encode(block.chainid, address(this), tenderId, bidder, key, salt))
/// with `bytes32 key, bytes32 salt`: bound to the bidder, the tender, this contract and the chain.
///
/// Bounds: at most 500 bids not withdrawn per tender (a withdrawn pseudonym frees its slot) and 64
/// experts per panel. {openTender} counts in
/// constant time; {publishReading} loops over its calldata (at most one entry per bid);
/// {computeResult} and {publishResult} loop once over the tender's pseudonyms (and, only to
/// name a missing expert, over the panel). Totals are summed when scores arrive.
interface ITenderLedger {
    /// @notice Life cycle of a tender. `None`: never created. `Failed`: fewer bids than
    /// `minBidders` at the opening; the tender must be run again under a new id.
    enum TenderState {
        None,
        Bidding,
        Failed,
        Opened,
        Read,
        Decided
    }

    /// @notice How a tender is evaluated. On the ABI (`TenderTerms.method`, {TenderCreated},
    /// {TenderLedgerWrongMethod}) it travels as its uint8 value, so an out-of-range value gets
    /// {TenderLedgerInvalidMethod} rather than a bare decoding revert.
    enum Method {
        LowestPrice,
        WeightedScore
    }

    /// @notice Why a bid was recorded as not decrypted ({recordDecryption}'s `cause`, a uint8 on the ABI:
    /// an out-of-range value gets {TenderLedgerInvalidCause}). `None` goes with a decrypted bid only.
    enum DecryptionFault {
        None,
        Bidder,
        NotBidder
    }

    /// @notice Status of a bid (the latest version of a pseudonym's bid).
    /// `Committed`: in the tender (signed in or not, see `bidder`). `Withdrawn`: withdrawn before
    /// the deadline. `Revealed`: its key matched the commitment. `Decrypted`: the platform opened it.
    /// `Revoked`: not decrypted through the bidder's fault (cause 1: no sign-in or no key by the end of
    /// the window). `NotDecryptedWithdrawn`: not decrypted and not recorded as the bidder's fault
    /// (cause 2: the platform's copy is lost or altered, or a revealed key does not open the file):
    /// treated as withdrawn.
    enum BidStatus {
        None,
        Committed,
        Withdrawn,
        Revealed,
        Decrypted,
        Revoked,
        NotDecryptedWithdrawn
    }

    /// @notice The terms of a tender, as given to {createTender}.
    /// @param documentHash Hash of the tender documents (招标文件, computed off chain).
    /// @param bidDeadline First second (unix time) bids are no longer accepted; in the future at creation.
    /// @param openingTime First second the tender may be opened; not before `bidDeadline` (usually equal).
    /// @param decryptionEnd First second sign-ins and key reveals are no longer accepted; after `openingTime`.
    /// @param objectionWindow Seconds after the reading's block during which objections may be raised and
    /// no result may be published (异议期); at least one.
    /// @param method 0: lowest evaluated price; 1: weighted score.
    /// @param minBidders Fewest bids for the opening to go ahead (the platform uses 3); 1 to 500.
    /// @param experts The evaluation panel (评标委员会): 1 to 64 distinct nonzero addresses.
    /// @param weights Method 1: one weight per criterion in basis points, summing to 10000. Method 0: empty.
    struct TenderTerms {
        bytes32 documentHash;
        uint40 bidDeadline;
        uint40 openingTime;
        uint40 decryptionEnd;
        uint40 objectionWindow;
        uint8 method;
        uint16 minBidders;
        address[] experts;
        uint16[] weights;
    }

    /// @notice A tender as {getTender} reports it.
    /// @param bids Pseudonyms with a bid not withdrawn (equal to `activeBids`; every version of every bid,
    /// withdrawn ones included, stays in {BidCommitted} and {BidWithdrawn}).
    /// @param activeBids Bids committed and not withdrawn; frozen at the opening.
    /// @param settledBids Opened bids whose decryption outcome is recorded (decrypted or not).
    /// @param decryptedBids Opened bids recorded as decrypted (all of them are read by {publishReading}).
    /// @param objections Objections raised; `openObjections` of them still unanswered.
    /// @param winner The winning pseudonym once `Decided`, else zero.
    struct TenderInfo {
        TenderTerms terms;
        address agency;
        TenderState state;
        uint256 bids;
        uint256 activeBids;
        uint256 settledBids;
        uint256 decryptedBids;
        uint256 objections;
        uint256 openObjections;
        bytes32 winner;
    }

    /// @notice A bid as stored: its latest version. Layout: bytes32 ciphertextHash; bytes32 keyCommitment;
    /// one slot: address bidder | uint32 version | uint8 status | bool read | uint16 scoreCount | uint32 scoreTotal;
    /// uint256 price. Only the latest version is kept: every version is in {BidCommitted}.
    /// @param bidder Zero until the bidder signed in.
    /// @param version 1 for the first commitment, one more for each replacement or re-commitment.
    /// @param read True once the bid was read out by {publishReading}, at `price`.
    /// @param scoreCount Number of panel experts who scored the bid (method 1).
    /// @param scoreTotal Sum over those experts and the criteria of score * weight.
    struct Bid {
        bytes32 ciphertextHash;
        bytes32 keyCommitment;
        address bidder;
        uint32 version;
        BidStatus status;
        bool read;
        uint16 scoreCount;
        uint32 scoreTotal;
        uint256 price;
    }

    /// @notice One bid as read out at the opening (唱标).
    /// @param pseudonym The decrypted bid.
    /// @param price The price read out (e.g. in fen).
    /// @param itemsHash Hash of the other items read out (schedule, warranty, ...; computed off chain).
    struct Reading {
        bytes32 pseudonym;
        uint256 price;
        bytes32 itemsHash;
    }

    /// @notice An objection as stored. Layout: bytes32 pseudonym; one slot: address bidder | uint40 raisedAt | bool answered.
    struct Objection {
        bytes32 pseudonym;
        address bidder;
        uint40 raisedAt;
        bool answered;
    }

    /// @notice `caller` is not an active member holding PROCUREMENT_ROLE.
    error TenderLedgerUnauthorizedProcurement(address caller);
    /// @notice `caller` is neither an active member holding RELAYER_ROLE nor (where allowed) the signing party.
    error TenderLedgerUnauthorizedRelayer(address caller);
    /// @notice `caller` is not the agency of tender `tenderId`, or that agency is no longer an active PROCUREMENT member.
    error TenderLedgerUnauthorizedAgency(bytes32 tenderId, address caller);
    /// @notice No tender has id `tenderId`.
    error TenderLedgerUnknownTender(bytes32 tenderId);
    /// @notice A tender with id `tenderId` exists already.
    error TenderLedgerTenderExists(bytes32 tenderId);
    /// @notice The times are not `now < bidDeadline <= openingTime < decryptionEnd`.
    error TenderLedgerInvalidTimes(uint40 bidDeadline, uint40 openingTime, uint40 decryptionEnd, uint256 now);
    /// @notice `method` is neither 0 (lowest price) nor 1 (weighted score).
    error TenderLedgerInvalidMethod(uint8 method);
    /// @notice `minBidders` is zero or above the bid limit `max`.
    error TenderLedgerInvalidMinBidders(uint16 minBidders, uint256 max);
    /// @notice The panel has `size` experts; it needs 1 to `max`.
    error TenderLedgerInvalidPanelSize(uint256 size, uint256 max);
    /// @notice `expert` is the zero address, or (as a replacement) an expert replaced in this tender before.
    error TenderLedgerInvalidExpert(address expert);
    /// @notice `expert` is on the panel twice.
    error TenderLedgerDuplicateExpert(address expert);
    /// @notice `count` weights summing to `sum` do not fit `method` (method 0: none; method 1: at least one, sum 10000).
    error TenderLedgerInvalidWeights(uint8 method, uint256 count, uint256 sum);
    /// @notice The bid deadline `deadline` of tender `tenderId` has passed (block time `now`).
    error TenderLedgerBiddingClosed(bytes32 tenderId, uint40 deadline, uint256 now);
    /// @notice The pseudonym is zero (zero means "none" in {pseudonymOf} and {TenderInfo}).
    error TenderLedgerZeroPseudonym(bytes32 tenderId);
    /// @notice Tender `tenderId` already has the maximum of `max` bids not withdrawn.
    error TenderLedgerTooManyBids(bytes32 tenderId, uint256 max);
    /// @notice Tender `tenderId` may not be opened before `openingTime` (block time `now`).
    error TenderLedgerTooEarly(bytes32 tenderId, uint40 openingTime, uint256 now);
    /// @notice The decryption window of tender `tenderId` closed at `decryptionEnd` (block time `now`).
    error TenderLedgerDecryptionClosed(bytes32 tenderId, uint40 decryptionEnd, uint256 now);
    /// @notice The decryption window of tender `tenderId` is open until `decryptionEnd` (block time `now`):
    /// a bid without a revealed key may not be declared undecrypted yet.
    error TenderLedgerDecryptionOpen(bytes32 tenderId, uint40 decryptionEnd, uint256 now);
    /// @notice Tender `tenderId` is in `state`, which does not allow the operation.
    error TenderLedgerWrongState(bytes32 tenderId, TenderState state);
    /// @notice No bid was ever committed under `pseudonym` in tender `tenderId`.
    error TenderLedgerUnknownBid(bytes32 tenderId, bytes32 pseudonym);
    /// @notice The bid `pseudonym` is in `status`, which does not allow the operation.
    error TenderLedgerWrongBidStatus(bytes32 tenderId, bytes32 pseudonym, BidStatus status);
    /// @notice The bid `pseudonym` is signed in by `bidder` already.
    error TenderLedgerAlreadySignedIn(bytes32 tenderId, bytes32 pseudonym, address bidder);
    /// @notice `bidder` signed in to tender `tenderId` under `pseudonym` already: one bid per bidder.
    error TenderLedgerBidderHasBid(bytes32 tenderId, address bidder, bytes32 pseudonym);
    /// @notice `bidder` is on the panel or is the agency of tender `tenderId`, so it may not bid.
    error TenderLedgerConflictOfInterest(bytes32 tenderId, address bidder);
    /// @notice `bidder` is not an active GovRegistry member holding BIDDER_ROLE (a registered bidder firm).
    error TenderLedgerUnregisteredBidder(bytes32 tenderId, address bidder);
    /// @notice No bidder signed in to the bid `pseudonym` yet.
    error TenderLedgerNotSignedIn(bytes32 tenderId, bytes32 pseudonym);
    /// @notice The signature is not `signer`'s over the message (EOA or ERC-1271).
    error TenderLedgerInvalidSignature(bytes32 tenderId, address signer);
    /// @notice The key and salt do not open the key commitment of the bid `pseudonym`.
    error TenderLedgerKeyMismatch(bytes32 tenderId, bytes32 pseudonym);
    /// @notice `cause` may not be recorded for the bid `pseudonym` (0 with `decrypted`, 1 or 2 without).
    error TenderLedgerInvalidCause(bytes32 tenderId, bytes32 pseudonym, uint8 cause);
    /// @notice The key of the bid `pseudonym` was revealed and matches its commitment: the bidder did its
    /// part, so the bid may not be recorded as not decrypted through the bidder's fault (cause 1). Whether
    /// the revealed key opens the file anyone can re-check off chain (`govchain tender verify`).
    error TenderLedgerKeyWasRevealed(bytes32 tenderId, bytes32 pseudonym);
    /// @notice No objection may be raised in tender `tenderId` from `deadline` on (block time `now`).
    error TenderLedgerObjectionsClosed(bytes32 tenderId, uint256 deadline, uint256 now);
    /// @notice `expert` may not be replaced before its scoring deadline `deadline` (block time `now`).
    error TenderLedgerScoringOpen(bytes32 tenderId, address expert, uint256 deadline, uint256 now);
    /// @notice `expert` scored every read bid of tender `tenderId`: there is nothing to replace it for.
    error TenderLedgerExpertDone(bytes32 tenderId, address expert);
    /// @notice `pending` of the tender's opened bids have no decryption outcome recorded yet.
    error TenderLedgerBidsPending(bytes32 tenderId, uint256 pending);
    /// @notice The reading lists `count` bids but `expected` were decrypted.
    error TenderLedgerReadingIncomplete(bytes32 tenderId, uint256 count, uint256 expected);
    /// @notice The bid `pseudonym` is in the reading twice.
    error TenderLedgerDuplicateReading(bytes32 tenderId, bytes32 pseudonym);
    /// @notice `objectionHash` was raised for the bid `pseudonym` already.
    error TenderLedgerObjectionExists(bytes32 tenderId, bytes32 pseudonym, bytes32 objectionHash);
    /// @notice Tender `tenderId` has no objection `index`.
    error TenderLedgerUnknownObjection(bytes32 tenderId, uint256 index);
    /// @notice The objection `index` is answered already.
    error TenderLedgerObjectionAnswered(bytes32 tenderId, uint256 index);
    /// @notice `open` objections are still unanswered.
    error TenderLedgerObjectionsOpen(bytes32 tenderId, uint256 open);
    /// @notice Objections to tender `tenderId` may be raised until `deadline` (block time `now`): no result before.
    error TenderLedgerObjectionPeriodOpen(bytes32 tenderId, uint256 deadline, uint256 now);
    /// @notice The objection window of the terms is zero: it must be at least one second.
    error TenderLedgerInvalidObjectionWindow();
    /// @notice Tender `tenderId` is evaluated by `method`, which takes no scores.
    error TenderLedgerWrongMethod(bytes32 tenderId, uint8 method);
    /// @notice `expert` is not on the panel of tender `tenderId`.
    error TenderLedgerNotAnExpert(bytes32 tenderId, address expert);
    /// @notice `expert` scored the bid `pseudonym` already.
    error TenderLedgerAlreadyScored(bytes32 tenderId, address expert, bytes32 pseudonym);
    /// @notice `count` scores given; the tender has `expected` criteria.
    error TenderLedgerInvalidScoreCount(bytes32 tenderId, uint256 count, uint256 expected);
    /// @notice The score for criterion `criterion` is `score`, above 100.
    error TenderLedgerScoreOutOfRange(bytes32 tenderId, uint256 criterion, uint16 score);
    /// @notice `expert` has not scored the read bid `pseudonym`.
    error TenderLedgerScoresMissing(bytes32 tenderId, address expert, bytes32 pseudonym);
    /// @notice No bid of tender `tenderId` was read out, so there is no winner.
    error TenderLedgerNoReadBids(bytes32 tenderId);
    /// @notice The agency named `winner` but the stored readings and scores give `expected`.
    error TenderLedgerWrongWinner(bytes32 tenderId, bytes32 winner, bytes32 expected);

    /// @notice Emitted when `agency` created tender `tenderId` on these terms.
    event TenderCreated(
        bytes32 indexed tenderId,
        address indexed agency,
        bytes32 documentHash,
        uint40 bidDeadline,
        uint40 openingTime,
        uint40 decryptionEnd,
        uint40 objectionWindow,
        uint8 method,
        uint16 minBidders,
        address[] experts,
        uint16[] weights
    );
    /// @notice Emitted when version `version` of the bid `pseudonym` was committed (a replacement keeps
    /// only the latest version in storage; every version stays in these events).
    event BidCommitted(
        bytes32 indexed tenderId, bytes32 indexed pseudonym, uint32 version, bytes32 ciphertextHash, bytes32 keyCommitment
    );
    /// @notice Emitted when version `version` of the bid `pseudonym` was withdrawn before the deadline.
    event BidWithdrawn(bytes32 indexed tenderId, bytes32 indexed pseudonym, uint32 version);
    /// @notice Emitted when the tender was opened with `bids` bids, fewer than `minBidders`: it must be run again.
    event TenderFailed(bytes32 indexed tenderId, uint256 bids, uint16 minBidders);
    /// @notice Emitted when the tender was opened with `bids` bids; keys are accepted until `decryptionEnd`
    /// (this block's time + the window of the terms).
    event TenderOpened(bytes32 indexed tenderId, uint256 bids, uint40 decryptionEnd);
    /// @notice Emitted when `bidder` signed in as the bidder behind `pseudonym`.
    event BidderSignedIn(bytes32 indexed tenderId, bytes32 indexed pseudonym, address indexed bidder);
    /// @notice Emitted when the key (and salt) of the bid `pseudonym` was revealed and matched its commitment.
    event KeyRevealed(bytes32 indexed tenderId, bytes32 indexed pseudonym, address indexed bidder, bytes32 key, bytes32 salt);
    /// @notice Emitted when the agency recorded the bid `pseudonym` as decrypted to a file hashing to `plaintextHash`.
    event BidDecrypted(bytes32 indexed tenderId, bytes32 indexed pseudonym, bytes32 plaintextHash);
    /// @notice Emitted when the agency recorded the bid `pseudonym` as not decrypted, for `cause`
    /// (1: the bidder's fault, the bid is revoked; 2: not the bidder's fault, the bid counts as withdrawn).
    event BidNotDecrypted(bytes32 indexed tenderId, bytes32 indexed pseudonym, uint8 cause);
    /// @notice Emitted with {BidNotDecrypted} cause 1: the bid `pseudonym` had no key by the end of the decryption
    /// window, so its bid security is forfeited (招标投标法实施条例 Art 35: a bidder that withdraws its bid after
    /// the deadline loses its security; the amount is in the tender documents). `bidder` is zero if it never signed in
    /// (the platform alone links the pseudonym to it).
    event BidSecurityForfeited(bytes32 indexed tenderId, bytes32 indexed pseudonym, address indexed bidder);
    /// @notice Emitted for each bid read out at the opening (唱标).
    event BidRead(bytes32 indexed tenderId, bytes32 indexed pseudonym, address indexed bidder, uint256 price, bytes32 itemsHash);
    /// @notice Emitted after the `count` {BidRead} of the reading; `announcementHash` hashes the published reading record.
    event ReadingPublished(bytes32 indexed tenderId, bytes32 announcementHash, uint256 count);
    /// @notice Emitted when `bidder`, signed in under `pseudonym`, raised objection `index`.
    event ObjectionRaised(
        bytes32 indexed tenderId, uint256 indexed index, bytes32 indexed pseudonym, address bidder, bytes32 objectionHash
    );
    /// @notice Emitted when the agency answered objection `index` (raised under `pseudonym`).
    event ObjectionAnswered(bytes32 indexed tenderId, uint256 indexed index, bytes32 pseudonym, bytes32 answerHash);
    /// @notice Emitted when `expert` scored the bid `pseudonym`, one score (0 to 100) per criterion.
    event ScoresSubmitted(bytes32 indexed tenderId, address indexed expert, bytes32 indexed pseudonym, uint16[] scores);
    /// @notice Emitted when the agency replaced `expert`, who had not scored every read bid by its deadline,
    /// with `replacement`; the `droppedScores` bids `expert` had scored are to be scored by `replacement`.
    event ExpertReplaced(bytes32 indexed tenderId, address indexed expert, address indexed replacement, uint256 droppedScores);
    /// @notice Emitted when the agency published the result: `winner` (signed in as `bidder`) with `value`
    /// (method 0: its price; method 1: its total score); `reportHash` hashes the evaluation report.
    event ResultPublished(
        bytes32 indexed tenderId, bytes32 indexed winner, address indexed bidder, bytes32 reportHash, uint256 value
    );

    /// @notice Creates tender `tenderId`; the caller becomes its agency.
    /// Requirements: caller is an active PROCUREMENT member; `tenderId` is new;
    /// `block.timestamp < bidDeadline <= openingTime < decryptionEnd`; `method` is 0 or 1;
    /// `minBidders` is 1 to 500; the panel has 1 to 64 distinct nonzero experts; method 0 has no
    /// weights, method 1 at least one, summing to 10000.
    /// Emits {TenderCreated}.
    function createTender(bytes32 tenderId, TenderTerms calldata terms) external;

    /// @notice Commits (or replaces, or re-commits after a withdrawal) the bid `pseudonym`.
    /// Requirements: caller is an active RELAYER; the tender exists; `block.timestamp < bidDeadline`;
    /// `pseudonym` is not zero; a new pseudonym, or one back after a withdrawal, fits in the tender's 500
    /// bids not withdrawn.
    /// Emits {BidCommitted}.
    /// @return version 1 for a new pseudonym, one more than the last version otherwise.
    function commitBid(bytes32 tenderId, bytes32 pseudonym, bytes32 ciphertextHash, bytes32 keyCommitment)
        external
        returns (uint32 version);

    /// @notice Withdraws the bid `pseudonym` and frees its slot; it may be committed again before the deadline.
    /// Requirements: caller is an active RELAYER; the tender exists; `block.timestamp < bidDeadline`;
    /// the bid is `Committed`.
    /// Emits {BidWithdrawn}.
    function withdrawBid(bytes32 tenderId, bytes32 pseudonym) external;

    /// @notice Opens the tender: with fewer than `minBidders` bids not withdrawn it fails, else it is `Opened`
    /// and its `decryptionEnd` becomes `block.timestamp + (decryptionEnd - openingTime)`.
    /// Requirements: caller is the tender's agency, still an active PROCUREMENT member; the tender is
    /// `Bidding`; `block.timestamp >= openingTime`.
    /// Emits {TenderFailed} or {TenderOpened}.
    /// @return state `Opened` or `Failed`.
    /// @return bids The number of bids not withdrawn (counted as bids come and go: constant gas).
    function openTender(bytes32 tenderId) external returns (TenderState state, uint256 bids);

    /// @notice Binds the bid `pseudonym` to `bidder` on the bidder's EIP-712 `SignIn` signature.
    /// A pseudonym is public once committed and only the platform knows whose it is, so only the
    /// relayer submits sign-ins: nobody else can squat a pseudonym and block its bidder's sign-in.
    /// Requirements: caller is an active RELAYER; the tender is `Opened`;
    /// `block.timestamp < decryptionEnd`; the bid is `Committed` and nobody signed in to it; `bidder` has
    /// no other bid in the tender, is not on the panel and is not the agency; `bidder` is an active
    /// member holding BIDDER_ROLE (so every bid that is opened is a registered bidder's: the key
    /// commitment binds the bid to its bidder from the commitment on); `signature` is `bidder`'s.
    /// Emits {BidderSignedIn}.
    function signIn(bytes32 tenderId, bytes32 pseudonym, address bidder, bytes calldata signature) external;

    /// @notice Reveals the key of the bid `pseudonym`: the commitment must open to it.
    /// Requirements: caller is the signed-in bidder or an active RELAYER; the tender is `Opened`;
    /// `block.timestamp < decryptionEnd`; the bid is `Committed` with a signed-in bidder;
    /// keccak256(abi.encode(chainid, this, tenderId, bidder, key, salt)) equals its key commitment.
    /// Emits {KeyRevealed}.
    function revealKey(bytes32 tenderId, bytes32 pseudonym, bytes32 key, bytes32 salt) external;

    /// @notice Records the outcome of decrypting the bid `pseudonym`: decrypted (to `plaintextHash`),
    /// or not, for `cause` 1 (the bidder's fault: revoked) or 2 (not the bidder's fault: withdrawn).
    /// Requirements: caller is the tender's agency; the tender is `Opened`. Decrypted: the bid is
    /// `Revealed` and `cause` is 0. Not decrypted: a `Revealed` bid at any time, with `cause` 2 only
    /// (its key is on chain: the contract cannot open the file, so it never takes the agency's word
    /// that the bidder is at fault; e.g. the platform's copy is lost, does not match `ciphertextHash`,
    /// or the key does not open it, which anyone re-checks off chain); a `Committed` bid (no key
    /// revealed: not signed in, or no key), `cause` 1 or 2, only once `block.timestamp >= decryptionEnd`,
    /// so no bidder loses any of its window.
    /// Emits {BidDecrypted}, or {BidNotDecrypted} (with cause 1, then {BidSecurityForfeited}).
    function recordDecryption(bytes32 tenderId, bytes32 pseudonym, bool decrypted, bytes32 plaintextHash, uint8 cause)
        external;

    /// @notice Publishes the reading (唱标): every decrypted bid exactly once, and nothing else.
    /// Requirements: caller is the tender's agency; the tender is `Opened`; every opened bid has its
    /// decryption outcome recorded; `readings` lists each `Decrypted` bid once.
    /// Emits one {BidRead} per reading, in order, then {ReadingPublished}.
    function publishReading(bytes32 tenderId, Reading[] calldata readings, bytes32 announcementHash) external;

    /// @notice Raises an objection on the EIP-712 `Objection` signature of the bidder signed in under `pseudonym`.
    /// Requirements: caller is that bidder or an active RELAYER; the tender is `Opened`, or `Read` and
    /// `block.timestamp < objectionDeadline(tenderId)`; a bidder signed in to `pseudonym`; `signature` is that bidder's; the same objection was not raised before.
    /// Emits {ObjectionRaised}.
    /// @return index The objection's index in the tender (0, 1, ...).
    function raiseObjection(bytes32 tenderId, bytes32 pseudonym, bytes32 objectionHash, bytes calldata signature)
        external
        returns (uint256 index);

    /// @notice Answers objection `index`, once.
    /// Requirements: caller is the tender's agency; the objection exists and is unanswered.
    /// Emits {ObjectionAnswered}.
    function answerObjection(bytes32 tenderId, uint256 index, bytes32 answerHash) external;

    /// @notice Records `expert`'s scores (0 to 100, one per criterion) for the bid `pseudonym`, on the
    /// expert's EIP-712 `Score` signature, and adds score * weight to the bid's total.
    /// Requirements: caller is `expert` or an active RELAYER; the tender is `Read` and evaluated by
    /// method 1; `expert` is on the panel and did not score this bid yet; the bid was read out;
    /// one score per criterion, each at most 100; `signature` is `expert`'s.
    /// Emits {ScoresSubmitted}.
    function submitScores(
        bytes32 tenderId,
        address expert,
        bytes32 pseudonym,
        uint16[] calldata scores,
        bytes calldata signature
    ) external;

    /// @notice Replaces `expert`, who has not scored every read bid by {scoringDeadline}, with `replacement`:
    /// the scores `expert` gave are dropped from the totals and `replacement` scores every read bid, with a
    /// scoring deadline of its own (this block's time + the window).
    /// Requirements: caller is the tender's agency; the tender is `Read` and evaluated by method 1;
    /// `expert` is on the panel and missed at least one read bid; `block.timestamp >= scoringDeadline`;
    /// `replacement` is not zero, never replaced in this tender, not on the panel, not the agency and
    /// not a signed-in bidder. Loops once over the tender's pseudonyms (at most 500).
    /// Emits {ExpertReplaced}.
    function replaceExpert(bytes32 tenderId, address expert, address replacement) external;

    /// @notice Publishes the result; the contract recomputes the winner ({computeResult}) and refuses another.
    /// Requirements: caller is the tender's agency; the tender is `Read`; the objection period is over
    /// ({objectionDeadline}); no objection is unanswered;
    /// at least one bid was read; method 1: every panel expert scored every read bid; `winner` is the
    /// computed winner.
    /// Emits {ResultPublished}.
    function publishResult(bytes32 tenderId, bytes32 winner, bytes32 reportHash) external;

    /// @notice The winner the stored readings and scores give, and its value. Method 0: the lowest
    /// price, ties to the lowest uint256(pseudonym). Method 1: the highest total of score * weight over
    /// experts and criteria, ties to the lower price, then to the lowest pseudonym.
    /// Requirements: the tender is `Read` or `Decided`; at least one bid was read; method 1: every
    /// panel expert scored every read bid.
    /// @return winner The winning pseudonym.
    /// @return value Method 0: its price; method 1: its total score.
    function computeResult(bytes32 tenderId) external view returns (bytes32 winner, uint256 value);

    /// @notice The GovRegistry this contract asks for roles.
    function registry() external view returns (IGovRegistry);

    /// @notice The state of tender `tenderId` (`None` for an unknown id).
    function tenderState(bytes32 tenderId) external view returns (TenderState);

    /// @notice Tender `tenderId` with its terms, agency, state and counts (all zero for an unknown id).
    function getTender(bytes32 tenderId) external view returns (TenderInfo memory);

    /// @notice The latest version of the bid `pseudonym` (all zero for an unknown one).
    function getBid(bytes32 tenderId, bytes32 pseudonym) external view returns (Bid memory);

    /// @notice The pseudonyms of tender `tenderId` with a bid not withdrawn (a withdrawal moves the last one into
    /// the freed slot; a re-commitment appends).
    function bidPseudonyms(bytes32 tenderId) external view returns (bytes32[] memory);

    /// @notice The number of objections raised in tender `tenderId`.
    function objectionCount(bytes32 tenderId) external view returns (uint256);

    /// @notice Objection `index` of tender `tenderId`.
    /// Requirements: the objection exists.
    function getObjection(bytes32 tenderId, uint256 index) external view returns (Objection memory);

    /// @notice The pseudonym `bidder` signed in under in tender `tenderId` (zero if none).
    function pseudonymOf(bytes32 tenderId, address bidder) external view returns (bytes32);

    /// @notice True when `expert` scored the bid `pseudonym` of tender `tenderId` (and was not replaced since).
    function hasScored(bytes32 tenderId, address expert, bytes32 pseudonym) external view returns (bool);

    /// @notice The first second no objection may be raised in tender `tenderId`, and the first a result may be
    /// published: the reading's block time + `objectionWindow`; zero before the reading (objections are open from the opening).
    function objectionDeadline(bytes32 tenderId) external view returns (uint256);

    /// @notice The first second `expert` may be replaced for not scoring every read bid: the later of the
    /// reading and its appointment, + the window; zero before the reading.
    function scoringDeadline(bytes32 tenderId, address expert) external view returns (uint256);
}
