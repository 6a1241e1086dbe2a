import type { ReactNode } from 'react';

/** A labelled input with its error right under it (the API's `field` decides which one). */
export function Field({ label, name, error, children }: { label: string; name: string; error?: string; children: ReactNode }) {
  return (
    <label className={`field${error ? ' has-error' : ''}`} data-field={name}>
      <span>{label}</span>
      {children}
      {error && (
        <small className="error" role="alert" data-error-for={name}>
          {error}
        </small>
      )}
    </label>
  );
}

/** Which form field an API error belongs to: `body.name` / `name` / `targets.0.dc` -> the first segment unless the form names deeper ones. */
export function fieldOf(field: string | undefined, known: string[]): string {
  if (!field) return 'form';
  const f = field.replace(/^body\./, '');
  return known.find((k) => f === k || f.startsWith(`${k}.`)) ?? 'form';
}
