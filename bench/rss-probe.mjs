// Preloaded into each benchmarked process (node --import): prints its peak RSS when it exits.
import { writeSync } from 'node:fs';
process.on('exit', () => {
  writeSync(2, `\nBENCH_MAXRSS_KB=${process.resourceUsage().maxRSS}\n`);
});
