import type { Profile } from './config-store';
import { CliError, EXIT } from './exit-codes';

const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export interface ComponentRef {
  tenant: string;
  app: string;
  name: string;
  /** The data center's ids: <tenant>.<app> and <tenant>.<app>.<name>. */
  appId: string;
  id: string;
}

function tenantOf(explicit: string | undefined, profile: Profile): string {
  const t = explicit ?? profile.tenant;
  if (!t) throw new CliError('which team? pass --tenant <name>, write TEAM/APP/COMPONENT, or log in with --tenant', EXIT.usage);
  if (!LABEL.test(t)) throw new CliError(`tenant "${t}": must be a DNS-1123 label (lowercase a-z, 0-9, "-")`, EXIT.usage);
  return t;
}

function label(value: string, what: string): string {
  if (!LABEL.test(value)) throw new CliError(`${what} "${value}": must be a DNS-1123 label (lowercase a-z, 0-9, "-", 1-63 characters)`, EXIT.usage);
  return value;
}

/** APP/COMPONENT or TEAM/APP/COMPONENT. */
export function componentRef(arg: string, profile: Profile, tenantFlag?: string): ComponentRef {
  const parts = arg.split('/');
  if (parts.length < 2 || parts.length > 3) throw new CliError(`"${arg}": expected APP/COMPONENT (or TEAM/APP/COMPONENT), e.g. shop/api`, EXIT.usage);
  const [tenant, app, name] = parts.length === 3 ? parts : [tenantOf(tenantFlag, profile), parts[0], parts[1]];
  label(tenant, 'team');
  label(app, 'app');
  label(name, 'component');
  return { tenant, app, name, appId: `${tenant}.${app}`, id: `${tenant}.${app}.${name}` };
}

/** APP or TEAM/APP. */
export function appRef(arg: string, profile: Profile, tenantFlag?: string): { tenant: string; app: string; appId: string } {
  const parts = arg.split('/');
  if (parts.length > 2) throw new CliError(`"${arg}": expected APP (or TEAM/APP), e.g. shop`, EXIT.usage);
  const [tenant, app] = parts.length === 2 ? parts : [tenantOf(tenantFlag, profile), parts[0]];
  label(tenant, 'team');
  label(app, 'app');
  return { tenant, app, appId: `${tenant}.${app}` };
}
