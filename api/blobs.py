"""A content-addressed blob store on disk: files are named by their SHA-256.

A write goes to a temporary file in the same folder and is renamed into place only when
complete, so a failed or interrupted upload leaves nothing behind under a real name.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from chain.errors import GovchainError


class BlobMissing(GovchainError, LookupError):
    """No blob with that digest is stored."""


class BlobStore:
    def __init__(self, root: Path):
        self.root = root

    def _path(self, digest: str) -> Path:
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            raise BlobMissing(f"{digest!r} is not a SHA-256 hex digest")
        return self.root / digest[:2] / digest[2:4] / digest

    def put(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        path = self._path(digest)
        if path.exists():
            return digest
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".part-", delete=False) as tmp:
            tmp.write(data)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp.name, path)
        return digest

    def get(self, digest: str) -> bytes:
        try:
            return self._path(digest).read_bytes()
        except FileNotFoundError:
            raise BlobMissing(f"no blob {digest}") from None

    def exists(self, digest: str) -> bool:
        return self._path(digest).exists()

    def delete(self, digest: str) -> None:
        self._path(digest).unlink(missing_ok=True)
