"""The paperless-submission manifest: one Merkle leaf per uploaded material, one root on chain.

Only the root is anchored; the applicant's receipt keeps every leaf and its proof, so each
file can later be shown to be part of the submission without revealing the others.

Leaf encoding and tree follow OpenZeppelin's ``StandardMerkleTree`` (``@openzeppelin/merkle-tree``,
format ``standard-v1``) with leaf encoding ``["string", "string", "string", "string", "bytes32"]``:

* leaf hash ``keccak256(bytes.concat(keccak256(abi.encode(application, material, filename, mime, sha256))))``
  (double hashing: a leaf can never be passed off as an inner node). The application id is in
  every leaf: the same files in two applications (a re-application, a public template) give
  two different roots, and a leaf of one submission never proves a file of another;
* inner node ``keccak256(min(a, b) ‖ max(a, b))``, the commutative hash of OZ ``Hashes``;
* layout: the leaf hashes sorted ascending, placed in an array heap of ``2n - 1`` nodes with
  leaf ``i`` (in sorted order) at ``tree[2n - 2 - i]`` and node ``j``'s children at
  ``2j + 1`` and ``2j + 2``; the root is ``tree[0]``. A proof is the list of siblings walking
  from the leaf up to the root (``sibling(j) = j + 1`` if ``j`` is odd, else ``j - 1``).

So the root and every proof equal what ``StandardMerkleTree.of(values, encoding)`` gives, and a
proof verifies with OpenZeppelin ``MerkleProof.verify(proof, root, leafHash)`` on chain.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from eth_abi import encode
from eth_utils import keccak
from chain.hexcodec import hx

LEAF_ENCODING = ("string", "string", "string", "string", "bytes32")  # application, material, filename, mime, sha256
FORMAT = "govchain-manifest-v2"  # tree and leaves: OpenZeppelin standard-v1
MAX_FILENAME = 120
_UNSAFE_IN_NAME = re.compile(r'[<>:"|?*]')  # refused by Windows when the applicant saves the file


@dataclass(frozen=True)
class Leaf:
    """One material of a submission: which material it is, the file's (safe) name, its sniffed
    MIME type, the SHA-256 of its bytes and the application it was submitted in. Pass the name
    through :func:`safe_filename` first."""

    material: str
    filename: str
    mime: str
    sha256: bytes
    application: str

    def __post_init__(self) -> None:
        if not isinstance(self.application, str) or not self.application:
            raise ValueError(f"a leaf names the application it belongs to, got {self.application!r}")
        for name in ("material", "filename", "mime"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"{name} must be a string, got {getattr(self, name)!r}")
        if not isinstance(self.sha256, bytes | bytearray) or len(self.sha256) != 32:
            raise ValueError(f"sha256 must be 32 bytes, got {self.sha256!r}")
        object.__setattr__(self, "sha256", bytes(self.sha256))

    @classmethod
    def of_file(cls, material: str, filename: str, mime: str, data: bytes, application: str) -> "Leaf":
        """The leaf of the uploaded ``data``: the name made safe, the SHA-256 computed here."""
        return cls(material, safe_filename(filename), mime, hashlib.sha256(data).digest(), application)

    def hash(self) -> bytes:
        """The OZ standard leaf hash: keccak256(keccak256(abi.encode(application, material, filename, mime, sha256)))."""
        return keccak(keccak(encode(list(LEAF_ENCODING), [self.application, self.material, self.filename, self.mime, self.sha256])))

    def as_dict(self) -> dict:
        """JSON-friendly; ``sha256`` as plain hex, as ``sha256sum`` and ``certutil`` print it."""
        return {"application": self.application, "material": self.material, "filename": self.filename, "mime": self.mime, "sha256": self.sha256.hex()}


def _hash_pair(a: bytes, b: bytes) -> bytes:
    """OZ ``Hashes.commutativeKeccak256``: keccak256 of the two nodes, smaller first."""
    return keccak(a + b if a < b else b + a)


def _heap(leaf_hashes: list[bytes]) -> list[bytes]:
    """OZ ``makeMerkleTree``: the array heap over ``leaf_hashes`` (already in the order wanted)."""
    if not leaf_hashes:
        raise ValueError("a Merkle tree needs at least one leaf")
    size = 2 * len(leaf_hashes) - 1
    tree = [b""] * size
    for i, leaf in enumerate(leaf_hashes):
        tree[size - 1 - i] = leaf
    for j in range(size - 1 - len(leaf_hashes), -1, -1):
        tree[j] = _hash_pair(tree[2 * j + 1], tree[2 * j + 2])
    return tree


def _heap_proof(tree: tuple[bytes, ...] | list[bytes], index: int) -> list[bytes]:
    """OZ ``getProof``: the siblings from node ``index`` up to the root."""
    proof = []
    while index > 0:
        proof.append(tree[index + 1 if index % 2 else index - 1])
        index = (index - 1) // 2
    return proof


def process_proof(leaf_hash: bytes, proof: list[bytes]) -> bytes:
    """OZ ``MerkleProof.processProof``: the root ``proof`` leads to from ``leaf_hash``."""
    node = bytes(leaf_hash)
    for sibling in proof:
        node = _hash_pair(node, bytes(sibling))
    return node


@dataclass(frozen=True)
class Manifest:
    """The leaves in submission order and the OZ standard tree over them."""

    leaves: tuple[Leaf, ...]
    tree: tuple[bytes, ...] = field(repr=False)
    tree_index: tuple[int, ...] = field(repr=False)  # tree_index[i]: where leaves[i] sits in tree

    @property
    def root(self) -> bytes:
        return self.tree[0]

    def proof(self, index: int) -> list[bytes]:
        """The proof of ``leaves[index]`` (submission order, as OZ ``getProof(i)``)."""
        if not 0 <= index < len(self.leaves):
            raise IndexError(f"leaf index must be in 0..{len(self.leaves) - 1}, got {index}")
        return _heap_proof(self.tree, self.tree_index[index])

    def to_json(self) -> dict:
        """The applicant's receipt, JSON-ready: every leaf (``sha256`` plain hex, so it compares with
        ``sha256sum`` output) with its leaf hash and proof, and the root (keccak values 0x-hex)."""
        return {
            "format": FORMAT,
            "leafEncoding": list(LEAF_ENCODING),
            "root": hx(self.root),
            "leaves": [{**leaf.as_dict(), "leafHash": hx(leaf.hash()), "proof": [hx(p) for p in self.proof(i)]} for i, leaf in enumerate(self.leaves)],
        }


def build(leaves: Sequence[Leaf]) -> Manifest:
    """The manifest of ``leaves``: OZ ``StandardMerkleTree.of`` (leaves sorted by hash)."""
    items = tuple(leaves)
    if not items:
        raise ValueError("a manifest needs at least one material, got none")
    for i, leaf in enumerate(items):
        if not isinstance(leaf, Leaf):
            raise TypeError(f"leaf {i} must be a Leaf, got {leaf!r}")
    hashes = [leaf.hash() for leaf in items]
    order = sorted(range(len(items)), key=lambda i: hashes[i])  # stable, like Array.prototype.sort
    tree = _heap([hashes[i] for i in order])
    tree_index = [0] * len(items)
    for position, i in enumerate(order):
        tree_index[i] = len(tree) - 1 - position
    return Manifest(items, tuple(tree), tuple(tree_index))


def verify(leaf: Leaf, proof: list[bytes], root: bytes) -> bool:
    """Whether ``proof`` shows ``leaf`` is in the manifest with ``root`` (OZ ``MerkleProof.verify``)."""
    return process_proof(leaf.hash(), proof) == bytes(root)


def safe_filename(name: str) -> str:
    """A user-supplied file name made safe to store, show and offer for download.

    Drops any directory part (``/`` and ``\\``), control and format characters (NUL, newlines,
    the right-to-left override of ``gpj.exe`` tricks), the characters Windows refuses,
    leading dots (no hidden files, no ``..``) and trailing dots and spaces; keeps Chinese and
    every other letter. At most :data:`MAX_FILENAME` characters, keeping the extension when it
    has to cut. Never empty: ``"file"`` if nothing is left.
    """
    name = unicodedata.normalize("NFC", str(name))
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn"))
    name = _UNSAFE_IN_NAME.sub("_", name).strip().lstrip(".").rstrip(". ").strip()
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and 0 < len(ext) <= 16:
            name = stem[: MAX_FILENAME - len(ext) - 1].rstrip(". ") + "." + ext
        else:
            name = name[:MAX_FILENAME].rstrip(". ")
    return name or "file"
