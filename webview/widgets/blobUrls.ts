// Pictures arrive as PNG bytes and are shown through blob: URLs; each URL holds its bytes until revoked,
// so whoever shows one revokes it when the picture is replaced, and every one goes when the page does.

const live = new Set<string>();

export function pngUrl(bytes: ArrayBuffer): string {
  const url = URL.createObjectURL(new Blob([bytes], { type: 'image/png' }));
  live.add(url);
  return url;
}

export function revokeUrl(url: string): void {
  if (live.delete(url)) URL.revokeObjectURL(url);
}

// The webview is going away (panel closed, reload): nothing shows the pictures any more.
window.addEventListener('pagehide', () => {
  for (const url of [...live]) revokeUrl(url);
});
