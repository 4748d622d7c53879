#!/usr/bin/env node
// Verify OpenAttestation v2 documents with the unmodified @govtechsg/oa-verify 9.4.0.
//
//   node scripts/oa/verify.mjs DOCUMENT.json --rpc URL (--txt MAP.json | --registry ADDRESS)
//   node scripts/oa/verify.mjs --many DOCUMENTS.json --rpc URL (--txt ... | --registry ...) [--concurrency N]
//
// oa-verify runs as `verificationBuilder(openAttestationVerifiers, {provider, dnsResolvers})`:
// `provider` is an ethers v5 StaticJsonRpcProvider (a JsonRpcProvider that asks the chain id once)
// on --rpc; `dnsResolvers` is one CustomDnsResolver (domain => {AD, Answer: [{name, type: 16,
// TTL, data}]}) answering TXT records for an issuer's identityProof.location from
//   --txt FILE         a JSON map {"domain": ["openatts net=ethereum netId=1337 addr=0x...", ...]}
//   --registry ADDRESS GovRegistry on chain: every active member whose domain is the location and
//                      that hasActiveRole(keccak256("ISSUER")) yields
//                      "openatts net=ethereum netId=<chainId> addr=<documentStoreOf(member)>".
// Output (stdout): one JSON object {"valid", "fragments": [{name, type, status, reason}], "codes"}
// ("codes": the codeString of every fragment that is neither VALID nor SKIPPED), or with --many a
// JSON list of them in input order. Exit 0 when verification ran (whatever the verdict), 2 on a
// usage, input or network setup error.
import { readFileSync } from "node:fs";
import { verificationBuilder, openAttestationVerifiers, isValid } from "@govtechsg/oa-verify";
import { providers, Contract, utils, constants } from "ethers";

const REGISTRY_ABI = [
  "function memberCount() view returns (uint256)",
  "function memberAt(uint256 index) view returns (address)",
  "function getMember(address account) view returns (tuple(string name, string orgCode, string domain, bytes32 hpkePublicKey, uint64 dataCategories, uint8 status, uint40 registeredAt, uint40 updatedAt, uint16 roles))",
  "function hasActiveRole(bytes32 role, address account) view returns (bool)",
  "function documentStoreOf(address account) view returns (address)",
];
const MEMBER_ACTIVE = 1;
const ISSUER_ROLE = utils.id("ISSUER");

function usage(message) {
  process.stderr.write(
    `verify.mjs: ${message}\n` +
      "usage: verify.mjs (DOCUMENT.json | --many LIST.json) --rpc URL (--txt MAP.json | --registry ADDRESS) [--concurrency N]\n"
  );
  process.exit(2);
}

function parseArgs(argv) {
  const args = { concurrency: 8 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === "--rpc") args.rpc = value();
    else if (arg === "--txt") args.txt = value();
    else if (arg === "--registry") args.registry = value();
    else if (arg === "--many") args.many = value();
    else if (arg === "--concurrency") args.concurrency = Math.max(1, parseInt(value(), 10) || 1);
    else if (arg.startsWith("--")) usage(`unknown option ${arg}`);
    else if (args.document) usage("give one document (or --many)");
    else args.document = arg;
  }
  if (!args.rpc) usage("--rpc URL is required");
  if (!args.txt === !args.registry) usage("give exactly one of --txt FILE, --registry ADDRESS");
  if (!args.document === !args.many) usage("give a document file or --many FILE");
  return args;
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    usage(`cannot read ${path}: ${e.message}`);
  }
}

const answer = (domain, records) => ({
  AD: false, // no DNSSEC here; oa-verify does not require it
  Answer: records.map((data) => ({ name: domain, type: 16, TTL: 300, data: `"${data}"` })),
});

function txtResolver(map) {
  const table = new Map(Object.entries(map).map(([domain, records]) => [domain.toLowerCase(), records]));
  return async (domain) => answer(domain, table.get(String(domain).toLowerCase()) ?? []);
}

function registryResolver(provider, address) {
  const registry = new Contract(address, REGISTRY_ABI, provider);
  let table; // domain -> records, read once per run
  const load = async () => {
    const { chainId } = await provider.getNetwork();
    const count = (await registry.memberCount()).toNumber();
    const accounts = await Promise.all([...Array(count).keys()].map((i) => registry.memberAt(i)));
    const rows = await Promise.all(
      accounts.map(async (account) => {
        const [member, issuer] = await Promise.all([registry.getMember(account), registry.hasActiveRole(ISSUER_ROLE, account)]);
        if (member.status !== MEMBER_ACTIVE || !issuer) return null;
        const store = await registry.documentStoreOf(account);
        if (store === constants.AddressZero) return null;
        return [member.domain.toLowerCase(), `openatts net=ethereum netId=${chainId} addr=${store}`];
      })
    );
    const result = new Map();
    for (const row of rows.filter(Boolean)) result.set(row[0], [...(result.get(row[0]) ?? []), row[1]]);
    return result;
  };
  return async (domain) => {
    table ??= load();
    return answer(domain, (await table).get(String(domain).toLowerCase()) ?? []);
  };
}

const summary = (fragments) => ({
  valid: isValid(fragments),
  fragments: fragments.map(({ name, type, status, reason }) => ({ name, type, status, ...(reason ? { reason } : {}) })),
  codes: fragments
    .filter((f) => f.status !== "VALID" && f.status !== "SKIPPED")
    .map((f) => f.reason?.codeString ?? f.status),
});

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const provider = new providers.StaticJsonRpcProvider(args.rpc);
  try {
    await provider.getNetwork();
  } catch (e) {
    usage(`no JSON-RPC node answers at ${args.rpc}: ${e.message}`);
  }
  const resolver = args.txt ? txtResolver(readJson(args.txt)) : registryResolver(provider, args.registry);
  const verify = verificationBuilder(openAttestationVerifiers, { provider, dnsResolvers: [resolver] });

  if (args.document) {
    process.stdout.write(JSON.stringify(summary(await verify(readJson(args.document)))) + "\n");
    return;
  }
  const documents = readJson(args.many);
  if (!Array.isArray(documents)) usage("--many needs a JSON list of documents");
  const results = new Array(documents.length);
  let next = 0;
  const worker = async () => {
    while (next < documents.length) {
      const i = next++;
      results[i] = summary(await verify(documents[i]));
    }
  };
  const started = performance.now(); // the verifications alone: Node's start-up and module loading are not in it
  await Promise.all(Array.from({ length: Math.min(args.concurrency, documents.length) }, worker));
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write(`timing ${JSON.stringify({ documents: documents.length, seconds })}\n`);
  process.stdout.write(JSON.stringify(results) + "\n");
}

main().catch((e) => {
  process.stderr.write(`verify.mjs: ${e && e.stack ? e.stack : e}\n`);
  process.exit(2);
});
