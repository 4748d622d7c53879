"""Contract wallets for the ERC-1271 tests: the test-only wallet of contracts/test, deployed by
its owner, who signs for it."""

from __future__ import annotations


def deploy_wallet(chain, build, owner):
    artifact = build["TestERC1271Wallet"]
    factory = chain.w3.eth.contract(abi=artifact.abi, bytecode=artifact.bytecode)
    receipt = chain.transact(owner, factory.constructor(owner.address))
    return chain.w3.eth.contract(address=receipt.raw["contractAddress"], abi=artifact.abi)
