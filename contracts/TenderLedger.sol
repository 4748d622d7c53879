// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {SignatureChecker} from "@openzeppelin/contracts/utils/cryptography/SignatureChecker.sol";
import {Roles} from "./Roles.sol";
import {IGovRegistry} from "./interfaces/IGovRegistry.sol";
import {ITenderLedger} from "./interfaces/ITenderLedger.sol";

/// @title TenderLedger — the trail of an electronic bid opening, from tender to result
/// @notice Tenders are created and run by procurement agencies; bids are committed by the
/// platform relayer under pseudonyms; bidders sign in and reveal keys (EIP-712, EOA or
/// ERC-1271, sent by themselves or the relayer); experts sign their scores. Roles are read from
/// GovRegistry at the time of each call. The winner is recomputed here from the stored readings
/// and scores, never taken on trust.
contract TenderLedger is ITenderLedger, EIP712 {

    bytes32 private constant SIGNIN_TYPEHASH = keccak256("SignIn(bytes32 tenderId,bytes32 pseudonym,address bidder)");
    bytes32 private constant OBJECTION_TYPEHASH =
        keccak256("Objection(bytes32 tenderId,bytes32 pseudonym,bytes32 objectionHash)");
    bytes32 private constant SCORE_TYPEHASH = keccak256("Score(bytes32 tenderId,bytes32 pseudonym,bytes32 scoresHash)");

    /// @dev Bounds the loops of {computeResult}/{publishResult} and {publishReading} (about 10,000 and
    /// 33,000 gas per bid): 500 bids take about 5M and 17M gas, inside a 30M block. Counts fit a uint16.
    uint256 private constant MAX_BIDS = 500;
    /// @dev 64 experts * 100 points * 10000 basis points = 6.4e7: a bid's total fits a uint32.
    uint256 private constant MAX_EXPERTS = 64;
    uint256 private constant WEIGHT_TOTAL = 10_000;
    uint16 private constant MAX_SCORE = 100;

    /// @dev A tender as stored. Layout: one slot: address agency | uint40 bidDeadline | uint40 openingTime |
    /// uint8 Method | uint8 state; one slot: uint40 decryptionEnd | uint16 minBidders | uint16 activeBids |
    /// uint16 settledBids | uint16 decryptedBids | uint32 openObjections | uint40 window | uint40 readAt |
    /// uint40 objectionWindow; bytes32 documentHash; bytes32 winner. `window` is decryptionEnd - openingTime as created; `readAt`
    /// the reading's block time (zero before).
    struct Tender {
        address agency;
        uint40 bidDeadline;
        uint40 openingTime;
        Method method;
        TenderState state;
        uint40 decryptionEnd;
        uint16 minBidders;
        uint16 activeBids;
        uint16 settledBids;
        uint16 decryptedBids;
        uint32 openObjections;
        uint40 window;
        uint40 readAt;
        uint40 objectionWindow;
        bytes32 documentHash;
        bytes32 winner;
    }

    IGovRegistry private immutable _registry;

    mapping(bytes32 tenderId => Tender) private _tenders;
    mapping(bytes32 tenderId => address[]) private _experts;
    mapping(bytes32 tenderId => mapping(address expert => bool)) private _onPanel;
    mapping(bytes32 tenderId => uint16[]) private _weights;
    /// @dev Pseudonyms with a bid not withdrawn; `_slotOf` is each one's index + 1 (zero: not listed).
    mapping(bytes32 tenderId => bytes32[]) private _pseudonyms;
    mapping(bytes32 tenderId => mapping(bytes32 pseudonym => uint256)) private _slotOf;
    mapping(bytes32 tenderId => mapping(bytes32 pseudonym => Bid)) private _bids;
    mapping(bytes32 tenderId => mapping(address bidder => bytes32 pseudonym)) private _pseudonymOf;
    mapping(bytes32 tenderId => Objection[]) private _objections;
    mapping(bytes32 objectionDigest => bool) private _raisedObjections;
    /// @dev score * weight summed over the criteria, plus one (zero: not scored), per bid and expert.
    mapping(bytes32 tenderId => mapping(bytes32 pseudonym => mapping(address expert => uint32))) private _scoreOf;
    mapping(bytes32 tenderId => mapping(address expert => uint16)) private _scoredBids;
    mapping(bytes32 tenderId => mapping(address expert => uint40)) private _appointedAt;
    mapping(bytes32 tenderId => mapping(address expert => bool)) private _replaced;

    /// @param registry_ The GovRegistry that says who is an active relayer and procurement agency.
    constructor(IGovRegistry registry_) EIP712("govchain TenderLedger", "1") {
        _registry = registry_;
    }

    // -- tender and bids ------------------------------------------------------------------------

    /// @inheritdoc ITenderLedger
    function createTender(bytes32 tenderId, TenderTerms calldata terms) external {
        address agency = msg.sender;
        if (!_registry.hasActiveRole(Roles.PROCUREMENT, agency)) revert TenderLedgerUnauthorizedProcurement(agency);
        Tender storage t = _tenders[tenderId];
        if (t.state != TenderState.None) revert TenderLedgerTenderExists(tenderId);
        _checkTerms(terms);
        t.agency = agency;
        t.bidDeadline = terms.bidDeadline;
        t.openingTime = terms.openingTime;
        t.method = Method(terms.method); // range checked by _checkTerms
        t.state = TenderState.Bidding;
        t.decryptionEnd = terms.decryptionEnd;
        t.window = terms.decryptionEnd - terms.openingTime;
        t.objectionWindow = terms.objectionWindow;
        t.minBidders = terms.minBidders;
        t.documentHash = terms.documentHash;
        _storePanel(tenderId, terms.experts);
        _weights[tenderId] = terms.weights;
        _emitCreated(tenderId, agency, terms);
    }

    /// @inheritdoc ITenderLedger
    function commitBid(bytes32 tenderId, bytes32 pseudonym, bytes32 ciphertextHash, bytes32 keyCommitment)
        external
        returns (uint32 version)
    {
        _onlyRelayer();
        Tender storage t = _biddingOpen(tenderId);
        if (pseudonym == bytes32(0)) revert TenderLedgerZeroPseudonym(tenderId);
        Bid storage b = _bids[tenderId][pseudonym];
        BidStatus status = b.status;
        if (status != BidStatus.Committed) {
            // new, or back after a withdrawal: it takes a slot; a withdrawn pseudonym holds none
            bytes32[] storage list = _pseudonyms[tenderId];
            if (list.length >= MAX_BIDS) revert TenderLedgerTooManyBids(tenderId, MAX_BIDS);
            list.push(pseudonym);
            _slotOf[tenderId][pseudonym] = list.length;
        }
        // Before the deadline a bid is new, committed (replaced now) or withdrawn (committed again now).
        if (status != BidStatus.Committed) t.activeBids += 1;
        version = b.version + 1;
        b.ciphertextHash = ciphertextHash;
        b.keyCommitment = keyCommitment;
        b.version = version;
        b.status = BidStatus.Committed;
        emit BidCommitted(tenderId, pseudonym, version, ciphertextHash, keyCommitment);
    }

    /// @inheritdoc ITenderLedger
    function withdrawBid(bytes32 tenderId, bytes32 pseudonym) external {
        _onlyRelayer();
        Tender storage t = _biddingOpen(tenderId);
        Bid storage b = _bid(tenderId, pseudonym);
        if (b.status != BidStatus.Committed) revert TenderLedgerWrongBidStatus(tenderId, pseudonym, b.status);
        b.status = BidStatus.Withdrawn;
        t.activeBids -= 1;
        _freeSlot(tenderId, pseudonym);
        emit BidWithdrawn(tenderId, pseudonym, b.version);
    }

    // -- opening ----------------------------------------------------------------------------------

    /// @inheritdoc ITenderLedger
    function openTender(bytes32 tenderId) external returns (TenderState state, uint256 bids) {
        Tender storage t = _agencyTenderIn(tenderId, TenderState.Bidding);
        if (block.timestamp < t.openingTime) revert TenderLedgerTooEarly(tenderId, t.openingTime, block.timestamp);
        // Bids not withdrawn are counted as they come and go: no loop here.
        bids = t.activeBids;
        if (bids < t.minBidders) {
            state = TenderState.Failed;
            t.state = state;
            emit TenderFailed(tenderId, bids, t.minBidders);
        } else {
            state = TenderState.Opened;
            t.state = state;
            // The window counts from this block: opening late delays the opening, it never shortens the window.
            uint40 end = uint40(block.timestamp) + t.window;
            t.decryptionEnd = end;
            emit TenderOpened(tenderId, bids, end);
        }
    }

    /// @inheritdoc ITenderLedger
    function signIn(bytes32 tenderId, bytes32 pseudonym, address bidder, bytes calldata signature) external {
        _onlyRelayer();
        Tender storage t = _decryptionOpen(tenderId);
        Bid storage b = _bid(tenderId, pseudonym);
        if (b.bidder != address(0)) revert TenderLedgerAlreadySignedIn(tenderId, pseudonym, b.bidder);
        if (b.status != BidStatus.Committed) revert TenderLedgerWrongBidStatus(tenderId, pseudonym, b.status);
        if (bidder == t.agency || _onPanel[tenderId][bidder]) revert TenderLedgerConflictOfInterest(tenderId, bidder);
        bytes32 other = _pseudonymOf[tenderId][bidder];
        if (other != bytes32(0)) revert TenderLedgerBidderHasBid(tenderId, bidder, other);
        if (!_registry.hasActiveRole(Roles.BIDDER, bidder)) revert TenderLedgerUnregisteredBidder(tenderId, bidder);
        _checkSignature(tenderId, bidder, keccak256(abi.encode(SIGNIN_TYPEHASH, tenderId, pseudonym, bidder)), signature);
        b.bidder = bidder;
        _pseudonymOf[tenderId][bidder] = pseudonym;
        emit BidderSignedIn(tenderId, pseudonym, bidder);
    }

    /// @inheritdoc ITenderLedger
    function revealKey(bytes32 tenderId, bytes32 pseudonym, bytes32 key, bytes32 salt) external {
        _decryptionOpen(tenderId);
        Bid storage b = _bid(tenderId, pseudonym);
        address bidder = b.bidder;
        if (bidder == address(0)) revert TenderLedgerNotSignedIn(tenderId, pseudonym);
        if (msg.sender != bidder) _onlyRelayer();
        if (b.status != BidStatus.Committed) revert TenderLedgerWrongBidStatus(tenderId, pseudonym, b.status);
        if (keccak256(abi.encode(block.chainid, address(this), tenderId, bidder, key, salt)) != b.keyCommitment) {
            revert TenderLedgerKeyMismatch(tenderId, pseudonym);
        }
        b.status = BidStatus.Revealed;
        emit KeyRevealed(tenderId, pseudonym, bidder, key, salt);
    }

    /// @inheritdoc ITenderLedger
    function recordDecryption(bytes32 tenderId, bytes32 pseudonym, bool decrypted, bytes32 plaintextHash, uint8 cause)
        external
    {
        Tender storage t = _agencyTenderIn(tenderId, TenderState.Opened);
        Bid storage b = _bid(tenderId, pseudonym);
        BidStatus status = b.status;
        if (decrypted) {
            if (status != BidStatus.Revealed) revert TenderLedgerWrongBidStatus(tenderId, pseudonym, status);
            if (cause != uint8(DecryptionFault.None)) revert TenderLedgerInvalidCause(tenderId, pseudonym, cause);
            b.status = BidStatus.Decrypted;
            t.settledBids += 1;
            t.decryptedBids += 1;
            emit BidDecrypted(tenderId, pseudonym, plaintextHash);
            return;
        }
        if (status != BidStatus.Revealed && status != BidStatus.Committed) {
            revert TenderLedgerWrongBidStatus(tenderId, pseudonym, status);
        }
        if (cause == uint8(DecryptionFault.None) || cause > uint8(type(DecryptionFault).max)) {
            revert TenderLedgerInvalidCause(tenderId, pseudonym, cause);
        }
        DecryptionFault fault = DecryptionFault(cause);
        // A revealed key is the bidder's part done: only the agency's side (NotBidder) can leave it unopened.
        if (status == BidStatus.Revealed && fault == DecryptionFault.Bidder) {
            revert TenderLedgerKeyWasRevealed(tenderId, pseudonym);
        }
        // Without a revealed key only the end of the window settles the bid: the bidder keeps all of it.
        if (status == BidStatus.Committed && block.timestamp < t.decryptionEnd) {
            revert TenderLedgerDecryptionOpen(tenderId, t.decryptionEnd, block.timestamp);
        }
        b.status = fault == DecryptionFault.Bidder ? BidStatus.Revoked : BidStatus.NotDecryptedWithdrawn;
        t.settledBids += 1;
        emit BidNotDecrypted(tenderId, pseudonym, cause);
        // Holding a key back costs the bid security: a selective reveal does not pay.
        if (fault == DecryptionFault.Bidder) emit BidSecurityForfeited(tenderId, pseudonym, b.bidder);
    }

    /// @inheritdoc ITenderLedger
    function publishReading(bytes32 tenderId, Reading[] calldata readings, bytes32 announcementHash) external {
        Tender storage t = _agencyTenderIn(tenderId, TenderState.Opened);
        uint256 pending = t.activeBids - t.settledBids;
        if (pending != 0) revert TenderLedgerBidsPending(tenderId, pending);
        uint256 count = readings.length;
        if (count != t.decryptedBids) revert TenderLedgerReadingIncomplete(tenderId, count, t.decryptedBids);
        // As many readings as decrypted bids, each of a decrypted bid not read before: each exactly once.
        mapping(bytes32 => Bid) storage bids = _bids[tenderId];
        for (uint256 i = 0; i < count; ++i) {
            Reading calldata r = readings[i];
            Bid storage b = bids[r.pseudonym];
            if (b.status != BidStatus.Decrypted) {
                if (b.status == BidStatus.None) revert TenderLedgerUnknownBid(tenderId, r.pseudonym);
                revert TenderLedgerWrongBidStatus(tenderId, r.pseudonym, b.status);
            }
            if (b.read) revert TenderLedgerDuplicateReading(tenderId, r.pseudonym);
            b.read = true;
            b.price = r.price;
            emit BidRead(tenderId, r.pseudonym, b.bidder, r.price, r.itemsHash);
        }
        t.state = TenderState.Read;
        t.readAt = uint40(block.timestamp);
        emit ReadingPublished(tenderId, announcementHash, count);
    }

    // -- objections -------------------------------------------------------------------------------

    /// @inheritdoc ITenderLedger
    function raiseObjection(bytes32 tenderId, bytes32 pseudonym, bytes32 objectionHash, bytes calldata signature)
        external
        returns (uint256 index)
    {
        Tender storage t = _existing(tenderId);
        if (t.state != TenderState.Opened && t.state != TenderState.Read) revert TenderLedgerWrongState(tenderId, t.state);
        if (t.state == TenderState.Read) {
            uint256 deadline = _objectionDeadline(t);
            if (block.timestamp >= deadline) revert TenderLedgerObjectionsClosed(tenderId, deadline, block.timestamp);
        }
        address bidder = _bid(tenderId, pseudonym).bidder;
        if (bidder == address(0)) revert TenderLedgerNotSignedIn(tenderId, pseudonym);
        if (msg.sender != bidder) _onlyRelayer();
        bytes32 digest =
            _checkSignature(tenderId, bidder, keccak256(abi.encode(OBJECTION_TYPEHASH, tenderId, pseudonym, objectionHash)), signature);
        if (_raisedObjections[digest]) revert TenderLedgerObjectionExists(tenderId, pseudonym, objectionHash);
        _raisedObjections[digest] = true;
        Objection[] storage list = _objections[tenderId];
        index = list.length;
        list.push(Objection({pseudonym: pseudonym, bidder: bidder, raisedAt: uint40(block.timestamp), answered: false}));
        t.openObjections += 1;
        emit ObjectionRaised(tenderId, index, pseudonym, bidder, objectionHash);
    }

    /// @inheritdoc ITenderLedger
    function answerObjection(bytes32 tenderId, uint256 index, bytes32 answerHash) external {
        Tender storage t = _agencyTender(tenderId); // any state: objections exist from `Opened` on
        Objection storage o = _objection(tenderId, index);
        if (o.answered) revert TenderLedgerObjectionAnswered(tenderId, index);
        o.answered = true;
        t.openObjections -= 1;
        emit ObjectionAnswered(tenderId, index, o.pseudonym, answerHash);
    }

    // -- evaluation and result --------------------------------------------------------------------

    /// @inheritdoc ITenderLedger
    function submitScores(
        bytes32 tenderId,
        address expert,
        bytes32 pseudonym,
        uint16[] calldata scores,
        bytes calldata signature
    ) external {
        if (msg.sender != expert) _onlyRelayer();
        Tender storage t = _inState(tenderId, TenderState.Read);
        if (t.method != Method.WeightedScore) revert TenderLedgerWrongMethod(tenderId, uint8(t.method));
        if (!_onPanel[tenderId][expert]) revert TenderLedgerNotAnExpert(tenderId, expert);
        Bid storage b = _bid(tenderId, pseudonym);
        if (!b.read) revert TenderLedgerWrongBidStatus(tenderId, pseudonym, b.status);
        mapping(address => uint32) storage scored = _scoreOf[tenderId][pseudonym];
        if (scored[expert] != 0) revert TenderLedgerAlreadyScored(tenderId, expert, pseudonym);
        uint256 total = _weightedTotal(tenderId, scores);
        bytes32 scoresHash = keccak256(abi.encodePacked(scores));
        _checkSignature(tenderId, expert, keccak256(abi.encode(SCORE_TYPEHASH, tenderId, pseudonym, scoresHash)), signature);
        scored[expert] = uint32(total) + 1; // at most 100 * 10000 + 1
        _scoredBids[tenderId][expert] += 1;
        b.scoreCount += 1;
        b.scoreTotal += uint32(total); // at most 100 * 10000 per expert and 64 experts: fits
        emit ScoresSubmitted(tenderId, expert, pseudonym, scores);
    }

    /// @inheritdoc ITenderLedger
    function replaceExpert(bytes32 tenderId, address expert, address replacement) external {
        Tender storage t = _agencyTenderIn(tenderId, TenderState.Read);
        if (t.method != Method.WeightedScore) revert TenderLedgerWrongMethod(tenderId, uint8(t.method));
        mapping(address => bool) storage onPanel = _onPanel[tenderId];
        if (!onPanel[expert]) revert TenderLedgerNotAnExpert(tenderId, expert);
        if (replacement == address(0) || _replaced[tenderId][replacement]) revert TenderLedgerInvalidExpert(replacement);
        if (onPanel[replacement]) revert TenderLedgerDuplicateExpert(replacement);
        if (replacement == t.agency || _pseudonymOf[tenderId][replacement] != bytes32(0)) {
            revert TenderLedgerConflictOfInterest(tenderId, replacement);
        }
        if (_scoredBids[tenderId][expert] >= t.decryptedBids) revert TenderLedgerExpertDone(tenderId, expert);
        uint256 deadline = _scoringDeadline(tenderId, t, expert);
        if (block.timestamp < deadline) revert TenderLedgerScoringOpen(tenderId, expert, deadline, block.timestamp);
        uint256 dropped = _dropScores(tenderId, expert);
        address[] storage panel = _experts[tenderId];
        for (uint256 i = 0; i < panel.length; ++i) {
            if (panel[i] == expert) {
                panel[i] = replacement;
                break;
            }
        }
        onPanel[expert] = false;
        onPanel[replacement] = true;
        _replaced[tenderId][expert] = true;
        _appointedAt[tenderId][replacement] = uint40(block.timestamp);
        emit ExpertReplaced(tenderId, expert, replacement, dropped);
    }

    /// @inheritdoc ITenderLedger
    function publishResult(bytes32 tenderId, bytes32 winner, bytes32 reportHash) external {
        Tender storage t = _agencyTenderIn(tenderId, TenderState.Read);
        uint256 deadline = _objectionDeadline(t);
        if (block.timestamp < deadline) revert TenderLedgerObjectionPeriodOpen(tenderId, deadline, block.timestamp);
        if (t.openObjections != 0) revert TenderLedgerObjectionsOpen(tenderId, t.openObjections);
        (bytes32 expected, uint256 value) = _computeResult(tenderId, t);
        if (winner != expected) revert TenderLedgerWrongWinner(tenderId, winner, expected);
        t.state = TenderState.Decided;
        t.winner = winner;
        emit ResultPublished(tenderId, winner, _bids[tenderId][winner].bidder, reportHash, value);
    }

    // -- views ------------------------------------------------------------------------------------

    /// @inheritdoc ITenderLedger
    function computeResult(bytes32 tenderId) external view returns (bytes32 winner, uint256 value) {
        Tender storage t = _existing(tenderId);
        if (t.state != TenderState.Read && t.state != TenderState.Decided) revert TenderLedgerWrongState(tenderId, t.state);
        return _computeResult(tenderId, t);
    }

    /// @inheritdoc ITenderLedger
    function registry() external view returns (IGovRegistry) {
        return _registry;
    }

    /// @inheritdoc ITenderLedger
    function tenderState(bytes32 tenderId) external view returns (TenderState) {
        return _tenders[tenderId].state;
    }

    /// @inheritdoc ITenderLedger
    function getTender(bytes32 tenderId) external view returns (TenderInfo memory info) {
        Tender storage t = _tenders[tenderId];
        info.terms = TenderTerms({
            documentHash: t.documentHash,
            bidDeadline: t.bidDeadline,
            openingTime: t.openingTime,
            decryptionEnd: t.decryptionEnd,
            objectionWindow: t.objectionWindow,
            method: uint8(t.method),
            minBidders: t.minBidders,
            experts: _experts[tenderId],
            weights: _weights[tenderId]
        });
        info.agency = t.agency;
        info.state = t.state;
        info.bids = _pseudonyms[tenderId].length;
        info.activeBids = t.activeBids;
        info.settledBids = t.settledBids;
        info.decryptedBids = t.decryptedBids;
        info.objections = _objections[tenderId].length;
        info.openObjections = t.openObjections;
        info.winner = t.winner;
    }

    /// @inheritdoc ITenderLedger
    function getBid(bytes32 tenderId, bytes32 pseudonym) external view returns (Bid memory) {
        return _bids[tenderId][pseudonym];
    }

    /// @inheritdoc ITenderLedger
    function bidPseudonyms(bytes32 tenderId) external view returns (bytes32[] memory) {
        return _pseudonyms[tenderId];
    }

    /// @inheritdoc ITenderLedger
    function objectionCount(bytes32 tenderId) external view returns (uint256) {
        return _objections[tenderId].length;
    }

    /// @inheritdoc ITenderLedger
    function getObjection(bytes32 tenderId, uint256 index) external view returns (Objection memory) {
        return _objection(tenderId, index);
    }

    /// @inheritdoc ITenderLedger
    function pseudonymOf(bytes32 tenderId, address bidder) external view returns (bytes32) {
        return _pseudonymOf[tenderId][bidder];
    }

    /// @inheritdoc ITenderLedger
    function hasScored(bytes32 tenderId, address expert, bytes32 pseudonym) external view returns (bool) {
        return _scoreOf[tenderId][pseudonym][expert] != 0;
    }

    /// @inheritdoc ITenderLedger
    function objectionDeadline(bytes32 tenderId) external view returns (uint256) {
        Tender storage t = _tenders[tenderId];
        return t.readAt == 0 ? 0 : _objectionDeadline(t);
    }

    /// @inheritdoc ITenderLedger
    function scoringDeadline(bytes32 tenderId, address expert) external view returns (uint256) {
        Tender storage t = _tenders[tenderId];
        return t.readAt == 0 ? 0 : _scoringDeadline(tenderId, t, expert);
    }

    // -- internals --------------------------------------------------------------------------------

    function _checkTerms(TenderTerms calldata terms) private view {
        if (
            block.timestamp >= terms.bidDeadline || terms.openingTime < terms.bidDeadline
                || terms.decryptionEnd <= terms.openingTime
        ) {
            revert TenderLedgerInvalidTimes(terms.bidDeadline, terms.openingTime, terms.decryptionEnd, block.timestamp);
        }
        if (terms.objectionWindow == 0) revert TenderLedgerInvalidObjectionWindow();
        if (terms.method > uint8(type(Method).max)) revert TenderLedgerInvalidMethod(terms.method);
        if (terms.minBidders == 0 || terms.minBidders > MAX_BIDS) {
            revert TenderLedgerInvalidMinBidders(terms.minBidders, MAX_BIDS);
        }
        uint256 size = terms.experts.length;
        if (size == 0 || size > MAX_EXPERTS) revert TenderLedgerInvalidPanelSize(size, MAX_EXPERTS);
        uint256 count = terms.weights.length;
        uint256 sum;
        for (uint256 i = 0; i < count; ++i) {
            sum += terms.weights[i];
        }
        if (Method(terms.method) == Method.LowestPrice ? count != 0 : sum != WEIGHT_TOTAL) {
            revert TenderLedgerInvalidWeights(terms.method, count, sum);
        }
    }

    /// @dev Stores the panel (at most 64, checked by {_checkTerms}), refusing zero and duplicate experts.
    function _storePanel(bytes32 tenderId, address[] calldata experts) private {
        mapping(address => bool) storage onPanel = _onPanel[tenderId];
        address[] storage panel = _experts[tenderId];
        for (uint256 i = 0; i < experts.length; ++i) {
            address expert = experts[i];
            if (expert == address(0)) revert TenderLedgerInvalidExpert(expert);
            if (onPanel[expert]) revert TenderLedgerDuplicateExpert(expert);
            onPanel[expert] = true;
            panel.push(expert);
        }
    }

    function _emitCreated(bytes32 tenderId, address agency, TenderTerms calldata terms) private {
        emit TenderCreated(
            tenderId,
            agency,
            terms.documentHash,
            terms.bidDeadline,
            terms.openingTime,
            terms.decryptionEnd,
            terms.objectionWindow,
            terms.method,
            terms.minBidders,
            terms.experts,
            terms.weights
        );
    }

    /// @dev Sum over the criteria of score * weight; refuses a wrong count or a score above 100.
    function _weightedTotal(bytes32 tenderId, uint16[] calldata scores) private view returns (uint256 total) {
        uint16[] storage weights = _weights[tenderId];
        uint256 count = weights.length;
        if (scores.length != count) revert TenderLedgerInvalidScoreCount(tenderId, scores.length, count);
        for (uint256 i = 0; i < count; ++i) {
            uint16 score = scores[i];
            if (score > MAX_SCORE) revert TenderLedgerScoreOutOfRange(tenderId, i, score);
            total += uint256(score) * weights[i];
        }
    }

    /// @dev The winner over the read bids: one pass over the tender's pseudonyms (at most 500).
    function _computeResult(bytes32 tenderId, Tender storage t) private view returns (bytes32 winner, uint256 value) {
        bytes32[] storage list = _pseudonyms[tenderId];
        mapping(bytes32 => Bid) storage bids = _bids[tenderId];
        bool weighted = t.method == Method.WeightedScore;
        uint256 panel = weighted ? _experts[tenderId].length : 0;
        bool found;
        uint256 winnerPrice;
        for (uint256 i = 0; i < list.length; ++i) {
            bytes32 p = list[i];
            Bid storage b = bids[p];
            if (!b.read) continue;
            uint256 price = b.price;
            bool better;
            if (weighted) {
                if (b.scoreCount != panel) _revertMissingScores(tenderId, p);
                uint256 total = b.scoreTotal;
                better = !found || total > value
                    || (total == value && (price < winnerPrice || (price == winnerPrice && uint256(p) < uint256(winner))));
                if (better) value = total;
            } else {
                better = !found || price < value || (price == value && uint256(p) < uint256(winner));
                if (better) value = price;
            }
            if (better) {
                winner = p;
                winnerPrice = price;
                found = true;
            }
        }
        if (!found) revert TenderLedgerNoReadBids(tenderId);
    }

    /// @dev Takes a withdrawn pseudonym off the list (the last one moves into its slot): junk that is
    /// committed and withdrawn never uses up the tender's 500.
    function _freeSlot(bytes32 tenderId, bytes32 pseudonym) private {
        bytes32[] storage list = _pseudonyms[tenderId];
        mapping(bytes32 => uint256) storage slotOf = _slotOf[tenderId];
        uint256 index = slotOf[pseudonym] - 1;
        bytes32 last = list[list.length - 1];
        list[index] = last;
        slotOf[last] = index + 1;
        list.pop();
        delete slotOf[pseudonym];
    }

    /// @dev Names the first panel expert (at most 64) who has not scored `pseudonym`.
    function _revertMissingScores(bytes32 tenderId, bytes32 pseudonym) private view {
        address[] storage panel = _experts[tenderId];
        mapping(address => uint32) storage scored = _scoreOf[tenderId][pseudonym];
        for (uint256 i = 0; i < panel.length; ++i) {
            if (scored[panel[i]] == 0) revert TenderLedgerScoresMissing(tenderId, panel[i], pseudonym);
        }
    }

    /// @dev The reading's block time + the objection window (meaningful once read).
    function _objectionDeadline(Tender storage t) private view returns (uint256) {
        return uint256(t.readAt) + t.objectionWindow;
    }

    /// @dev The later of the reading and the expert's appointment, + the window.
    function _scoringDeadline(bytes32 tenderId, Tender storage t, address expert) private view returns (uint256) {
        uint40 appointed = _appointedAt[tenderId][expert];
        return uint256(appointed > t.readAt ? appointed : t.readAt) + t.window;
    }

    /// @dev Takes `expert`'s scores out of the totals: one pass over the tender's pseudonyms (at most 500).
    function _dropScores(bytes32 tenderId, address expert) private returns (uint256 dropped) {
        bytes32[] storage list = _pseudonyms[tenderId];
        mapping(bytes32 => Bid) storage bids = _bids[tenderId];
        for (uint256 i = 0; i < list.length; ++i) {
            bytes32 p = list[i];
            uint32 stored = _scoreOf[tenderId][p][expert];
            if (stored == 0) continue;
            Bid storage b = bids[p];
            b.scoreTotal -= stored - 1;
            b.scoreCount -= 1;
            delete _scoreOf[tenderId][p][expert];
            dropped += 1;
        }
        _scoredBids[tenderId][expert] = 0;
    }

    /// @dev Checks `signer`'s EIP-712 signature over `structHash` (ECDSA or ERC-1271) and returns the digest.
    function _checkSignature(bytes32 tenderId, address signer, bytes32 structHash, bytes calldata signature)
        private
        view
        returns (bytes32 digest)
    {
        digest = _hashTypedDataV4(structHash);
        if (!SignatureChecker.isValidSignatureNow(signer, digest, signature)) {
            revert TenderLedgerInvalidSignature(tenderId, signer);
        }
    }

    function _onlyRelayer() private view {
        if (!_registry.hasActiveRole(Roles.RELAYER, msg.sender)) revert TenderLedgerUnauthorizedRelayer(msg.sender);
    }

    function _existing(bytes32 tenderId) private view returns (Tender storage t) {
        t = _tenders[tenderId];
        if (t.state == TenderState.None) revert TenderLedgerUnknownTender(tenderId);
    }

    function _inState(bytes32 tenderId, TenderState expected) private view returns (Tender storage t) {
        t = _existing(tenderId);
        if (t.state != expected) revert TenderLedgerWrongState(tenderId, t.state);
    }

    /// @dev The tender, in any state, if it exists and the caller is its agency and still an active
    /// PROCUREMENT member.
    function _agencyTender(bytes32 tenderId) private view returns (Tender storage t) {
        t = _existing(tenderId);
        if (msg.sender != t.agency || !_registry.hasActiveRole(Roles.PROCUREMENT, msg.sender)) {
            revert TenderLedgerUnauthorizedAgency(tenderId, msg.sender);
        }
    }

    /// @dev The tender, as {_agencyTender}, and only in state `expected`.
    function _agencyTenderIn(bytes32 tenderId, TenderState expected) private view returns (Tender storage t) {
        t = _agencyTender(tenderId);
        if (t.state != expected) revert TenderLedgerWrongState(tenderId, t.state);
    }

    /// @dev The tender, while bids are accepted. Before `bidDeadline` it is `Bidding`: it cannot be
    /// opened before `openingTime`, which is not before `bidDeadline`.
    function _biddingOpen(bytes32 tenderId) private view returns (Tender storage t) {
        t = _existing(tenderId);
        if (block.timestamp >= t.bidDeadline) revert TenderLedgerBiddingClosed(tenderId, t.bidDeadline, block.timestamp);
    }

    /// @dev The tender, while it is `Opened` and before `decryptionEnd`.
    function _decryptionOpen(bytes32 tenderId) private view returns (Tender storage t) {
        t = _inState(tenderId, TenderState.Opened);
        if (block.timestamp >= t.decryptionEnd) {
            revert TenderLedgerDecryptionClosed(tenderId, t.decryptionEnd, block.timestamp);
        }
    }

    function _bid(bytes32 tenderId, bytes32 pseudonym) private view returns (Bid storage b) {
        b = _bids[tenderId][pseudonym];
        if (b.status == BidStatus.None) revert TenderLedgerUnknownBid(tenderId, pseudonym);
    }

    function _objection(bytes32 tenderId, uint256 index) private view returns (Objection storage) {
        Objection[] storage list = _objections[tenderId];
        if (index >= list.length) revert TenderLedgerUnknownObjection(tenderId, index);
        return list[index];
    }
}
