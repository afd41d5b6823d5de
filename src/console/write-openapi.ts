// Writes docs/console-openapi.json from the console's route table (npm run console-openapi).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { consoleRoutes } from './index.js';
import { consoleOpenApi } from './console-openapi.js';

const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/console-openapi.json');
await writeFile(target, `${JSON.stringify(consoleOpenApi(consoleRoutes), null, 2)}\n`);
process.stdout.write(`wrote ${target}\n`);
