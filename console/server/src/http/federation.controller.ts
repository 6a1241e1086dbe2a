import { All, Body, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBody } from '@nestjs/swagger';
import { invalidArgument } from '@wharf/errors';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { DataCentersService } from '../domain/data-centers.service';
import { DataCenterError, FederationService } from '../domain/federation.service';
import { DataCenterUnreachableError } from '../domain/ports';
import * as S from '../domain/schemas';
import { Actor } from './auth';
import { ConsoleController } from './console-controller.decorator';
import { bodySchema } from './openapi';
import { parse } from './validation';

const id = z.string().min(1).max(255);
const dcQuery = z.object({ dc: id.optional() }).strict();
const appsQuery = z.object({ dc: id.optional(), tenant: id.optional() }).strict();
const componentsQuery = z.object({ dc: id.optional(), tenant: id.optional(), app: id.optional() }).strict();

/** Lines per history page when the whole log is downloaded, and a bound on pages (10 M lines). */
const LOG_PAGE = 5000;
const LOG_MAX_PAGES = 2000;
const SEARCH_MAX_MATCHES = 200;
const SEARCH_MAX_MS = 10_000;

/**
 * The federation API: teams, apps, components and nodes across every data center (each item
 * with `dc`, each data center's outcome in `data_centers`), a component created in several
 * data centers at once, and any data-center call under /api/v1/dcs/<dc>/... as the caller.
 */
@ConsoleController('federation', 'api/v1')
export class FederationController {
  constructor(
    private readonly federation: FederationService,
    private readonly dataCenters: DataCentersService,
  ) {}

  @Get('teams')
  teams(@Actor() actor: string, @Query() q: unknown) {
    return this.federation.teams(actor, parse(dcQuery, q, 'query'));
  }

  @Get('apps')
  apps(@Actor() actor: string, @Query() q: unknown) {
    return this.federation.apps(actor, parse(appsQuery, q, 'query'));
  }

  @Get('components')
  components(@Actor() actor: string, @Query() q: unknown) {
    return this.federation.components(actor, parse(componentsQuery, q, 'query'));
  }

  @Get('nodes')
  nodes(@Actor() actor: string, @Query() q: unknown) {
    return this.federation.nodes(actor, parse(dcQuery, q, 'query'));
  }

  /** 200 with one result per data center (created, or failed with the data center's own error). */
  @Post('components')
  @ApiBody(bodySchema(S.federatedCreateSchema))
  async createComponent(@Actor() actor: string, @Body() body: unknown) {
    return { results: await this.federation.createComponent(actor, parse(S.federatedCreateSchema, body)) };
  }

  /** The whole log of an operation as text, read page by page from the data center's history. */
  @Get('dcs/:dc/operations/:event/log')
  async downloadLog(@Actor() actor: string, @Param('dc') dc: string, @Param('event') event: string, @Res() res: Response) {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(event)) throw invalidArgument('event', 'must be an event id');
    let after = 0;
    let started = false;
    for (let page = 0; page < LOG_MAX_PAGES; page++) {
      let answer;
      try {
        answer = await this.federation.passthrough(actor, dc, 'GET', `/api/v1/operations/${event}/entries?after_seq=${after}&limit=${LOG_PAGE}`);
      } catch (err) {
        if (started && err instanceof DataCenterUnreachableError) return void res.end(`\n[download cut: ${err.message}]\n`);
        throw err;
      }
      if (answer.status !== 200) {
        if (started) return void res.end(`\n[download cut: HTTP ${answer.status}]\n`);
        throw new DataCenterError(answer.status, answer.body);
      }
      const body = answer.body as { entries: { seq: number; type: string; step?: string; text?: string; status?: string; message?: string }[]; more: boolean };
      if (!started) {
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.setHeader('Content-Disposition', `attachment; filename="${event}.log"`);
        started = true;
      }
      const text = body.entries
        .map((e) =>
          e.type === 'line'
            ? `[${e.step ?? ''}] ${e.text ?? ''}`
            : e.type === 'final'
              ? `== ${e.status}${e.message ? `: ${e.message}` : ''}`
              : `-- ${e.type} ${e.step ?? ''}`,
        )
        .join('\n');
      if (text && !res.write(`${text}\n`)) await new Promise((r) => res.once('drain', r));
      if (!body.more || body.entries.length === 0) break;
      after = body.entries[body.entries.length - 1].seq;
    }
    res.end();
  }

  /** Lines of an operation's whole log that contain `q` (case-insensitive), first 200, read page by page from history (bounded in pages and time). */
  @Get('dcs/:dc/operations/:event/search')
  async searchLog(@Actor() actor: string, @Param('dc') dc: string, @Param('event') event: string, @Query() query: unknown) {
    if (!/^[A-Za-z0-9._-]{1,128}$/.test(event)) throw invalidArgument('event', 'must be an event id');
    const { q } = parse(z.object({ q: z.string().min(1, 'is required').max(200) }).strict(), query, 'query');
    const needle = q.toLowerCase();
    const matches: { seq: number; text: string }[] = [];
    const deadline = Date.now() + SEARCH_MAX_MS;
    let after = 0;
    let complete = false;
    for (let page = 0; page < LOG_MAX_PAGES && matches.length < SEARCH_MAX_MATCHES && Date.now() < deadline; page++) {
      const answer = await this.federation.passthrough(actor, dc, 'GET', `/api/v1/operations/${event}/entries?after_seq=${after}&limit=${LOG_PAGE}`);
      if (answer.status !== 200) throw new DataCenterError(answer.status, answer.body);
      const body = answer.body as { entries: { seq: number; type: string; step?: string; text?: string; message?: string }[]; more: boolean };
      for (const e of body.entries) {
        const text = e.type === 'line' ? `[${e.step ?? ''}] ${e.text ?? ''}` : `${e.type} ${e.step ?? ''} ${e.message ?? ''}`;
        if (text.toLowerCase().includes(needle) && matches.length < SEARCH_MAX_MATCHES) matches.push({ seq: e.seq, text });
      }
      if (!body.more || body.entries.length === 0) {
        complete = true;
        break;
      }
      after = body.entries[body.entries.length - 1].seq;
    }
    return { matches, complete, searched_to_seq: after };
  }

  /** Any call of the data center's own REST API, with the caller's token there: /api/v1/dcs/<dc>/api/v1/... */
  @All('dcs/:dc/*rest')
  async passthrough(@Actor() actor: string, @Param('dc') dc: string, @Req() req: Request, @Res() res: Response) {
    this.dataCenters.find(dc);
    const prefix = `/api/v1/dcs/${encodeURIComponent(dc)}`;
    const path = req.originalUrl.startsWith(prefix) ? req.originalUrl.slice(prefix.length) : '';
    const ifMatch = req.headers['if-match'];
    const answer = await this.federation.passthrough(
      actor,
      dc,
      req.method,
      path,
      ['GET', 'HEAD', 'DELETE'].includes(req.method) ? undefined : (req.body as unknown),
      typeof ifMatch === 'string' ? { 'if-match': ifMatch } : {},
    );
    res.status(answer.status);
    if (answer.etag) res.setHeader('ETag', answer.etag);
    if (answer.body === undefined) return void res.end();
    res.json(answer.body);
  }
}
