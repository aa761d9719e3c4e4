// Runs in every test worker before its tests: the variables createLogger reads are cleared, so that
// `LOG_LEVEL=debug npm test` (or an AWS_REGION of the shell) does not change what the tests' loggers
// write. A test that needs one sets it (vi.stubEnv, or a child process's env).
import { loggerVariables } from './logger-environment.js';

for (const name of loggerVariables) delete process.env[name];
