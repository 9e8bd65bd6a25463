import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Disposable } from '../../../src/disposable';

class Owner extends Disposable {
  own(name: string, log: string[]): void {
    this._register({ dispose: () => log.push(name) });
  }
}

describe('Disposable', () => {
  test('disposes what it registered once, newest first', () => {
    const log: string[] = [];
    const owner = new Owner();
    owner.own('first', log);
    owner.own('second', log);
    owner.dispose();
    owner.dispose();
    assert.deepEqual(log, ['second', 'first']);
  });

  test('disposes at once what is registered after it was disposed', () => {
    const log: string[] = [];
    const owner = new Owner();
    owner.dispose();
    owner.own('late', log);
    assert.deepEqual(log, ['late']);
  });
});
