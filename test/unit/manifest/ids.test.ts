// src/ids.ts and package.json's `contributes` name the same commands, views, language and context keys.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { COMMANDS, CONFIG_SECTION, CONTEXT_KEYS, LANGUAGE_ID, VIEWS } from '../../../src/ids';
import { manifest } from './manifest';

const { contributes, activationEvents } = manifest;

/** Every `when` clause of the menus and keybindings. */
function whenClauses(): string[] {
  const menuItems = Object.values(contributes.menus).flat();
  return [...menuItems, ...contributes.keybindings].flatMap((item) => (item.when ? [item.when] : []));
}

describe('ids and package.json', () => {
  test('the contributed commands are exactly COMMANDS', () => {
    assert.deepEqual(contributes.commands.map((c) => c.command).sort(), Object.values(COMMANDS).sort());
  });

  test('menus and keybindings name only commands in COMMANDS', () => {
    const used = [...Object.values(contributes.menus).flat(), ...contributes.keybindings].map((item) => item.command);
    for (const command of used) assert.ok((Object.values(COMMANDS) as string[]).includes(command), command);
  });

  test('the language, its grammar and its activation use LANGUAGE_ID', () => {
    assert.deepEqual(contributes.languages.map((l) => l.id), [LANGUAGE_ID]);
    assert.deepEqual(contributes.grammars.map((g) => g.language), [LANGUAGE_ID]);
    assert.ok(activationEvents.includes(`onLanguage:${LANGUAGE_ID}`));
  });

  test('the view container, the run panel and the results panel are VIEWS', () => {
    assert.deepEqual(contributes.viewsContainers.activitybar.map((c) => c.id), [VIEWS.container]);
    assert.deepEqual(Object.keys(contributes.views), [VIEWS.container]);
    assert.deepEqual(contributes.views[VIEWS.container].map((v) => v.id), [VIEWS.runPanel]);
    assert.ok(activationEvents.includes(`onView:${VIEWS.runPanel}`));
    assert.ok(activationEvents.includes(`onWebviewPanel:${VIEWS.results}`));
  });

  test('every setting is in CONFIG_SECTION', () => {
    for (const key of Object.keys(contributes.configuration.properties)) assert.ok(key.startsWith(`${CONFIG_SECTION}.`), key);
  });

  test('when clauses use exactly the context keys and views in ids', () => {
    const named = new Set(whenClauses().flatMap((when) => when.match(/\bpromptLens\.[\w.]+/g) ?? []));
    const known: string[] = [...Object.values(CONTEXT_KEYS), ...Object.values(VIEWS)];
    for (const name of named) assert.ok(known.includes(name), `${name} in a when clause is not in src/ids.ts`);
    for (const key of Object.values(CONTEXT_KEYS)) assert.ok(named.has(key), `${key} is used by no when clause`);
  });
});
