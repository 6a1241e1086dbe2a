export { ConfigError, loadConfig, loadConfigOrExit } from './config';
export { fields } from './fields';
export { z } from 'zod';
