// package.json as the manifest tests read it: only the parts they check.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

interface Setting {
  default?: unknown;
  markdownDescription?: string;
}

interface Contributed {
  command: string;
  when?: string;
}

export interface Manifest {
  activationEvents: string[];
  contributes: {
    commands: { command: string }[];
    menus: Record<string, Contributed[]>;
    keybindings: Contributed[];
    languages: { id: string }[];
    grammars: { language: string }[];
    viewsContainers: { activitybar: { id: string }[] };
    views: Record<string, { id: string }[]>;
    configuration: { properties: Record<string, Setting> };
  };
}

// Compiled to out/test/unit/manifest/: the repository root is four folders up.
export const manifest = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as Manifest;
