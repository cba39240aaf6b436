// `oncrpc rpcbind`: the rpcbind daemon, flag for flag as rpcbind 1.2 (-f -w -d -i -r -h -s -v), plus
// what labs, containers and unprivileged CI need (--port, --socket, --state-dir, --log-format json,
// --registrations, --reap, --spread). Logs through winston: startup and shutdown lines say what listens
// where; -d adds one structured line per request. SIGTERM/SIGINT shut down cleanly (and write the
// warm-start files with -w). Under systemd socket activation (LISTEN_PID/LISTEN_FDS, as rpcbind.socket
// starts rpcbind) it serves the sockets it is handed instead of binding its own.

import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import { ErrorCodes, OncRpcError } from '../errors.js';
import { startRpcbind, systemUser, type LogEntry, type RpcbindOptions } from '../rpcbind/daemon.js';
import { parsePort } from './call.js';
import { cliError, fail } from './format.js';
import { nativeAvailable, nativeLoadError } from '../transport/native.js';

interface RpcbindCliOptions {
  foreground?: boolean;
  warmStart?: boolean;
  debug?: boolean;
  insecure?: boolean;
  remoteCalls?: boolean;
  host?: string[];
  dropPrivileges?: boolean;
  port?: number;
  socket?: string;
  stateDir?: string;
  logFormat: 'text' | 'json';
  registrations?: string;
  reap?: number;
  spread?: boolean;
  maxConnections?: number;
  idleTimeout?: number;
  allowUdpAmplification?: boolean;
}

function seconds(v: string): number {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1)) throw new InvalidArgumentError('It must be a whole number of seconds, 1 or more.');
  return n;
}

function count(v: string): number {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && Number.isSafeInteger(n))) throw new InvalidArgumentError('It must be a whole number, 1 or more.');
  return n;
}

/** Registrations from a file: a JSON array, or one JSON object per line. */
export function readRegistrations(file: string): NonNullable<RpcbindOptions['registrations']> {
  const text = readFileSync(file, 'utf8');
  const trimmed = text.trim();
  const items: unknown[] = trimmed.startsWith('[') ? (JSON.parse(trimmed) as unknown[]) : trimmed.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#')).map((l) => JSON.parse(l) as unknown);
  return items.map((x, i) => {
    const r = x as { prog?: unknown; vers?: unknown; netid?: unknown; addr?: unknown; owner?: unknown };
    if (typeof r.prog !== 'number' || typeof r.vers !== 'number' || typeof r.netid !== 'string' || typeof r.addr !== 'string' || (r.owner !== undefined && typeof r.owner !== 'string')) {
      throw new OncRpcError(ErrorCodes.ERR_CLI_INPUT, `${file}: registration ${i + 1} must be {"prog": N, "vers": N, "netid": "tcp", "addr": "0.0.0.0.8.1"[, "owner": "superuser"]}`);
    }
    return { prog: r.prog, vers: r.vers, netid: r.netid, addr: r.addr, ...(r.owner !== undefined ? { owner: r.owner as string } : {}) };
  });
}

export function rpcbindCommand(): Command {
  return new Command('rpcbind')
    .description('the rpcbind daemon: portmap v2 and rpcbind v3/v4 on port 111 (UDP, TCP, IPv4, IPv6) and /run/rpcbind.sock')
    .option('-f', 'foreground (oncrpc never forks: accepted for compatibility)')
    .option('-w', 'warm start: read rpcbind.xdr and portmap.xdr at start, write them at exit (and, unlike rpcbind, after every change)')
    .option('-d', 'debug: log one line per request')
    .option('-i', 'insecure: accept SET and UNSET from any address')
    .option('-r', 'answer remote calls (CALLIT, INDIRECT, BCAST) by forwarding them to the local service')
    .option('-h <addr>', 'bind UDP to this address (repeatable), as rpcbind -h', (v: string, prev: string[] = []) => [...prev, v])
    .option('-s', 'drop privileges after binding (to the rpc user, or nobody)')
    .option('-a', 'abort on errors in debug mode (accepted for compatibility)')
    .option('-l', 'log every call (as -d here)')
    .option('-v', 'print the version and exit')
    .option('--port <n>', 'port for TCP and UDP (default 111)', parsePort)
    .option('--socket <path>', 'unix socket (default /run/rpcbind.sock; @name for an abstract socket; "none" for no socket)')
    .option('--state-dir <dir>', 'where warm-start files live (default /run/rpcbind)')
    .option('--log-format <format>', 'text or json', (v: string) => {
      if (v !== 'text' && v !== 'json') throw new InvalidArgumentError("It must be 'text' or 'json'.");
      return v;
    }, 'text')
    .option('--registrations <file>', 'registrations to load at start (JSON: [{"prog", "vers", "netid", "addr", "owner"}])')
    .option('--reap <seconds>', 'remove registrations whose server no longer answers NULL, checked this often', seconds)
    .option('--spread', 'several servers may register one program, version and netid; lookups answer them in rotation')
    .option('--max-connections <n>', 'most TCP/unix connections; at the cap the longest-idle one is closed (default 1024)', count)
    .option('--idle-timeout <seconds>', 'close connections idle this long (default: never, as rpcbind)', seconds)
    .option('--allow-udp-amplification', 'answer UDP callers off this host with replies larger than their request (rpcbind does)')
    .helpOption('--help', 'display help for command')
    .action(async (raw: Record<string, unknown>) => {
      if (raw['v']) {
        const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
        process.stdout.write(`oncrpc rpcbind ${pkg.version}\n`);
        return;
      }
      const opts: RpcbindCliOptions = {
        foreground: raw['f'] as boolean,
        warmStart: raw['w'] as boolean,
        debug: (raw['d'] as boolean) || (raw['l'] as boolean),
        insecure: raw['i'] as boolean,
        remoteCalls: raw['r'] as boolean,
        host: raw['h'] as string[] | undefined,
        dropPrivileges: raw['s'] as boolean,
        ...(raw as object),
      } as RpcbindCliOptions;
      const winston = await import('winston');
      const logger = winston.createLogger({
        level: opts.debug ? 'debug' : 'info',
        format:
          opts.logFormat === 'json'
            ? winston.format.combine(winston.format.timestamp(), winston.format.json())
            : winston.format.combine(
                winston.format.timestamp(),
                winston.format.printf(({ level, message, timestamp, ...rest }) => {
                  const fields = Object.entries(rest)
                    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
                    .join(' ');
                  return `${timestamp as string} rpcbind ${level}: ${message as string}${fields ? ' ' + fields : ''}`;
                }),
              ),
        transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
      });
      const log = (e: LogEntry): void => {
        const { level, message, ...fields } = e;
        logger.log(level, message, fields);
      };
      let handle;
      try {
        if (!nativeAvailable()) {
          log({ level: 'warn', message: 'native addon unavailable: unix-socket callers are owner "unknown" and UDP replies leave from the kernel\'s choice of address', error: String(nativeLoadError()) });
        }
        // systemd socket activation (rpcbind.socket): LISTEN_FDS sockets from fd 3, meant for this pid.
        const listenFds = process.env['LISTEN_PID'] === String(process.pid) && Number(process.env['LISTEN_FDS']) > 0
          ? Array.from({ length: Number(process.env['LISTEN_FDS']) }, (_, i) => 3 + i)
          : undefined;
        handle = await startRpcbind({
          ...(listenFds ? { listenFds } : {}),
          ...(opts.port !== undefined ? { port: opts.port } : {}),
          ...(opts.host ? { hosts: opts.host } : {}),
          ...(opts.socket !== undefined ? { socket: opts.socket === 'none' ? null : opts.socket } : {}),
          ...(opts.stateDir !== undefined ? { stateDir: opts.stateDir } : {}),
          insecure: opts.insecure ?? false,
          remoteCalls: opts.remoteCalls ?? false,
          warmStart: opts.warmStart ?? false,
          debug: opts.debug ?? false,
          spread: opts.spread ?? false,
          ...(opts.registrations ? { registrations: readRegistrations(opts.registrations) } : {}),
          ...(opts.reap ? { reapSeconds: opts.reap } : {}),
          ...(opts.maxConnections ? { maxConnections: opts.maxConnections } : {}),
          ...(opts.idleTimeout ? { idleTimeoutMs: opts.idleTimeout * 1000 } : {}),
          allowUdpAmplification: opts.allowUdpAmplification ?? false,
          log,
        });
      } catch (e) {
        cliError('rpcbind', e);
        logger.close();
        return;
      }
      if (opts.dropPrivileges && process.getuid?.() === 0) {
        // After binding port 111 and the socket, as rpcbind -s: run as the rpc user (_rpc on Debian, rpc
        // elsewhere), else nobody, with that user's primary group only (root's groups dropped). Failing
        // that, rpcbind exits: so does this.
        const user = systemUser(['_rpc', 'rpc', 'nobody']);
        try {
          if (!user) throw new Error('no _rpc, rpc or nobody user in /etc/passwd');
          process.setgroups?.([user.gid]);
          process.setgid?.(user.gid);
          process.setuid?.(user.uid);
          log({ level: 'info', message: 'dropped privileges', user: user.name, uid: user.uid, gid: user.gid });
        } catch (e) {
          log({ level: 'error', message: 'cannot drop privileges', error: (e as Error).message });
          await handle.close();
          logger.close();
          fail('rpcbind', `cannot drop privileges: ${(e as Error).message}`);
          return;
        }
      }
      await new Promise<void>((done) => {
        const stop = (signal: string): void => {
          process.off('SIGTERM', onTerm);
          process.off('SIGINT', onInt);
          log({ level: 'info', message: 'shutting down', signal });
          handle.close().then(done, done);
        };
        const onTerm = (): void => stop('SIGTERM');
        const onInt = (): void => stop('SIGINT');
        process.on('SIGTERM', onTerm);
        process.on('SIGINT', onInt);
      });
      logger.close();
    });
}
