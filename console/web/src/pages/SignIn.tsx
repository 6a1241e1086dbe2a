import { useState } from 'react';
import { api, ApiError, setCsrf, type Session } from '../api';
import { Field, fieldOf } from '../components/Field';

export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    setBusy(true);
    setErrors({});
    try {
      const s = await api<Session>('POST', '/api/v1/session', { name, password });
      setCsrf(s.csrf_token);
      onSignedIn(s);
    } catch (err) {
      const e = err instanceof ApiError ? err.error : { message: String(err) };
      setErrors({ [fieldOf((e as { field?: string }).field, ['name', 'password'])]: e.message });
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="signin">
      <h1>Wharf console</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Field label="User" name="name" error={errors.name}>
          <input name="name" autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} autoFocus />
        </Field>
        <Field label="Password" name="password" error={errors.password}>
          <input name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        {errors.form && (
          <p className="error" role="alert" data-error-for="form">
            {errors.form}
          </p>
        )}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}
