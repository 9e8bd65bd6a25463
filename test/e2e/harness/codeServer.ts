// code-server: installed into its own folder, started isolated from the real home on a free loopback port.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cleanups, groupsToKill, killGroup } from './cleanup';
import { CODE_SERVER_DIR, CODE_SERVER_VERSION, ENV_DIR, INSTALL_SCRIPT, RESULTS } from './config';
import { freePort, httpStatus, log, secondsSince, sleep, tail } from './util';

export function ensureCodeServer(): void {
  const start = Date.now();
  const result = spawnSync('bash', [INSTALL_SCRIPT], {
    stdio: 'inherit',
    env: { ...process.env, PROMPT_LENS_E2E_ENV: ENV_DIR },
  });
  if (result.status !== 0) throw new Error(`${INSTALL_SCRIPT} failed (exit ${result.status ?? result.signal})`);
  const version = (JSON.parse(fs.readFileSync(path.join(CODE_SERVER_DIR, 'package.json'), 'utf8')) as { version: string }).version;
  if (version !== CODE_SERVER_VERSION) throw new Error(`code-server ${version} installed, want ${CODE_SERVER_VERSION}`);
  log(`code-server ${version} ready (${secondsSince(start)})`);
}

export interface CodeServer {
  port: number;
  base: string;
  logFile: string;
  stop(): Promise<void>;
}

export interface CodeServerOptions {
  name: string;
  dir: string;
  workspace: string;
  extensionsDir: string;
  env: Record<string, string>;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
}

/** A child environment without anything that would tie code-server to a VS Code the runner may be inside. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('VSCODE_') || key === 'ELECTRON_RUN_AS_NODE' || key.startsWith('npm_')) continue;
    env[key] = value;
  }
  return env;
}

export async function startCodeServer(options: CodeServerOptions): Promise<CodeServer> {
  const { dir } = options;
  const home = path.join(dir, 'home');
  const userData = path.join(dir, 'user-data');
  for (const d of [home, userData, path.join(userData, 'User'), options.extensionsDir]) fs.mkdirSync(d, { recursive: true });
  fs.writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify(
      {
        'workbench.startupEditor': 'none',
        'workbench.tips.enabled': false,
        'workbench.enableExperiments': false,
        'telemetry.telemetryLevel': 'off',
        'security.workspace.trust.enabled': false,
        'extensions.autoCheckUpdates': false,
        'extensions.autoUpdate': false,
        'update.mode': 'none',
        'window.restoreWindows': 'none',
        'chat.commandCenter.enabled': false,
        'git.enabled': false,
        ...options.settings,
      },
      null,
      2,
    ),
  );

  const port = await freePort();
  const logFile = path.join(dir, `code-server-${options.name}.log`);
  const logFd = fs.openSync(logFile, 'a');
  const args = [
    path.join(CODE_SERVER_DIR, 'out', 'node', 'entry.js'),
    '--config', '/dev/null',
    '--bind-addr', `127.0.0.1:${port}`,
    '--auth', 'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--user-data-dir', userData,
    '--extensions-dir', options.extensionsDir,
    options.workspace,
  ];
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: dir,
    detached: true, // own process group: stop() kills the extension host and every helper with it
    stdio: ['ignore', logFd, logFd],
    env: {
      ...cleanEnv(),
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_DATA_HOME: path.join(home, '.local', 'share'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
      XDG_STATE_HOME: path.join(home, '.local', 'state'),
      EXTENSIONS_GALLERY: '{}',
      ...options.env,
    },
  });
  fs.closeSync(logFd);
  const pgid = child.pid;
  if (pgid === undefined) throw new Error('code-server did not start');
  groupsToKill.add(pgid);
  let exited = false;
  const exitedPromise = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('exit', () => {
    exited = true;
  });

  const stop = async (): Promise<void> => {
    if (!groupsToKill.has(pgid)) return;
    killGroup(pgid, 'SIGTERM');
    await Promise.race([exitedPromise, sleep(5000)]);
    // The leader may be gone while its children (extension host, pty host) linger: sweep the group.
    killGroup(pgid, 'SIGKILL');
    groupsToKill.delete(pgid);
    // Keep the server's log with the other results (the temp folder goes away).
    fs.mkdirSync(RESULTS, { recursive: true });
    fs.copyFileSync(logFile, path.join(RESULTS, path.basename(logFile)));
  };
  cleanups.push(stop);

  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while ((await httpStatus(`${base}/healthz`)) !== 200) {
    if (exited) throw new Error(`code-server exited during start-up; log:\n${tail(logFile, 40)}`);
    if (Date.now() > deadline) throw new Error(`code-server not answering on ${base}; log:\n${tail(logFile, 40)}`);
    await sleep(200);
  }
  return { port, base, logFile, stop };
}
