/**
 * The layer order of src/, checked by `make lint`: a module imports only from its own layer or
 * the layers before it, never from one after it, and nothing imports in a cycle. The flow is
 * signals → input → engine → decision → enforcement → audit, with bundles and fleet beside it;
 * what each layer holds is in the README's "Layout".
 */
const layers = [
  ["base", "^src/(errors|lazy|lazy-export|paths|tracing)\\.ts$|^src/types/"],
  ["contracts", "^src/contracts/"],
  ["input", "^src/input/"],
  ["signals", "^src/signals/"],
  ["decision", "^src/decision/"],
  ["scenarios", "^src/scenarios/"],
  ["wasm", "^src/wasm/"],
  ["bundle", "^src/bundle/"],
  ["engine", "^src/engine/"],
  ["facade", "^src/(stepup|remote-stepup)\\.ts$"],
  ["enforcement", "^src/enforcement/"],
  ["audit", "^src/audit/"],
  ["evaluation", "^src/evaluation/"],
  ["fleet", "^src/fleet/"],
  ["cli", "^src/cli/"],
  ["entry", "^src/(index|internal)\\.ts$"],
];

const upward = layers.slice(0, -1).map(([name, path], i) => ({
  name: `layer-${name}`,
  comment: `${name} imports only from itself and the layers before it`,
  severity: "error",
  from: { path },
  to: { path: layers.slice(i + 1).map(([, later]) => `(${later})`).join("|") },
}));

module.exports = {
  forbidden: [
    {
      name: "no-cycles",
      comment: "a cycle ties modules that should be changeable one at a time",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "layer-unknown",
      comment: "every module of src/ belongs to a layer",
      severity: "error",
      from: { path: "^src/", pathNot: layers.map(([, path]) => `(${path})`).join("|") },
      to: {},
    },
    {
      name: "wasm-layout-private",
      comment:
        "OPA's value layout (src/wasm/layout.ts) is known in src/wasm/ alone: everything else reaches OPA's values through the host, the value writer and reader, and the rewrites",
      severity: "error",
      from: { pathNot: "^src/wasm/" },
      to: { path: "^src/wasm/layout\\.ts$" },
    },
    ...upward,
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    includeOnly: "^src/",
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"] },
  },
};
