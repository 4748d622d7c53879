"""The submission manifest: OpenZeppelin standard-tree roots and proofs, and safe file names.

Node's @openzeppelin/merkle-tree is not installed here, so the tree is pinned three ways:
the two vectors the OZ library publishes (its README and its "abc" render snapshot), a vector
for this leaf encoding derived by hand below, and proofs checked for every leaf of many trees.
"""

from __future__ import annotations

import hashlib
import json

import pytest
from eth_abi import encode
from eth_utils import keccak
from hypothesis import example, given, settings
from hypothesis import strategies as st

from identity.manifest import (
    MAX_FILENAME,
    Leaf,
    _hash_pair,
    _heap,
    build,
    process_proof,
    safe_filename,
    verify,
)


def create_leaf(i: int = 0, **overrides) -> Leaf:
    fields = {
        "material": f"material-{i}",
        "filename": f"身份证正面-{i}.jpg",
        "mime": "image/jpeg",
        "sha256": hashlib.sha256(f"file {i}".encode()).digest(),
        "application": "app_test",
    }
    return Leaf(**{**fields, **overrides})


def oz_leaf_hash(types: list[str], values: list) -> bytes:
    return keccak(keccak(encode(types, values)))


# -- the published OpenZeppelin vectors -------------------------------------------------------


def test_tree_layout_matches_the_oz_readme_vector():
    # @openzeppelin/merkle-tree README: StandardMerkleTree.of([[0x1111…, 5e18], [0x2222…, 2.5e18]], ["address", "uint256"])
    values = [("0x1111111111111111111111111111111111111111", 5 * 10**18), ("0x2222222222222222222222222222222222222222", 25 * 10**17)]
    tree = _heap(sorted(oz_leaf_hash(["address", "uint256"], list(v)) for v in values))
    assert ["0x" + node.hex() for node in tree] == [
        "0xd4dee0beab2d53f2cc83e567171bd2820e49898130a22622b10ead383e90bd77",
        "0xeb02c421cfa48976e66dfb29120745909ea3a0f843456c263cf8f1253483e283",
        "0xb92c48e9d7abe27fd8dfd6b5dfdbfb1c9a463f80c712b66f3a5180a090cccafc",
    ]


def test_tree_layout_matches_the_oz_render_snapshot_for_an_odd_count():
    # @openzeppelin/merkle-tree test: StandardMerkleTree.of([["a"], ["b"], ["c"]], ["string"]).render()
    tree = _heap(sorted(oz_leaf_hash(["string"], [c]) for c in "abc"))
    assert ["0x" + node.hex() for node in tree] == [
        "0xf2129b5a697531ef818f644564a6552b35c549722385bc52aa7fe46c0b5f46b1",
        "0xfa914d99a18dc32d9725b3ef1c50426deb40ec8d0885dac8edcc5bfd6d030016",
        "0x9cf5a63718145ba968a01c1d557020181c5b252f665cf7386d370eddb176517b",
        "0x9c15a6a0eaeed500fd9eed4cbeab71f797cefcc67bfd46683e4d2e6ff7f06d1c",
        "0x19ba6c6333e0e9a15bf67523e0676e2f23eb8e574092552d5e888c64a4bb3681",
    ]


def test_three_leaf_manifest_matches_the_hand_derived_vector():
    # By the OZ algorithm: h_i = keccak256(keccak256(abi.encode(application, material, filename, mime, sha256)));
    # sort ascending -> s0 < s1 < s2; heap of 5 nodes: tree[4]=s0, tree[3]=s1, tree[2]=s2,
    # tree[1] = H(tree[3], tree[4]), tree[0] = H(tree[1], tree[2]) with H(a, b) = keccak256(min ‖ max).
    leaves = [create_leaf(i) for i in range(3)]
    s0, s1, s2 = sorted(oz_leaf_hash(["string", "string", "string", "string", "bytes32"], [x.application, x.material, x.filename, x.mime, x.sha256]) for x in leaves)
    node1 = keccak(min(s1, s0) + max(s1, s0))
    root = keccak(min(node1, s2) + max(node1, s2))
    manifest = build(leaves)
    assert manifest.root == root
    # pinned, so a change to the encoding or the layout cannot pass unnoticed
    assert "0x" + root.hex() == "0x6056fef66d6c34a8fac5fa770ba1c6ce234a44927ed4252d7202faf50f27028d"
    # the smallest leaf sits deepest-right and proves with its sibling, then the third leaf
    smallest = next(i for i, x in enumerate(leaves) if x.hash() == s0)
    assert manifest.proof(smallest) == [s1, s2]


# -- roots and proofs -------------------------------------------------------------------------


@pytest.mark.parametrize("count", [1, 2, 3, 5, 8])
def test_every_proof_verifies_and_a_changed_leaf_does_not(count):
    leaves = [create_leaf(i) for i in range(count)]
    manifest = build(leaves)
    assert len(manifest.root) == 32 and len(manifest.tree) == 2 * count - 1
    for i, leaf in enumerate(leaves):
        proof = manifest.proof(i)
        assert process_proof(leaf.hash(), proof) == manifest.root
        assert verify(leaf, proof, manifest.root)
        assert not verify(create_leaf(i, sha256=hashlib.sha256(b"other").digest()), proof, manifest.root)
        assert not verify(create_leaf(i, filename="renamed.jpg"), proof, manifest.root)
        assert not verify(create_leaf(i, mime="application/pdf"), proof, manifest.root)
        assert not verify(leaf, proof, keccak(b"another root"))
    if count > 1:
        for i, leaf in enumerate(leaves):
            assert not verify(leaf, manifest.proof((i + 1) % count), manifest.root)


def test_one_leaf_tree_is_the_leaf_hash_with_an_empty_proof():
    leaf = create_leaf()
    manifest = build([leaf])
    assert manifest.root == leaf.hash() and manifest.proof(0) == []


def test_root_does_not_depend_on_upload_order():
    leaves = [create_leaf(i) for i in range(5)]
    assert build(leaves).root == build(list(reversed(leaves))).root


def test_empty_manifest_and_bad_leaves_are_refused():
    with pytest.raises(ValueError, match="at least one"):
        build([])
    with pytest.raises(ValueError, match="32 bytes"):
        create_leaf(sha256=b"\x00" * 31)
    with pytest.raises(TypeError):
        build([("a", "b", "c", b"\x00" * 32)])
    with pytest.raises(IndexError):
        build([create_leaf()]).proof(1)


def test_receipt_carries_leaves_proofs_and_root_and_survives_json():
    leaves = [create_leaf(i) for i in range(3)]
    manifest = build(leaves)
    receipt = json.loads(json.dumps(manifest.to_json(), ensure_ascii=False))
    assert receipt == manifest.to_json()
    assert receipt["root"] == "0x" + manifest.root.hex()
    assert receipt["leafEncoding"] == ["string", "string", "string", "string", "bytes32"]
    for i, (leaf, entry) in enumerate(zip(leaves, receipt["leaves"], strict=True)):
        # sha256 in plain hex, as `sha256sum` prints it; keccak values 0x-hex
        assert entry["sha256"] == hashlib.sha256(f"file {i}".encode()).hexdigest() and entry["filename"] == leaf.filename
        assert entry["leafHash"] == "0x" + leaf.hash().hex()
        assert entry["proof"] == ["0x" + p.hex() for p in manifest.proof(i)]
        restored = Leaf(entry["material"], entry["filename"], entry["mime"], bytes.fromhex(entry["sha256"]), entry["application"])
        assert verify(restored, [bytes.fromhex(p[2:]) for p in entry["proof"]], bytes.fromhex(receipt["root"][2:]))


def test_leaf_of_file_hashes_the_bytes_and_cleans_the_name():
    leaf = Leaf.of_file("id-front", "../../身份证.jpg", "image/jpeg", b"\xff\xd8\xff...", "app_x")
    assert leaf.filename == "身份证.jpg" and leaf.sha256 == hashlib.sha256(b"\xff\xd8\xff...").digest()


_hashes = st.binary(min_size=32, max_size=32)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.text(max_size=20), st.text(max_size=20), _hashes), min_size=1, max_size=20))
@example([("", "", b"\x00" * 32)])
@example([("a", "a.pdf", b"\x00" * 32), ("a", "a.pdf", b"\x00" * 32)])  # a duplicate upload
def test_any_manifest_proves_each_of_its_leaves(entries):
    leaves = [Leaf(material, name, "application/pdf", digest, "app_x") for material, name, digest in entries]
    manifest = build(leaves)
    for i, leaf in enumerate(leaves):
        assert verify(leaf, manifest.proof(i), manifest.root)


@settings(max_examples=60, deadline=None)
@given(_hashes, _hashes)
def test_pair_hash_is_commutative(a, b):
    assert _hash_pair(a, b) == _hash_pair(b, a) == keccak(min(a, b) + max(a, b))


# -- file names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\y.pdf", "y.pdf"),
        ("\x00", "file"),
        ("", "file"),
        ("..", "file"),
        (".hidden", "hidden"),
        ("...pdf", "pdf"),
        ("a/b\\..\\.env", "env"),
        ("营业执照 副本.pdf", "营业执照 副本.pdf"),
        ("line\nbreak\r\t.jpg", "linebreak.jpg"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # right-to-left override dropped
        ('a<b>c:"d"|e?f*.png', "a_b_c__d__e_f_.png"),
        ("trailing dots. . .", "trailing dots"),
        ("  spaced.pdf  ", "spaced.pdf"),
    ],
)
def test_safe_filename(name, safe):
    assert safe_filename(name) == safe


def test_long_names_are_cut_keeping_the_extension():
    name = safe_filename("证" * 300 + ".pdf")
    assert len(name) == MAX_FILENAME and name.endswith(".pdf") and name.startswith("证证")
    assert len(safe_filename("x" * 500)) == MAX_FILENAME


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
@example("")
@example("/")
@example("\\..\\")
def test_safe_filename_is_never_empty_never_a_path_and_stable(name):
    safe = safe_filename(name)
    assert 0 < len(safe) <= MAX_FILENAME
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".")
    assert all(ord(c) >= 0x20 and ord(c) != 0x7F for c in safe)
    assert safe_filename(safe) == safe


def test_the_same_files_in_two_applications_give_two_roots_and_no_cross_proof():
    """Issue 16: leaves without the application id gave two applications the same root."""
    first = build([create_leaf(0, application="app_a"), create_leaf(1, application="app_a")])
    second = build([create_leaf(0, application="app_b"), create_leaf(1, application="app_b")])
    assert first.root != second.root
    assert not verify(second.leaves[0], second.proof(0), first.root)
    with pytest.raises(ValueError):
        create_leaf(0, application="")
