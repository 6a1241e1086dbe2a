import { create } from '@bufbuild/protobuf';
import { consoleV1 } from '@wharf/contracts';
import { AlreadyExistsError, invalidArgument, NotFoundError, PermissionDeniedError, UnauthenticatedError } from '@wharf/errors';
import type { ConsoleContext } from './console-context';
import { USER_STREAM, type ConsoleUser } from './console-state';
import type { PasswordHasher } from './ports';

export interface UserView {
  name: string;
  admin: boolean;
  created_at_ms: number;
}

export const userView = (u: ConsoleUser): UserView => ({ name: u.name, admin: u.admin, created_at_ms: u.createdAtMs });

/** A hash no password matches, verified when the name is unknown so both cases cost the same time. */
const NO_USER_HASH = '$2b$10$UCh1SLFVCra/VoRf67AC5OG33fd4xXNK60SAylamyqo074XunIVYq';

export class UsersService {
  constructor(
    private readonly ctx: ConsoleContext,
    private readonly hasher: PasswordHasher,
  ) {}

  user(name: string): ConsoleUser | undefined {
    return this.ctx.state.users.get(name);
  }

  requireAdmin(actor: string): void {
    if (!this.user(actor)?.admin) throw new PermissionDeniedError('only a console admin may do this');
  }

  list(actor: string): UserView[] {
    this.requireAdmin(actor);
    return [...this.ctx.state.users.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(userView);
  }

  async create(actor: string, input: { name: string; password: string; admin: boolean }): Promise<UserView> {
    this.requireAdmin(actor);
    return this.add(input, `user:${actor}`);
  }

  /** The first user, made by `npm run up` when the console has none: an admin with a random password, printed once. */
  async bootstrap(name: string): Promise<{ name: string; password: string } | undefined> {
    if (this.ctx.state.users.size > 0) return undefined;
    const password = this.ctx.ids.hex(12);
    try {
      await this.add({ name, password, admin: true }, 'console:bootstrap');
    } catch (err) {
      if (err instanceof AlreadyExistsError) return undefined; // another instance made it first
      throw err;
    }
    return { name, password };
  }

  private async add(input: { name: string; password: string; admin: boolean }, actor: string): Promise<UserView> {
    if (this.user(input.name)) throw new AlreadyExistsError(`user ${input.name} already exists`, { field: 'name' });
    const hash = await this.hasher.hash(input.password);
    try {
      await this.ctx.append(
        USER_STREAM(input.name),
        [create(consoleV1.ConsoleUserCreatedSchema, { name: input.name, passwordHash: hash, admin: input.admin })],
        0,
        actor,
      );
    } catch (err) {
      if ((err as { reason?: string }).reason === 'version_mismatch') throw new AlreadyExistsError(`user ${input.name} already exists`, { field: 'name' });
      throw err;
    }
    return userView(this.user(input.name)!);
  }

  /** The user when name and password match; one message for both kinds of failure, so names cannot be probed. */
  async authenticate(name: string, password: string): Promise<ConsoleUser> {
    const user = this.user(name);
    const ok = await this.hasher.verify(password, user?.passwordHash ?? NO_USER_HASH);
    if (!user || !ok) throw new UnauthenticatedError('wrong user name or password');
    return user;
  }

  async changePassword(actor: string, current: string, next: string): Promise<void> {
    const user = this.user(actor);
    if (!user) throw new NotFoundError(`user ${actor} not found`);
    if (!(await this.hasher.verify(current, user.passwordHash))) throw invalidArgument('current_password', 'is not your current password');
    const hash = await this.hasher.hash(next);
    await this.ctx.append(
      USER_STREAM(actor),
      [create(consoleV1.ConsoleUserPasswordChangedSchema, { name: actor, passwordHash: hash })],
      user.version,
      `user:${actor}`,
    );
  }
}
