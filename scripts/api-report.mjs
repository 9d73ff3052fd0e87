// `npm run api:check` / `npm run api:update`: the public API report, one file per export of package.json
// (`jobstack` → etc/jobstack.api.md, `jobstack/cdk` → etc/jobstack-cdk.api.md, ...), made by API Extractor from the
// declarations in dist/ (the npm scripts build first). The entry points are read from `exports`, so adding, renaming
// or removing one needs no change here: the check then fails until `npm run api:update` writes (or deletes) the
// matching report. Check mode fails on any difference between the API and the checked-in reports.
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const { CompilerState, Extractor, ExtractorConfig } = require('@microsoft/api-extractor');

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const update = process.argv.includes('--update');
const REPORT_SUFFIX = '.api.md';

const packageJsonPath = join(root, 'package.json');
const packageJson = require(packageJsonPath);
const configPath = join(root, 'api-extractor.json');
const reportFolder = ExtractorConfig.loadFileAndPrepare(configPath).reportFolder;

/** `.` → `jobstack`, `./cdk` → `jobstack-cdk`: the report's file name, without `.api.md`. */
function reportName(subpath) {
  return subpath === '.' ? packageJson.name : `${packageJson.name}-${subpath.slice(2).replaceAll('/', '-')}`;
}

const entries = Object.entries(packageJson.exports)
  .filter(([, target]) => typeof target === 'object' && typeof target.types === 'string')
  .map(([subpath, target]) => ({ subpath, name: reportName(subpath), types: join(root, target.types) }));

const unbuilt = entries.filter((entry) => !existsSync(entry.types));
if (unbuilt.length > 0) {
  console.error(
    `api report: no declarations for ${unbuilt.map((entry) => entry.subpath).join(', ')}; run \`npm run build\` first`,
  );
  process.exit(1);
}

function prepare(entry) {
  const configObject = ExtractorConfig.loadFile(configPath);
  configObject.mainEntryPointFilePath = entry.types;
  configObject.apiReport = { ...configObject.apiReport, reportFileName: entry.name };
  return ExtractorConfig.prepare({ configObject, configObjectFullPath: configPath, packageJsonFullPath: packageJsonPath });
}

const configs = entries.map((entry) => ({ entry, config: prepare(entry) }));
// One TypeScript program for every entry point: the declarations are analysed once instead of once per entry.
const compilerState = CompilerState.create(configs[0].config, {
  additionalEntryPoints: entries.map((entry) => entry.types),
});

const failed = [];
for (const { entry, config } of configs) {
  const result = Extractor.invoke(config, {
    localBuild: update,
    compilerState,
    printApiReportDiff: !update,
  });
  if (!result.succeeded) failed.push(entry.subpath);
}

// A report whose entry point is gone would otherwise stay in etc/ and describe an API that no longer exists.
const expected = new Set(entries.map((entry) => `${entry.name}${REPORT_SUFFIX}`));
const stale = existsSync(reportFolder)
  ? readdirSync(reportFolder).filter((file) => file.endsWith(REPORT_SUFFIX) && !expected.has(file))
  : [];
for (const file of stale) {
  if (update) {
    rmSync(join(reportFolder, file));
    console.log(`api report: removed ${file} (no such entry point in package.json exports)`);
  } else {
    console.error(`api report: ${file} belongs to no entry point in package.json exports`);
  }
}

if (failed.length > 0 || (!update && stale.length > 0)) {
  console.error(
    update
      ? `api report: API Extractor failed for ${failed.join(', ')}`
      : 'api report: the public API differs from etc/*.api.md. If the change is intended, run `npm run api:update` and commit etc/.',
  );
  process.exit(1);
}
console.log(`api report: ${update ? 'updated' : 'matches'} ${[...expected].join(', ')}`);
