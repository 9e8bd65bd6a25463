// Builds one VSIX per platform (VS Code's platform-specific extensions): each carries onnxruntime-node's native
// addon for its own platform only, instead of one Linux-only VSIX (all five addons together are over 250 MB).
//   npm run package                       every target, into vsix/prompt-lens-<target>-<version>.vsix
//   npm run package -- linux-x64 ...      the targets named
// onnxruntime-node 1.30 ships addons for these five; there is none for darwin-x64.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ADDON_DIRS = {
  'linux-x64': 'linux/x64',
  'linux-arm64': 'linux/arm64',
  'win32-x64': 'win32/x64',
  'win32-arm64': 'win32/arm64',
  'darwin-arm64': 'darwin/arm64',
};
const ADDON_ROOT = 'node_modules/onnxruntime-node/bin/napi-v6';

const asked = process.argv.slice(2);
const unknown = asked.filter((t) => !(t in ADDON_DIRS));
if (unknown.length > 0) {
  console.error(`unknown target ${unknown.join(', ')}; targets: ${Object.keys(ADDON_DIRS).join(', ')}`);
  process.exit(2);
}
const targets = asked.length > 0 ? asked : Object.keys(ADDON_DIRS);
const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
// .vscodeignore as written, less its lines about the addons, which each target decides below.
const base = readFileSync('.vscodeignore', 'utf8')
  .split('\n')
  .filter((line) => !line.startsWith('node_modules/onnxruntime-node/bin/'));

execFileSync('node', ['esbuild.mjs', '--production'], { stdio: 'inherit' });
mkdirSync('vsix', { recursive: true });
const scratch = mkdtempSync(join(tmpdir(), 'prompt-lens-vsix-'));
try {
  for (const target of targets) {
    const own = join(ADDON_ROOT, ADDON_DIRS[target]);
    if (!existsSync(join(own, 'onnxruntime_binding.node'))) throw new Error(`${own}/onnxruntime_binding.node is missing: run npm ci`);
    const others = Object.entries(ADDON_DIRS)
      .filter(([t]) => t !== target)
      .map(([, dir]) => `node_modules/onnxruntime-node/bin/napi-v*/${dir}/**`);
    const ignoreFile = join(scratch, `${target}.vscodeignore`);
    writeFileSync(ignoreFile, [...base, ...others, ''].join('\n'));
    const out = join('vsix', `prompt-lens-${target}-${version}.vsix`);
    // The README's pictures travel in the VSIX (docs/images) and stay relative: there is no public repository to
    // point them at, and VS Code's extension page resolves them in the installed folder.
    execFileSync('npx', ['vsce', 'package', '--target', target, '--ignoreFile', ignoreFile, '--no-rewrite-relative-links', '--out', out], { stdio: 'inherit' });
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
