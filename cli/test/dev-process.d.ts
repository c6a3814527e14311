import { type ChildProcess } from 'node:child_process';
export declare const HEXEDGE_BIN: string;
export interface DevProcess {
    child: ChildProcess;
    gatewayUrl: string;
    mqttUrl: string;
    lines: string[];
}
/** Starts `hexedge dev` as a user would and resolves once it prints its `ready` line. */
export declare function startDev(args: string[], timeoutMs?: number): Promise<DevProcess>;
/** Every descendant pid of a process (children, grandchildren…), from `ps`. */
export declare function descendantsOf(pid: number): number[];
export declare function isAlive(pid: number): boolean;
