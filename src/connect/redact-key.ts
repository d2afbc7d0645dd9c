/**
 * Replaces every run of text that starts with an API key's 7-character prefix and goes on with
 * more key characters by the prefix and an ellipsis. The plugin never keeps the full key, so
 * this is how text a relay sends back (a relay issued the key and may echo it) is kept free of
 * it before it is stored or shown.
 */
export function redactKeyLike(text: string, keyPrefix: string): string {
  if (keyPrefix.length === 0 || !text.includes(keyPrefix)) {
    return text;
  }

  const escaped = keyPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text.replace(new RegExp(`${escaped}[^\\s"'<>,;&]+`, 'g'), `${keyPrefix}…`);
}

/** Reads `key_prefix` from a stored callback body; returns '' when it is missing. */
export function keyPrefixOf(body: string): string {
  try {
    const value: unknown = (JSON.parse(body) as { key_prefix?: unknown }).key_prefix;
    return typeof value === 'string' ? value : '';
  } catch {
    return '';
  }
}
