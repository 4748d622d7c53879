#!/usr/bin/env node
// A solc look-alike around the npm `solc` package (solcjs), for py-solc-x.
//   solc_shim.js --version                 -> prints "Version: <x.y.z+commit...>" like native solc
//   solc_shim.js --standard-json [--base-path DIR] [--include-path DIR]... < input.json
// solcjs's own CLI prints a banner before its JSON, which py-solc-x cannot parse; this shim
// prints the compiler's JSON only. Imports are read from the base path, then from each
// include path (node_modules), so sources may be passed by path or by content.
"use strict";
const fs = require("fs");
const path = require("path");

function loadSolc() {
  const searchFrom = [process.cwd(), __dirname, ...(process.env.NODE_PATH || "").split(path.delimiter)];
  return require(require.resolve("solc", { paths: searchFrom.filter(Boolean) }));
}

function optionValues(args, name) {
  const values = [];
  args.forEach((arg, i) => {
    if (arg === name && i + 1 < args.length) values.push(args[i + 1]);
  });
  return values;
}

function importReader(roots) {
  return (importPath) => {
    for (const root of roots) {
      const candidate = path.resolve(root, importPath);
      if (fs.existsSync(candidate)) return { contents: fs.readFileSync(candidate, "utf8") };
    }
    return { error: `File not found: ${importPath} (looked in ${roots.join(", ")})` };
  };
}

function main() {
  const args = process.argv.slice(2);
  const solc = loadSolc();
  if (args.includes("--version")) {
    process.stdout.write(`solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`);
    return 0;
  }
  if (!args.includes("--standard-json")) {
    process.stderr.write("usage: solc_shim.js --version | --standard-json [--base-path DIR] [--include-path DIR]... < input.json\n");
    return 2;
  }
  const base = optionValues(args, "--base-path")[0] || process.cwd();
  const roots = [base, ...optionValues(args, "--include-path"), ...optionValues(args, "--allow-paths").flatMap((p) => p.split(","))];
  const input = fs.readFileSync(0, "utf8");
  const output = solc.compile(input, { import: importReader(roots) });
  process.stdout.write(output);
  return 0;
}

process.exitCode = main();
