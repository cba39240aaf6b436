// Inside a lab (rpcbind-lab.ts runScenario): `node rpcbind-driver.ts SCENARIO.ts KIND OUT [ARGS…]` runs
// the scenario module's default export for KIND and writes {ok, value} or {ok: false, error} to OUT.
// Whatever the scenario started is killed with the lab when this process ends.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { rpcbindLabBuild } from './rpcbind-lab.js';

export type Scenario = (kind: string, ctx: { build: ReturnType<typeof rpcbindLabBuild>; args: string[] }) => Promise<unknown>;

const [file, kind, out, ...args] = process.argv.slice(2);
try {
  const mod = (await import(pathToFileURL(file!).href)) as { default: Scenario };
  const value = await mod.default(kind!, { build: rpcbindLabBuild(), args });
  writeFileSync(out!, JSON.stringify({ ok: true, value }));
} catch (e) {
  writeFileSync(out!, JSON.stringify({ ok: false, error: e instanceof Error ? (e.stack ?? e.message) : String(e) }));
}
process.exit(0);
