import { teardownDockerEngine } from '../../libs/testing/src/docker-global-setup';

export = teardownDockerEngine;
