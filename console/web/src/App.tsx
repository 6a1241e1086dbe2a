import { useEffect, useState } from 'react';
import { api, setCsrf, type Session } from './api';
import { Apps, Components } from './pages/Apps';
import { ComponentPage, OperationPage } from './pages/Component';
import { CreateComponent } from './pages/CreateComponent';
import { DataCenters } from './pages/DataCenters';
import { NodePage, Nodes } from './pages/Nodes';
import { SignIn } from './pages/SignIn';
import { href, useRoute } from './router';

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const route = useRoute();
  useEffect(() => {
    api<Session>('GET', '/api/v1/session')
      .then((s) => (setCsrf(s.csrf_token), setSession(s)))
      .catch(() => setSession(null));
  }, []);
  if (session === undefined) return <p className="muted">Loading…</p>;
  if (session === null) return <SignIn onSignedIn={setSession} />;
  const signOut = async () => {
    await api('DELETE', '/api/v1/session').catch(() => undefined);
    setSession(null);
  };
  const [page, ...args] = route;
  return (
    <div className="shell">
      <nav>
        <strong>Wharf</strong>
        <a href={href('apps')}>Apps</a>
        <a href={href('components')}>Components</a>
        <a href={href('create')}>Create</a>
        <a href={href('dcs')}>Data centers</a>
        <a href={href('nodes')}>Nodes</a>
        <span className="spacer" />
        <span className="muted" data-testid="user">
          {session.user.name}
        </span>
        <button onClick={() => void signOut()}>Sign out</button>
      </nav>
      <main>
        {page === 'apps' && <Apps />}
        {page === 'components' && <Components app={args[0]} />}
        {page === 'create' && <CreateComponent />}
        {page === 'dcs' && <DataCenters admin={session.user.admin} />}
        {page === 'nodes' && <Nodes />}
        {page === 'node' && args.length === 2 && <NodePage dc={args[0]} id={args[1]} />}
        {page === 'c' && args.length === 3 && <ComponentPage dc={args[0]} tenant={args[1]} id={args[2]} />}
        {page === 'op' && args.length === 3 && <OperationPage dc={args[0]} tenant={args[1]} eventId={args[2]} />}
      </main>
    </div>
  );
}
