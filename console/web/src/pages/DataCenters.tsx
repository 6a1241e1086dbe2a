import { useState } from 'react';
import { api, ApiError, type DataCenter } from '../api';
import { Field, fieldOf } from '../components/Field';
import { usePoll } from '../use-poll';

/** Data centers with their health; admins add them; everyone links their own token (it goes in, never comes back). */
export function DataCenters({ admin }: { admin: boolean }) {
  const { data, error, reload } = usePoll(() => api<{ items: DataCenter[] }>('GET', '/api/v1/data-centers'), 3000, []);
  const [form, setForm] = useState({ name: '', api_url: '', token: '' });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [link, setLink] = useState<{ dc: string; token: string; error?: string } | null>(null);
  const add = async () => {
    setErrors({});
    try {
      await api('POST', '/api/v1/data-centers', form);
      setForm({ name: '', api_url: '', token: '' });
      reload();
    } catch (err) {
      const e = err instanceof ApiError ? err.error : { message: String(err) };
      setErrors({ [fieldOf((e as { field?: string }).field, ['name', 'api_url', 'token'])]: e.message });
    }
  };
  const saveLink = async () => {
    if (!link) return;
    try {
      await api('PUT', `/api/v1/data-centers/${encodeURIComponent(link.dc)}/credential`, { token: link.token });
      setLink(null);
      reload();
    } catch (err) {
      setLink({ ...link, error: (err as Error).message });
    }
  };
  return (
    <section>
      <h2>Data centers</h2>
      {error && <p className="error">{error}</p>}
      <table className="list" data-testid="data-centers">
        <thead>
          <tr>
            <th>Name</th>
            <th>API</th>
            <th>Status</th>
            <th>You there</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {data?.items.map((d) => (
            <tr key={d.id} data-dc={d.name} data-status={d.health.status}>
              <td>{d.name}</td>
              <td className="muted">{d.api_url}</td>
              <td className={`dc-${d.health.status}`}>
                {d.health.status}
                {d.health.message && <span className="muted"> · {d.health.message}</span>}
              </td>
              <td>{d.linked ? d.dc_user : <span className="muted">not linked</span>}</td>
              <td>
                <button type="button" onClick={() => setLink({ dc: d.name, token: '' })}>
                  {d.linked ? 'Replace token' : 'Link my token'}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {link && (
        <form
          className="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void saveLink();
          }}
        >
          <Field label={`Your token in ${link.dc}`} name="token" error={link.error}>
            <input name="link-token" type="password" value={link.token} onChange={(e) => setLink({ ...link, token: e.target.value })} />
          </Field>
          <button type="submit">Save</button>
          <button type="button" onClick={() => setLink(null)}>
            Cancel
          </button>
        </form>
      )}
      {admin && (
        <form
          className="card"
          data-testid="add-dc"
          onSubmit={(e) => {
            e.preventDefault();
            void add();
          }}
        >
          <h3>Add a data center</h3>
          <Field label="Name" name="name" error={errors.name}>
            <input name="dc-name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />
          </Field>
          <Field label="API URL" name="api_url" error={errors.api_url}>
            <input name="dc-url" placeholder="http://127.0.0.1:32400" value={form.api_url} onChange={(e) => setForm({ ...form, api_url: e.target.value })} />
          </Field>
          <Field label="Your token there (made for the console)" name="token" error={errors.token}>
            <input name="dc-token" type="password" value={form.token} onChange={(e) => setForm({ ...form, token: e.target.value })} />
          </Field>
          {errors.form && <p className="error">{errors.form}</p>}
          <button type="submit">Add</button>
        </form>
      )}
    </section>
  );
}
