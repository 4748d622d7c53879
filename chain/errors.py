"""The package's exceptions.

Every exception govchain raises derives from :class:`GovchainError`, and each also derives
from the built-in it resembles, so callers may catch either. Contract custom errors
become :class:`ContractRevert` subclasses built from the ABI (see ``chain.reverts``).
"""

from __future__ import annotations

from chain.hexcodec import hx


class GovchainError(Exception):
    """Base of every govchain error."""


class ConfigError(GovchainError, ValueError):
    """A configuration value is missing or malformed."""


class CompileError(GovchainError, RuntimeError):
    """The Solidity compiler rejected the sources.

    ``errors`` holds one ``(file, line, message)`` per compiler error.
    """

    def __init__(self, errors: list[tuple[str, int, str]]):
        self.errors = errors
        lines = [f"{file}:{line}: {message}" for file, line, message in errors]
        super().__init__("Solidity compilation failed:\n" + "\n".join(lines))


class NodeError(GovchainError, RuntimeError):
    """The local node could not be started, or stopped answering."""


class ChainUnavailable(GovchainError, ConnectionError):
    """The chain's JSON-RPC endpoint cannot be reached."""


class ChainMismatch(GovchainError, ValueError):
    """The node is not the chain the configuration names (chain id or code differ)."""


class TransactionFailed(GovchainError, RuntimeError):
    """A transaction was mined with status 0, or could not be sent."""

    def __init__(self, message: str, tx_hash: str | None = None):
        self.tx_hash = tx_hash
        super().__init__(message)


class NonceTaken(TransactionFailed):
    """The node refused a transaction for its nonce: someone else sent with the same key (another
    process, an operator's wallet), so this client's counter was behind the chain (ganache says
    the same when the counter is ahead, after a chain was rewound)."""


class ReceiptTimeout(GovchainError, TimeoutError):
    """No receipt arrived for a sent transaction within the timeout."""

    def __init__(self, tx_hash: str, timeout: float):
        self.tx_hash = tx_hash
        self.timeout = timeout
        super().__init__(f"no receipt for {tx_hash} after {timeout:.1f} s")


class DeploymentMismatch(ChainMismatch):
    """A deployment record exists but the code on chain differs from it."""


class ContractRevert(GovchainError, RuntimeError):
    """A contract call reverted. Subclasses are the contract's custom errors by name.

    ``name`` is the Solidity error name and ``args`` a dict of its decoded arguments.
    """

    name: str = "Revert"

    def __init__(self, args: dict | None = None, message: str | None = None):
        self.args_by_name = dict(args or {})
        detail = ", ".join(f"{k}={_show(v)}" for k, v in self.args_by_name.items())
        super().__init__(message or f"{self.name}({detail})")


def _show(value: object) -> str:
    if isinstance(value, bytes):
        return hx(value)
    return repr(value) if isinstance(value, str) else str(value)


class NotDeployed(GovchainError, LookupError):
    """No deployment record exists for the configured chain yet."""
