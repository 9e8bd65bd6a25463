// ESLint rule `prompt-lens/no-import-cycles`: fails on an import that closes a cycle between files, or
// between layers. A layer is a folder directly under one of `layerParents` (with everything below it): with
// `src/engine` a parent, if src/engine/run imports src/engine/report, nothing in report may import run.
// Type-only imports count too: they tie the design together as much as value imports do.
// The import graph is read once per lint process from the files on disk under `roots`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';

const SOURCE = /\.(ts|mts)$/;

/** Every TypeScript file under the roots, skipping declaration files and build output. */
function sourceFiles(root) {
  const files = [];
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && !entry.name.startsWith('.')) walk(full);
      } else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        files.push(full);
      }
    }
  };
  if (fs.existsSync(root)) walk(root);
  return files;
}

/** The file a relative specifier names, as the TypeScript compiler would find it, or undefined. */
function resolveLocal(fromFile, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(fromFile), specifier);
  const stem = base.replace(/\.(js|mjs)$/, '');
  for (const candidate of [base, `${stem}.ts`, `${stem}.mts`, path.join(base, 'index.ts')]) {
    if (SOURCE.test(candidate) && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

function localImports(file) {
  const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  const targets = new Set();
  for (const imported of info.importedFiles) {
    const target = resolveLocal(file, imported.fileName);
    if (target) targets.add(target);
  }
  return [...targets];
}

const graphs = new Map();


/**
 * The layer a file belongs to: the folder directly under the deepest of `parents` that holds it. A file lying
 * directly in a parent is a layer of its own (src/extension.ts wires everything; src/ids.ts is used by
 * everything). Undefined outside every parent.
 */
function layerFinder(cwd, parents) {
  const absolute = parents.map((parent) => path.resolve(cwd, parent)).sort((a, b) => b.length - a.length);
  return (file) => {
    for (const parent of absolute) {
      const relative = path.relative(parent, path.dirname(file));
      if (relative.startsWith('..') || path.isAbsolute(relative)) continue;
      return relative === '' ? file : path.join(parent, relative.split(path.sep)[0]);
    }
    return undefined;
  };
}

/** File graph and layer graph over every file under the roots, built once per set of roots. */
function importGraphs(cwd, roots, layerOf) {
  const key = `${cwd}\0${roots.join('\0')}`;
  let graph = graphs.get(key);
  if (!graph) {
    const files = new Map();
    const folders = new Map();
    for (const root of roots) {
      for (const file of sourceFiles(path.resolve(cwd, root))) {
        const targets = localImports(file);
        files.set(file, targets);
        const from = layerOf(file);
        for (const target of targets) {
          const to = layerOf(target);
          if (to === undefined || from === undefined || to === from) continue;
          if (!folders.has(from)) folders.set(from, new Set());
          folders.get(from).add(to);
        }
      }
    }
    graph = { files, folders };
    graphs.set(key, graph);
  }
  return graph;
}

/** A path from `start` to `goal` in the graph (breadth first, so the shortest), or undefined. */
function pathBetween(next, start, goal) {
  const previous = new Map([[start, undefined]]);
  const queue = [start];
  while (queue.length > 0) {
    const node = queue.shift();
    if (node === goal) {
      const route = [];
      for (let at = goal; at !== undefined; at = previous.get(at)) route.unshift(at);
      return route;
    }
    for (const neighbour of next(node)) {
      if (!previous.has(neighbour)) {
        previous.set(neighbour, node);
        queue.push(neighbour);
      }
    }
  }
  return undefined;
}

const noImportCycles = {
  meta: {
    type: 'problem',
    docs: { description: 'Disallow imports that close a cycle between files or between folders' },
    schema: [
      {
        type: 'object',
        properties: {
          roots: { type: 'array', items: { type: 'string' } },
          layerParents: { type: 'array', items: { type: 'string' } },
        },
        additionalProperties: false,
      },
    ],
    messages: {
      fileCycle: 'Import cycle: {{route}}',
      layerCycle: 'Layer cycle: {{route}}',
    },
  },
  create(context) {
    const cwd = context.cwd;
    const { roots = ['src'], layerParents = roots } = context.options[0] ?? {};
    const file = path.resolve(context.filename);
    const layerOf = layerFinder(cwd, layerParents);
    const { files, folders } = importGraphs(cwd, roots, layerOf);
    const show = (route) => route.map((p) => path.relative(cwd, p)).join(' -> ');

    const check = (node) => {
      const specifier = node.source?.value;
      if (typeof specifier !== 'string') return;
      const target = resolveLocal(file, specifier);
      if (!target || !files.has(file)) return;
      const back = pathBetween((f) => files.get(f) ?? [], target, file);
      if (back) {
        context.report({ node: node.source, messageId: 'fileCycle', data: { route: show([file, ...back]) } });
        return;
      }
      const from = layerOf(file);
      const to = layerOf(target);
      if (from === undefined || to === undefined || from === to) return;
      const layerBack = pathBetween((f) => folders.get(f) ?? [], to, from);
      if (layerBack) {
        context.report({ node: node.source, messageId: 'layerCycle', data: { route: show([from, ...layerBack]) } });
      }
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check };
  },
};

export default { rules: { 'no-import-cycles': noImportCycles } };
