#!/usr/bin/env node
// Test helper: runs @govtechsg/open-attestation (the npm package, unmodified) on JSON read from stdin.
//   {"op": "wrap", "documents": [...]}                 -> wrapDocuments(documents)
//   {"op": "digest", "document": {data, privacy?}}     -> digestDocument(document) (hex)
//   {"op": "obfuscate", "document": ..., "paths": [...]} -> obfuscateDocument(document, paths)
//   {"op": "verifySignature", "document": ...}         -> true | false
//   {"op": "validateSchema", "document": ...}          -> true | false
//   {"op": "getData", "document": ...}                 -> getData(document)
//   {"op": "batch", "requests": [ {op...}, ... ]}      -> [ {"ok": result} | {"error": message}, ... ]
// Prints one JSON value on stdout.
import oa from "@govtechsg/open-attestation";

const ops = {
  wrap: (r) => oa.wrapDocuments(r.documents),
  digest: (r) => oa.digestDocument(r.document),
  obfuscate: (r) => oa.obfuscateDocument(r.document, r.paths),
  verifySignature: (r) => oa.verifySignature(r.document),
  validateSchema: (r) => oa.validateSchema(r.document),
  getData: (r) => oa.getData(r.document),
};

function run(request) {
  if (request.op === "batch") {
    return request.requests.map((r) => {
      try {
        return { ok: run(r) };
      } catch (e) {
        return { error: String(e && e.message ? e.message : e) };
      }
    });
  }
  const op = ops[request.op];
  if (!op) throw new Error(`unknown op ${request.op}`);
  return op(request);
}

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
try {
  process.stdout.write(JSON.stringify(run(JSON.parse(Buffer.concat(chunks).toString("utf8")))));
} catch (e) {
  process.stderr.write(`wrap.mjs: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
}
