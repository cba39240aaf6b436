// Runs inside a lab (see rpcbind-semantics.test.ts): hand-built requests, the same bytes for both
// daemons, sent over the transport, from the address, port and uid each rule is about; every reply (or
// the silence, or the closed connection) is returned for comparison.
//
// Phase 1: the daemon as rpcbind runs by default (-w -f, no -r). Phase 2: a new daemon with -r, and a
// local UDP service the remote calls are forwarded to.
import { createSocket } from 'node:dgram';
import { auth, AUTH_DES, AUTH_NONE, AUTH_SHORT, AUTH_SYS, authSysBody, callMessage, fragmented, opaque, recordOf, RPCSEC_GSS, u32 } from '../_helpers/raw-rpc.js';
import { run } from '../_helpers/lab.js';
import { exchange, mappingArgs, rpcbArgs, rpcbCall, startDaemon, xstr, type Exchange, type ExchangeOptions, type Kind, type Via } from '../_helpers/rpcbind-lab.js';
import type { Scenario } from '../_helpers/rpcbind-driver.js';

export interface StepResult {
  name: string;
  result: Exchange;
  /** A documented, intended difference between rpcbind and oncrpc (the test checks each side). */
  differs?: true;
  /** GETTIME: the time answered was within a minute of the clock (the 4 bytes are then zeroed). */
  timeOk?: boolean;
}

export interface SemanticsResult {
  steps: StepResult[];
}

// Programs the steps register.
export const P = 0x30000001; // versions 1, 2, 3 over unix as root (superuser)
export const Q = 0x30000002; // portmap v2 SETs from reserved ports (superuser)
export const R = 0x30000003; // from unreserved loopback ports (unknown)
export const S = 0x30000004; // IPv6 only
export const T = 0x30000005; // addresses that are not wildcards
export const U = 0x30000006; // uid 65534 over the unix socket
export const E = 0x30000007; // the echo service of phase 2
export const ECHO_PORT = 40000;

const TCP = 6;
const UDP = 17;
const NOBODY = 65534;

const unix: Via = { transport: 'unix' };
const tcp: Via = { transport: 'tcp' };
const udp: Via = { transport: 'udp' };
const tcp6: Via = { transport: 'tcp', to: '::1' };
const udp6: Via = { transport: 'udp', to: '::1' };
const asNobody: Via = { transport: 'unix', uid: NOBODY };
const from2tcp: Via = { transport: 'tcp', from: '127.0.0.2' };
const from2udp: Via = { transport: 'udp', from: '127.0.0.2' };

/** A reserved source port, a new one each time (TIME_WAIT would refuse a reused one). */
let nextReserved = 600;
const reserved = (v: Via): Via => ({ ...v, fromPort: nextReserved++ });

/** The bytes of `GETTIME`'s answer are the clock: checked, then zeroed. */
function zeroTime(r: Exchange): { result: Exchange; timeOk: boolean } {
  let ok = r.replies.length === 1;
  const replies = r.replies.map((h) => {
    const b = Buffer.from(h, 'hex');
    const t = b.readUInt32BE(b.length - 4);
    ok &&= Math.abs(t - Date.now() / 1000) < 60;
    b.writeUInt32BE(0, b.length - 4);
    return b.toString('hex');
  });
  return { result: { ...r, replies }, timeOk: ok };
}

/** struct sockaddr_in / sockaddr_in6 as Linux lays them out (the netbuf of TADDR2UADDR). */
function sockaddrIn(a: number[], port: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(2, 0);
  b.writeUInt16BE(port, 2);
  Buffer.from(a).copy(b, 4);
  return b;
}
function sockaddrIn6(words: number[], port: number): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt16LE(10, 0);
  b.writeUInt16BE(port, 2);
  words.forEach((w, i) => b.writeUInt16BE(w, 8 + 2 * i));
  return b;
}

/** netbuf {maxlen, buf<>} (TADDR2UADDR's argument). */
function netbuf(buf: Buffer, maxlen = buf.length): Buffer {
  return Buffer.concat([u32(maxlen), opaque(buf)]);
}

/** rpcb_rmtcallargs {prog, vers, proc, args} (v3/v4) = call_args (v2). */
function rmtArgs(prog: number, vers: number, proc: number, args: Buffer): Buffer {
  return Buffer.concat([u32(prog), u32(vers), u32(proc), opaque(args)]);
}

/**
 * A UDP service on ECHO_PORT answering every call with SUCCESS, results = the credential flavor + the
 * arguments; procedure 99 with PROC_UNAVAIL.
 */
function startEcho(): Promise<() => void> {
  const sock = createSocket('udp4');
  sock.on('message', (m, rinfo) => {
    try {
      const credLen = m.readUInt32BE(28);
      const flavor = m.readUInt32BE(24);
      const verfAt = 32 + ((credLen + 3) & ~3);
      const argsAt = verfAt + 8 + ((m.readUInt32BE(verfAt + 4) + 3) & ~3);
      const reply =
        m.readUInt32BE(20) === 99
          ? Buffer.concat([m.subarray(0, 4), u32(1), u32(0), u32(0), u32(0), u32(3)])
          : Buffer.concat([m.subarray(0, 4), u32(1), u32(0), u32(0), u32(0), u32(0), u32(flavor), m.subarray(argsAt)]);
      sock.send(reply, rinfo.port, rinfo.address);
    } catch {
      // not a call: nothing
    }
  });
  return new Promise((resolve) => sock.bind({ address: '0.0.0.0', port: ECHO_PORT }, () => resolve(() => sock.close())));
}

const scenario: Scenario = async (kind) => {
  const steps: StepResult[] = [];
  let xid = 0x5e000000;
  let fence = true; // off for forwarded remote calls (answered after I/O of the daemon's own)
  const step = async (name: string, via: Via, msg: (xid: number) => Buffer, opts: ExchangeOptions & { time?: boolean; differs?: true } = {}): Promise<void> => {
    const x = xid++;
    const result = await exchange(via, msg(x), { fence, ...opts });
    steps.push({ name, ...(opts.time ? zeroTime(result) : { result }), ...(opts.differs ? { differs: true } : {}) });
  };
  // rpcbind (libtirpc's svc_dg) decodes a datagram from its whole receive buffer: arguments shorter than
  // their type are completed by the bytes of the previous datagram on that socket. Before each truncated
  // datagram whose answer is compared, one of these fixes what those bytes are (oncrpc reads only the
  // datagram; the difference itself is shown at the end).
  const fillZeros = (x: number) => Buffer.concat([rpcbCall(x, 2, 0), Buffer.alloc(200)]); // a NULL call with zeros after it
  const fillOnes = () => Buffer.alloc(240, 0xff); // not a call: no answer
  // (Not fenced: the fence's bytes would be what the next datagram reads.)
  const filler = async (name: string, fill: (x: number) => Buffer, via: Via = { transport: 'udp' }): Promise<void> => step(`(filler: ${name})`, via, fill, { fence: false });
  // Shorthands: a call of rpcbind version v, procedure p.
  const v2 = (proc: number, args?: Buffer) => (x: number) => rpcbCall(x, 2, proc, args);
  const v3 = (proc: number, args?: Buffer) => (x: number) => rpcbCall(x, 3, proc, args);
  const v4 = (proc: number, args?: Buffer) => (x: number) => rpcbCall(x, 4, proc, args);
  const SET = 1, UNSET = 2, GETADDR = 3, DUMP = 4, CALLIT = 5, GETTIME = 6, U2T = 7, T2U = 8, GETVERSADDR = 9, INDIRECT = 10, GETADDRLIST = 11, GETSTAT = 12;
  const GETPORT = 3;

  // An address of this host that is not loopback (as a LAN address would be), on lo: 198.18.0.1/24, 2001:db8::1/64.
  await run('ip', ['addr', 'add', '198.18.0.1/24', 'dev', 'lo']);
  await run('ip', ['addr', 'add', '2001:db8::1/64', 'dev', 'lo', 'nodad']);
  let daemon = await startDaemon(kind as Kind);

  // ---- registrations: owners, duplicate SET rules, who may SET/UNSET -----------------------------------
  await step('unix v3 SET P v1 udp', unix, v3(SET, rpcbArgs(P, 1, 'udp', '0.0.0.0.8.1')));
  await step('unix v3 SET P v1 tcp', unix, v3(SET, rpcbArgs(P, 1, 'tcp', '0.0.0.0.8.2')));
  await step('unix v4 SET P v1 udp6', unix, v4(SET, rpcbArgs(P, 1, 'udp6', '::.8.3')));
  await step('unix v4 SET P v1 tcp6', unix, v4(SET, rpcbArgs(P, 1, 'tcp6', '::.8.4')));
  await step('unix v3 SET P v1 local', unix, v3(SET, rpcbArgs(P, 1, 'local', '/run/p1.sock')));
  await step('unix v3 SET P v3 tcp', unix, v3(SET, rpcbArgs(P, 3, 'tcp', '0.0.0.0.8.5')));
  await step('unix v3 SET P v2 tcp (after v3: list order)', unix, v3(SET, rpcbArgs(P, 2, 'tcp', '0.0.0.0.8.6')));
  await step('unix v3 SET P v3 udp', unix, v3(SET, rpcbArgs(P, 3, 'udp', '0.0.0.0.8.7')));
  await step('duplicate SET, same address: TRUE', unix, v3(SET, rpcbArgs(P, 1, 'tcp', '0.0.0.0.8.2')));
  await step('duplicate SET, another address: FALSE', unix, v3(SET, rpcbArgs(P, 1, 'tcp', '0.0.0.0.9.9')));
  await step('duplicate v4 SET, another address, over TCP from a reserved port: FALSE', reserved(tcp), v4(SET, rpcbArgs(P, 1, 'udp6', '::.9.9')));
  await step('netid case: SET P v1 TCP (upper case) with another address', unix, v3(SET, rpcbArgs(P, 1, 'TCP', '0.0.0.0.9.8')));
  await step('v2 SET Q tcp from a reserved TCP port (superuser)', reserved(tcp), v2(SET, mappingArgs(Q, 1, TCP, 2049)));
  await step('v2 SET Q tcp again, same port: TRUE', reserved(tcp), v2(SET, mappingArgs(Q, 1, TCP, 2049)));
  await step('v2 SET Q tcp again, another port: FALSE', reserved(tcp), v2(SET, mappingArgs(Q, 1, TCP, 2050)));
  await step('v2 SET Q udp from a reserved UDP port', reserved(udp), v2(SET, mappingArgs(Q, 1, UDP, 2049)));
  await step('v2 SET Q v2 with protocol 99', reserved(udp), v2(SET, mappingArgs(Q, 2, 99, 2049)));
  await step('v2 SET Q v3 port over 65535', reserved(tcp), v2(SET, mappingArgs(Q, 3, TCP, 0x12345)));
  await step('v4 SET R tcp from an unreserved TCP port (unknown)', tcp, v4(SET, rpcbArgs(R, 1, 'tcp', '0.0.0.0.12.1')));
  await step('v3 SET R udp from an unreserved UDP port (unknown)', udp, v3(SET, rpcbArgs(R, 1, 'udp', '0.0.0.0.12.2')));
  await step('v2 SET R v2 tcp from an unreserved TCP port', tcp, v2(SET, mappingArgs(R, 2, TCP, 3073)));
  await step('v3 SET S tcp6 from [::1] reserved port', reserved(tcp6), v3(SET, rpcbArgs(S, 1, 'tcp6', '::.12.3')));
  await step('v4 SET S udp6 from [::1] unreserved port', udp6, v4(SET, rpcbArgs(S, 1, 'udp6', '::.12.4')));
  await step('v3 SET T tcp, a specific address', unix, v3(SET, rpcbArgs(T, 1, 'tcp', '127.0.0.5.4.1')));
  await step('v3 SET T udp, an address that does not parse', unix, v3(SET, rpcbArgs(T, 1, 'udp', 'not-an-address')));
  await step('v3 SET T tcp6, a specific address', unix, v3(SET, rpcbArgs(T, 1, 'tcp6', 'fe80::1.4.1')));
  await step('v3 SET T v2 on an unknown netid', unix, v3(SET, rpcbArgs(T, 2, 'sctp', '0.0.0.0.4.2')));
  await step('v3 SET T v3 with an empty netid', unix, v3(SET, rpcbArgs(T, 3, '', '0.0.0.0.4.3')));
  await step('v3 SET T v4 tcp, port parts 300.1', unix, v3(SET, rpcbArgs(T, 4, 'tcp', '0.0.0.0.300.1')));
  await step('v3 SET T v5 tcp, port parts 1.-1', unix, v3(SET, rpcbArgs(T, 5, 'tcp', '0.0.0.0.1.-1')));
  await step('v3 SET T v6 tcp6, a v4-mapped wildcard', unix, v3(SET, rpcbArgs(T, 6, 'tcp6', '::ffff:0.0.0.0.1.2')));
  await step('uid 65534 over unix: SET U tcp (owner "65534")', asNobody, v3(SET, rpcbArgs(U, 1, 'tcp', '0.0.0.0.13.1')));
  await step('uid 65534 over unix: SET U udp', asNobody, v3(SET, rpcbArgs(U, 1, 'udp', '0.0.0.0.13.2')));
  await step('uid 65534 over unix: SET U v3 tcp', asNobody, v3(SET, rpcbArgs(U, 3, 'tcp', '0.0.0.0.13.3')));
  await step('root over unix: SET U v3 udp', unix, v3(SET, rpcbArgs(U, 3, 'udp', '0.0.0.0.13.4')));
  // From 127.0.0.2 (on lo, but not loopback to rpcbind): AUTH_TOOWEAK, whatever the port or version.
  await step('v3 SET from 127.0.0.2 over TCP: TOOWEAK', from2tcp, v3(SET, rpcbArgs(R, 5, 'tcp', '0.0.0.0.14.1')));
  await step('v4 SET from 127.0.0.2 over UDP: TOOWEAK', from2udp, v4(SET, rpcbArgs(R, 5, 'udp', '0.0.0.0.14.1')));
  await step('v2 SET from 127.0.0.2 reserved port: TOOWEAK', reserved(from2tcp), v2(SET, mappingArgs(R, 5, TCP, 3600)));
  await step('v3 UNSET from 127.0.0.2 over TCP: TOOWEAK', from2tcp, v3(UNSET, rpcbArgs(P, 1, '', '')));
  await step('v2 UNSET from 127.0.0.2 over UDP: TOOWEAK', reserved(from2udp), v2(UNSET, mappingArgs(Q, 1, TCP, 0)));
  await step('v3 SET to 127.0.0.2 from 127.0.0.1 (the source counts)', { transport: 'udp', to: '127.0.0.2' }, v3(SET, rpcbArgs(R, 6, 'udp', '0.0.0.0.14.2')));

  // ---- the two views -------------------------------------------------------------------------------------
  await step('v2 DUMP over TCP (tcp/udp only)', tcp, v2(DUMP));
  await step('v2 DUMP over UDP', udp, v2(DUMP));
  await step('v2 DUMP over tcp6', tcp6, v2(DUMP));
  await step('v2 DUMP over udp6', udp6, v2(DUMP));
  await step('v2 DUMP over unix', unix, v2(DUMP));
  await step('v3 DUMP over unix', unix, v3(DUMP));
  await step('v3 DUMP over UDP', udp, v3(DUMP));
  await step('v4 DUMP over tcp6', tcp6, v4(DUMP));
  await step('v2 DUMP over UDP from 127.0.0.2', from2udp, v2(DUMP));
  await step('v4 DUMP over UDP from 127.0.0.2', from2udp, v4(DUMP));

  // ---- lookups: wildcard rewriting, netid of the transport, version fallback -----------------------------
  for (const [vname, call] of [['v3', v3], ['v4', v4]] as const) {
    await step(`${vname} GETADDR P v1 over UDP (r_netid tcp ignored)`, udp, call(GETADDR, rpcbArgs(P, 1, 'tcp', '')));
    await step(`${vname} GETADDR P v1 over TCP (r_netid udp ignored)`, tcp, call(GETADDR, rpcbArgs(P, 1, 'udp', '')));
    await step(`${vname} GETADDR P v1 over udp6`, udp6, call(GETADDR, rpcbArgs(P, 1, 'udp', '')));
    await step(`${vname} GETADDR P v1 over tcp6`, tcp6, call(GETADDR, rpcbArgs(P, 1, 'tcp', '')));
    await step(`${vname} GETADDR P v1 over unix (the local entry)`, unix, call(GETADDR, rpcbArgs(P, 1, 'tcp', '')));
    await step(`${vname} GETADDR R v1 over unix (no local entry)`, unix, call(GETADDR, rpcbArgs(R, 1, 'tcp', '')));
    await step(`${vname} GETADDR rpcbind v4 over unix`, unix, call(GETADDR, rpcbArgs(100000, 4, 'local', '')));
    await step(`${vname} GETADDR rpcbind v2 over TCP`, tcp, call(GETADDR, rpcbArgs(100000, 2, 'tcp', '')));
    await step(`${vname} GETADDR rpcbind v3 over udp6`, udp6, call(GETADDR, rpcbArgs(100000, 3, 'udp6', '')));
    await step(`${vname} GETADDR P v7 over TCP: the last tcp entry of P in list order`, tcp, call(GETADDR, rpcbArgs(P, 7, 'tcp', '')));
    await step(`${vname} GETADDR P v7 over UDP`, udp, call(GETADDR, rpcbArgs(P, 7, 'udp', '')));
    await step(`${vname} GETADDR P v3 over TCP (exact)`, tcp, call(GETADDR, rpcbArgs(P, 3, 'tcp', '')));
    await step(`${vname} GETADDR of an unregistered program`, tcp, call(GETADDR, rpcbArgs(0x3fffffff, 1, 'tcp', '')));
    await step(`${vname} GETADDR with hint 127.0.0.2.0.111`, udp, call(GETADDR, rpcbArgs(P, 1, 'udp', '127.0.0.2.0.111')));
    await step(`${vname} GETADDR with a hint that does not parse`, udp, call(GETADDR, rpcbArgs(P, 1, 'udp', 'garbage')));
    await step(`${vname} GETADDR with an IPv6 hint over UDP`, udp, call(GETADDR, rpcbArgs(P, 1, 'udp', '::1.0.111')));
    await step(`${vname} GETADDR sent to 127.0.0.2`, { transport: 'udp', to: '127.0.0.2' }, call(GETADDR, rpcbArgs(P, 1, 'udp', '')));
    await step(`${vname} GETADDR from 127.0.0.2`, from2tcp, call(GETADDR, rpcbArgs(P, 1, 'tcp', '')));
    await step(`${vname} GETADDR T v1 over TCP (a specific address)`, tcp, call(GETADDR, rpcbArgs(T, 1, 'tcp', '')));
    await step(`${vname} GETADDR T v1 over UDP (an address that does not parse)`, udp, call(GETADDR, rpcbArgs(T, 1, 'udp', '')));
    await step(`${vname} GETADDR T v1 over tcp6 (link-local)`, tcp6, call(GETADDR, rpcbArgs(T, 1, 'tcp6', '')));
    await step(`${vname} GETADDR U v1 over TCP (uid 65534's)`, tcp, call(GETADDR, rpcbArgs(U, 1, 'tcp', '')));
    await step(`${vname} GETADDR S v1 over TCP (IPv6 only)`, tcp, call(GETADDR, rpcbArgs(S, 1, 'tcp', '')));
  }
  await step('v3 GETADDR T v4 (port parts 300.1)', tcp, v3(GETADDR, rpcbArgs(T, 4, 'tcp', '')));
  await step('v3 GETADDR T v5 (port parts 1.-1)', tcp, v3(GETADDR, rpcbArgs(T, 5, 'tcp', '')));
  await step('v4 GETADDR T v6 over tcp6 (v4-mapped wildcard)', tcp6, v4(GETADDR, rpcbArgs(T, 6, 'tcp6', '')));
  await step('v4 GETADDRLIST T v4 over TCP', tcp, v4(GETADDRLIST, rpcbArgs(T, 4, 'tcp', '')));
  await step('v4 GETADDRLIST T v1 with a hint that does not parse', tcp, v4(GETADDRLIST, rpcbArgs(T, 1, 'tcp', 'garbage')));
  await step('v3 GETADDR P v1 with a hint of another network', tcp, v3(GETADDR, rpcbArgs(P, 1, 'tcp', '10.1.1.1.0.111')));
  await step('v3 GETADDR P v1 with a wildcard hint', tcp, v3(GETADDR, rpcbArgs(P, 1, 'tcp', '0.0.0.0.0.111')));
  await step('v4 GETVERSADDR P v7 over TCP: exact, ""', tcp, v4(GETVERSADDR, rpcbArgs(P, 7, 'tcp', '')));
  await step('v4 GETVERSADDR P v3 over TCP', tcp, v4(GETVERSADDR, rpcbArgs(P, 3, 'tcp', '')));
  await step('v4 GETVERSADDR P v1 over udp6', udp6, v4(GETVERSADDR, rpcbArgs(P, 1, 'udp6', '')));
  await step('v4 GETVERSADDR P v1 over unix', unix, v4(GETVERSADDR, rpcbArgs(P, 1, 'local', '')));
  await step('v2 GETPORT P v7 tcp: the last in list order', udp, v2(GETPORT, mappingArgs(P, 7, TCP, 0)));
  await step('v2 GETPORT P v1 udp', udp, v2(GETPORT, mappingArgs(P, 1, UDP, 0)));
  await step('v2 GETPORT P v1 tcp over TCP', tcp, v2(GETPORT, mappingArgs(P, 1, TCP, 0)));
  await step('v2 GETPORT S v1 tcp (tcp6 is invisible to v2)', udp, v2(GETPORT, mappingArgs(S, 1, TCP, 0)));
  await step('v2 GETPORT Q v5 udp (version fallback)', udp, v2(GETPORT, mappingArgs(Q, 5, UDP, 0)));
  await step('v2 GETPORT Q v1 protocol 99', udp, v2(GETPORT, mappingArgs(Q, 1, 99, 0)));
  await step('v2 GETPORT R v2 tcp (a v2 SET)', udp, v2(GETPORT, mappingArgs(R, 2, TCP, 0)));
  await step('v2 GETPORT T v1 tcp (a specific address)', udp, v2(GETPORT, mappingArgs(T, 1, TCP, 0)));
  await step('v2 GETPORT over udp6', udp6, v2(GETPORT, mappingArgs(P, 1, UDP, 0)));
  await step('v2 GETPORT over unix', unix, v2(GETPORT, mappingArgs(P, 1, TCP, 0)));
  await step('v4 GETADDRLIST P v1 over TCP', tcp, v4(GETADDRLIST, rpcbArgs(P, 1, 'tcp', '')));
  await step('v4 GETADDRLIST P v1 over udp6', udp6, v4(GETADDRLIST, rpcbArgs(P, 1, 'udp6', '')));
  await step('v4 GETADDRLIST P v1 over unix', unix, v4(GETADDRLIST, rpcbArgs(P, 1, 'local', '')));
  await step('v4 GETADDRLIST R v1 over UDP', udp, v4(GETADDRLIST, rpcbArgs(R, 1, 'udp', '')));
  await step('v4 GETADDRLIST rpcbind v4 over TCP', tcp, v4(GETADDRLIST, rpcbArgs(100000, 4, 'tcp', '')));
  await step('v4 GETADDRLIST T v1 over TCP', tcp, v4(GETADDRLIST, rpcbArgs(T, 1, 'tcp', '')));
  await step('v4 GETADDRLIST T v2 (unknown netid) over TCP', tcp, v4(GETADDRLIST, rpcbArgs(T, 2, 'tcp', '')));
  await step('v4 GETADDRLIST of nothing', tcp, v4(GETADDRLIST, rpcbArgs(0x3fffffff, 1, 'tcp', '')));
  await step('v3 UADDR2TADDR over UDP', udp, v3(U2T, xstr('127.0.0.1.0.111')));
  await step('v4 UADDR2TADDR over tcp6', tcp6, v4(U2T, xstr('::1.8.1')));
  await step('v3 UADDR2TADDR of garbage over UDP', udp, v3(U2T, xstr('garbage')));
  await step('v3 UADDR2TADDR of an IPv6 address over UDP', udp, v3(U2T, xstr('::1.0.111')));
  await step('v3 UADDR2TADDR over unix', unix, v3(U2T, xstr('/run/rpcbind.sock')));
  await step('v3 UADDR2TADDR, port parts 1.256', tcp, v3(U2T, xstr('127.0.0.1.1.256')));
  await step('v3 UADDR2TADDR, port parts 300.1', tcp, v3(U2T, xstr('127.0.0.1.300.1')));
  await step('v3 UADDR2TADDR, port parts -1.1', tcp, v3(U2T, xstr('127.0.0.1.-1.1')));
  await step('v3 UADDR2TADDR, port parts a.b', tcp, v3(U2T, xstr('127.0.0.1.a.b')));
  await step('v3 UADDR2TADDR, port parts +1. 2', tcp, v3(U2T, xstr('127.0.0.1.+1. 2')));
  await step('v3 UADDR2TADDR, a leading zero', tcp, v3(U2T, xstr('127.0.0.01.1.2')));
  await step('v3 UADDR2TADDR, five parts', tcp, v3(U2T, xstr('127.0.0.1.2')));
  await step('v4 UADDR2TADDR over tcp6, v4-mapped', tcp6, v4(U2T, xstr('::ffff:127.0.0.1.8.1')));
  await step('v4 UADDR2TADDR over tcp6, with a zone', tcp6, v4(U2T, xstr('fe80::1%lo.8.1')));
  await step('v4 UADDR2TADDR over udp6, eight groups', udp6, v4(U2T, xstr('1:2:3:4:5:6:7:8.1.2')));
  await step('v3 UADDR2TADDR over unix, /', unix, v3(U2T, xstr('/')));
  await step('v3 UADDR2TADDR over unix, a relative path', unix, v3(U2T, xstr('run/x')));
  await step('v3 UADDR2TADDR over unix, an abstract name', unix, v3(U2T, xstr('@/run/rpcbind.sock')));
  await step('v3 UADDR2TADDR over unix, a 200-byte path', unix, v3(U2T, xstr('/' + 'x'.repeat(199))));
  await step('v3 TADDR2UADDR over UDP', udp, v3(T2U, netbuf(sockaddrIn([127, 0, 0, 1], 111))));
  await step('v4 TADDR2UADDR over tcp6', tcp6, v4(T2U, netbuf(sockaddrIn6([0, 0, 0, 0, 0, 0, 0, 1], 2049))));
  await step('v3 TADDR2UADDR of 3 bytes over UDP', udp, v3(T2U, netbuf(Buffer.from([2, 0, 0]))));
  await step('v3 TADDR2UADDR of 8 bytes over TCP', tcp, v3(T2U, netbuf(sockaddrIn([127, 0, 0, 1], 111).subarray(0, 8))));
  await step('v3 TADDR2UADDR with maxlen under the length: GARBAGE_ARGS', tcp, v3(T2U, netbuf(sockaddrIn([127, 0, 0, 1], 111), 4)));
  await step('v3 TADDR2UADDR with maxlen over the length', tcp, v3(T2U, netbuf(sockaddrIn([127, 0, 0, 1], 111), 100)));
  await step('v3 TADDR2UADDR of an IPv6 sockaddr over UDP (read as IPv4)', udp, v3(T2U, netbuf(sockaddrIn6([0xfe80, 0, 0, 0, 0, 0, 0, 1], 1))));
  await step('v3 TADDR2UADDR of 24 bytes over tcp6', tcp6, v3(T2U, netbuf(sockaddrIn6([0, 0, 0, 0, 0, 0, 0, 1], 1).subarray(0, 24))));
  for (const w of [[0, 0, 0, 0, 0, 0xffff, 0x7f00, 1], [0, 0, 0, 0, 0, 0, 2, 3], [0, 0, 0, 0, 0, 0xffff, 0, 0], [1, 0, 0, 2, 0, 0, 0, 3], [0x2001, 0xdb8, 0, 0, 1, 0, 0, 1], [0, 0, 0, 0, 1, 0, 0, 0], [0, 0, 0, 0, 0, 0xfffe, 1, 2], [0, 0, 0, 0, 0, 0, 0, 0]]) {
    await step(`v4 TADDR2UADDR over tcp6 of ${w.map((x) => x.toString(16)).join(':')}`, tcp6, v4(T2U, netbuf(sockaddrIn6(w, 513))));
  }
  const sun = (path: string) => Buffer.concat([Buffer.from([1, 0]), Buffer.from(path)]);
  await step('v3 TADDR2UADDR over unix of a path', unix, v3(T2U, netbuf(sun('/run/x.sock'), 110)));
  await step('v3 TADDR2UADDR over unix of a path and NULs', unix, v3(T2U, netbuf(sun('/run/x.sock\0\0\0'), 110)));
  await step('v3 TADDR2UADDR over unix of 2 bytes', unix, v3(T2U, netbuf(sun(''))));
  await step('v3 GETTIME over UDP', udp, v3(GETTIME), { time: true });
  await step('v4 GETTIME over TCP', tcp, v4(GETTIME), { time: true });

  // ---- UNSET: owners -------------------------------------------------------------------------------------
  await step('v3 UNSET P v1 (superuser) from an unreserved TCP port: FALSE', tcp, v3(UNSET, rpcbArgs(P, 1, '', '')));
  await step('v4 UNSET P v1 tcp (superuser) from an unreserved UDP port: FALSE', udp, v4(UNSET, rpcbArgs(P, 1, 'tcp', '')));
  await step('v3 UNSET R v1 tcp (unknown) from an unreserved TCP port: TRUE', tcp, v3(UNSET, rpcbArgs(R, 1, 'tcp', '')));
  await step('v2 UNSET Q v1 (superuser) from an unreserved TCP port: FALSE', tcp, v2(UNSET, mappingArgs(Q, 1, TCP, 0)));
  await step('v3 UNSET Q v1 udp (superuser) from a reserved UDP port: TRUE', reserved(udp), v3(UNSET, rpcbArgs(Q, 1, 'udp', '')));
  await step('v2 UNSET Q v1 from an unreserved TCP port, only tcp left (the udp half has nothing to remove): TRUE', tcp, v2(UNSET, mappingArgs(Q, 1, TCP, 0)));
  await step('v2 UNSET Q v1 from a reserved TCP port: TRUE', reserved(tcp), v2(UNSET, mappingArgs(Q, 1, TCP, 0)));
  await step('v2 UNSET R v2 (unknown) from an unreserved UDP port', udp, v2(UNSET, mappingArgs(R, 2, TCP, 0)));
  await step('uid 65534: UNSET P v1 (superuser): FALSE', asNobody, v3(UNSET, rpcbArgs(P, 1, '', '')));
  await step('uid 65534: UNSET R v1 udp (unknown): FALSE', asNobody, v3(UNSET, rpcbArgs(R, 1, 'udp', '')));
  await step('uid 65534: UNSET U v1 tcp (its own): TRUE', asNobody, v3(UNSET, rpcbArgs(U, 1, 'tcp', '')));
  await step('uid 65534: UNSET U v3 on every netid (its tcp, then root\'s udp): FALSE', asNobody, v4(UNSET, rpcbArgs(U, 3, '', '')));
  await step('unreserved TCP port: UNSET U v1 udp (uid 65534\'s): FALSE', tcp, v3(UNSET, rpcbArgs(U, 1, 'udp', '')));
  await step('root over unix: UNSET U v1 (uid 65534\'s): TRUE', unix, v3(UNSET, rpcbArgs(U, 1, '', '')));
  await step('UNSET of nothing registered: TRUE', unix, v3(UNSET, rpcbArgs(0x3fffffff, 1, '', '')));
  await step('v3 UNSET P v3 udp only', unix, v3(UNSET, rpcbArgs(P, 3, 'udp', '')));
  await step('v3 DUMP after the UNSETs', unix, v3(DUMP));
  await step('v2 DUMP after the UNSETs', tcp, v2(DUMP));

  // ---- size limits, truncated arguments, rpcbomb -----------------------------------------------------------
  const padRecord = (len: number) => (x: number) => {
    const m = rpcbCall(x, 3, 0);
    return Buffer.concat([m, Buffer.alloc(len - m.length)]);
  };
  await step('TCP record of 9000 bytes (NULL + padding)', tcp, padRecord(9000));
  await step('TCP record of 9004 bytes: closed', tcp, padRecord(9004));
  await step('TCP SET with a 9000-byte r_addr: closed', tcp, v3(SET, rpcbArgs(R, 7, 'tcp', 'a'.repeat(9000))));
  await step('UDP GETADDR with a 9001-byte netid: GARBAGE_ARGS', udp, v3(GETADDR, rpcbArgs(P, 1, 'n'.repeat(9001), '')));
  await step('UDP GETADDR with an 8900-byte netid', udp, v3(GETADDR, rpcbArgs(P, 1, 'n'.repeat(8900), '')));
  await step('UDP datagram of 9000 bytes (NULL + padding)', udp, padRecord(9000));
  await step('UDP datagram of 9100 bytes (NULL + padding)', udp, padRecord(9100));
  const bomb = (vers: number, proc: number) => (x: number) => rpcbCall(x, vers, proc, Buffer.concat([u32(P), u32(1), u32(0xfffffff0), Buffer.from('tcp\0')]));
  await step('rpcbomb: UDP v3 GETADDR netid of 0xfffffff0 bytes', udp, bomb(3, GETADDR));
  await step('rpcbomb: UDP v4 SET netid of 0xfffffff0 bytes', udp, bomb(4, SET));
  await step('rpcbomb: TCP v3 GETADDR netid of 0xfffffff0 bytes', tcp, bomb(3, GETADDR));
  await step('rpcbomb: UDP v3 UADDR2TADDR of 0x7fffffff bytes', udp, v3(U2T, Buffer.concat([u32(0x7fffffff), Buffer.alloc(64)])));
  await step('rpcbomb: UDP v3 TADDR2UADDR netbuf of 0x7fffffff bytes', udp, v3(T2U, Buffer.concat([u32(16), u32(0x7fffffff), Buffer.alloc(64)])));
  await filler('zeros', fillZeros);
  await step('v2 GETPORT truncated (8 bytes): SUCCESS port 0', udp, v2(GETPORT, Buffer.concat([u32(P), u32(1)])));
  await step('v2 GETPORT truncated (8 bytes) over TCP', tcp, v2(GETPORT, Buffer.concat([u32(P), u32(1)])));
  await step('v2 GETPORT without arguments', tcp, v2(GETPORT));
  await step('v2 SET truncated', reserved(tcp), v2(SET, Buffer.concat([u32(Q), u32(9)])));
  await filler('0xff', fillOnes);
  await step('v3 GETADDR truncated: GARBAGE_ARGS', udp, v3(GETADDR, Buffer.concat([u32(P), u32(1)])));
  await step('v3 GETADDR truncated over TCP', tcp, v3(GETADDR, Buffer.concat([u32(P), u32(1)])));
  await step('v4 GETADDR truncated', tcp, v4(GETADDR, Buffer.concat([u32(P), u32(1), xstr('tcp')])));
  await step('v3 SET truncated', unix, v3(SET, Buffer.concat([u32(P), u32(9), xstr('tcp')])));
  await step('v4 GETADDRLIST truncated', tcp, v4(GETADDRLIST, u32(P)));
  await filler('0xff', fillOnes);
  await step('v4 INDIRECT truncated (no -r)', udp, v4(INDIRECT, u32(P)));
  await filler('0xff', fillOnes);
  await step('v2 CALLIT truncated (no -r)', udp, v2(CALLIT, u32(P)));
  await step('v2 CALLIT truncated over TCP', tcp, v2(CALLIT, u32(P)));
  await step('v4 INDIRECT truncated over TCP', tcp, v4(INDIRECT, u32(P)));
  await step('v3 GETADDR with trailing bytes', udp, (x) => Buffer.concat([v3(GETADDR, rpcbArgs(P, 1, 'udp', ''))(x), u32(7)]));

  // ---- credentials, headers, programs, versions, procedures ----------------------------------------------
  const nulCall = (x: number) => rpcbCall(x, 3, 0);
  const range = (a: number, b: number) => Buffer.from(Array.from({ length: b - a }, (_, i) => a + i));
  const creds: [string, Buffer, Buffer?][] = [
    ['unknown flavor 99: REJECTEDCRED', auth(99, Buffer.from([1, 2, 3, 4]))],
    ['AUTH_SHORT: REJECTEDCRED', auth(AUTH_SHORT, Buffer.from([1, 2, 3, 4]))],
    ['garbage AUTH_SYS: BADCRED', auth(AUTH_SYS, Buffer.concat([u32(0x12345678), u32(8)]))],
    ['RPCSEC_GSS garbage: BADCRED', auth(RPCSEC_GSS, range(0x20, 0x40))],
    ['garbage AUTH_DES: FAILED', auth(AUTH_DES, range(0x10, 0x30)), auth(AUTH_DES, range(0x40, 0x4c))],
    ['AUTH_SYS', auth(AUTH_SYS, authSysBody())],
    ['AUTH_SYS with 17 gids', auth(AUTH_SYS, authSysBody({ gids: Array.from({ length: 17 }, (_, i) => i) }))],
    ['AUTH_SYS with a 300-byte machine name', auth(AUTH_SYS, authSysBody({ machine: Buffer.alloc(300, 'm') }))],
    ['AUTH_SYS with trailing bytes', auth(AUTH_SYS, Buffer.concat([authSysBody(), u32(7)]))],
    ['AUTH_NONE with a body', auth(AUTH_NONE, Buffer.from([1, 2, 3, 4]))],
    ['verifier flavor 99 (ignored)', auth(AUTH_NONE), auth(99, Buffer.from([0xaa, 0xbb, 0xcc, 0xdd]))],
    ['credential of 400 bytes', auth(99, Buffer.alloc(400))],
  ];
  for (const [name, cred, verf] of creds) {
    for (const [tname, via] of [['UDP', udp], ['TCP', tcp]] as const) {
      await step(`${tname} v3 NULL, ${name}`, via, (x) => callMessage(x, { prog: 100000, vers: 3, proc: 0, cred, ...(verf ? { verf } : {}) }));
    }
  }
  await step('TCP v4 DUMP with AUTH_SYS', tcp, (x) => callMessage(x, { prog: 100000, vers: 4, proc: DUMP, cred: auth(AUTH_SYS, authSysBody()) }));
  await step('TCP credential over 400 bytes: closed', tcp, (x) => callMessage(x, { prog: 100000, vers: 3, proc: 0, cred: auth(AUTH_SYS, Buffer.alloc(404)) }));
  await step('UDP credential over 400 bytes', udp, (x) => callMessage(x, { prog: 100000, vers: 3, proc: 0, cred: auth(AUTH_SYS, Buffer.alloc(404)) }));
  await step('TCP verifier over 400 bytes', tcp, (x) => callMessage(x, { prog: 100000, vers: 3, proc: 0, verf: auth(AUTH_NONE, Buffer.alloc(404)) }));
  await step('UDP msg_type REPLY: silence', udp, (x) => callMessage(x, { prog: 100000, vers: 3, mtype: 1 }));
  await step('TCP msg_type REPLY: closed', tcp, (x) => callMessage(x, { prog: 100000, vers: 3, mtype: 1 }));
  await step('TCP: a REPLY then a SET in one write: closed', tcp, nulCall, { stream: Buffer.concat([recordOf(callMessage(0x5f000010, { prog: 100000, vers: 3, mtype: 1 })), recordOf(rpcbCall(0x5f000011, 3, SET, rpcbArgs(R, 9, 'tcp', '0.0.0.0.14.9')))]) });
  await step('… and the SET after it was not made: ""', tcp, v3(GETADDR, rpcbArgs(R, 9, 'tcp', '')));
  await step('UDP msg_type 2', udp, (x) => callMessage(x, { prog: 100000, vers: 3, mtype: 2 }));
  await step('TCP msg_type 2: closed', tcp, (x) => callMessage(x, { prog: 100000, vers: 3, mtype: 2 }));
  await step('UDP rpcvers 3: no reply', udp, (x) => callMessage(x, { prog: 100000, vers: 3, rpcvers: 3 }));
  await step('TCP rpcvers 3: closed', tcp, (x) => callMessage(x, { prog: 100000, vers: 3, rpcvers: 3 }));
  await filler('0xff', fillOnes);
  await step('UDP truncated header', udp, (x) => rpcbCall(x, 3, 0).subarray(0, 20));
  await step('TCP truncated header', tcp, (x) => rpcbCall(x, 3, 0).subarray(0, 20));
  await filler('0xff', fillOnes);
  await step('UDP 3 bytes', udp, () => Buffer.from([1, 2, 3]));
  for (const [tname, via] of [['UDP', udp], ['TCP', tcp], ['unix', unix]] as const) {
    await step(`${tname} version 5: PROG_MISMATCH 2-4`, via, (x) => rpcbCall(x, 5, 0));
    await step(`${tname} version 1: PROG_MISMATCH 2-4`, via, (x) => rpcbCall(x, 1, 0));
    await step(`${tname} program 100001: PROG_UNAVAIL`, via, (x) => callMessage(x, { prog: 100001, vers: 2, proc: 0 }));
    for (const vers of [2, 3, 4]) await step(`${tname} v${vers} procedure 99: PROC_UNAVAIL`, via, (x) => rpcbCall(x, vers, 99));
  }
  await step('v2 procedure 6', udp, v2(6));
  await step('v3 procedure 9 (GETVERSADDR is v4)', udp, v3(9, rpcbArgs(P, 1, 'udp', '')));
  await step('v3 procedure 12 (GETSTAT is v4)', udp, v3(12));
  await step('v4 procedure 13', udp, v4(13));
  await step('v2 NULL over udp6', udp6, v2(0));
  await step('v3 NULL with version 0 of program 100000', tcp, (x) => rpcbCall(x, 0, 0));

  // ---- remote calls without -r: no answer at all ------------------------------------------------------------
  await step('v2 CALLIT over UDP, no -r: silence', udp, v2(CALLIT, rmtArgs(P, 1, 0, Buffer.alloc(0))));
  await step('v3 CALLIT over UDP, no -r: silence', udp, v3(CALLIT, rmtArgs(P, 1, 0, Buffer.alloc(0))));
  await step('v4 BCAST over UDP, no -r: silence', udp, v4(CALLIT, rmtArgs(P, 1, 0, Buffer.alloc(0))));
  await step('v4 INDIRECT over UDP, no -r: SYSTEM_ERR', udp, v4(INDIRECT, rmtArgs(P, 1, 0, Buffer.alloc(0))));
  await step('v2 CALLIT over TCP, no -r: silence', tcp, v2(CALLIT, rmtArgs(P, 1, 0, Buffer.alloc(0))));
  await step('v4 INDIRECT over TCP, no -r: silence', tcp, v4(INDIRECT, rmtArgs(P, 1, 0, Buffer.alloc(0))));
  await step('v4 INDIRECT over unix, no -r: silence', unix, v4(INDIRECT, rmtArgs(P, 1, 0, Buffer.alloc(0))));
  await step('v4 INDIRECT of NFS proc 1, no -r: refused first', udp, v4(INDIRECT, rmtArgs(100003, 3, 1, Buffer.alloc(4))));
  await step('v3 CALLIT of rpcbind itself, no -r: refused first', udp, v3(CALLIT, rmtArgs(100000, 3, 3, rpcbArgs(P, 1, 'udp', ''))));
  await step('v4 INDIRECT of an unregistered program, no -r', udp, v4(INDIRECT, rmtArgs(0x3fffffff, 1, 0, Buffer.alloc(0))));
  await step('v4 INDIRECT of P v9, no -r', udp, v4(INDIRECT, rmtArgs(P, 9, 0, Buffer.alloc(0))));
  await step('v2 CALLIT of P v9, no -r', udp, v2(CALLIT, rmtArgs(P, 9, 0, Buffer.alloc(0))));
  await step('v3 CALLIT over udp6, no -r', udp6, v3(CALLIT, rmtArgs(P, 1, 0, Buffer.alloc(0))));

  // ---- framing --------------------------------------------------------------------------------------------
  const nul = (x: number) => rpcbCall(x, 3, 0);
  await step('TCP: three records in one write', tcp, nul, { expect: 3, stream: Buffer.concat([recordOf(rpcbCall(0x5f000001, 3, 0)), recordOf(rpcbCall(0x5f000002, 2, 4)), recordOf(rpcbCall(0x5f000003, 4, 3, rpcbArgs(P, 1, 'tcp', '')))]) });
  await step('TCP: record mark of 2^31-1 bytes', tcp, nul, { stream: Buffer.concat([u32(0xffffffff), rpcbCall(0x5f000007, 3, 0)]) });

  // ---- UDP replies leave from the address the request was sent to -------------------------------------------
  await step('UDP connect()ed to 127.0.0.2: NULL answered', { transport: 'udp', to: '127.0.0.2', connected: true }, v3(0));
  await step('UDP connect()ed to 127.0.0.2: v2 GETPORT answered', { transport: 'udp', to: '127.0.0.2', connected: true }, v2(GETPORT, mappingArgs(P, 1, UDP, 0)));
  await step('UDP connect()ed to 127.0.0.2 from 127.0.0.2: GETADDR answered', { transport: 'udp', to: '127.0.0.2', from: '127.0.0.2', connected: true }, v4(GETADDR, rpcbArgs(P, 1, 'udp', '')));
  await step('UDP connect()ed to 127.1.2.3: NULL answered', { transport: 'udp', to: '127.1.2.3', connected: true }, v2(0));
  await step('UDP connect()ed to ::1: NULL answered', { transport: 'udp', to: '::1', connected: true }, v4(0));

  // ---- a caller on this host but not loopback (198.18.0.1, 2001:db8::1: as from the LAN) --------------------------
  const lan4: Via = { transport: 'udp', to: '198.18.0.1', from: '198.18.0.1' };
  const lan6: Via = { transport: 'tcp', to: '2001:db8::1', from: '2001:db8::1' };
  await step('v3 SET from 198.18.0.1 over TCP: TOOWEAK', { transport: 'tcp', to: '198.18.0.1', from: '198.18.0.1' }, v3(SET, rpcbArgs(R, 8, 'tcp', '0.0.0.0.14.3')));
  await step('v4 UNSET from 2001:db8::1: TOOWEAK', lan6, v4(UNSET, rpcbArgs(P, 1, '', '')));
  await step('v3 GETADDR P v1 from 198.18.0.1: its network\'s address', lan4, v3(GETADDR, rpcbArgs(P, 1, 'udp', '')));
  await step('v4 GETADDR P v1 from 2001:db8::1 over tcp6', lan6, v4(GETADDR, rpcbArgs(P, 1, 'tcp6', '')));
  await step('v4 GETADDR P v1 from 198.18.0.1 with hint 127.0.0.1', lan4, v4(GETADDR, rpcbArgs(P, 1, 'udp', '127.0.0.1.0.111')));
  await step('v4 GETADDR P v1 from 127.0.0.1 with hint 198.18.0.1', udp, v4(GETADDR, rpcbArgs(P, 1, 'udp', '198.18.0.1.0.111')));
  // addrmerge matches the hint's address, not its network: 198.18.0.9 is no interface's (198.18.0.1/24 is on its network).
  await step('v4 GETADDR P v1 from 127.0.0.1 with hint 198.18.0.9', udp, v4(GETADDR, rpcbArgs(P, 1, 'udp', '198.18.0.9.0.111')));
  await step('v3 GETADDR P v1 over TCP with hint 198.18.0.9', tcp, v3(GETADDR, rpcbArgs(P, 1, 'tcp', '198.18.0.9.0.111')));
  // An interface that is up without carrier (its veth peer down) counts for rpcbind (getifaddrs, IFF_UP);
  // os.networkInterfaces() leaves it out. Removed after (and the daemons' 100 ms interface cache let expire).
  await run('ip', ['link', 'add', 'x0', 'type', 'veth', 'peer', 'name', 'x1']);
  await run('ip', ['addr', 'add', '10.98.0.1/24', 'dev', 'x0']);
  await run('ip', ['link', 'set', 'x0', 'up']);
  await step('v4 GETADDR P v1 with hint 10.98.0.1 (an interface without carrier)', udp, v4(GETADDR, rpcbArgs(P, 1, 'udp', '10.98.0.1.0.111')));
  await run('ip', ['link', 'del', 'x0']);
  await new Promise((r) => setTimeout(r, 200));
  await step('v4 GETADDRLIST P v1 from 2001:db8::1 over tcp6', lan6, v4(GETADDRLIST, rpcbArgs(P, 1, 'tcp6', '')));
  await step('v2 GETPORT from 198.18.0.1 over UDP', lan4, v2(GETPORT, mappingArgs(P, 1, UDP, 0)));
  await step('v2 NULL from 198.18.0.1, UDP connect()ed', { ...lan4, connected: true }, v2(0));

  // ---- statistics ---------------------------------------------------------------------------------------------
  await step('v4 GETSTAT over TCP: the counters of everything above', tcp, v4(GETSTAT));
  await step('v4 GETSTAT over unix: counted itself', unix, v4(GETSTAT));

  // ---- intended differences (after GETSTAT: they move its counters differently) -------------------------------
  // Multi-fragment records: rpcbind (libtirpc) drops the connection, oncrpc accepts them (RFC 5531 §11).
  await step('TCP: an empty fragment first', tcp, nul, { differs: true, stream: Buffer.concat([u32(0), recordOf(rpcbCall(0x5f000004, 3, 0))]) });
  await step('TCP: NULL in 3 fragments', tcp, nul, { differs: true, stream: fragmented(rpcbCall(0x5f000005, 3, 0), [28, 4, 8]) });
  const twoFrags = rpcbCall(0x5f000006, 4, GETADDR, rpcbArgs(P, 1, 'tcp', ''));
  await step('unix: a GETADDR in 2 fragments', unix, nul, { differs: true, stream: fragmented(twoFrags, [40, twoFrags.length - 40]) });
  // Stale receive buffer: a truncated GETADDR right after a whole one is completed by its bytes in rpcbind.
  await step('UDP: a whole GETADDR', udp, v3(GETADDR, rpcbArgs(P, 1, 'udp', '')));
  await step('UDP: the same GETADDR truncated after it', udp, v3(GETADDR, Buffer.concat([u32(P), u32(1)])), { differs: true });
  // UDP replies larger than the request to callers off this host (amplification): rpcbind sends them, oncrpc does not.
  await step('v2 DUMP over UDP from 198.18.0.1', lan4, v2(DUMP), { differs: true });
  await step('v4 GETADDRLIST P v1 over UDP from 198.18.0.1', lan4, v4(GETADDRLIST, rpcbArgs(P, 1, 'udp', '')), { differs: true });

  // ---- phase 2: -r, remote calls forwarded to a local UDP service --------------------------------------------
  await daemon.stop('SIGKILL');
  daemon = await startDaemon(kind as Kind, { remote: true, warm: false });
  fence = false;
  const stopEcho = await startEcho();
  const port = [ECHO_PORT >> 8, ECHO_PORT & 255].join('.');
  await step('-r: SET E v1 udp (the echo service)', unix, v3(SET, rpcbArgs(E, 1, 'udp', `0.0.0.0.${port}`)));
  await step('-r: SET E v1 tcp', unix, v3(SET, rpcbArgs(E, 1, 'tcp', `0.0.0.0.${port}`)));
  await step('-r: SET E v2 udp (nothing listens)', unix, v3(SET, rpcbArgs(E, 2, 'udp', '0.0.0.0.156.65')));
  await step('-r: SET NFS v3 udp (the echo service)', unix, v3(SET, rpcbArgs(100003, 3, 'udp', `0.0.0.0.${port}`)));
  await step('-r: SET mountd v3 udp (the echo service)', unix, v3(SET, rpcbArgs(100005, 3, 'udp', `0.0.0.0.${port}`)));
  const hello = Buffer.from('hello, rpcbind!\0');
  await step('-r: v2 CALLIT E v1 proc 7 over UDP', udp, v2(CALLIT, rmtArgs(E, 1, 7, hello)));
  await step('-r: v2 CALLIT with AUTH_SYS (forwarded with it)', udp, (x) => callMessage(x, { prog: 100000, vers: 2, proc: CALLIT, cred: auth(AUTH_SYS, authSysBody({ uid: 1000, gid: 100 })), args: rmtArgs(E, 1, 7, hello) }));
  await step('-r: v3 CALLIT E v1 over UDP', udp, v3(CALLIT, rmtArgs(E, 1, 7, hello)));
  await step('-r: v3 CALLIT E v1 over udp6', udp6, v3(CALLIT, rmtArgs(E, 1, 7, hello)));
  await step('-r: v4 BCAST E v1 over UDP', udp, v4(CALLIT, rmtArgs(E, 1, 7, hello)));
  await step('-r: v4 INDIRECT E v1 over UDP', udp, v4(INDIRECT, rmtArgs(E, 1, 7, hello)));
  await step('-r: v2 CALLIT over TCP', tcp, v2(CALLIT, rmtArgs(E, 1, 7, hello)));
  await step('-r: v4 INDIRECT over TCP', tcp, v4(INDIRECT, rmtArgs(E, 1, 7, hello)));
  await step('-r: v3 CALLIT over unix', unix, v3(CALLIT, rmtArgs(E, 1, 7, hello)));
  await step('-r: v2 CALLIT of an unregistered program', udp, v2(CALLIT, rmtArgs(0x3fffffff, 1, 0, hello)));
  await step('-r: v4 INDIRECT of an unregistered program', udp, v4(INDIRECT, rmtArgs(0x3fffffff, 1, 0, hello)));
  await step('-r: v3 CALLIT E v9 (version not registered)', udp, v3(CALLIT, rmtArgs(E, 9, 0, hello)));
  await step('-r: v4 INDIRECT E v9 (version not registered)', udp, v4(INDIRECT, rmtArgs(E, 9, 0, hello)));
  await step('-r: v2 CALLIT NFS proc 1 (refused)', udp, v2(CALLIT, rmtArgs(100003, 3, 1, hello)));
  await step('-r: v4 INDIRECT NFS proc 1 (refused)', udp, v4(INDIRECT, rmtArgs(100003, 3, 1, hello)));
  await step('-r: v2 CALLIT NFS proc 0 (allowed)', udp, v2(CALLIT, rmtArgs(100003, 3, 0, hello)));
  await step('-r: v3 CALLIT mountd MNT (refused)', udp, v3(CALLIT, rmtArgs(100005, 3, 1, hello)));
  await step('-r: v3 CALLIT mountd proc 2 (allowed)', udp, v3(CALLIT, rmtArgs(100005, 3, 2, hello)));
  await step('-r: v2 CALLIT rpcbind itself (GETPORT)', udp, v2(CALLIT, rmtArgs(100000, 2, 3, mappingArgs(E, 1, UDP, 0))));
  await step('-r: v2 CALLIT with an unknown credential flavor', udp, (x) => callMessage(x, { prog: 100000, vers: 2, proc: CALLIT, cred: auth(99, Buffer.from([1, 2, 3, 4])), args: rmtArgs(E, 1, 7, hello) }));
  await filler('0xff', fillOnes);
  await step('-r: v2 CALLIT truncated', udp, v2(CALLIT, Buffer.concat([u32(E), u32(1)])));
  await filler('0xff', fillOnes);
  await step('-r: v4 INDIRECT truncated', udp, v4(INDIRECT, Buffer.concat([u32(E), u32(1)])));
  await step('-r: v3 CALLIT E v1 proc 99 (the service answers PROC_UNAVAIL)', udp, v3(CALLIT, rmtArgs(E, 1, 99, hello)));
  await step('-r: v4 INDIRECT E v1 proc 99 (the service answers PROC_UNAVAIL)', udp, v4(INDIRECT, rmtArgs(E, 1, 99, hello)));
  await step('-r: v4 INDIRECT E v2 (nothing listens)', udp, v4(INDIRECT, rmtArgs(E, 2, 7, hello)), { quietMs: 1500 });
  await step('-r: v2 CALLIT from 127.0.0.2', from2udp, v2(CALLIT, rmtArgs(E, 1, 7, hello)));
  await step('-r: v3 CALLIT E v2 (the service does not answer)', udp, v3(CALLIT, rmtArgs(E, 2, 7, hello)), { quietMs: 1500 });
  await step('-r: v4 GETSTAT over TCP: remote calls counted', tcp, v4(GETSTAT));
  stopEcho();

  await daemon.stop('SIGKILL');
  return { steps } satisfies SemanticsResult;
};
export default scenario;
