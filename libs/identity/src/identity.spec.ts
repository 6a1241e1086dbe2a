import { create, type Message } from '@bufbuild/protobuf';
import { eventsV1 } from '@wharf/contracts';
import type { EventStore, RecordedEvent, Subscription } from '@wharf/event-store';
import { SequentialIds } from '@wharf/testing';
import {
  bearerToken,
  can,
  IdentityModel,
  IdentityProjection,
  isMember,
  issueToken,
  isWellFormedToken,
  parseToken,
  roleAllows,
  secretMatches,
  tokenFromString,
} from './index';

let position = 0;
const recorded = (stream: string, message: Message, version = 1): RecordedEvent => ({
  stream,
  version,
  type: message.$typeName,
  message,
  timeMs: 1000,
  eventId: '',
  actor: 'test',
  position: String(++position),
});

function world() {
  const model = new IdentityModel();
  const alice = issueToken();
  const admin = issueToken();
  const events = [
    recorded('user/admin', create(eventsV1.UserCreatedSchema, { userId: 'admin', name: 'admin', admin: true })),
    recorded('user/alice', create(eventsV1.UserCreatedSchema, { userId: 'alice', name: 'alice' })),
    recorded(
      `token/${alice.tokenId}`,
      create(eventsV1.TokenCreatedSchema, { tokenId: alice.tokenId, userId: 'alice', name: 't', secretSha256: alice.secretSha256 }),
    ),
    recorded(
      `token/${admin.tokenId}`,
      create(eventsV1.TokenCreatedSchema, { tokenId: admin.tokenId, userId: 'admin', name: 't', secretSha256: admin.secretSha256 }),
    ),
    recorded('tenant/acme', create(eventsV1.TenantCreatedSchema, { tenantId: 'acme', name: 'acme' })),
    recorded('tenant/globex', create(eventsV1.TenantCreatedSchema, { tenantId: 'globex', name: 'globex' })),
    recorded('tenant/acme', create(eventsV1.MemberSetSchema, { tenantId: 'acme', userId: 'alice', role: eventsV1.Role.DEVELOPER }), 2),
  ];
  for (const e of events) model.apply(e);
  return { model, alice, admin, events };
}

describe('tokens', () => {
  it('issues well-formed tokens whose secret only matches its own hash', () => {
    const t = issueToken();
    expect(isWellFormedToken(t.token)).toBe(true);
    const parsed = parseToken(t.token)!;
    expect(parsed.tokenId).toBe(t.tokenId);
    expect(secretMatches(parsed.secret, t.secretSha256)).toBe(true);
    expect(
      secretMatches(
        parsed.secret.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A')),
        t.secretSha256,
      ),
    ).toBe(false);
    expect(Buffer.from(t.secretSha256).toString('hex')).not.toContain(Buffer.from(parsed.secret).toString('hex'));
    expect(issueToken().token).not.toBe(t.token);
  });

  it('draws its randomness from the injected ids', () => {
    const a = issueToken(new SequentialIds());
    expect(issueToken(new SequentialIds())).toEqual(a); // same ids, same token
    const ids = new SequentialIds();
    const [first, second] = [issueToken(ids), issueToken(ids)];
    expect(isWellFormedToken(first.token) && isWellFormedToken(second.token)).toBe(true);
    expect(second.token).not.toBe(first.token);
  });

  it('refuses malformed tokens', () => {
    for (const bad of ['', 'wharf_', 'wharf_short_secret', `wharf_${'a'.repeat(16)}_${'b'.repeat(42)}`, `Bearer wharf_${'a'.repeat(16)}_${'b'.repeat(43)}`]) {
      expect(parseToken(bad)).toBeUndefined();
      expect(tokenFromString(bad)).toBeUndefined();
    }
  });
});

describe('IdentityModel', () => {
  it('authenticates a member with its roles and refuses wrong, revoked and expired tokens', () => {
    const { model, alice } = world();
    const p = model.authenticate(alice.token)!;
    expect(p).toMatchObject({ userId: 'alice', admin: false, tokenId: alice.tokenId });
    expect([...p.roles]).toEqual([['acme', 'developer']]);
    expect(model.authenticate(alice.token.slice(0, -1) + (alice.token.endsWith('A') ? 'B' : 'A'))).toBeUndefined();
    expect(model.authenticate(issueToken().token)).toBeUndefined();

    model.apply(recorded(`token/${alice.tokenId}`, create(eventsV1.TokenRevokedSchema, { tokenId: alice.tokenId }), 2));
    expect(model.authenticate(alice.token)).toBeUndefined();

    const soon = issueToken();
    model.apply(
      recorded(
        `token/${soon.tokenId}`,
        create(eventsV1.TokenCreatedSchema, { tokenId: soon.tokenId, userId: 'alice', name: 'x', secretSha256: soon.secretSha256, expiresAtMs: 5000n }),
      ),
    );
    expect(model.authenticate(soon.token, 4999)).toBeDefined();
    expect(model.authenticate(soon.token, 5000)).toBeUndefined();
  });

  it('follows role changes and removal', () => {
    const { model, alice } = world();
    model.apply(recorded('tenant/acme', create(eventsV1.MemberSetSchema, { tenantId: 'acme', userId: 'alice', role: eventsV1.Role.VIEWER }), 3));
    expect(model.roleIn(model.authenticate(alice.token)!, 'acme')).toBe('viewer');
    expect(model.tenants.get('acme')!.version).toBe(3);
    model.apply(recorded('tenant/acme', create(eventsV1.MemberRemovedSchema, { tenantId: 'acme', userId: 'alice' }), 4));
    const p = model.authenticate(alice.token)!;
    expect(model.roleIn(p, 'acme')).toBeUndefined();
    expect(isMember(p, 'acme')).toBe(false);
  });
});

describe('permissions', () => {
  it('grants each role exactly its actions, in its own tenant only', () => {
    expect(['read', 'write', 'operate', 'manage-members'].filter((a) => roleAllows('viewer', a as never))).toEqual(['read']);
    expect(['read', 'write', 'operate', 'manage-members'].filter((a) => roleAllows('developer', a as never))).toEqual(['read', 'write', 'operate']);
    expect(roleAllows('owner', 'manage-members')).toBe(true);
    expect(roleAllows(undefined, 'read')).toBe(false);
    const { model, alice, admin } = world();
    const a = model.authenticate(alice.token)!;
    expect(can(a, 'operate', 'acme')).toBe(true);
    expect(can(a, 'manage-members', 'acme')).toBe(false);
    expect(can(a, 'read', 'globex')).toBe(false);
    expect(isMember(a, 'globex')).toBe(false);
    const root = model.authenticate(admin.token)!;
    expect(can(root, 'manage-members', 'globex')).toBe(true);
    expect(model.roleIn(root, 'globex')).toBe('owner');
  });
});

describe('IdentityProjection', () => {
  it('folds the feed and answers authenticate / can', async () => {
    const { events, alice } = world();
    // A feed that already holds the events; caught up at once.
    const store = {
      subscribe(_from: string, handler: (e: RecordedEvent) => void, options?: { onProgress?: (p: string) => void }): Subscription {
        for (const e of events) handler(e);
        options?.onProgress?.(events.at(-1)!.position);
        return { position: events.at(-1)!.position, caughtUp: Promise.resolve(), close: async () => undefined };
      },
    } as unknown as EventStore;
    const identity = new IdentityProjection(store);
    await identity.start();
    const p = identity.authenticate(`Bearer ${alice.token}`)!;
    expect(p.userId).toBe('alice');
    expect(identity.authenticate(alice.token)!.userId).toBe('alice');
    expect(identity.authenticate(undefined)).toBeUndefined();
    expect(identity.can(p, 'write', 'acme')).toBe(true);
    expect(identity.can(p, 'write', 'nope')).toBe(false);
    expect(bearerToken('Basic abc')).toBeUndefined();
    await identity.stop();
  });
});
