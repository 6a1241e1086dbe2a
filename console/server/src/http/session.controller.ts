import { Body, Delete, Get, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { Request, Response } from 'express';
import type { ConsoleConfig } from '../config';
import type { SessionRecord } from '../domain/ports';
import * as S from '../domain/schemas';
import { SessionsService } from '../domain/sessions.service';
import { UsersService } from '../domain/users.service';
import { CONFIG } from '../tokens';
import { CurrentSession, Public, SESSION_COOKIE } from './auth';
import { ConsoleController } from './console-controller.decorator';
import { bodySchema } from './openapi';
import { parse } from './validation';

/** Sign in, who am I (with the CSRF token), sign out. */
@ConsoleController('session', 'api/v1/session')
export class SessionController {
  constructor(
    private readonly users: UsersService,
    private readonly sessions: SessionsService,
    @Inject(CONFIG) private readonly config: ConsoleConfig,
  ) {}

  private view(session: SessionRecord) {
    const user = this.users.user(session.user)!;
    return { user: { name: user.name, admin: user.admin }, csrf_token: session.csrf, expires_at_ms: session.expiresAtMs };
  }

  /**
   * A browser gets an httpOnly, SameSite=Strict cookie; a client that says it is not a browser
   * (X-Wharf-Client: cli) gets the session id once in the body, to send as a bearer token.
   * Rate-limited per client address and user name, and per address (login throttlers).
   */
  @Post()
  @Public()
  @UseGuards(ThrottlerGuard)
  @ApiBody(bodySchema(S.loginSchema))
  async signIn(@Body() body: unknown, @Req() req: Request, @Res({ passthrough: true }) res: Response) {
    const input = parse(S.loginSchema, body);
    const user = await this.users.authenticate(input.name, input.password);
    const { id, session } = await this.sessions.start(user);
    if (req.headers['x-wharf-client']) return { ...this.view(session), token: id };
    res.cookie(SESSION_COOKIE, id, {
      httpOnly: true,
      sameSite: 'strict',
      secure: this.config.WHARF_CONSOLE_SECURE_COOKIES,
      path: '/',
      maxAge: session.expiresAtMs - session.createdAtMs,
    });
    return this.view(session);
  }

  @Get()
  whoAmI(@CurrentSession() session: SessionRecord) {
    return this.view(session);
  }

  @Delete()
  @HttpCode(204)
  async signOut(@CurrentSession() session: SessionRecord, @Res({ passthrough: true }) res: Response) {
    await this.sessions.end(session);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
  }
}
