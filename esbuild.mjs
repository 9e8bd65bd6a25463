// Bundles the extension host and CLI (Node, CommonJS) and the webviews (browser).
// onnxruntime-node stays external: its native addon ships in node_modules inside the VSIX.
import * as esbuild from 'esbuild';

const production = process.argv.includes('--production');
const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'warning' };

await Promise.all([
  esbuild.build({
    ...common,
    // recordWorker and analysisWorker: the threads run records are written on and attention is analysed on
    // (src/engine/run/saveRun.ts and analysisThread.ts look for them beside the bundle).
    entryPoints: { extension: 'src/extension.ts', cli: 'src/cli/main.ts', recordWorker: 'src/engine/run/recordWorker.ts', analysisWorker: 'src/engine/run/analysisWorker.ts' },
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
