"""The dev network's parties: who is registered in GovRegistry at deploy, with what roles.

DEV ONLY: keys come from the public test mnemonic in ``localnode.toml``. Organisation
codes are made-up placeholders in the 18-character 统一社会信用代码 format.
"""

from __future__ import annotations

from chain.config import NodeConfig
from chain.deploy import MemberSpec
from chain.registry import DataCategory, MemberInfo, Role
from eth_account.signers.local import LocalAccount

from identity.keys import hpke_key_for, dev_party, x25519_public_bytes

GOVERNOR_INFO = MemberInfo(name="区政务服务管理局 (District Government Service Bureau)", org_code="11000000DEV0000001", domain="bureau.gov.example")

# party -> (name, organisation code, domain, roles, data categories)
DEV_MEMBERS: dict[str, tuple[str, str, str, list[str], int]] = {
    "relayer": ("政务服务平台 (Platform relayer)", "11000000DEV0000002", "platform.gov.example", [Role.RELAYER], 0),
    "agency": ("区教育局 (District Education Bureau)", "11000000DEV0000003", "edu.gov.example", [Role.AGENCY, Role.ISSUER], 0),
    "holder_psb": (
        "区公安分局 (Public Security: ID card, household register)", "11000000DEV0000004", "psb.gov.example", [Role.DATA_HOLDER],
        DataCategory.ID_CARD | DataCategory.HOUSEHOLD_REGISTER,
    ),
    "holder_rp": ("居住证管理中心 (Residence permits)", "11000000DEV0000005", "rp.gov.example", [Role.DATA_HOLDER], DataCategory.RESIDENCE_PERMIT),
    "procurement": ("区公共资源交易中心 (Public Procurement Centre)", "11000000DEV0000006", "ggzy.gov.example", [Role.PROCUREMENT], 0),
    "auditor": ("区审计局 (District Audit Bureau)", "11000000DEV0000007", "audit.gov.example", [Role.AUDITOR], 0),
    "agency_culture": ("区文化和旅游局 (District Culture and Tourism Bureau)", "11000000DEV0000008", "culture.gov.example", [Role.AGENCY, Role.ISSUER], 0),
}  # fmt: skip


def governor_info(config: NodeConfig) -> MemberInfo:
    key = x25519_public_bytes(hpke_key_for(dev_party(config, "governor")))
    return MemberInfo(GOVERNOR_INFO.name, GOVERNOR_INFO.org_code, GOVERNOR_INFO.domain, key, 0)


def dev_member_specs(config: NodeConfig) -> list[MemberSpec]:
    specs = []
    for party, (name, org_code, domain, roles, categories) in DEV_MEMBERS.items():
        account = dev_party(config, party)
        hpke = x25519_public_bytes(hpke_key_for(account))
        specs.append(MemberSpec(account.address, MemberInfo(name, org_code, domain, hpke, int(categories)), roles))
    return specs


def dev_issuers(config: NodeConfig) -> list[LocalAccount]:
    """The dev parties registered with ISSUER: each gets its DocumentStore at deploy."""
    return [dev_party(config, party) for party, spec in DEV_MEMBERS.items() if Role.ISSUER in spec[3]]
