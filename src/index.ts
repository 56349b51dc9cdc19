/**
 * The action's entry point (dist/index.js), run by the GitHub runner as `node dist/index.js`. The logic is
 * run() in src/main.ts, which @github/local-action imports and calls itself (actions/typescript-action's
 * layout): `npx @github/local-action . src/main.ts .env`.
 */
import { run } from './main.ts';

await run();
