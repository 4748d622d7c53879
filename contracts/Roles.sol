// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Roles — the member roles of govchain, defined once
/// @notice GovRegistry grants these roles; ConsentRegistry, EvidenceLedger and TenderLedger ask
/// GovRegistry whether an account holds one (and is an active member). Every contract takes the
/// role ids from here, so no copy of `keccak256("...")` can drift from GovRegistry's.
library Roles {
    bytes32 internal constant GOVERNOR = keccak256("GOVERNOR");
    bytes32 internal constant RELAYER = keccak256("RELAYER");
    bytes32 internal constant AGENCY = keccak256("AGENCY");
    bytes32 internal constant DATA_HOLDER = keccak256("DATA_HOLDER");
    bytes32 internal constant ISSUER = keccak256("ISSUER");
    bytes32 internal constant PROCUREMENT = keccak256("PROCUREMENT");
    bytes32 internal constant AUDITOR = keccak256("AUDITOR");
    /// @notice A bidder firm the bureau registered (its business licence checked off chain): only such a
    /// key may sign in to a tender opening (TenderLedger).
    bytes32 internal constant BIDDER = keccak256("BIDDER");

    /// @notice Every role a member can hold besides the default admin role (which only changes
    /// hands through GovRegistry's two-step admin transfer): what a retired member loses.
    function memberRoles() internal pure returns (bytes32[8] memory) {
        return [GOVERNOR, RELAYER, AGENCY, DATA_HOLDER, ISSUER, PROCUREMENT, AUDITOR, BIDDER];
    }

    /// @notice The bit of `role` in a member's role mask (`1 << its index in {memberRoles}`); zero
    /// for any other role. GovRegistry keeps the mask beside the member's status, so "is an active
    /// member holding this role" is one storage read.
    function bit(bytes32 role) internal pure returns (uint16) {
        if (role == GOVERNOR) return 1;
        if (role == RELAYER) return 2;
        if (role == AGENCY) return 4;
        if (role == DATA_HOLDER) return 8;
        if (role == ISSUER) return 16;
        if (role == PROCUREMENT) return 32;
        if (role == AUDITOR) return 64;
        if (role == BIDDER) return 128;
        return 0;
    }
}
