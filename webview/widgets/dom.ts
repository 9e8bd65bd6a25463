// Small DOM helpers shared by the webviews.

export interface VsCodeApi<S = unknown> {
  postMessage(message: unknown): void;
  setState(state: S): void;
  getState(): S | undefined;
}

export const el = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const found = document.getElementById(id);
  if (!found) throw new Error(`missing #${id}`);
  return found as T;
};
