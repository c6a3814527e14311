import { useState } from 'preact/hooks';

/**
 * The API key the fleet and developer views send. Kept in sessionStorage: it survives a reload of
 * this tab but not the browser session, and is never put in a URL (URLs end up in logs and history).
 */
const STORAGE_KEY = 'hexedge.apiKey';

export function readKey(): string | undefined {
  try {
    return sessionStorage.getItem(STORAGE_KEY) ?? undefined;
  } catch {
    return undefined;
  }
}

export function useApiKey(): [string | undefined, (key: string | undefined) => void] {
  const [key, setKey] = useState(readKey());
  return [
    key,
    (next) => {
      try {
        if (next) sessionStorage.setItem(STORAGE_KEY, next);
        else sessionStorage.removeItem(STORAGE_KEY);
      } catch {
        // storage disabled: the key lives for this page only
      }
      setKey(next);
    },
  ];
}
