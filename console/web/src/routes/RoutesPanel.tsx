import { useState, type ReactNode } from 'react';
import { api, ApiError } from '../api';
import { Field } from '../components/Field';
import { usePoll } from '../use-poll';
import {
  certificateBody,
  certificateFieldOf,
  describeCertificate,
  describeRoute,
  editRouteForm,
  emptyCertificate,
  newRouteForm,
  routeBody,
  routeFieldOf,
  routesPath,
  type CertificateForm,
  type FormErrors,
  type RouteForm,
  type RouteView,
  type RoutesView,
} from './route-form';

/** What the user is doing: adding a route, changing one, or its certificate. */
type Editing = { mode: 'add' } | { mode: 'edit'; route: RouteView } | { mode: 'certificate'; route: Extract<RouteView, { kind: 'http' }> };

const errorsOf = (err: unknown, fieldOf: (f: string | undefined) => string): FormErrors => {
  const e = err instanceof ApiError ? err.error : { message: String(err), field: undefined };
  return { [fieldOf(e.field)]: e.message };
};

/** A PEM textarea that also loads a file (the browser reads it; nothing is uploaded until Save). */
function PemInput({ name, value, onChange, placeholder }: { name: string; value: string; onChange: (v: string) => void; placeholder: string }) {
  return (
    <>
      <textarea name={name} rows={4} cols={64} spellCheck={false} placeholder={placeholder} value={value} onChange={(e) => onChange(e.target.value)} />
      <input
        type="file"
        name={`${name}-file`}
        aria-label={`${name} from a file`}
        accept=".pem,.crt,.cer,.key"
        onChange={(e) => void e.target.files?.[0]?.text().then(onChange)}
      />
    </>
  );
}

/** The certificate and its key; with a stored key, "keep the stored key" spares pasting it again. */
function CertificateFields({
  form,
  set,
  errors,
  prefix,
  hasStoredKey,
}: {
  form: CertificateForm;
  set: (f: Partial<CertificateForm>) => void;
  errors: FormErrors;
  prefix: string;
  hasStoredKey: boolean;
}) {
  return (
    <>
      <Field label="Certificate and chain (PEM)" name={`${prefix}certificate_pem`} error={errors[`${prefix}certificate_pem`]}>
        <PemInput name="certificate_pem" value={form.certificate_pem} onChange={(v) => set({ certificate_pem: v })} placeholder="-----BEGIN CERTIFICATE-----" />
      </Field>
      {hasStoredKey && (
        <label>
          <input type="checkbox" name="keep_key" checked={form.keep_key} onChange={(e) => set({ keep_key: e.target.checked, private_key_pem: '' })} /> keep the
          stored key
        </label>
      )}
      {!(hasStoredKey && form.keep_key) && (
        <Field label="Private key (PEM, write-only: never shown again)" name={`${prefix}private_key_pem`} error={errors[`${prefix}private_key_pem`]}>
          <PemInput
            name="private_key_pem"
            value={form.private_key_pem}
            onChange={(v) => set({ private_key_pem: v })}
            placeholder="-----BEGIN PRIVATE KEY-----"
          />
        </Field>
      )}
      {hasStoredKey && form.keep_key && errors[`${prefix}private_key_pem`] && (
        <small className="error" role="alert" data-error-for={`${prefix}private_key_pem`}>
          {errors[`${prefix}private_key_pem`]}
        </small>
      )}
    </>
  );
}

function RouteEditor({
  title,
  initial,
  ports,
  adding,
  storedKey,
  onSave,
  onCancel,
}: {
  title: string;
  initial: RouteForm;
  ports: RoutesView['ports'];
  adding: boolean;
  storedKey: boolean;
  onSave: (body: Record<string, unknown>) => Promise<void>;
  onCancel: () => void;
}) {
  const [form, setForm] = useState(initial);
  const [errors, setErrors] = useState<FormErrors>({});
  const [busy, setBusy] = useState(false);
  const set = (f: Partial<RouteForm>) => setForm((prev) => ({ ...prev, ...f }));
  const save = async () => {
    const made = routeBody(form);
    if ('errors' in made) return setErrors(made.errors);
    setErrors({});
    setBusy(true);
    try {
      await onSave(made.body);
    } catch (err) {
      setErrors(errorsOf(err, routeFieldOf));
    } finally {
      setBusy(false);
    }
  };
  const portList = ports.filter((p) => p.protocol === form.kind);
  return (
    <form
      className="card"
      data-testid="route-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h4>{title}</h4>
      {adding && (
        <div className="checks">
          {(['http', 'tcp'] as const).map((k) => (
            <label key={k}>
              <input type="radio" name="route-kind" value={k} checked={form.kind === k} onChange={() => setForm({ ...newRouteForm(ports, k) })} />{' '}
              {k === 'http' ? 'HTTP (host + path)' : 'TCP port'}
            </label>
          ))}
        </div>
      )}
      {form.kind === 'http' ? (
        <>
          <Field label="Host" name="host" error={errors.host}>
            <input name="route-host" placeholder="shop.example.com" value={form.host} onChange={(e) => set({ host: e.target.value })} />
          </Field>
          <Field label="Path prefix" name="path_prefix" error={errors.path_prefix}>
            <input name="route-path" value={form.path_prefix} onChange={(e) => set({ path_prefix: e.target.value })} />
          </Field>
        </>
      ) : (
        <Field label="Gateway port (TCP)" name="listen_port" error={errors.listen_port}>
          <input name="route-listen-port" placeholder="15432" value={form.listen_port} onChange={(e) => set({ listen_port: e.target.value })} />
        </Field>
      )}
      <Field label={`Component port (${form.kind})`} name="port" error={errors.port}>
        <input name="route-port" list="route-ports" value={form.port} onChange={(e) => set({ port: e.target.value })} size={6} />
        <datalist id="route-ports">
          {portList.map((p) => (
            <option key={p.port} value={p.port} />
          ))}
        </datalist>
      </Field>
      {form.kind === 'http' && (
        <>
          <label>
            <input type="checkbox" name="route-https-redirect" checked={form.https_redirect} onChange={(e) => set({ https_redirect: e.target.checked })} />{' '}
            redirect HTTP to HTTPS
          </label>
          <label>
            <input type="checkbox" name="route-tls" checked={form.tls} onChange={(e) => set({ tls: e.target.checked })} /> TLS with a certificate of its own
          </label>
          {form.tls && <CertificateFields form={form} set={set} errors={errors} prefix="tls." hasStoredKey={storedKey} />}
        </>
      )}
      <Errors errors={errors} />
      <div className="actions">
        <button type="submit" disabled={busy}>
          Save
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function Errors({ errors }: { errors: FormErrors }): ReactNode {
  return errors.form ? (
    <p className="error" role="alert" data-error-for="form">
      {errors.form}
    </p>
  ) : null;
}

function CertificateEditor({
  route,
  onSave,
  onRemove,
  onCancel,
}: {
  route: Extract<RouteView, { kind: 'http' }>;
  onSave: (body: Record<string, unknown>) => Promise<void>;
  onRemove: () => Promise<void>;
  onCancel: () => void;
}) {
  const stored = route.tls !== null;
  const [form, setForm] = useState<CertificateForm>({ ...emptyCertificate(stored), certificate_pem: '' });
  const [errors, setErrors] = useState<FormErrors>({});
  const run = async (action: () => Promise<void>) => {
    setErrors({});
    try {
      await action();
    } catch (err) {
      setErrors(errorsOf(err, certificateFieldOf));
    }
  };
  return (
    <form
      className="card"
      data-testid="certificate-form"
      onSubmit={(e) => {
        e.preventDefault();
        void run(() => onSave(certificateBody(form)));
      }}
    >
      <h4>
        Certificate of {route.host}
        {route.path_prefix}
      </h4>
      {stored && <p className="muted">Now: {describeCertificate(route.tls)}</p>}
      <CertificateFields form={form} set={(f) => setForm((prev) => ({ ...prev, ...f }))} errors={errors} prefix="" hasStoredKey={stored} />
      <Errors errors={errors} />
      <div className="actions">
        <button type="submit">Upload</button>
        {stored && (
          <button type="button" className="danger" onClick={() => void run(onRemove)}>
            Remove certificate
          </button>
        )}
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/**
 * A component's gateway routes in one data center: HTTP routes (host + path prefix, TLS with a
 * certificate of its own) and TCP ports; add, change, delete, and upload or renew a route's
 * certificate. Each save is one change the data center takes whole or refuses, its refusal said
 * next to the field it is about. Private keys go in and never come back.
 */
export function RoutesPanel({ dc, tenant, component }: { dc: string; tenant: string; component: string }) {
  const routes = usePoll(() => api<RoutesView>('GET', routesPath(dc, tenant, component)), 3000, [dc, tenant, component]);
  const [editing, setEditing] = useState<Editing | null>(null);
  const [listError, setListError] = useState<string | null>(null);
  const done = () => {
    setEditing(null);
    routes.reload();
  };
  const v = routes.data;
  const remove = async (r: RouteView) => {
    setListError(null);
    if (!window.confirm(`Delete route ${describeRoute(r)}?`)) return;
    try {
      await api('DELETE', routesPath(dc, tenant, component, r.id));
      done();
    } catch (err) {
      setListError(err instanceof ApiError ? err.error.message : String(err));
    }
  };
  return (
    <div data-testid="routes">
      {routes.error && <p className="error">{routes.error}</p>}
      {listError && (
        <p className="error" role="alert">
          {listError}
        </p>
      )}
      {v && v.routes.length === 0 && <p className="muted">No routes.</p>}
      {v && v.routes.length > 0 && (
        <table className="list">
          <tbody>
            {v.routes.map((r) => (
              <tr key={r.id} data-route={r.id} data-tls={r.kind === 'http' && r.tls ? 'yes' : 'no'}>
                <td>{describeRoute(r)}</td>
                <td className="muted" data-testid="certificate">
                  {r.kind === 'http' ? (r.tls ? `TLS: ${describeCertificate(r.tls)}` : 'no certificate') : 'tcp'}
                  {r.kind === 'http' && r.https_redirect && ' · HTTP redirected to HTTPS'}
                </td>
                <td>
                  <div className="actions">
                    <button type="button" data-action="edit" onClick={() => setEditing({ mode: 'edit', route: r })}>
                      Edit
                    </button>
                    {r.kind === 'http' && (
                      <button type="button" data-action="certificate" onClick={() => setEditing({ mode: 'certificate', route: r })}>
                        Certificate
                      </button>
                    )}
                    <button type="button" className="danger" data-action="delete" onClick={() => void remove(r)}>
                      Delete
                    </button>
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {v && !editing && (
        <button type="button" data-action="add-route" onClick={() => setEditing({ mode: 'add' })}>
          Add route
        </button>
      )}
      {v && editing?.mode === 'add' && (
        <RouteEditor
          title="Add a route"
          initial={newRouteForm(v.ports)}
          ports={v.ports}
          adding
          storedKey={false}
          onSave={async (body) => void (await api('POST', routesPath(dc, tenant, component), body), done())}
          onCancel={() => setEditing(null)}
        />
      )}
      {v && editing?.mode === 'edit' && (
        <RouteEditor
          key={editing.route.id}
          title={`Change ${describeRoute(editing.route)}`}
          initial={editRouteForm(editing.route)}
          ports={v.ports}
          adding={false}
          storedKey={editing.route.kind === 'http' && editing.route.tls !== null}
          onSave={async (body) => void (await api('PUT', routesPath(dc, tenant, component, editing.route.id), body), done())}
          onCancel={() => setEditing(null)}
        />
      )}
      {editing?.mode === 'certificate' && (
        <CertificateEditor
          key={editing.route.id}
          route={editing.route}
          onSave={async (body) => void (await api('PUT', `${routesPath(dc, tenant, component, editing.route.id)}/certificate`, body), done())}
          onRemove={async () => void (await api('DELETE', `${routesPath(dc, tenant, component, editing.route.id)}/certificate`), done())}
          onCancel={() => setEditing(null)}
        />
      )}
    </div>
  );
}
