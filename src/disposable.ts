// Base class for what owns disposables (after vscode-hexeditor's): `_register` them as they are made and
// one `dispose()` releases them all, newest first; anything registered after disposal is released at once.
import type * as vscode from 'vscode';

export abstract class Disposable implements vscode.Disposable {
  private readonly owned: vscode.Disposable[] = [];
  private disposed = false;

  protected _register<T extends vscode.Disposable>(value: T): T {
    if (this.disposed) value.dispose();
    else this.owned.push(value);
    return value;
  }

  dispose(): void {
    this.disposed = true;
    for (let value = this.owned.pop(); value; value = this.owned.pop()) value.dispose();
  }
}
