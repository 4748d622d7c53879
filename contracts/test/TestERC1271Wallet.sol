// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title TestERC1271Wallet — TEST ONLY: a minimal contract wallet for ConsentRegistry's tests
/// @notice Accepts a signature when its owner's key signed the hash; the owner can make the
/// wallet call other contracts. Never deployed by `deploy()`.
contract TestERC1271Wallet is IERC1271 {
    address private immutable _owner;

    /// @notice `caller` is not the wallet's owner.
    error TestERC1271WalletNotOwner(address caller);

    constructor(address owner_) {
        _owner = owner_;
    }

    /// @notice The key whose signatures the wallet accepts.
    function owner() external view returns (address) {
        return _owner;
    }

    /// @notice ERC-1271: valid when the owner signed `hash` (ECDSA, 65 bytes).
    function isValidSignature(bytes32 hash, bytes calldata signature) external view returns (bytes4) {
        (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        if (err == ECDSA.RecoverError.NoError && recovered == _owner) return IERC1271.isValidSignature.selector;
        return 0xffffffff;
    }

    /// @notice The owner makes the wallet call `target` with `data`; a revert is passed on as is.
    function execute(address target, bytes calldata data) external returns (bytes memory result) {
        if (msg.sender != _owner) revert TestERC1271WalletNotOwner(msg.sender);
        bool ok;
        (ok, result) = target.call(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 0x20), mload(result))
            }
        }
    }
}
