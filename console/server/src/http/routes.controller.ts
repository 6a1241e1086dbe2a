import { Body, Delete, Get, HttpCode, Param, Post, Put } from '@nestjs/common';
import { ApiBody, ApiParam } from '@nestjs/swagger';
import { invalidArgument } from '@wharf/errors';
import { ComponentRoutesService, type ComponentRef } from '../domain/routes.service';
import * as S from '../domain/schemas';
import { Actor } from './auth';
import { ConsoleController } from './console-controller.decorator';
import { bodySchema } from './openapi';
import { parse } from './validation';

const ID = /^[a-z0-9][a-z0-9.-]{0,254}$/;
// <host><path prefix> or tcp:<listen port>, as the list gives them.
const ROUTE_ID = /^(tcp:\d{1,5}|(\*\.)?[a-z0-9.-]{1,253}\/[^\s]{0,1023})$/;

function refOf(dc: string, tenant: string, component: string): ComponentRef {
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(dc)) throw invalidArgument('dc', 'must be a data center id or name');
  if (!ID.test(tenant)) throw invalidArgument('tenant', 'is not a valid id');
  if (!ID.test(component)) throw invalidArgument('component', 'is not a valid id');
  return { dc, tenant, component };
}

function routeId(route: string): string {
  if (!ROUTE_ID.test(route)) throw invalidArgument('route', 'must be a route id from the list: <host><path prefix> or tcp:<listen port>');
  return route;
}

/**
 * A component's gateway routes and certificates in one data center, through the console: each
 * change is one write the data center takes whole or refuses (its error names the form's field).
 * Registered before the federation controller, whose /dcs/<dc>/... pass-through would take these paths.
 */
@ConsoleController('routes', 'api/v1/dcs/:dc/tenants/:tenant/components/:component/routes')
@ApiParam({ name: 'dc', description: 'data center id or name' })
export class RoutesController {
  constructor(private readonly routes: ComponentRoutesService) {}

  /** HTTP routes (with their certificates' subject, names and expiry, never a key) and TCP ports. */
  @Get()
  list(@Actor() actor: string, @Param('dc') dc: string, @Param('tenant') tenant: string, @Param('component') component: string) {
    return this.routes.list(actor, refOf(dc, tenant, component));
  }

  @Post()
  @ApiBody(bodySchema(S.routeInputSchema))
  add(@Actor() actor: string, @Param('dc') dc: string, @Param('tenant') tenant: string, @Param('component') component: string, @Body() body: unknown) {
    return this.routes.add(actor, refOf(dc, tenant, component), parse(S.routeInputSchema, body));
  }

  @Put(':route')
  @ApiParam({ name: 'route', description: '<host><path prefix> or tcp:<listen port> (URL-encoded)' })
  @ApiBody(bodySchema(S.routeInputSchema))
  replace(
    @Actor() actor: string,
    @Param('dc') dc: string,
    @Param('tenant') tenant: string,
    @Param('component') component: string,
    @Param('route') route: string,
    @Body() body: unknown,
  ) {
    return this.routes.replace(actor, refOf(dc, tenant, component), routeId(route), parse(S.routeInputSchema, body));
  }

  @Delete(':route')
  @HttpCode(200)
  remove(
    @Actor() actor: string,
    @Param('dc') dc: string,
    @Param('tenant') tenant: string,
    @Param('component') component: string,
    @Param('route') route: string,
  ) {
    return this.routes.remove(actor, refOf(dc, tenant, component), routeId(route));
  }

  /** Uploads or renews an HTTP route's certificate; `keep_key` keeps the private key the data center stores. */
  @Put(':route/certificate')
  @ApiBody(bodySchema(S.certificateInputSchema))
  setCertificate(
    @Actor() actor: string,
    @Param('dc') dc: string,
    @Param('tenant') tenant: string,
    @Param('component') component: string,
    @Param('route') route: string,
    @Body() body: unknown,
  ) {
    return this.routes.setCertificate(actor, refOf(dc, tenant, component), routeId(route), parse(S.certificateInputSchema, body));
  }

  /** Takes the route's certificate off (HTTPS then has the data center's default one). */
  @Delete(':route/certificate')
  @HttpCode(200)
  removeCertificate(
    @Actor() actor: string,
    @Param('dc') dc: string,
    @Param('tenant') tenant: string,
    @Param('component') component: string,
    @Param('route') route: string,
  ) {
    return this.routes.setCertificate(actor, refOf(dc, tenant, component), routeId(route), null);
  }
}
