import { applyDecorators, createParamDecorator, Injectable, SetMetadata, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ApiQuery } from '@nestjs/swagger';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { noQuerySchema } from '../domain/schemas';
import { parseQuery } from './validation';

const QUERY_SCHEMA = 'wharf:query-schema';
type QueryRequest = FastifyRequest & { validQuery?: unknown };

/** What each schema makes of no query at all (its defaults), parsed once: most requests have none. */
const emptyQuery = new WeakMap<z.ZodObject, object>();
function defaultsOf(schema: z.ZodObject): object {
  let parsed = emptyQuery.get(schema);
  if (!parsed) emptyQuery.set(schema, (parsed = parseQuery(schema, {})));
  return { ...parsed };
}

/** The query parameters a route takes (documented in OpenAPI); a route without it takes none. */
export function QueryParams(schema: z.ZodObject) {
  const properties = (z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, object> }).properties ?? {};
  return applyDecorators(
    SetMetadata(QUERY_SCHEMA, schema),
    ...Object.entries(properties).map(([name, prop]) => ApiQuery({ name, required: false, schema: prop })),
  );
}

/**
 * One rule for every route: the query is parsed with the route's schema (QueryParams, or
 * none), so an unknown or bad parameter is a 400 naming it, never silently ignored.
 * Runs after AuthGuard.
 */
@Injectable()
export class QueryParamsGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const schema = this.reflector.get<z.ZodObject | undefined>(QUERY_SCHEMA, context.getHandler()) ?? noQuerySchema;
    const req = context.switchToHttp().getRequest<QueryRequest>();
    // Without a "?" there is nothing to parse: most requests take the schema's defaults, parsed once.
    req.validQuery = req.url.includes('?') ? parseQuery(schema, req.query) : defaultsOf(schema);
    return true;
  }
}

/** The parsed query (QueryParamsGuard ran first); annotate it with z.infer of the route's schema. */
export const ValidQuery = createParamDecorator((_data: unknown, context: ExecutionContext): unknown => {
  return context.switchToHttp().getRequest<QueryRequest>().validQuery;
});
