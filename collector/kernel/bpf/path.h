/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Resolving a struct path to its name, in the kernel, the way d_path()
 * does (fs/d_path.c prepend_path): walk d_parent up to the mount's root,
 * then continue from the mount point in the parent mount, until the task's
 * root (fs->root) is reached.
 *
 * bpf_d_path() would do this for us, but the kernel allows it only from
 * fentry/fexit on a short list of functions (btf_allowlist_d_path:
 * security_file_open, vfs_getattr, ...), iterators and sleepable LSM
 * hooks; not from tp_btf/sched_process_exec. (And the target kernel
 * refuses to load fentry/fexit/LSM programs at all.) So the walk is done
 * here, bounded by PATH_DEPTH steps and PATH_BYTES bytes. Unlike d_path,
 * a deleted entry gets no " (deleted)" suffix.
 */
#ifndef ACTIVITYAUDIT_PATH_H
#define ACTIVITYAUDIT_PATH_H

#include "common.h"

/*
 * DATA_MASK bounds every write offset into a record's data area for the
 * verifier; the area is DATA_MASK + 1 + slack bytes long, the slack being
 * the largest single write.
 */
#define DATA_MASK 16383
#define DATA_SIZE (DATA_MASK + 1 + ARGS_MAX)

/* real_mount(): struct vfsmount is embedded in struct mount as .mnt. */
static __always_inline struct mount *real_mount(struct vfsmount *m)
{
	return (struct mount *)((void *)m - bpf_core_field_offset(struct mount, mnt));
}

/* The state of a path walk, carried across bpf_loop iterations. */
struct path_walk {
	char *data; /* the record's data area (map value) */
	/*
	 * The write offset, kept in map memory: the verifier does not track
	 * values loaded from there, so each iteration sees the same bounded
	 * state and the callback's verification converges. Tracked on the
	 * stack, the growing offset would make every iteration a new state.
	 */
	__u32 *off;
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct dentry *root_dentry;
	struct vfsmount *root_mnt;
	__u32 start;
	__u32 complete;
};

/*
 * path_step is one step up: cross to the parent mount at a mount root,
 * else write the dentry's name and go to its parent. bpf_loop (5.17+)
 * runs it so the verifier checks the body once instead of every
 * unrolled combination of mount crossings and names.
 */
static long path_step(__u64 i, void *ctx)
{
	struct path_walk *w = ctx;
	struct dentry *dentry = w->dentry;
	struct vfsmount *vfsmnt = w->vfsmnt;

	if (dentry == w->root_dentry && vfsmnt == w->root_mnt) {
		w->complete = 1;
		return 1;
	}

	struct dentry *mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);

	if (dentry == mnt_root || dentry == parent) {
		struct mount *mnt = real_mount(vfsmnt);
		struct mount *mnt_parent = BPF_CORE_READ(mnt, mnt_parent);

		/*
		 * A dentry that is its own parent but not the mount's root is
		 * outside it (d_path: unreachable); a mount that is its own
		 * parent is the namespace's root. Either way there is nothing
		 * further up.
		 */
		if (dentry != mnt_root || mnt == mnt_parent) {
			w->complete = 1;
			return 1;
		}
		/* Continue from the mount point, in the parent mount. */
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->vfsmnt = (struct vfsmount *)((void *)mnt_parent +
						bpf_core_field_offset(struct mount, mnt));
		return 0;
	}

	__u32 off = *w->off;

	if (off - w->start > PATH_BYTES - NAME_BYTES)
		return 1;
	const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
	long n = bpf_probe_read_kernel_str(&w->data[off & DATA_MASK], NAME_BYTES, name);

	if (n <= 0)
		return 1;
	*w->off = off + n;
	w->dentry = parent;
	return 0;
}

/*
 * put_path writes the components of path p, leaf first, each
 * NUL-terminated, into data at offset *off (map memory, see path_walk),
 * and advances *off past them. The root itself has no component: "/" is zero components. When
 * the walk stops before reaching a root (PATH_DEPTH steps or PATH_BYTES
 * bytes used, or a name that cannot be read), it sets
 * *flags |= truncated_flag.
 */
static __always_inline void put_path(char *data, __u32 *off, const struct path *p,
				      const struct path *root, __u8 *flags, __u8 truncated_flag)
{
	struct path_walk w = {
		.data = data,
		.dentry = BPF_CORE_READ(p, dentry),
		.vfsmnt = BPF_CORE_READ(p, mnt),
		.root_dentry = BPF_CORE_READ(root, dentry),
		.root_mnt = BPF_CORE_READ(root, mnt),
		.off = off,
		.start = *off,
	};

	bpf_loop(PATH_DEPTH, path_step, &w, 0);
	if (!w.complete)
		*flags |= truncated_flag;
}

#endif
