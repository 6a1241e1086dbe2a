import { useState } from 'react';
import { api, ApiError, type DataCenter } from '../api';
import { Field, fieldOf } from '../components/Field';
import { LiveTimeline } from '../components/LiveTimeline';
import { href } from '../router';
import { usePoll } from '../use-poll';

interface Result {
  dc: string;
  dc_name: string;
  tenant: string;
  status: 'created' | 'failed';
  component_id?: string;
  event_id?: string | null;
  error: { code: string; message: string; field?: string } | null;
}

const FIELDS = ['targets', 'tenant', 'app', 'name', 'source', 'ports', 'replicas'];

/** Create a component from an image, a git repository or its Dockerfile, in one or several data centers at once, with one progress view per data center. */
export function CreateComponent() {
  const dcs = usePoll(() => api<{ items: DataCenter[] }>('GET', '/api/v1/data-centers'), 10_000, []);
  const [chosen, setChosen] = useState<string[]>([]);
  const [f, setF] = useState({
    tenant: '',
    app: '',
    name: '',
    kind: 'image',
    image: '',
    git: '',
    branch: 'main',
    dockerfile: 'Dockerfile',
    port: '',
    replicas: '1',
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [results, setResults] = useState<Result[] | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof f) => (e: React.ChangeEvent<HTMLInputElement | HTMLSelectElement>) => setF({ ...f, [k]: e.target.value });

  const submit = async () => {
    const local: Record<string, string> = {};
    if (!chosen.length) local.targets = 'choose at least one data center';
    if (!f.tenant) local.tenant = 'is required';
    if (f.port && !/^\d{1,5}$/.test(f.port)) local.ports = 'must be a port number 1-65535';
    if (!/^\d{1,3}$/.test(f.replicas)) local.replicas = 'must be 0-100';
    setErrors(local);
    if (Object.keys(local).length) return;
    const source =
      f.kind === 'image'
        ? { image: f.image }
        : { git: { url: f.git, branch: f.branch || 'main', ...(f.kind === 'dockerfile' ? { dockerfile: f.dockerfile } : {}) } };
    setBusy(true);
    try {
      const res = await api<{ results: Result[] }>('POST', '/api/v1/components', {
        targets: chosen.map((dc) => ({ dc, tenant: f.tenant })),
        app: f.app,
        name: f.name,
        source,
        ports: f.port ? [{ port: Number(f.port), public: true }] : [],
        replicas: Number(f.replicas),
      });
      setResults(res.results);
    } catch (err) {
      const e = err instanceof ApiError ? err.error : { message: String(err) };
      setErrors({ [fieldOf((e as { field?: string }).field, FIELDS)]: e.message });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <h2>Create a component</h2>
      <form
        className="card"
        data-testid="create"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <Field label="Data centers" name="targets" error={errors.targets}>
          <span className="checks">
            {dcs.data?.items.map((d) => (
              <label key={d.id} className={d.linked ? '' : 'muted'}>
                <input
                  type="checkbox"
                  name={`dc-${d.name}`}
                  disabled={!d.linked}
                  checked={chosen.includes(d.name)}
                  onChange={(e) => setChosen(e.target.checked ? [...chosen, d.name] : chosen.filter((x) => x !== d.name))}
                />{' '}
                {d.name}
                {d.health.status !== 'ok' && ' (unreachable)'}
              </label>
            ))}
          </span>
        </Field>
        <Field label="Team" name="tenant" error={errors.tenant}>
          <input name="tenant" value={f.tenant} onChange={set('tenant')} />
        </Field>
        <Field label="App" name="app" error={errors.app}>
          <input name="app" value={f.app} onChange={set('app')} />
        </Field>
        <Field label="Component" name="name" error={errors.name}>
          <input name="name" value={f.name} onChange={set('name')} />
        </Field>
        <Field label="Source" name="source" error={errors.source}>
          <select name="kind" value={f.kind} onChange={set('kind')}>
            <option value="image">Image</option>
            <option value="git">Git repository (detected)</option>
            <option value="dockerfile">Git repository with a Dockerfile</option>
          </select>
          {f.kind === 'image' ? (
            <input name="image" placeholder="nginx:1.27" value={f.image} onChange={set('image')} />
          ) : (
            <>
              <input name="git" placeholder="https://git.example/team/app.git" value={f.git} onChange={set('git')} />
              <input name="branch" placeholder="main" value={f.branch} onChange={set('branch')} />
              {f.kind === 'dockerfile' && <input name="dockerfile" value={f.dockerfile} onChange={set('dockerfile')} />}
            </>
          )}
        </Field>
        <Field label="Port" name="ports" error={errors.ports}>
          <input name="port" placeholder="8080" value={f.port} onChange={set('port')} />
        </Field>
        <Field label="Replicas" name="replicas" error={errors.replicas}>
          <input name="replicas" value={f.replicas} onChange={set('replicas')} />
        </Field>
        {errors.form && <p className="error">{errors.form}</p>}
        <button type="submit" disabled={busy}>
          Create and deploy
        </button>
      </form>
      {results && (
        <div className="progress-grid" data-testid="progress">
          {results.map((r) => (
            <div key={r.dc} className="card" data-progress-dc={r.dc_name} data-status={r.status}>
              <h3>
                {r.dc_name}: {r.status}
              </h3>
              {r.error && <p className="error">{r.error.message}</p>}
              {r.component_id && <a href={href('c', r.dc, r.tenant, r.component_id)}>{r.component_id}</a>}
              {r.event_id && <LiveTimeline dc={r.dc} tenant={r.tenant} eventId={r.event_id} full={false} />}
            </div>
          ))}
        </div>
      )}
    </section>
  );
}
