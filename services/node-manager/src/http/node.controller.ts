import { toJson } from '@bufbuild/protobuf';
import { Controller, Get, Header, Inject } from '@nestjs/common';
import { nodeV1 } from '@wharf/contracts';
import type { Registry } from 'prom-client';
import type { NodeAgent } from '../agent/node-agent';
import { AGENT, METRICS } from '../tokens';

@Controller()
export class NodeController {
  constructor(
    @Inject(METRICS) private readonly registry: Registry,
    @Inject(AGENT) private readonly agent: NodeAgent,
  ) {}

  @Get('metrics')
  @Header('Content-Type', 'text/plain; version=0.0.4')
  metrics(): Promise<string> {
    return this.registry.metrics();
  }

  /** This node as its node-manager sees it: the state it last read and its latest heartbeat. */
  @Get('node')
  node() {
    const r = this.agent.record;
    return {
      state: r?.state ?? null,
      cordoned: r?.cordoned ?? false,
      heartbeat: this.agent.heartbeat ? toJson(nodeV1.NodeHeartbeatSchema, this.agent.heartbeat) : null,
    };
  }
}
