// The library's entry point, built in two parts (scripts/build.mjs, and the suites' build in
// test/setup/global.ts): what loading a bundle and deciding needs is compiled and run when the SDK
// is imported; the integrations' classes and functions (the Envoy server, the signals, the fleet
// client and server, audit, the step-up login, replay…) are exported as stand-ins
// (src/lazy-export.ts) that load the rest of the library, `integrations.js`, the first time one is
// used. The public API stays src/index.ts as written — the same names and declarations — and
// `stepup/internal` exports the classes themselves. Shared code is in chunks beside the entry
// files (dist/chunk-*.js), so a module is evaluated once whichever part reaches it first, and the
// worker scripts and package files a module finds next to itself are where they were.
//
// zod loads the same way: the contracts build their schemas on first use
// (src/contracts/lazy-schema.ts) and check documents with code generated from them, so a process
// that loads a good bundle and decides never runs zod. Their `import * as z from "zod"` is served
// by a module whose exports stand in for zod's (the functions with src/lazy-export.ts, the
// namespaces with lazySchema's proxy) and load zod.js — zod as the sources use it — on first use.
// docs/performance.md (cold start) has the figures.
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { build } from "esbuild";
import ts from "typescript";

/**
 * The modules evaluated when the SDK is imported, with everything they import: the facade
 * (`Stepup`: load a bundle, decide, the pool, report-only rollouts) and the errors. Every export of
 * src/index.ts declared there is exported as itself, as is every export that is not a class or a
 * function (a constant, a schema), whose module then joins them.
 */
const CORE = ["src/stepup.ts", "src/errors.ts"];
const ENTRY = "src/index.ts";

/**
 * The esbuild entry points and plugin that build index.js (the split entry), integrations.js and
 * internal.js into one folder, with `splitting`; `lazy` names the exports that are stand-ins.
 */
export async function libraryEntries(root) {
  const exports = entryExports(resolve(root, ENTRY));
  const core = await closure(root, coreModules(exports, root));
  const lazy = new Set(exports.filter((e) => e.callable && !core.has(e.declaredIn)).map((e) => e.name));
  const zod = await zodUses(root);
  const sources = { ...entrySources(exports, lazy, root), ...zodSources(zod, root) };
  const src = resolve(root, "src") + "/";
  const plugin = {
    name: "lazy-entry",
    setup(b) {
      b.onResolve({ filter: /^stepup-entry:/ }, (args) => ({ path: args.path.slice("stepup-entry:".length), namespace: "stepup-entry" }));
      b.onLoad({ filter: /.*/, namespace: "stepup-entry" }, (args) => ({ contents: sources[args.path], resolveDir: root, loader: "js" }));
      // The sources' zod, and only theirs: zod.js's own imports resolve to zod.
      b.onResolve({ filter: /^zod(\/mini)?$/ }, (args) =>
        args.namespace === "file" && args.importer.startsWith(src) ? { path: `zod-standin:${args.path}`, namespace: "stepup-entry" } : undefined,
      );
    },
  };
  return {
    entryPoints: [
      { in: "stepup-entry:index", out: "index" },
      { in: "stepup-entry:integrations", out: "integrations" },
      { in: "stepup-entry:zod", out: "zod" },
      { in: "src/internal.ts", out: "internal" },
    ],
    plugin,
    lazy,
    options: { splitting: true, chunkNames: "chunk-[hash]" },
  };
}

/**
 * The two entry modules: the facade (every export; the deferred ones as stand-ins that require
 * integrations.js, a sibling, on first use) and integrations.js (the deferred exports).
 */
function entrySources(exports, lazy, root) {
  const from = (file) => JSON.stringify(`./${relative(root, file).split("\\").join("/")}`);
  const reexport = (e) => `export { ${e.local === e.name ? e.name : `${e.local} as ${e.name}`} } from ${from(e.module)};`;
  const deferred = exports.filter((e) => lazy.has(e.name));
  const index = [
    ...exports.filter((e) => !lazy.has(e.name)).map((e) => (e.star ? `export * from ${from(e.module)};` : reexport(e))),
    `import { createRequire } from "node:module";`,
    `import { lazyExport } from ${from(resolve(root, "src/lazy-export.ts"))};`,
    // Not `require`: esbuild would bundle the call. require() of an ES module, synchronous (Node 20.19+).
    `const requireSibling = createRequire(import.meta.url);`,
    `let loaded;`,
    `const integrations = () => (loaded ??= requireSibling("./integrations.js"));`,
    // Local names no module uses, so that esbuild need not rename a class (its `name`) for them.
    ...deferred.map((e) => `const lazy$${e.name} = lazyExport(${JSON.stringify(e.name)}, () => integrations().${e.name});`),
    `export { ${deferred.map((e) => `lazy$${e.name} as ${e.name}`).join(", ")} };`,
  ].join("\n");
  return { index, integrations: deferred.map(reexport).join("\n") };
}

/** zod's modules as the sources import them. */
const ZOD_MODULES = ["zod", "zod/mini"];

/**
 * What the library's sources use of each of zod's modules at run time: the names they read from
 * `import * as z` (`z.strictObject(…)`) and import by name, which zod exports as values. Types
 * (`z.infer<…>`, `z.ZodType`) are not read. A namespace used as a value, or a name zod does not
 * export, fails the build rather than a call at run time.
 */
async function zodUses(root) {
  const require = createRequire(resolve(root, "package.json"));
  const runtime = Object.fromEntries(await Promise.all(ZOD_MODULES.map(async (m) => [m, await import(require.resolve(m))])));
  const used = Object.fromEntries(ZOD_MODULES.map((m) => [m, new Set()]));
  for (const file of await libraryFiles(root)) {
    const source = parse(file);
    for (const statement of source.statements) {
      if (!ts.isImportDeclaration(statement) || !ZOD_MODULES.includes(statement.moduleSpecifier.text)) continue;
      const module = statement.moduleSpecifier.text;
      const clause = statement.importClause;
      if (!clause || clause.isTypeOnly) continue;
      const bindings = clause.namedBindings;
      if (bindings && ts.isNamedImports(bindings)) {
        for (const element of bindings.elements) if (!element.isTypeOnly) used[module].add((element.propertyName ?? element.name).text);
      } else if (bindings && ts.isNamespaceImport(bindings)) {
        for (const name of namespaceMembers(source, bindings.name.text, file)) used[module].add(name);
      } else if (clause.name) {
        throw new Error(`${file}: imports zod's default export; import the names it uses`);
      }
    }
  }
  return ZOD_MODULES.map((module) => ({
    module,
    names: [...used[module]].sort().map((name) => {
      if (!(name in runtime[module])) throw new Error(`the sources read ${name} of ${module}, which it does not export as a value`);
      const kind = typeof runtime[module][name];
      if (kind !== "function" && kind !== "object") throw new Error(`the sources read ${name} of ${module}, a ${kind}: it cannot load on first use`);
      return { name, kind };
    }),
  }));
}

/** The members of a namespace import read as values (`z.string`); the namespace itself used as a value fails. */
function namespaceMembers(source, alias, file) {
  const names = new Set();
  const visit = (node) => {
    if (ts.isIdentifier(node) && node.text === alias) {
      const parent = node.parent;
      if (ts.isPropertyAccessExpression(parent) && parent.expression === node) names.add(parent.name.text);
      else if (!ts.isQualifiedName(parent) && !ts.isNamespaceImport(parent) && !ts.isTypeQueryNode(parent)) {
        throw new Error(`${file}: uses the zod namespace ${alias} as a value; only its members can load on first use`);
      }
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return names;
}

/**
 * The stand-ins for zod's modules (`zod-standin:zod`, `zod-standin:zod/mini`) and zod.js, which
 * exports what they stand for, each name prefixed by its module.
 */
function zodSources(zod, root) {
  const from = (file) => JSON.stringify(`./${relative(root, resolve(root, file)).split("\\").join("/")}`);
  const prefix = (module) => `${module.replace(/\W/g, "_")}$`;
  const sources = {
    zod: zod.map(({ module, names }) => `export { ${names.map(({ name }) => `${name} as ${prefix(module)}${name}`).join(", ")} } from ${JSON.stringify(module)};`).join("\n"),
  };
  for (const { module, names } of zod) {
    sources[`zod-standin:${module}`] = [
      `import { createRequire } from "node:module";`,
      `import { lazyExport } from ${from("src/lazy-export.ts")};`,
      `import { lazySchema } from ${from("src/contracts/lazy-schema.ts")};`,
      `const requireSibling = createRequire(import.meta.url);`,
      `let loaded;`,
      `const zod = () => (loaded ??= requireSibling("./zod.js"));`,
      ...names.map(({ name, kind }) => {
        const load = `() => zod().${prefix(module)}${name}`;
        return `const lazy$${name} = ${kind === "function" ? `lazyExport(${JSON.stringify(name)}, ${load})` : `lazySchema(${load})`};`;
      }),
      `export { ${names.map(({ name }) => `lazy$${name} as ${name}`).join(", ")} };`,
    ].join("\n");
  }
  return sources;
}

/** The source files the library's entry points reach, statically or by import(). */
async function libraryFiles(root) {
  const metafile = await imports(root, [ENTRY, "src/internal.ts"]);
  return Object.keys(metafile.inputs).filter((file) => file.startsWith("src/")).map((file) => resolve(root, file));
}

/** esbuild's metafile for bundling `entryPoints` (nothing written): every module they reach, and its imports. */
async function imports(root, entryPoints) {
  const { metafile } = await build({
    absWorkingDir: root,
    entryPoints,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    packages: "external",
    write: false,
    outdir: "unused",
    metafile: true,
    logLevel: "silent",
  });
  return metafile;
}

/** The modules whose closure is the core: CORE, and those declaring the exports that are not classes or functions. */
function coreModules(exports, root) {
  const files = new Set(CORE.map((file) => resolve(root, file)));
  for (const e of exports) if (!e.callable) files.add(e.star ? e.module : e.declaredIn);
  return [...files];
}

/**
 * The source files these modules import statically, transitively (absolute paths): what importing
 * them evaluates. A module reached only by `import()` loads when that runs.
 */
async function closure(root, entryPoints) {
  const metafile = await imports(root, entryPoints);
  const reached = new Set();
  const visit = (file) => {
    if (reached.has(file) || !metafile.inputs[file]) return;
    reached.add(file);
    for (const i of metafile.inputs[file].imports) if (!i.external && i.kind !== "dynamic-import") visit(i.path);
  };
  for (const entry of entryPoints) visit(relative(root, entry).split("\\").join("/"));
  return new Set([...reached].map((file) => resolve(root, file)));
}

/**
 * The values the entry exports (src/index.ts holds only re-exports): each with the module it is
 * exported from, the module that declares it, and whether it is a class or a function — what a
 * stand-in can take the place of — or another value. `export *` stays as it is.
 */
function entryExports(entry) {
  const out = [];
  const source = parse(entry);
  for (const statement of source.statements) {
    if (!ts.isExportDeclaration(statement)) {
      if (exported(statement)) throw new Error(`${entry}: declares ${statement.getText(source).slice(0, 60)}; only re-exports can be split`);
      continue;
    }
    if (statement.isTypeOnly) continue;
    const module = moduleFile(entry, statement.moduleSpecifier?.text);
    if (!statement.exportClause) {
      out.push({ star: true, module, callable: false });
      continue;
    }
    for (const element of statement.exportClause.elements) {
      if (element.isTypeOnly) continue;
      const local = (element.propertyName ?? element.name).text;
      const declared = declaration(module, local);
      if (declared) out.push({ name: element.name.text, local, module, declaredIn: declared.file, callable: declared.callable });
    }
  }
  return out;
}

const parsed = new Map();
function parse(file) {
  if (!parsed.has(file)) parsed.set(file, ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true));
  return parsed.get(file);
}

function moduleFile(from, specifier) {
  if (!specifier?.startsWith(".")) throw new Error(`${from}: re-exports ${specifier ?? "nothing"}; only the sources' own modules can be split`);
  return resolve(dirname(from), specifier.replace(/\.js$/, ".ts"));
}

function exported(statement) {
  return ts.canHaveModifiers(statement) && (ts.getModifiers(statement) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

/** Where the value `name` exported by `file` is declared, following re-exports; undefined for a type. */
function declaration(file, name) {
  for (const statement of parse(file).statements) {
    const found = declares(statement, name, exported(statement));
    if (found) return { file, callable: found === "callable" };
    if (!ts.isExportDeclaration(statement) || statement.isTypeOnly) continue;
    if (statement.exportClause && ts.isNamedExports(statement.exportClause)) {
      const element = statement.exportClause.elements.find((e) => e.name.text === name && !e.isTypeOnly);
      if (!element) continue;
      const local = (element.propertyName ?? element.name).text;
      if (statement.moduleSpecifier) return declaration(moduleFile(file, statement.moduleSpecifier.text), local);
      for (const s of parse(file).statements) {
        const own = declares(s, local, true);
        if (own) return { file, callable: own === "callable" };
      }
    } else if (!statement.exportClause && statement.moduleSpecifier) {
      const found = declaration(moduleFile(file, statement.moduleSpecifier.text), name);
      if (found) return found;
    }
  }
  return undefined;
}

/** "callable" for a class or function named `name`, "value" for a variable, when `statement` declares it and is exported. */
function declares(statement, name, isExported) {
  if (!isExported) return undefined;
  if ((ts.isClassDeclaration(statement) || ts.isFunctionDeclaration(statement)) && statement.name?.text === name) return "callable";
  if (ts.isVariableStatement(statement) && statement.declarationList.declarations.some((d) => ts.isIdentifier(d.name) && d.name.text === name)) return "value";
  return undefined;
}
