// AUTH_SYS credentials (RFC 5531 appendix A): authsys_parms with its limits, and AUTH_SHORT/other flavors as opaque.

import { XdrReader } from '../xdr/reader.js';
import { XdrWriter } from '../xdr/writer.js';
import { auth_flavor } from './constants.js';
import type { OpaqueAuth } from './messages.js';

/** Longest machinename (RFC 5531 appendix A: string machinename<255>). */
export const MAX_MACHINE_NAME = 255;
/** Most supplementary gids (RFC 5531 appendix A: unsigned int gids<16>). */
export const MAX_GIDS = 16;

/** authsys_parms. */
export interface AuthSysParms {
  /** Arbitrary id the caller's machine generates (libtirpc uses the time of day). */
  stamp: number;
  machinename: string;
  uid: number;
  gid: number;
  gids: number[];
}

/** Reads authsys_parms; bounds are checked before anything is allocated. */
export function readAuthSys(r: XdrReader): AuthSysParms {
  const stamp = r.readUint();
  const machinename = r.readString(MAX_MACHINE_NAME);
  const uid = r.readUint();
  const gid = r.readUint();
  const n = r.readArrayLength(MAX_GIDS, 4);
  const gids = new Array<number>(n);
  for (let i = 0; i < n; i++) gids[i] = r.readUint();
  return { stamp, machinename, uid, gid, gids };
}

export function writeAuthSys(w: XdrWriter, p: AuthSysParms): void {
  w.writeUint(p.stamp);
  w.writeString(p.machinename, MAX_MACHINE_NAME);
  w.writeUint(p.uid);
  w.writeUint(p.gid);
  w.writeArrayLength(p.gids.length, MAX_GIDS);
  for (const g of p.gids) w.writeUint(g);
}

/**
 * The AUTH_SYS parameters in a credential body. Throws `XdrDecodeError` if the body is not exactly one
 * authsys_parms (short, over a limit, or with bytes left over).
 */
export function decodeAuthSys(body: Uint8Array): AuthSysParms {
  const r = new XdrReader(body);
  const p = readAuthSys(r);
  r.expectEnd();
  return p;
}

/** An AUTH_SYS credential (flavor 1) carrying `p`. */
export function authSys(p: AuthSysParms): OpaqueAuth {
  const w = new XdrWriter({ initialSize: 64 });
  writeAuthSys(w, p);
  return { flavor: auth_flavor.AUTH_SYS, body: w.toBytes() };
}
