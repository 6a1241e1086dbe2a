import { useEffect, useState } from 'react';

/** Hash routes (#/apps, #/c/<dc>/<tenant>/<component>, ...): the console server serves one page. */
export function useRoute(): string[] {
  const read = () => (window.location.hash.replace(/^#\/?/, '') || 'apps').split('/').map(decodeURIComponent);
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export const go = (...parts: string[]) => (window.location.hash = `#/${parts.map(encodeURIComponent).join('/')}`);
export const href = (...parts: string[]) => `#/${parts.map(encodeURIComponent).join('/')}`;
