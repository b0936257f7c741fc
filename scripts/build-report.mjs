// Builds the report page bundle: src/report/page/main.ts (with ECharts) -> dist/report/page.js,
// styles.css -> dist/report/page.css. Run by `npm run build` after tsc; esbuild is a build-time
// devDependency only, the published package ships the built files.
import { build } from 'esbuild';

const common = { bundle: true, minify: true, legalComments: 'eof', logLevel: 'warning' };
await build({ ...common, entryPoints: ['src/report/page/main.ts'], outfile: 'dist/report/page.js', format: 'iife', target: ['chrome100', 'firefox115', 'safari16'], platform: 'browser' });
await build({ ...common, entryPoints: ['src/report/page/styles.css'], outfile: 'dist/report/page.css' });
