// The integration and e2e tiers run containers: one Docker Engine for the whole run. jest's
// global hooks get no moduleNameMapper, so the harness is required from its source (as the
// tests use it), never from a possibly stale dist.
import { setupDockerEngine } from '../../libs/testing/src/docker-global-setup';

export = setupDockerEngine;
