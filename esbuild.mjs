// Bundles the extension host and CLI (Node, CommonJS) and the webviews (browser).
// onnxruntime-node stays external: its native addon ships in node_modules inside the VSIX.
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning' };

await Promise.all([
  esbuild.build({
    ...common,
    // recordWorker: the thread run records are written on (src/engine/run/saveRun.ts looks for it beside the bundle).
    entryPoints: { extension: 'src/extension.ts', cli: 'src/cli/main.ts', recordWorker: 'src/engine/run/recordWorker.ts' },
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode', 'onnxruntime-node'],
  }),
  esbuild.build({
    ...common,
    entryPoints: { 'webview/results': 'webview/main.ts' },
    outdir: 'dist',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
  }),
]);
