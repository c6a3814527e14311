import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';

/**
 * Small tmpfs mounts stand in for a full disk and a read-only volume. Root's file permissions do not
 * stop root, so chmod cannot make a directory read-only for this suite; a mount can. Needs
 * CAP_SYS_ADMIN (root in a VM or a privileged container); `canMount` says whether this machine allows it.
 */
export function mountTmpfs(dir: string, options: { sizeBytes: number }): void {
  mkdirSync(dir, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${options.sizeBytes},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
}

export function remount(dir: string, mode: 'ro' | 'rw'): void {
  execFileSync('mount', ['-o', `remount,${mode}`, dir], { stdio: 'pipe' });
}

export function unmount(dir: string): void {
  try {
    execFileSync('umount', [dir], { stdio: 'pipe' });
  } catch {
    execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  }
}

export function canMount(probeDir: string): { ok: true } | { ok: false; why: string } {
  try {
    mountTmpfs(probeDir, { sizeBytes: 64 * 1024 });
    unmount(probeDir);
    return { ok: true };
  } catch (err) {
    return { ok: false, why: ((err as { stderr?: Buffer }).stderr?.toString() || (err as Error).message).trim() };
  }
}
